"""A bad config.json is explained in a Spanish window (never a black screen), and logged."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from ui import app as ui_app


@pytest.fixture(autouse=True)
def _root_log_handlers() -> Iterator[None]:
    """The entry point adds its file handler to the root logger: take it off afterwards."""
    before = list(logging.getLogger().handlers)
    yield
    for handler in logging.getLogger().handlers[:]:
        if handler not in before:
            logging.getLogger().removeHandler(handler)
            handler.close()


@pytest.mark.parametrize(
    ("config", "problem", "advice"),
    [
        (
            '{"printer_kind": "file",\n "paper_width_mm": 80,,}',
            "el JSON no es válido en la línea 2",
            "Corrija esa línea",
        ),
        (
            '{"impresora": "usb"}',
            "configuración desconocida: impresora",
            "quite solo esa línea",
        ),
    ],
)
def test_a_bad_config_shows_what_to_fix_and_the_kiosk_does_not_start(
    qapp: QApplication,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    config: str,
    problem: str,
    advice: str,
):
    (tmp_path / "config.json").write_text(config, encoding="utf-8")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # the log folder
    seen: list[str] = []

    def read_and_close() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, read_and_close)
            return
        seen.append(box.windowTitle() + "\n" + box.text())
        box.accept()

    QTimer.singleShot(0, read_and_close)
    assert ui_app.main_kiosko(["--datos", str(tmp_path)]) == 1
    assert seen, "no window was shown"
    assert "configuración con error" in seen[0]
    assert str(tmp_path / "config.json") in seen[0] and problem in seen[0]
    # The file also holds what the alta wrote (central's address, the names): fix one line,
    # never delete it.
    assert advice in seen[0] and "No borre el archivo" in seen[0]
    assert "bórrelo" not in seen[0]
    logs = list((tmp_path / "state").rglob("caja-isseg.log"))
    assert logs and "configuración inválida" in logs[0].read_text(encoding="utf-8")
