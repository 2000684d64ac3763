"""The self-service kiosk: touch-first, large type, an on-screen keypad, no keyboard needed.

welcome → number and NIP → loans → a loan → payment kind → (quincenas | amount) → summary
→ print → back to the loans; "Salir" or idle ends the visit at central. Each user action is
one call to ``kiosk.kiosk_flow.KioskService`` through the task runner and one ``paint_*``
function for its result; the rules (bounds, the four kinds, "can it still be paid today")
live in the core. Portrait (1080×1920) and landscape (1920×1080, 1366×768) alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QBoxLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QScroller,
    QScrollerProperties,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk import kiosk_flow as kf
from kiosk import money
from kiosk.app import Terminal
from kiosk.ports import Refused
from kiosk.rules import Policy
from kiosk.simulator import Simulation
from ui.common import mark_active
from ui.enrollment import EnrollmentPanel
from ui.kiosk_style import CONTRAST, NORMAL, stylesheet
from ui.tasks import TaskRunner

SLIP_STATUS = {
    "VIGENTE": "vigente, por pagar hoy",
    "PAGADA": "pagada",
    "SUSTITUIDA": "reemplazada por otra",
    "CADUCADA": "caducada",
    "CANCELADA": "cancelada",
}
# A tap that lands within this long after the page changed under the finger (the second tap
# of a double tap, a key pressed while the keypad moves to the NIP) is dropped.
HOLD_SECONDS = 0.4
PAYMENT_STATUS = {"APLICADO": "aplicado", "ANULADO": "cancelado", "RECHAZADO": "en revisión"}


def say(exc: BaseException) -> str:
    """The Spanish message of a refusal; never an exception's text."""
    if isinstance(exc, Refused):
        return exc.message
    return "Ocurrió un problema. Intente de nuevo o pida ayuda en caja."


def label(text: str = "", role: str = "body") -> QLabel:
    out = QLabel(text)
    out.setProperty("role", role)
    out.setWordWrap(True)
    out.setTextFormat(Qt.TextFormat.PlainText)
    return out


def button(text: str, on_click: Callable[[], object], primary: bool = False) -> QPushButton:
    b = QPushButton(text)
    if primary:
        b.setObjectName("primary")
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    b.clicked.connect(lambda _=False: on_click())
    return b


def kinetic(inner: QWidget) -> QScrollArea:
    """A scroll area moved by dragging a finger (QScroller), with no thin scrollbar."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setWidget(inner)
    area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    QScroller.grabGesture(area.viewport(), QScroller.ScrollerGestureType.LeftMouseButtonGesture)
    scroller = QScroller.scroller(area.viewport())
    props = scroller.scrollerProperties()
    # A tap reaches the button at once (the default holds the press for 0.25 s to see
    # whether it becomes a drag, and a quick tap is lost); a drag still scrolls.
    props.setScrollMetric(QScrollerProperties.ScrollMetric.MousePressEventDelay, 0)
    scroller.setScrollerProperties(props)
    return area


def more_below(area: QScrollArea) -> QLabel:
    """A cue under a list that goes on past the screen's edge (there is no scrollbar to
    say so); its room is kept, so nothing moves when it comes and goes."""
    hint = label("▼ Hay más abajo: deslice la lista hacia arriba con el dedo.", "small")
    policy = hint.sizePolicy()
    policy.setRetainSizeWhenHidden(True)
    hint.setSizePolicy(policy)
    bar = area.verticalScrollBar()

    def update(*_: int) -> None:
        hint.setVisible(bar.value() < bar.maximum())

    bar.rangeChanged.connect(update)
    bar.valueChanged.connect(update)
    update()
    return hint


def fit(b: QPushButton) -> None:
    """A button does not wrap: keep the height its lines take in the current type size (a
    scroll area otherwise squeezes it and cuts its text)."""
    b.ensurePolished()
    b.setMinimumHeight(b.sizeHint().height())


def to_top(area: QScrollArea) -> None:
    """A list opens at its start for every visit (the oldest quincena first)."""
    QScroller.scroller(area.viewport()).stop()
    area.verticalScrollBar().setValue(0)


def clear_layout(layout: QBoxLayout | QGridLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        if item is not None and item.widget() is not None:
            item.widget().deleteLater()  # type: ignore[union-attr]


class Keypad(QWidget):
    """Digits, borrar and (for amounts) a decimal point; each key goes to ``on_key``."""

    def __init__(self, on_key: Callable[[str], None], decimal_point: bool = False) -> None:
        super().__init__()
        grid = QGridLayout(self)
        grid.setSpacing(12)
        keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "." if decimal_point else "", "0"]
        self.buttons: dict[str, QPushButton] = {}
        for i, key in enumerate([*keys, "⌫"]):
            if key:
                b = button(key, partial(on_key, key))
                b.setObjectName("key")
                b.setAccessibleName("borrar" if key == "⌫" else key)
                grid.addWidget(b, i // 3, i % 3)
                self.buttons[key] = b


class Page(QWidget):
    def __init__(self, heading: str = "") -> None:
        super().__init__()
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(40, 24, 40, 24)
        self.layout_.setSpacing(16)
        self.heading = label(heading, "heading")
        self.layout_.addWidget(self.heading)
        self.error = label("", "error")
        self.error.hide()

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text) or self.error.property("reserve") is True)

    def orient(self, portrait: bool) -> None:
        """Lay out for a tall or a wide screen (pages with side-by-side parts override it)."""


class KeypadPage(Page):
    """Fields beside a keypad in landscape, above it in portrait."""

    def __init__(self, heading: str, decimal_point: bool = False) -> None:
        super().__init__(heading)
        self.fields = QVBoxLayout()
        self.keypad = Keypad(self.key, decimal_point)
        self.row = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.row.addLayout(self.fields, 1)
        self.row.addWidget(self.keypad, 0, Qt.AlignmentFlag.AlignCenter)
        self.row.addStretch(0)
        self.layout_.addLayout(self.row, 1)
        # The message keeps its room when empty, so the keys never move under a finger.
        self.error.setProperty("reserve", True)
        self.error.show()

    def orient(self, portrait: bool) -> None:
        """Portrait: the keypad right under the fields (the eye does not travel), the spare
        height below it; landscape: the keypad beside the fields."""
        self.row.setDirection(
            QBoxLayout.Direction.TopToBottom if portrait else QBoxLayout.Direction.LeftToRight
        )
        self.row.setStretch(0, 0 if portrait else 1)
        self.row.setStretch(2, 1 if portrait else 0)
        # A tall screen has the room for bigger keys; the size lives in the style sheet, so
        # switching "Letra grande" on and off keeps it.
        self.keypad.setProperty("portrait", portrait)
        for b in self.keypad.buttons.values():
            b.style().unpolish(b)
            b.style().polish(b)

    def key(self, key: str) -> None:
        raise NotImplementedError

    def type_amount(self, field: QLineEdit, text: str, key: str) -> bool:
        """An amount's key: taken (a stale message goes), or refused with the reason."""
        typed = kf.keystroke(text, key, decimals=True)
        if typed is None:
            self.show_error(kf.refused_key(text, key))
            return False
        field.setText(typed)
        self.show_error("")
        return True


class KioskWindow(QMainWindow):
    slip_printed = Signal(object)  # kf.Printed
    reset_done = Signal()

    def __init__(
        self,
        terminal: Terminal,
        runner: TaskRunner,
        *,
        demo_note: str = "",
        idle_seconds: float | None = None,
        warning_seconds: float | None = None,
        done_seconds: float = 20.0,
        hold_seconds: float = HOLD_SECONDS,
    ) -> None:
        super().__init__()
        self.terminal, self.runner = terminal, runner
        self.service = terminal.kiosk_service()
        self.setWindowTitle("Kiosko ISSEG")
        self.idle_seconds = idle_seconds or float(terminal.settings.kiosk_idle_seconds)
        self.warning_seconds = warning_seconds or float(
            terminal.settings.kiosk_idle_warning_seconds
        )
        self.done_seconds = done_seconds
        self.hold_seconds = hold_seconds
        self._held_until = 0.0
        self.session: kf.Session | None = None
        self.visit: kf.Visit | None = None
        self.loan: kf.LoanChoice | None = None
        self.kind = ""
        self.summary: kf.Summary | None = None
        self.policy = Policy()
        self.large = False
        self._last_activity = time.monotonic()

        self.pages = QStackedWidget()
        self.pages.currentChanged.connect(lambda _i: self.hold())
        self.welcome = WelcomePage(self, demo_note)
        self.start_button = self.welcome.start_button
        self.login_page = LoginPage(self, terminal.settings.kiosk_member_number_digits)
        self.loans_page = LoansPage(self)
        self.options_page = OptionsPage(self)
        self.quincenas_page = QuincenasPage(self)
        self.amount_page = AmountPage(self)
        self.summary_page = SummaryPage(self)
        self.done_page = DonePage(self)
        self.history_page = HistoryPage(self)
        self.help_page = HelpPage(self)
        self.simulator_page = SimulatorPage(self)
        self.all_pages: list[Page] = [
            self.welcome,
            self.login_page,
            self.loans_page,
            self.options_page,
            self.quincenas_page,
            self.amount_page,
            self.summary_page,
            self.done_page,
            self.history_page,
            self.help_page,
            self.simulator_page,
        ]
        for page in self.all_pages:
            self.pages.addWidget(page)
        self._help_return: QWidget = self.welcome
        # For the staff installing it, before any affiliate sees the kiosk.
        self.enrollment = EnrollmentPanel(
            terminal,
            runner,
            screen_kind="kiosko",
            touch=True,
            next_step="Con «Continuar» el kiosko pasa a su pantalla de bienvenida.",
        )
        self.enrollment.continued.connect(self._enrolled)
        self.pages.addWidget(self.enrollment)

        top = QHBoxLayout()
        self.help_button = button("Ayuda", self.show_help)
        self.contrast_button = button("Letra grande / Alto contraste", self.toggle_large)
        self.contrast_button.setCheckable(True)
        self.skew_label = label("", "error")
        self.skew_label.hide()
        top.addWidget(self.help_button)
        top.addStretch(1)
        top.addWidget(self.skew_label, 4)
        top.addWidget(self.contrast_button)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(top)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        # The idle banner floats over the page (a child not in any layout): nothing moves.
        self.countdown = QFrame(central)
        self.countdown.setObjectName("banner")
        row = QHBoxLayout(self.countdown)
        self.countdown_label = label("")
        self.keep_button = button("Sigo aquí", self.keep, primary=True)
        row.addWidget(self.countdown_label, 1)
        row.addWidget(self.keep_button)
        self.countdown.hide()

        self.setStyleSheet(stylesheet(NORMAL))
        self._tick = QTimer(self)
        self._tick.timeout.connect(self._on_tick)
        self._tick.start(250)
        self._done_timer = QTimer(self)
        self._done_timer.setSingleShot(True)
        self._done_timer.timeout.connect(self.back_to_loans)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self.runner.db(terminal.policy, self._got_policy)
        # Link state and clock skew are in memory (the sync engine keeps them): cheap.
        self._link_timer = QTimer(self)
        self._link_timer.timeout.connect(self._refresh_link)
        self._link_timer.start(1000)
        self._refresh_link()
        if terminal.needs_enrollment:  # no token: central would refuse every affiliate
            self.help_button.hide()
            self.contrast_button.hide()
            self.pages.setCurrentWidget(self.enrollment)
            self.enrollment.reset()

    def _enrolled(self, _enrolled: object) -> None:
        # The slips name the store: the service is built again with the enrolled name.
        self.service = self.terminal.kiosk_service()
        self.help_button.show()
        self.contrast_button.show()
        self.runner.db(self.terminal.policy, self._got_policy)
        self.reset()
        self._refresh_link()  # the welcome's offline notice is about the link before the alta

    # --- look -------------------------------------------------------------------------

    def toggle_large(self) -> None:
        self.large = not self.large
        self.contrast_button.setChecked(self.large)
        # Says whether it is on, not only by its colour.
        self.contrast_button.setText(f"{'✓ ' if self.large else ''}Letra grande / Alto contraste")
        self.setStyleSheet(stylesheet(CONTRAST if self.large else NORMAL))
        for b in [*self.loans_page.buttons, *self.options_page.kind_buttons.values()]:
            b.setMinimumHeight(0)  # the new type size's height, not the old one's
            fit(b)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        portrait = self.height() > self.width()
        for page in self.all_pages:
            page.orient(portrait)
        self.enrollment.orient(portrait)
        self._place_banner()

    def _place_banner(self) -> None:
        parent = self.centralWidget()
        width = parent.width() if parent is not None else self.width()
        height = max(self.countdown.sizeHint().height(), 100)
        bottom = parent.height() if parent is not None else self.height()
        # Near the hands, over the page's lower part, not over "Ayuda" and "Letra grande".
        self.countdown.setGeometry(12, bottom - height - 12, width - 24, height)
        self.countdown.raise_()

    # --- idle, link and clock -----------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        kind = event.type()
        if kind in (
            QEvent.Type.MouseButtonPress,
            QEvent.Type.MouseButtonDblClick,
            QEvent.Type.KeyPress,
            QEvent.Type.TouchBegin,
        ):
            self._last_activity = time.monotonic()
            held = time.monotonic() < self._held_until
            if held and kind != QEvent.Type.KeyPress and isinstance(watched, QWidget):
                return watched.window() is self  # swallowed: it was meant for what was there
        return False

    def hold(self) -> None:
        """Drop taps for a moment: what was under the finger has just changed."""
        self._held_until = time.monotonic() + self.hold_seconds

    def touch(self) -> None:
        self._last_activity = time.monotonic()
        self.countdown.hide()

    def keep(self) -> None:
        self.touch()
        self.hold()

    def _on_tick(self) -> None:
        if self.pages.currentWidget() in (self.welcome, self.enrollment):
            self.countdown.hide()
            return
        left = self.idle_seconds - (time.monotonic() - self._last_activity)
        if left <= 0:
            self.reset(timed_out=True)
        elif left <= self.warning_seconds:
            seconds = int(left) + 1
            self.countdown_label.setText(
                "¿Sigue ahí? Por su seguridad la sesión se cerrará en "
                f"{kf.plural(seconds, 'segundo', 'segundos')}."
            )
            if not self.countdown.isVisible():
                self.countdown.show()
                self._place_banner()
        else:
            self.countdown.hide()

    def _refresh_link(self) -> None:
        online = self.terminal.online()
        self.welcome.offline.setText("" if online else kf.UNREACHABLE_MESSAGE)
        self.welcome.offline.setVisible(not online)
        skew = self.terminal.clock_skew()
        off = skew is not None and abs(skew) > self.policy.max_clock_skew
        if off and skew is not None:
            minutes = round(abs(skew).total_seconds() / 60)
            self.skew_label.setText(
                f"El reloj de este kiosko difiere {kf.plural(minutes, 'minuto', 'minutos')} del "
                "instituto: avise al personal de la farmacia."
            )
        self.skew_label.setVisible(off)

    def _got_policy(self, policy: Policy) -> None:
        self.policy = policy

    # --- navigation ---------------------------------------------------------------------

    def go(self, page: QWidget) -> None:
        self.touch()
        self.pages.setCurrentWidget(page)

    def show_help(self) -> None:
        current = self.pages.currentWidget()
        if current is not None and current is not self.help_page:
            self._help_return = current
        self.go(self.help_page)

    def close_help(self) -> None:
        self.go(self._help_return)

    def start(self) -> None:
        self.welcome.ended.hide()
        self.login_page.clear()
        self.go(self.login_page)

    # --- actions: one service call each, painted by one function ------------------------

    def log_in(self, number: str, nip: str) -> None:
        self.login_page.busy(True)
        self.runner.io(
            lambda: self.service.log_in(number, nip), self.paint_visit, self.login_page.failed
        )

    def paint_visit(self, visit: kf.Visit) -> None:
        self.login_page.busy(False)
        self.session, self.visit = visit.session, visit
        self.loans_page.paint(visit)
        self.go(self.loans_page)

    def back_to_loans(self) -> None:
        self._done_timer.stop()
        session = self.session
        if session is None:
            self.reset()
            return
        self.runner.io(
            lambda: self.service.reload(session),
            self.paint_visit,
            lambda exc: self.loans_page.show_error(say(exc)),
        )

    def choose_loan(self, loan: kf.LoanChoice) -> None:
        self.loan = loan
        self.options_page.paint(loan)
        self.go(self.options_page)

    def choose_kind(self, kind: str) -> None:
        if self.loan is None:
            return
        self.kind = kind
        if kind == kf.QUINCENAL:
            self.quincenas_page.paint(self.loan)
            self.go(self.quincenas_page)
        elif kind == kf.ABONO:
            self.amount_page.paint(self.loan)
            self.go(self.amount_page)
        else:
            self.review()

    def review(self, quincenas: tuple[int, ...] = (), amount: str = "") -> None:
        """Continue to the summary: the core checks the choice and words the warnings."""
        loan, kind = self.loan, self.kind
        if loan is None:
            return
        left = self.visit.slips_left if self.visit is not None else None
        page = self.pages.currentWidget()

        def refused(exc: BaseException) -> None:
            (page if isinstance(page, Page) else self.options_page).show_error(say(exc))

        self.runner.db(
            lambda: self.service.review(kf.choose(loan, kind, quincenas, amount), left),
            self.paint_summary,
            refused,
        )

    def paint_summary(self, summary: kf.Summary) -> None:
        self.summary = summary
        self.summary_page.paint(summary)
        self.go(self.summary_page)

    def print_slip(self) -> None:
        summary, session = self.summary, self.session
        if summary is None or session is None:
            return
        self.summary_page.busy(True)
        self.runner.io(
            lambda: self.service.print_slip(session, summary.choice),
            self.paint_printed,
            self.summary_page.failed,
        )

    def paint_printed(self, printed: kf.Printed) -> None:
        self.summary_page.busy(False)
        self.done_page.paint(printed)
        self.go(self.done_page)
        self._done_timer.start(int(self.done_seconds * 1000))
        self.slip_printed.emit(printed)

    def show_history(self) -> None:
        session = self.session
        if session is None:
            return
        self.history_page.paint(None)
        self.go(self.history_page)
        self.runner.io(
            lambda: self.service.history(session),
            self.history_page.paint,
            lambda exc: self.history_page.show_error(say(exc)),
        )

    def show_simulator(self) -> None:
        self.simulator_page.clear(logged_in=self.session is not None)
        self.go(self.simulator_page)
        if self.session is not None:
            self.simulate("")

    def simulate(self, salary: str) -> None:
        session = self.session
        self.runner.db(
            lambda: self.service.simulate(session, salary),
            self.simulator_page.paint,
            lambda exc: self.simulator_page.show_error(say(exc)),
        )

    def reset(self, timed_out: bool = False) -> None:
        """End the visit: the session ends at central, and everything personal is forgotten.
        After a timeout the welcome says so (the affiliate may have only looked away)."""
        self.welcome.ended.setText(
            "Su sesión se cerró porque la pantalla no se tocó por un momento. Sus datos están "
            "protegidos: puede comenzar de nuevo."
            if timed_out
            else "Gracias por su visita: su sesión quedó cerrada."
        )
        self.welcome.ended.setVisible(timed_out or self.session is not None)
        self._done_timer.stop()
        session, self.session = self.session, None
        if session is not None:
            self.runner.io(lambda: self.service.log_out(session))
        self.visit, self.loan, self.kind, self.summary = None, None, "", None
        for page in self.all_pages:
            if isinstance(page, Clearable):
                page.clear()
        self.countdown.hide()
        if self.large:  # the next person starts with the usual look
            self.toggle_large()
        self.pages.setCurrentWidget(self.welcome)
        self.reset_done.emit()

    def closeEvent(self, event: Any) -> None:  # noqa: N802 (Qt name)
        self._tick.stop()
        self._link_timer.stop()
        self._done_timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        super().closeEvent(event)


class Clearable(Page):
    """A page holding something personal: ``clear()`` forgets it."""

    def clear(self) -> None:
        raise NotImplementedError


class WelcomePage(Page):
    def __init__(self, window: KioskWindow, demo_note: str) -> None:
        super().__init__("Le damos la bienvenida al kiosko ISSEG")
        self.layout_.addWidget(
            label(
                "Aquí puede generar la ficha de pago de sus préstamos y pagarla en la caja "
                "de esta o de cualquier farmacia ISSEG, sin comisión."
            )
        )
        self.layout_.addStretch(1)
        self.offline = label("", "error")
        self.layout_.addWidget(self.offline)
        self.ended = label("", "warn")  # how the last visit ended
        self.ended.hide()
        self.layout_.addWidget(self.ended)
        self.start_button = button("Toque aquí para comenzar", window.start, primary=True)
        self.start_button.setMinimumHeight(140)
        self.layout_.addWidget(self.start_button)
        self.layout_.addWidget(button("¿Cuánto me prestan?", window.show_simulator))
        if demo_note:
            self.layout_.addWidget(label(demo_note, "small"))
        self.layout_.addStretch(1)


class LoginPage(KeypadPage, Clearable):
    """The keypad types into the number until it is complete, then into the NIP, which
    is always masked. After a refusal the NIP is cleared and active; the number stays."""

    def __init__(self, window: KioskWindow, digits: int) -> None:
        super().__init__("Escriba su número de afiliado y su NIP")
        self.window_ = window
        self.digits = digits
        self.number = QLineEdit()
        self.number.setPlaceholderText(f"{digits} dígitos")
        self.nip = QLineEdit()
        self.nip.setPlaceholderText("NIP")
        self.nip.setEchoMode(QLineEdit.EchoMode.Password)
        self.target = self.number
        for caption, f in (("Número de afiliado", self.number), ("NIP", self.nip)):
            f.setReadOnly(True)  # only the keypad types: its bounds are the field's
            f.installEventFilter(self)
            self.fields.addWidget(label(caption, "small"))
            self.fields.addWidget(f)
        self.fields.addWidget(self.error)
        self.fields.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(button("Cancelar", window.reset))
        self.enter = button("Entrar", self.submit, primary=True)
        buttons.addWidget(self.enter, 1)
        self.layout_.addLayout(buttons)
        self._activate(self.number)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.MouseButtonPress and watched in (self.number, self.nip):
            self._activate(watched)  # type: ignore[arg-type]
        return False

    def _activate(self, field: QLineEdit) -> None:
        self.target = field
        mark_active((self.number, self.nip), field)
        field.setFocus()

    def key(self, key: str) -> None:
        is_number = self.target is self.number
        typed = kf.keystroke(
            self.target.text(), key, max_digits=self.digits if is_number else kf.NIP_DIGITS
        )
        if typed is None:
            return
        self.target.setText(typed)
        self.show_error("")  # whatever it said is stale once a key was taken
        if is_number and len(typed) == self.digits and key != "⌫":
            self._activate(self.nip)
            self.window_.hold()  # a quick extra digit must not become the NIP's first

    def clear(self) -> None:
        self.number.clear()
        self.nip.clear()
        self.show_error("")
        self.busy(False)
        self._activate(self.number)

    def busy(self, on: bool) -> None:
        self.enter.setEnabled(not on)
        self.enter.setText("Consultando…" if on else "Entrar")

    def submit(self) -> None:
        number, nip = self.number.text(), self.nip.text()
        if len(number) != self.digits:
            self.show_error(f"Su número de afiliado tiene {self.digits} dígitos.")
            self._activate(self.number)
            return
        if not nip:
            self.show_error("Escriba su NIP.")
            self._activate(self.nip)
            return
        self.show_error("")
        self.window_.log_in(number, nip)

    def failed(self, exc: BaseException) -> None:
        self.busy(False)
        self.nip.clear()
        text = (
            kf.login_message(exc, self.window_.policy)
            if isinstance(exc, kf.LoginRefused)
            else say(exc)
        )
        self.show_error(text)
        self._activate(self.nip)


class LoansPage(Clearable):
    def __init__(self, window: KioskWindow) -> None:
        super().__init__("Sus préstamos")
        self.window_ = window
        inner = QWidget()
        self.box = QVBoxLayout(inner)
        self.box.setSpacing(14)
        self.area = kinetic(inner)
        self.layout_.addWidget(self.area, 1)
        self.more = more_below(self.area)
        self.layout_.addWidget(self.more)
        self.layout_.addWidget(self.error)
        self.buttons: list[QPushButton] = []
        row = QHBoxLayout()
        row.addWidget(button("Mis pagos y fichas", window.show_history))
        row.addWidget(button("¿Cuánto me prestan?", window.show_simulator))
        self.layout_.addLayout(row)
        self.layout_.addWidget(button("Salir", window.reset))

    def clear(self) -> None:
        clear_layout(self.box)
        self.buttons = []
        self.heading.setText("Sus préstamos")
        self.show_error("")

    def paint(self, visit: kf.Visit) -> None:
        self.clear()
        self.heading.setText(f"Hola, {visit.session.member_name}. Sus préstamos:")
        if not visit.loans:
            self.box.addWidget(label("No tiene préstamos activos."))
        for loan in visit.loans:
            # A button does not wrap: one short fact per line, so nothing is cut off.
            lines = (
                f"Préstamo {loan.kind.capitalize()} {loan.loan_id}",
                f"Saldo {money.fmt(loan.outstanding_balance)}",
                *loan.status_parts,
            )
            b = button("\n".join(lines), partial(self.window_.choose_loan, loan))
            b.setStyleSheet("text-align: left;")
            b.setEnabled(not loan.settled)
            self.box.addWidget(b)
            fit(b)
            self.buttons.append(b)
        self.box.addStretch(1)
        to_top(self.area)


class OptionsPage(Clearable):
    def __init__(self, window: KioskWindow) -> None:
        super().__init__("¿Qué desea pagar?")
        self.info = label("")
        # Scrolls rather than squeezes: with large type on a short screen the kinds' buttons
        # keep their full height (a squeezed button cuts its text).
        inner = QWidget()
        content = QVBoxLayout(inner)
        content.setContentsMargins(0, 0, 0, 0)
        content.addWidget(self.info)
        self.grid = QGridLayout()
        self.grid.setSpacing(14)
        self.kind_buttons: dict[str, QPushButton] = {}
        self.explanations: dict[str, QLabel] = {}
        for kind in kf.KINDS:
            self.kind_buttons[kind] = button("", partial(window.choose_kind, kind))
            self.explanations[kind] = label("", "small")
        content.addLayout(self.grid)
        content.addWidget(self.error)
        content.addStretch(1)
        self.area = kinetic(inner)
        self.layout_.addWidget(self.area, 1)
        self.more = more_below(self.area)
        self.layout_.addWidget(self.more)
        self.layout_.addWidget(
            button("Volver a mis préstamos", lambda: window.go(window.loans_page))
        )
        self.orient(False)

    def orient(self, portrait: bool) -> None:
        columns = 1 if portrait else 2
        for i, kind in enumerate(kf.KINDS):
            self.grid.addWidget(self.kind_buttons[kind], (i // columns) * 2, i % columns)
            self.grid.addWidget(self.explanations[kind], (i // columns) * 2 + 1, i % columns)

    def clear(self) -> None:
        self.info.clear()
        self.show_error("")

    def paint(self, loan: kf.LoanChoice) -> None:
        self.show_error("")
        to_top(self.area)
        self.heading.setText(f"Préstamo {loan.loan_id}: ¿qué desea pagar?")
        self.info.setText(
            f"Saldo {money.fmt(loan.outstanding_balance)} · descuento quincenal "
            f"{money.fmt(loan.installment)} · {loan.status_line}"
            + (f"\n{loan.balance_note}" if loan.balance_note else "")
        )
        for option in kf.kind_options(loan):
            b = self.kind_buttons[option.kind]
            b.setText(f"{option.label}\n{option.figure}")
            b.setEnabled(option.enabled)
            fit(b)
            self.explanations[option.kind].setText(
                option.explanation if option.enabled else f"{option.explanation}\n{option.reason}"
            )
        self.grid.invalidate()  # its cached heights predate the buttons' new ones


class QuincenasPage(Page):
    """Quincenas oldest first: touching one selects it and every older one."""

    def __init__(self, window: KioskWindow) -> None:
        super().__init__("Elija las quincenas a pagar, de la más antigua a la más reciente")
        self.window_ = window
        self.loan: kf.LoanChoice | None = None
        self.chosen: tuple[int, ...] = ()
        self.buttons: list[QPushButton] = []
        inner = QWidget()
        self.box = QVBoxLayout(inner)
        self.box.setSpacing(12)
        self.area = kinetic(inner)
        self.layout_.addWidget(self.area, 1)
        self.more = more_below(self.area)
        self.layout_.addWidget(self.more)
        self.total = label("", "total")
        self.layout_.addWidget(self.total)
        self.layout_.addWidget(self.error)
        row = QHBoxLayout()
        row.addWidget(button("Volver", lambda: window.go(window.options_page)))
        self.next_button = button("Continuar", lambda: window.review(self.chosen), primary=True)
        row.addWidget(self.next_button, 1)
        self.layout_.addLayout(row)

    def paint(self, loan: kf.LoanChoice) -> None:
        clear_layout(self.box)
        self.loan, self.chosen, self.buttons = loan, (), []
        self.show_error("")
        for q in loan.pending:
            b = button("", partial(self.toggle, q.number))
            b.setCheckable(True)
            self.box.addWidget(b)
            self.buttons.append(b)
        self.box.addStretch(1)
        to_top(self.area)
        self._paint()

    def toggle(self, number: int) -> None:
        if self.loan is not None:
            self.chosen = kf.toggle_quincena(self.loan, self.chosen, number)
            self._paint()

    def _paint(self) -> None:
        pending = self.loan.pending if self.loan else ()
        for q, b in zip(pending, self.buttons, strict=True):
            on = q.number in self.chosen
            b.setChecked(on)
            b.setText(
                f"{'☑' if on else '☐'}  Quincena {q.number} · vence {q.due_date:%d/%m/%Y} · "
                f"{money.fmt(q.amount)}"
            )
        count = len(self.chosen)
        total = kf.quincenas_total(self.loan, self.chosen) if self.loan else Decimal(0)
        self.total.setText(
            f"Total: {money.fmt(total)} ({kf.plural(count, 'quincena', 'quincenas')})"
            if count
            else "Toque la quincena más antigua para empezar."
        )
        self.next_button.setEnabled(bool(count))


class AmountPage(KeypadPage, Clearable):
    def __init__(self, window: KioskWindow) -> None:
        super().__init__("¿Cuánto desea abonar a capital?", decimal_point=True)
        self.rules = label("")
        self.amount = QLineEdit()
        self.amount.setReadOnly(True)
        self.amount.setPlaceholderText("0.00")
        for w in (self.rules, self.amount, self.error):
            self.fields.addWidget(w)
        self.fields.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(button("Volver", lambda: window.go(window.options_page)))
        self.next_button = button(
            "Continuar", lambda: window.review(amount=self.amount.text()), primary=True
        )
        row.addWidget(self.next_button, 1)
        self.layout_.addLayout(row)

    def key(self, key: str) -> None:
        self.type_amount(self.amount, self.amount.text(), key)

    def clear(self) -> None:
        self.amount.clear()
        self.show_error("")

    def paint(self, loan: kf.LoanChoice) -> None:
        self.clear()
        self.rules.setText(
            f"Mínimo {money.fmt(loan.min_prepayment)} (su descuento quincenal). Máximo "
            f"{money.fmt(loan.max_prepayment)}; para pagar todo elija Liquidación."
            + (f"\n{loan.balance_note}" if loan.balance_note else "")
        )


class SummaryPage(Clearable):
    def __init__(self, window: KioskWindow) -> None:
        super().__init__("Revise su ficha antes de imprimirla")
        self.detail = label("")
        self.amount = label("", "amount")
        self.words = label("", "small")
        self.warning_box = label("", "warn")
        self.note_box = label("", "warn")
        for w in (self.detail, self.amount, self.words, self.warning_box, self.note_box):
            self.layout_.addWidget(w)
        self.layout_.addWidget(self.error)
        self.layout_.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(button("Cambiar", lambda: window.go(window.options_page)))
        self.print_button = button("Imprimir ficha", window.print_slip, primary=True)
        row.addWidget(self.print_button, 1)
        self.layout_.addLayout(row)

    def clear(self) -> None:
        for w in (self.detail, self.amount, self.words, self.warning_box, self.note_box):
            w.clear()
        self.warning_box.hide()
        self.note_box.hide()
        self.show_error("")

    def paint(self, summary: kf.Summary) -> None:
        self.detail.setText(summary.title)
        self.amount.setText(money.fmt(summary.amount))
        self.words.setText(summary.words)
        for box, lines in ((self.warning_box, summary.warnings), (self.note_box, summary.notes)):
            box.setText("\n".join(f"⚠ {line}" for line in lines))
            box.setVisible(bool(lines))
        self.busy(False)
        self.show_error(summary.refusal)  # the daily limit, said before "Imprimir"
        self.print_button.setEnabled(not summary.refusal)

    def busy(self, on: bool) -> None:
        self.print_button.setEnabled(not on)
        self.print_button.setText("Imprimiendo…" if on else "Imprimir ficha")

    def failed(self, exc: BaseException) -> None:
        self.busy(False)
        self.warning_box.hide()  # nothing was issued, so nothing was replaced
        self.show_error(say(exc))


class DonePage(Clearable):
    def __init__(self, window: KioskWindow) -> None:
        super().__init__("Tome su ficha de la impresora y preséntela en caja")
        self.detail = label("")
        self.layout_.addWidget(self.detail)
        self.layout_.addStretch(1)
        self.back_button = button("Volver a mis préstamos", window.back_to_loans, primary=True)
        self.layout_.addWidget(self.back_button)
        self.exit_button = button("Salir", window.reset)
        self.layout_.addWidget(self.exit_button)

    def clear(self) -> None:
        self.detail.clear()

    def paint(self, printed: kf.Printed) -> None:
        self.detail.setText("\n".join(printed.lines))


class HistoryPage(Clearable):
    def __init__(self, window: KioskWindow) -> None:
        super().__init__("Mis pagos y fichas")
        self.window_ = window
        self.layout_.addWidget(
            label(
                "Aquí aparecen los pagos hechos en farmacias ISSEG y las fichas de hoy; los "
                "descuentos por nómina se cuentan aparte, por préstamo.",
                "small",
            )
        )
        inner = QWidget()
        self.box = QVBoxLayout(inner)
        self.area = kinetic(inner)
        self.layout_.addWidget(self.area, 1)
        self.more = more_below(self.area)
        self.layout_.addWidget(self.more)
        self.layout_.addWidget(self.error)
        self.layout_.addWidget(
            button("Volver a mis préstamos", lambda: window.go(window.loans_page))
        )

    def clear(self) -> None:
        clear_layout(self.box)
        to_top(self.area)
        self.show_error("")

    def paint(self, history: tuple[kf.LoanHistory, ...] | None) -> None:
        self.clear()
        if history is None:
            self.box.addWidget(label("Consultando…", "small"))
            return
        visit = self.window_.visit
        known = {ln.loan_id: ln for ln in visit.loans} if visit is not None else {}
        for loan in history:
            self.box.addWidget(label(f"Préstamo {loan.loan_id}", "total"))
            if loan.loan_id in known:
                self.box.addWidget(label(known[loan.loan_id].quincenas_line))
            if not loan.payments:
                self.box.addWidget(label("Aún no hay pagos en farmacias ISSEG.", "small"))
            for p in loan.payments:
                self.box.addWidget(
                    label(
                        f"{p.paid_at:%d/%m/%Y} · {p.place} · {money.fmt(p.amount)} · "
                        f"{kf.KINDS.get(p.kind, p.kind)} · {PAYMENT_STATUS.get(p.status, p.status)}"
                    )
                )
            for s in loan.slips_today:
                self.box.addWidget(
                    label(
                        f"Ficha de hoy {kf.CurrentSlip(s.reference, s.amount, s.status).grouped}"
                        f" · {money.fmt(s.amount)} · {kf.KINDS.get(s.kind, s.kind)} · "
                        f"{SLIP_STATUS.get(s.status, s.status)}",
                        "small",
                    )
                )
        if not history:
            self.box.addWidget(label("No tiene préstamos con pagos."))
        self.box.addStretch(1)


class HelpPage(Page):
    def __init__(self, window: KioskWindow) -> None:
        super().__init__("Ayuda")
        self.layout_.addWidget(
            label(
                "1. Toque «Toque aquí para comenzar».\n"
                "2. Escriba su número de afiliado con las teclas; al completarlo, las teclas "
                "pasan solas a su NIP, que se ve como puntos.\n"
                "3. Elija su préstamo y la forma de pago.\n"
                "4. Revise el importe e imprima su ficha.\n"
                "5. Pague la ficha hoy en la caja de cualquier farmacia ISSEG, por el importe "
                "exacto.\n\n"
                "Si la pantalla no se toca por un momento, la sesión se cierra sola para "
                "proteger sus datos.\n\n"
                f"¿Dudas, o olvidó su NIP? Llame al ISSEG: {kf.INSTITUTE_PHONE}. "
                "También puede pedir ayuda al personal de la farmacia."
            )
        )
        self.layout_.addStretch(1)
        self.layout_.addWidget(button("Volver", window.close_help, primary=True))


class SimulatorPage(KeypadPage, Clearable):
    """¿Cuánto me prestan? Informative figures for 24, 36, 48 and 72 quincenas. The keypad
    gives way to the figures once they are painted; touching the salary brings it back."""

    def __init__(self, window: KioskWindow) -> None:
        super().__init__("¿Cuánto me prestan?", decimal_point=True)
        self.window_ = window
        self.portrait = False
        self.prompt = label("Sueldo o pensión mensual:", "small")
        self.fresh = False  # the shown salary is replaced by the first key, not appended to
        self.salary = QLineEdit()
        self.salary.setReadOnly(True)
        self.salary.setPlaceholderText("0.00")
        self.salary.installEventFilter(self)
        self.calculate = button("Calcular", lambda: window.simulate(self.salary.text()), True)
        inner = QWidget()
        results = QVBoxLayout(inner)
        self.table = QGridLayout()
        self.table.setHorizontalSpacing(24)  # "24 quincenas" and "$12,851.94" stay apart
        self.notes = label("", "small")
        results.addLayout(self.table)
        results.addWidget(self.notes)
        results.addStretch(1)
        for w in (self.prompt, self.salary, self.calculate, self.error):
            self.fields.addWidget(w)
        # No room kept for a message here: the figures below take the spare height, so a
        # message moves no key, and an empty one would hide figures on a short screen.
        self.error.setProperty("reserve", False)
        self.error.hide()
        self.area = kinetic(inner)
        self.fields.addWidget(self.area, 1)
        self.more = more_below(self.area)
        self.fields.addWidget(self.more)
        self.layout_.addWidget(button("Volver", self.back))

    def orient(self, portrait: bool) -> None:
        super().orient(portrait)
        self.portrait = portrait
        self.typing(self.keypad.isVisibleTo(self))

    def typing(self, on: bool) -> None:
        """The keypad while the salary is typed; the figures once they are painted. In
        portrait the keypad sits right under the field, the figures take the height."""
        self.keypad.setVisible(on)
        under = on and self.portrait
        self.row.setStretch(0, 0 if under else 1)
        self.row.setStretch(2, 1 if under else 0)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if watched is self.salary and event.type() == QEvent.Type.MouseButtonPress:
            self.typing(True)
            self.salary.selectAll()  # shown selected: the next key replaces it
        return False

    def back(self) -> None:
        w = self.window_
        w.go(w.loans_page if w.session is not None else w.welcome)

    def key(self, key: str) -> None:
        if self.type_amount(self.salary, "" if self.fresh else self.salary.text(), key):
            self.fresh = False

    def clear(self, logged_in: bool = False) -> None:
        self.salary.clear()
        self.fresh = False
        clear_layout(self.table)
        self.notes.clear()
        self.show_error("")
        self.typing(not logged_in)
        self.prompt.setText(
            "Sueldo o pensión mensual que tiene el instituto (tóquelo para cambiarlo):"
            if logged_in
            else "Escriba su sueldo o pensión mensual:"
        )

    def paint(self, sim: Simulation) -> None:
        clear_layout(self.table)
        self.show_error("")
        self.typing(False)
        to_top(self.area)
        self.salary.setText(f"{sim.monthly_salary:.2f}")
        self.fresh = True
        header = ("Plazo", "Crédito máximo", "Descuento", "¿Puede?")
        for col, text in enumerate(header):
            self.table.addWidget(label(text, "small"), 0, col)
        for row, t in enumerate(sim.terms, start=1):
            verdict = {True: "Sí", False: "No", None: "Depende"}[t.eligible]
            cells = (
                f"{t.quincenas} quincenas",
                money.fmt(t.max_credit),
                money.fmt(t.installment),
                f"{verdict}: {t.reason}",
            )
            for col, text in enumerate(cells):
                self.table.addWidget(label(text, "body" if col < 3 else "small"), row, col)
        self.table.setColumnStretch(3, 1)
        years = (
            (f"Años cotizados: {sim.years_contributed}.",)
            if sim.years_contributed is not None
            else ()
        )
        self.notes.setText("\n".join((*years, *sim.notes)))
