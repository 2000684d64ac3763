"""First run, before anything else: a terminal with no token asks for central's address and
the one-time code from ``isseg-farmacia admin codigo-de-alta``, enrolls (one call to the
terminal service, on the network pool), then says which store and terminal it now is.

The kiosk has only a touch screen: there the panel is in the kiosk's large type and brings
its own keyboard (letters, digits, ``. : / -``), which types into the field last tapped."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk import enrollment
from kiosk.app import Terminal
from kiosk.ports import Refused
from kiosk.records import Enrolled
from kiosk.settings import Settings
from ui.common import big, error_label, hint, mark_active, message_of, plain, title
from ui.tasks import TaskRunner

GREEN = "#137333"
BACKSPACE = "⌫"
# A QWERTY layout (what a technician's fingers know), digits on top, then what an address
# needs; "Dar de alta" sits on the last row, under the hand.
KEY_ROWS = (
    ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0", BACKSPACE),
    ("Q", "W", "E", "R", "T", "Y", "U", "I", "O", "P", "/"),
    ("A", "S", "D", "F", "G", "H", "J", "K", "L", ":", "-"),
    ("Z", "X", "C", "V", "B", "N", "M", "."),
)
# Room kept for the message, so the form does not move when one comes: the till's small
# type wraps more; the kiosk's screen has no height to spare (its messages take two lines).
ERROR_LINES = {False: 3, True: 2}


class TouchKeyboard(QWidget):
    """Big keys for the kiosk's touch screen (each at least the kiosk's 15 mm target); a
    key never takes the focus, so it types into the field that has it."""

    def __init__(self, on_key: Callable[[str], None], key_px: int) -> None:
        super().__init__()
        grid = QGridLayout(self)
        grid.setSpacing(6)
        grid.setContentsMargins(0, 0, 0, 0)
        self.grid = grid
        self.buttons: dict[str, QPushButton] = {}
        for r, row in enumerate(KEY_ROWS):
            for c, key in enumerate(row):
                b = QPushButton(key)
                b.setObjectName("textkey")
                b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                b.setAccessibleName("borrar" if key == BACKSPACE else key)
                b.setMinimumSize(key_px, key_px)
                b.clicked.connect(lambda _=False, k=key: on_key(k))
                grid.addWidget(b, r, c)
                self.buttons[key] = b


class EnrollmentPanel(QWidget):
    enrolled = Signal(object)  # Enrolled: the alta went through (the panel says what it is)
    continued = Signal(object)  # Enrolled: the person pressed "Continuar"
    refused = Signal(str)  # the Spanish refusal shown

    def __init__(
        self,
        terminal: Terminal,
        runner: TaskRunner,
        *,
        screen_kind: str = "caja",  # what this terminal runs as: caja (till, manager) or kiosko
        next_step: str = "",
        touch: bool = False,  # the kiosk: its large type and an on-screen keyboard
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._terminal, self._runner = terminal, runner
        self._screen_kind = screen_kind
        self.touch = touch
        self.result: Enrolled | None = None
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)

        # Asking.
        self.form_box = QWidget()
        if touch:
            self.form_box.setMaximumWidth(1240)
        else:
            self.form_box.setFixedWidth(760)
        inner = QVBoxLayout(self.form_box)
        inner.setSpacing(10 if touch else 6)
        self.heading = self._text(title, "Primer uso: dar de alta esta terminal", "heading")
        inner.addWidget(self.heading)
        what = "kiosko" if screen_kind == "kiosko" else "caja"
        inner.addWidget(
            self._text(
                hint,
                "Esta terminal aún no está dada de alta en el instituto. Pida al área de "
                f"sistemas del ISSEG un código de alta de tipo «{what}» para esta farmacia "
                "(sirve una sola vez y vence en 24 horas) y escríbalo aquí junto con la "
                "dirección de central.",
                "small",
            )
        )
        self.form = QFormLayout()
        self.form.setVerticalSpacing(8 if touch else 12)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.central_url = QLineEdit()
        self.central_url.setMaxLength(enrollment.MAX_URL_LENGTH)
        self.central_url.setPlaceholderText(f"por ejemplo {enrollment.EXAMPLE_URL}")
        configured = terminal.settings.central_url
        if configured != Settings().central_url:  # set by the installer: offer it
            self.central_url.setText(configured)
        self.code = QLineEdit()
        self.code.setMaxLength(enrollment.MAX_CODE_LENGTH)
        self.code.setPlaceholderText(f"por ejemplo {enrollment.EXAMPLE_CODE}")
        for caption, field in (
            ("Dirección de central", self.central_url),
            ("Código de alta", self.code),
        ):
            label = self._text(plain, caption, "body")
            label.setWordWrap(False)  # two words: on one line, beside (or above) the field
            self.form.addRow(label, field)
            field.installEventFilter(self)  # a tap (or Tab) makes it the keyboard's target
            field.textEdited.connect(self._edited)
        inner.addLayout(self.form)
        self.button = QPushButton("Dar de alta")
        self.button.setObjectName("primary")
        self.error = self._text(lambda _t: error_label(), "", "error")
        # The message keeps its room when empty: nothing moves when one comes or wraps.
        self.error.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self._reserve_error_room()
        self.keyboard: TouchKeyboard | None = None
        if touch:
            from ui.kiosk_style import MIN_TARGET_PX

            inner.addWidget(self.error)
            self.keyboard = TouchKeyboard(self.key, MIN_TARGET_PX + 3)
            self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            # Its text ("Conectando…") never widens the keys' columns under a finger.
            self.button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            self.keyboard.grid.addWidget(self.button, len(KEY_ROWS) - 1, 8, 1, 3)
            inner.addWidget(self.keyboard)
        else:
            inner.addWidget(self.button)
            inner.addWidget(self.error)
        # On the kiosk the form takes the screen's width (up to its maximum): the address
        # and its example in large type need it.
        row.addWidget(self.form_box, 20 if touch else 0)

        # Done: what the terminal now is.
        self.done_box = QWidget()
        if touch:
            self.done_box.setMaximumWidth(1240)
        else:
            self.done_box.setFixedWidth(760)
        done = QVBoxLayout(self.done_box)
        done.addWidget(self._text(title, "Terminal dada de alta", "heading"))
        self.sentence = big("", 34 if touch else 28, color=GREEN)
        done.addWidget(self.sentence)
        self.details = self._text(hint, "", "small")
        done.addWidget(self.details)
        self.next_step = self._text(plain, next_step, "body")
        done.addWidget(self.next_step)
        self.continue_button = QPushButton("Continuar")
        self.continue_button.setObjectName("primary")
        done.addWidget(self.continue_button)
        self.done_box.hide()
        row.addWidget(self.done_box, 20 if touch else 0)

        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.target = self.central_url
        # Enter after fixing the address sends when the code is already there (a trial
        # pressed it twice and saw only the focus move); with no code it goes to the code.
        self.central_url.returnPressed.connect(
            lambda: self.submit() if self.code.text().strip() else self._select(self.code)
        )
        self.code.returnPressed.connect(self.submit)
        self.button.clicked.connect(self.submit)
        self.continue_button.clicked.connect(self._continue)

    def _text(self, maker: Callable[[str], QLabel], text: str, role: str) -> QLabel:
        """A label in the screen's own look: the kiosk's roles (large type), else the
        till's named styles."""
        if self.touch:
            out = QLabel(text)
            out.setProperty("role", role)
            out.setWordWrap(True)
            out.setTextFormat(Qt.TextFormat.PlainText)
            return out
        return maker(text)

    def _reserve_error_room(self) -> None:
        self.error.ensurePolished()
        room = self.error.fontMetrics().lineSpacing() * ERROR_LINES[self.touch] + 4
        if room != self.error.minimumHeight():
            self.error.setMinimumHeight(room)
            self.error.updateGeometry()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        self._reserve_error_room()  # in the type size the window's style gave it

    def orient(self, portrait: bool) -> None:
        """A narrow (portrait) kiosk: captions above the fields, so the address fits."""
        self.form.setRowWrapPolicy(
            QFormLayout.RowWrapPolicy.WrapAllRows
            if portrait
            else QFormLayout.RowWrapPolicy.DontWrapRows
        )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() in (QEvent.Type.FocusIn, QEvent.Type.MouseButtonPress) and watched in (
            self.central_url,
            self.code,
        ):
            self._mark(watched)  # type: ignore[arg-type]
        return False

    def _mark(self, field: QLineEdit) -> None:
        """The field the keyboard types into, framed so a person sees which it is."""
        self.target = field
        mark_active((self.central_url, self.code), field)

    def _select(self, field: QLineEdit) -> None:
        self._mark(field)
        field.setFocus()
        field.selectAll()

    def _edited(self, _text: str = "") -> None:
        self.error.clear()  # whatever it said is stale once the person changes a field

    def key(self, key: str) -> None:
        """An on-screen key: into the field last tapped, at its cursor (its length bound
        holds, a selection is replaced as a physical keyboard would)."""
        field = self.target
        if key == BACKSPACE:
            field.backspace()
        else:
            # The code and the hostname read the same in lower case; the address is
            # written the way people see it written.
            field.insert(key if field is self.code else key.lower())
        field.setFocus()
        self._edited()

    def reset(self) -> None:
        self.error.clear()
        self.button.setEnabled(True)
        self._select(self.code if self.central_url.text() else self.central_url)

    def submit(self) -> None:
        if not self.button.isEnabled():
            return
        url, code = self.central_url.text(), self.code.text()
        self.button.setEnabled(False)
        self.button.setText("Conectando…" if self.touch else "Conectando con central…")
        self.error.clear()
        kind = self._screen_kind
        self._runner.io(lambda: self._terminal.enroll(url, code, kind), self._ok, self._bad)

    def _ok(self, result: Enrolled) -> None:
        self.result = result
        self.code.clear()
        self.sentence.setText(enrollment.described(result))
        self.details.setText(enrollment.details(result))
        self.form_box.hide()
        self.done_box.show()
        self.continue_button.setFocus()
        self.enrolled.emit(result)

    def _bad(self, exc: BaseException) -> None:
        self.button.setEnabled(True)
        self.button.setText("Dar de alta")
        message = message_of(exc)
        self.error.setText(message)
        at_address = isinstance(exc, Refused) and enrollment.address_at_fault(exc.code)
        if isinstance(exc, Refused) and exc.code == "FALTAN_DATOS":
            at_address = not self.central_url.text().strip()
        self._select(self.central_url if at_address else self.code)
        self.refused.emit(message)

    def _continue(self) -> None:
        if self.result is not None:
            self.continued.emit(self.result)
