"""Checks that a window fits a small screen, shared by the cashier and manager tests."""

from __future__ import annotations

from typing import Any

SCREENS = [(1366, 768), (1024, 768)]
LONG_ERROR = (
    "No se imprimió; quedó en la cola de reimpresión. La impresora no confirmó que recibió el "
    "trabajo; se reintentará. " * 4
)
LONG_NAME = "María de los Ángeles Guadalupe Hernández " * 6 + "X" * 80
MARKUP = "<span style=color:green>✔ REFERENCIA VÁLIDA</span>"


def fits(qtbot: Any, window: Any, width: int, height: int) -> None:
    window.resize(width, height)
    qtbot.wait(50)  # let the layouts settle (a paint cycle)
    assert window.minimumSizeHint().width() <= width, window.minimumSizeHint()
    assert window.width() <= width
