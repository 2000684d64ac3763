"""A confirmation before an irreversible action, with a manager's PIN when it needs one."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ui.common import fit_fields


class Confirm(QDialog):
    """Says what is about to happen and asks to confirm it; with ``pin`` it asks for a
    manager's user and PIN too (``manager`` fills the user: the one logged in, asked again).

    Non-modal to the event loop (``open()``): ``confirmed(manager, pin)`` fires on accept.
    """

    confirmed = Signal(str, str)

    def __init__(
        self,
        parent: QWidget,
        title: str,
        text: str,
        *,
        action: str,
        pin: bool = False,
        manager: str = "",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        layout = QVBoxLayout(self)
        self.text = QLabel(text)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setWordWrap(True)
        self.text.setStyleSheet("font-size: 20px; font-weight: bold;")
        layout.addWidget(self.text)
        self.manager = QLineEdit(manager)
        self.manager.setPlaceholderText("usuario del gerente")
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setPlaceholderText("NIP del gerente")
        self.pin.setMaxLength(8)
        if pin:
            form = QFormLayout()
            form.addRow("Gerente", self.manager)
            form.addRow("NIP", self.pin)
            layout.addLayout(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(action)
        self.ok.setObjectName("primary")
        self.cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel.setText("No")
        if not pin:
            # An Enter typed (or scanned) on the heels of the one that opened this must not
            # confirm it: nothing is the default, and the focus starts on "No". (With a PIN,
            # the Enter after typing it is the deliberate one.)
            for button in (self.ok, self.cancel):
                button.setAutoDefault(False)
                button.setDefault(False)
        layout.addWidget(buttons)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        self.asks_pin = pin
        fit_fields(self)
        self.setMinimumWidth(480)
        (self.pin if pin and manager else self.manager if pin else self.cancel).setFocus()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if not self.asks_pin:
            # QDialogButtonBox makes its accept button the default when it is shown, if
            # nothing is: undone here, after it.
            self.ok.setDefault(False)

    def _accept(self) -> None:
        if self.asks_pin and not self.pin.text():
            self.pin.setFocus()
            return
        manager, pin = self.manager.text().strip(), self.pin.text()
        self.pin.clear()
        self.accept()
        self.confirmed.emit(manager, pin)


def confirm(
    parent: QWidget,
    title: str,
    text: str,
    on_confirmed: Callable[[str, str], None],
    *,
    action: str = "Confirmar",
    pin: bool = False,
    manager: str = "",
) -> Confirm:
    """Open a ``Confirm`` and call ``on_confirmed(manager, pin)`` if it is confirmed."""
    dialog = Confirm(parent, title, text, action=action, pin=pin, manager=manager)
    dialog.confirmed.connect(on_confirmed)
    dialog.open()
    return dialog
