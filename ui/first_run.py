"""First run: an empty database has nobody to log in, so the first screen creates the
manager who will then register the cashiers."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.app import Terminal
from kiosk.ports import Refused, User
from ui.common import error_label, hint, message_of, title
from ui.tasks import TaskRunner


class FirstManagerPanel(QWidget):
    created = Signal(object)  # User

    def __init__(
        self, terminal: Terminal, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._terminal, self._runner = terminal, runner
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        box = QWidget()
        box.setFixedWidth(620)
        inner = QVBoxLayout(box)
        inner.addWidget(title("Primer uso: cree el gerente"))
        inner.addWidget(
            hint(
                "Esta caja aún no tiene usuarios. Registre al gerente de la farmacia. "
                "Los cajeros se dan de alta después en la pantalla del gerente, que es una "
                "ventana aparte de la caja: en este equipo se abre con el comando "
                "«isseg\u2011farmacia gerente» (en la caja, el gerente solo cobra y abre turnos)."
            )
        )
        form = QFormLayout()
        form.setVerticalSpacing(12)
        self.name = QLineEdit()
        self.name.setPlaceholderText("nombre completo")
        self.username = QLineEdit()
        self.username.setPlaceholderText("usuario, por ejemplo lgarcia")
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setPlaceholderText("NIP de 4 a 8 dígitos")
        self.pin_again = QLineEdit()
        self.pin_again.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_again.setPlaceholderText("repita el NIP")
        form.addRow("Nombre", self.name)
        form.addRow("Usuario", self.username)
        form.addRow("NIP", self.pin)
        form.addRow("Confirmar NIP", self.pin_again)
        inner.addLayout(form)
        self.button = QPushButton("Crear gerente")
        self.button.setObjectName("primary")
        inner.addWidget(self.button)
        self.error = error_label()
        inner.addWidget(self.error)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(box)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.name.returnPressed.connect(self.username.setFocus)
        self.username.returnPressed.connect(self.pin.setFocus)
        self.pin.returnPressed.connect(self.pin_again.setFocus)
        self.pin_again.returnPressed.connect(self.submit)
        self.button.clicked.connect(self.submit)

    def reset(self) -> None:
        self.error.clear()
        self.button.setEnabled(True)
        self.name.setFocus()

    def submit(self) -> None:
        if not self.button.isEnabled():
            return
        name, username = self.name.text().strip(), self.username.text().strip()
        pin, again = self.pin.text(), self.pin_again.text()
        if not name or not username or not pin:
            self.error.setText("Escriba el nombre, el usuario y el NIP.")
            return
        if pin != again:
            self.error.setText("Los dos NIP no coinciden. Escríbalos de nuevo.")
            self.pin.clear()
            self.pin_again.clear()
            self.pin.setFocus()
            return
        self.button.setEnabled(False)
        self.error.clear()
        self._runner.db(
            lambda: self._terminal.create_first_manager(username=username, name=name, pin=pin),
            self._ok,
            self._bad,
        )

    def _ok(self, user: User) -> None:
        self.button.setEnabled(True)
        self.pin.clear()
        self.pin_again.clear()
        self.created.emit(user)

    def _bad(self, exc: BaseException) -> None:
        self.button.setEnabled(True)
        self.pin.clear()
        self.pin_again.clear()
        self.error.setText(message_of(exc))
        # Both NIP fields were emptied: the cursor waits in the first (the name or the
        # user name when that is what was refused).
        code = exc.code if isinstance(exc, Refused) else ""
        field = {
            "NOMBRE_REQUERIDO": self.name,
            "USUARIO_EXISTE": self.username,
            "USUARIO_INVALIDO": self.username,
        }.get(code, self.pin)
        field.setFocus()
        field.selectAll()
