"""Log in with user and PIN (cashier and manager screens)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from kiosk.app import Terminal
from kiosk.ports import User
from ui.common import error_label, hint, message_of, title
from ui.tasks import TaskRunner


class LoginPanel(QWidget):
    logged_in = Signal(object)  # User

    def __init__(
        self,
        terminal: Terminal,
        runner: TaskRunner,
        *,
        heading: str,
        role: str | None = None,
        note: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._terminal = terminal
        self._runner = runner
        self._role = role
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        box = QWidget()
        box.setFixedWidth(560)
        form_outer = QVBoxLayout(box)
        form_outer.addWidget(title(heading))
        form = QFormLayout()
        form.setVerticalSpacing(12)
        self.username = QLineEdit()
        self.username.setPlaceholderText("usuario")
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setPlaceholderText("NIP")
        form.addRow("Usuario", self.username)
        form.addRow("NIP", self.pin)
        form_outer.addLayout(form)
        self.button = QPushButton("Entrar")
        self.button.setObjectName("primary")
        form_outer.addWidget(self.button)
        self.error = error_label()
        form_outer.addWidget(self.error)
        if note:
            form_outer.addWidget(hint(note))
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(box)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.username.returnPressed.connect(self.pin.setFocus)
        self.pin.returnPressed.connect(self.submit)
        self.button.clicked.connect(self.submit)

    def reset(self) -> None:
        self.pin.clear()
        self.error.clear()
        self.button.setEnabled(True)
        (self.pin if self.username.text() else self.username).setFocus()

    def submit(self) -> None:
        if not self.button.isEnabled():
            return
        username, pin = self.username.text().strip(), self.pin.text()
        if not username or not pin:
            self.error.setText("Escriba su usuario y su NIP.")
            return
        self.button.setEnabled(False)
        self.error.setText("")
        self._runner.db(lambda: self._terminal.login(username, pin), self._ok, self._bad)

    def _ok(self, user: User) -> None:
        self.button.setEnabled(True)
        self.pin.clear()
        if self._role is not None and user.role != self._role:
            self.error.setText("Esta pantalla es solo para gerentes.")
            return
        self.logged_in.emit(user)

    def _bad(self, exc: BaseException) -> None:
        self.button.setEnabled(True)
        self.pin.clear()
        self.pin.setFocus()
        self.error.setText(message_of(exc))
