"""Look and small helpers shared by the three screens: colours, type sizes, formatting."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QLabel,
    QLineEdit,
    QWidget,
)

from kiosk import money
from kiosk.ports import Refused

log = logging.getLogger(__name__)

GREEN = "#1b7f3b"
GREEN_BG = "#e3f5e8"
RED = "#b3261e"
RED_BG = "#fde8e6"
AMBER = "#8a5a00"
AMBER_BG = "#fff4d6"
BLUE = "#0b4f8a"
GREY = "#5f6368"

STYLE = f"""
QWidget {{ font-size: 16px; color: #202124; }}
QMainWindow, QDialog {{ background: #f6f7f9; }}
QLineEdit {{ font-size: 22px; padding: 8px 10px; border: 2px solid #b8c0cc;
             border-radius: 6px; background: white; }}
QLineEdit:focus {{ border-color: {BLUE}; }}
QAbstractSpinBox {{ font-size: 20px; }}
QAbstractSpinBox QLineEdit {{ padding: 0px; border: none; }}
QLineEdit#scan {{ font-size: 30px; font-family: monospace; letter-spacing: 2px; }}
QPushButton {{ font-size: 17px; padding: 8px 16px; border-radius: 6px; background: #e8eaed;
               border: 1px solid #c4c8cf; }}
QPushButton:hover {{ background: #dde1e6; }}
QPushButton:disabled {{ color: #9aa0a6; }}
QPushButton#primary {{ background: {BLUE}; color: white; border: none; font-weight: bold; }}
QPushButton#primary:disabled {{ background: #c4c8cf; color: #f1f3f4; }}
QPushButton#danger {{ background: {RED}; color: white; border: none; font-weight: bold; }}
QLabel#title {{ font-size: 28px; font-weight: bold; color: {BLUE}; }}
QLabel#hint {{ color: {GREY}; font-size: 15px; }}
QLabel#error {{ color: {RED}; font-size: 18px; font-weight: bold; }}
QFrame#statusbar {{ background: #e8eaed; border-top: 1px solid #c4c8cf; }}
QFrame#statusbar QLabel {{ font-size: 15px; padding: 0 10px; }}
QTableWidget {{ font-size: 15px; background: white; }}
QHeaderView::section {{ font-size: 14px; font-weight: bold; padding: 4px; }}
"""


def ensure_style() -> None:
    """Style the whole application once, before widgets are built, so that size hints
    account for the large type (a window-level style sheet comes too late for them)."""
    app = QApplication.instance()
    if isinstance(app, QApplication) and app.styleSheet() != STYLE:
        app.setStyleSheet(STYLE)


def fit_fields(root: QWidget) -> None:
    """Give every line edit the height its styled font needs (Qt sizes them for the default
    font otherwise, and large type gets clipped)."""
    for edit in root.findChildren(QLineEdit):
        if isinstance(edit.parentWidget(), QAbstractSpinBox):
            continue  # a spin box sizes its own line edit
        edit.ensurePolished()
        edit.setMinimumHeight(edit.fontMetrics().height() + 22)


def mark_active(fields: tuple[QLineEdit, ...], active: QLineEdit) -> None:
    """Frame the field an on-screen keypad types into (the style sheets' ``[active="true"]``),
    so a person sees which one it is."""
    for f in fields:
        f.setProperty("active", f is active)
        f.style().unpolish(f)
        f.style().polish(f)


def pesos(value: Decimal) -> str:
    return money.fmt(value)


def plain(text: str = "") -> QLabel:
    """A label that shows data: plain text (a name is never markup), wrapped, and never the
    reason a window grows past the screen (a long word or figure is cut, not widened for)."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    # An explicit minimum overrides the one a wrapped label derives from its longest word.
    label.setMinimumWidth(1)
    return label


def title(text: str) -> QLabel:
    label = plain(text)
    label.setObjectName("title")
    label.setWordWrap(False)  # a few fixed words, placed centred: wrapping would clip them
    return label


def hint(text: str) -> QLabel:
    label = plain(text)
    label.setObjectName("hint")
    return label


def error_label() -> QLabel:
    label = plain()
    label.setObjectName("error")
    return label


def big(text: str = "", size: int = 40, bold: bool = True, color: str = "#202124") -> QLabel:
    label = plain(text)
    weight = "bold" if bold else "normal"
    label.setStyleSheet(f"font-size: {size}px; font-weight: {weight}; color: {color};")
    return label


def ago(seconds: float | None) -> str:
    """``125.0`` → ``2 min``: how long the oldest payment has waited, for a person."""
    if seconds is None:
        return ""
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def message_of(exc: BaseException) -> str:
    """The Spanish message of a refusal, or a plain one for anything unexpected: never a
    code, a class name or an exception's own (English) text on screen."""
    if isinstance(exc, Refused):
        return exc.message
    if isinstance(exc, money.MoneyError):
        return str(exc)
    log.error("error inesperado en pantalla", exc_info=exc)
    if isinstance(exc, (OSError, TimeoutError)):
        return "No se pudo comunicar con el instituto o la impresora. Intente de nuevo."
    return "Ocurrió un error inesperado; no se completó la operación. Avise a soporte técnico."


class IdleWatch(QObject):
    """Calls ``on_idle`` after ``ms`` without a key press or a click anywhere in the app."""

    def __init__(self, ms: int, on_idle: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(ms)
        self.timer.timeout.connect(on_idle)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if (
            event.type()
            in (QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin)
            and self.timer.isActive()
        ):
            self.timer.start()
        return False

    def remove(self) -> None:
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
