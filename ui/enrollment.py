"""First run, before anything else: a terminal with no token asks for central's address and
the one-time code from ``isseg-farmacia admin codigo-de-alta``, enrolls (one call to the
terminal service, on the network pool), then says which store and terminal it now is."""

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

from kiosk import enrollment
from kiosk.app import Terminal
from kiosk.records import Enrolled
from kiosk.settings import Settings
from ui.common import big, error_label, hint, message_of, plain, title
from ui.tasks import TaskRunner

GREEN = "#137333"


class EnrollmentPanel(QWidget):
    enrolled = Signal(object)  # Enrolled: the alta went through (the panel says what it is)
    continued = Signal(object)  # Enrolled: the person pressed "Continuar"
    refused = Signal(str)  # the Spanish refusal shown

    def __init__(
        self,
        terminal: Terminal,
        runner: TaskRunner,
        *,
        screen_kind: str = "caja",  # what this screen needs: a caja or a kiosko code
        next_step: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._terminal, self._runner = terminal, runner
        self._screen_kind = screen_kind
        self.result: Enrolled | None = None
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)

        # Asking.
        self.form_box = QWidget()
        self.form_box.setFixedWidth(760)
        inner = QVBoxLayout(self.form_box)
        inner.addWidget(title("Primer uso: dar de alta esta terminal"))
        what = "kiosko" if screen_kind == "kiosko" else "caja"
        inner.addWidget(
            hint(
                "Esta terminal aún no está dada de alta en el instituto. Pida a sistemas un "
                f"código de alta de tipo «{what}» para esta farmacia (sirve una sola vez y "
                "vence en 24 horas) y escríbalo aquí junto con la dirección de central."
            )
        )
        form = QFormLayout()
        form.setVerticalSpacing(12)
        self.central_url = QLineEdit()
        self.central_url.setMaxLength(enrollment.MAX_URL_LENGTH)
        self.central_url.setPlaceholderText(f"por ejemplo {enrollment.EXAMPLE_URL}")
        configured = terminal.settings.central_url
        if configured != Settings().central_url:  # set by the installer: offer it
            self.central_url.setText(configured)
        self.code = QLineEdit()
        self.code.setMaxLength(enrollment.MAX_CODE_LENGTH)
        self.code.setPlaceholderText(f"por ejemplo {enrollment.EXAMPLE_CODE}")
        form.addRow("Dirección de central", self.central_url)
        form.addRow("Código de alta", self.code)
        inner.addLayout(form)
        self.button = QPushButton("Dar de alta")
        self.button.setObjectName("primary")
        inner.addWidget(self.button)
        self.error = error_label()
        inner.addWidget(self.error)
        row.addWidget(self.form_box)

        # Done: what the terminal now is.
        self.done_box = QWidget()
        self.done_box.setFixedWidth(760)
        done = QVBoxLayout(self.done_box)
        done.addWidget(title("Terminal dada de alta"))
        self.sentence = big("", 28, color=GREEN)
        done.addWidget(self.sentence)
        self.details = hint("")
        done.addWidget(self.details)
        self.warning = error_label()
        done.addWidget(self.warning)
        self.next_step = plain(next_step)
        done.addWidget(self.next_step)
        self.continue_button = QPushButton("Continuar")
        self.continue_button.setObjectName("primary")
        done.addWidget(self.continue_button)
        self.done_box.hide()
        row.addWidget(self.done_box)

        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.central_url.returnPressed.connect(self.code.setFocus)
        self.code.returnPressed.connect(self.submit)
        self.button.clicked.connect(self.submit)
        self.continue_button.clicked.connect(self._continue)

    def reset(self) -> None:
        self.error.clear()
        self.button.setEnabled(True)
        (self.code if self.central_url.text() else self.central_url).setFocus()

    def submit(self) -> None:
        if not self.button.isEnabled():
            return
        url, code = self.central_url.text(), self.code.text()
        self.button.setEnabled(False)
        self.button.setText("Conectando con central…")
        self.error.clear()
        self._runner.io(lambda: self._terminal.enroll(url, code), self._ok, self._bad)

    def _ok(self, result: Enrolled) -> None:
        self.result = result
        self.code.clear()
        self.sentence.setText(enrollment.described(result))
        self.details.setText(enrollment.details(result))
        warning = enrollment.kind_warning(result, self._screen_kind)
        self.warning.setText(warning)
        self.warning.setVisible(bool(warning))
        self.form_box.hide()
        self.done_box.show()
        self.continue_button.setFocus()
        self.enrolled.emit(result)

    def _bad(self, exc: BaseException) -> None:
        self.button.setEnabled(True)
        self.button.setText("Dar de alta")
        message = message_of(exc)
        self.error.setText(message)
        self.code.setFocus()
        self.code.selectAll()
        self.refused.emit(message)

    def _continue(self) -> None:
        if self.result is not None:
            self.continued.emit(self.result)
