"""The self-service kiosk: touch-first, large type, an on-screen keypad, no keyboard needed.

welcome → affiliate number and NIP → loans → a loan → payment kind → (quincenas | amount)
→ summary → print the ficha → "Presenta tu ficha en caja" → welcome. Central issues the
ficha, so the kiosk needs the link; offline it says so plainly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk import money
from kiosk.app import Terminal
from kiosk.references import InvalidReference, Reference
from kiosk.references import parse as parse_reference
from kiosk.rules import Policy
from ui.common import (
    AMBER,
    AMBER_BG,
    BLUE,
    GREEN,
    GREY,
    RED,
    big,
    ensure_style,
    fit_fields,
    message_of,
    pesos,
)
from ui.tasks import TaskRunner

KINDS = {
    "QUINCENAL": "Pago quincenal",
    "ABONO": "Abono a capital",
    "RENOVACION": "Renovación",
    "LIQUIDACION": "Liquidación",
}
KIOSK_STYLE = """
QPushButton { font-size: 26px; padding: 18px 24px; border-radius: 12px; }
QPushButton#key { font-size: 34px; min-width: 110px; min-height: 80px; }
QLineEdit { font-size: 34px; }
"""


def _dec(value: Any) -> Decimal:
    return money.to_decimal(str(value))


@dataclass
class Choice:
    """What the affiliate is building: cleared by every return to the welcome."""

    loan: dict[str, Any] | None = None
    kind: str = ""
    quincenas: list[int] = field(default_factory=list)
    amount: Decimal = Decimal("0.00")


def _button(text: str, primary: bool = False) -> QPushButton:
    b = QPushButton(text)
    if primary:
        b.setObjectName("primary")
    b.setCursor(Qt.CursorShape.PointingHandCursor)
    return b


def _back_and_next(
    layout: QVBoxLayout,
    back: tuple[str, Callable[[], None]],
    forward: tuple[str, Callable[[], None]],
) -> QPushButton:
    """The bottom row of a step: a small back button and a wide primary one (returned)."""
    row = QHBoxLayout()
    back_button = _button(back[0])
    back_button.clicked.connect(back[1])
    forward_button = _button(forward[0], primary=True)
    forward_button.clicked.connect(forward[1])
    row.addWidget(back_button)
    row.addWidget(forward_button, 1)
    layout.addLayout(row)
    return forward_button


def _day(iso: object) -> str:
    """``2026-11-30`` → ``30/11/2026``, the way dates are read in Mexico."""
    try:
        return date.fromisoformat(str(iso)).strftime("%d/%m/%Y")
    except ValueError:
        return str(iso or "")


def _grouped(reference: object) -> str:
    try:
        return parse_reference(str(reference)).grouped()
    except InvalidReference:
        return str(reference or "")


class Keypad(QWidget):
    """Digits, borrar and a decimal point, typing into whichever field is the target."""

    def __init__(self, decimal_point: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.target: QLineEdit | None = None
        grid = QGridLayout(self)
        keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "." if decimal_point else "", "0", "⌫"]
        for i, key in enumerate(keys):
            if not key:
                continue
            b = QPushButton(key)
            b.setObjectName("key")
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _=False, k=key: self.press(k))
            grid.addWidget(b, i // 3, i % 3)

    def press(self, key: str) -> None:
        if self.target is None:
            return
        if key == "⌫":
            self.target.backspace()
        else:
            self.target.insert(key)


class Page(QWidget):
    def __init__(self, heading: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(40, 30, 40, 30)
        self.heading = big(heading, 40, color=BLUE)
        self.layout_.addWidget(self.heading)
        self.error = big("", 24, color=RED)
        self.error.hide()

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))


class KioskWindow(QMainWindow):
    slip_printed = Signal(object)  # the issued ficha, as central answered
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
    ) -> None:
        ensure_style()
        super().__init__()
        self.terminal, self.runner = terminal, runner
        self.setWindowTitle("Kiosko ISSEG")
        self.setStyleSheet(KIOSK_STYLE)
        self.idle_seconds = idle_seconds or float(terminal.settings.kiosk_idle_seconds)
        self.warning_seconds = warning_seconds or float(
            terminal.settings.kiosk_idle_warning_seconds
        )
        self.done_seconds = done_seconds
        self.session: Any = None
        self.member_name = ""
        self.loans: list[dict[str, Any]] = []
        self.choice = Choice()
        self.slip: dict[str, Any] | None = None
        self.policy = Policy()
        self._last_activity = time.monotonic()
        self.pages = QStackedWidget()
        self.welcome = self._welcome(demo_note)
        self.login_page = LoginPage(self)
        self.loans_page = Page("Tus préstamos")
        self.options_page = OptionsPage(self)
        self.quincenas_page = QuincenasPage(self)
        self.amount_page = AmountPage(self)
        self.summary_page = SummaryPage(self)
        self.done_page = Page("Presenta tu ficha en caja")
        for page in (
            self.welcome,
            self.login_page,
            self.loans_page,
            self.options_page,
            self.quincenas_page,
            self.amount_page,
            self.summary_page,
            self.done_page,
        ):
            self.pages.addWidget(page)
        self._loans_box = QVBoxLayout()
        self.loans_page.layout_.addLayout(self._loans_box)
        self.loans_page.layout_.addStretch(1)
        self.loans_page.layout_.addWidget(self._exit_button())
        self.done_detail = big("", 28, bold=False)
        self.done_page.layout_.addWidget(self.done_detail)
        self.done_page.layout_.addStretch(1)
        finish = _button("Terminar", primary=True)
        finish.clicked.connect(self.reset)
        self.done_page.layout_.addWidget(finish)
        self.countdown = QFrame()
        self.countdown.setStyleSheet(f"background: {AMBER_BG}; border-radius: 10px;")
        row = QHBoxLayout(self.countdown)
        self.countdown_label = big("", 26, color=AMBER)
        keep = _button("Sigo aquí", primary=True)
        keep.clicked.connect(self.touch)
        row.addWidget(self.countdown_label, 1)
        row.addWidget(keep)
        self.countdown.hide()
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.countdown)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)
        self._tick = QTimer(self)
        self._tick.timeout.connect(self._on_tick)
        self._tick.start(250)
        self._done_timer = QTimer(self)
        self._done_timer.setSingleShot(True)
        self._done_timer.timeout.connect(self.reset)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        fit_fields(self)
        self.runner.db(terminal.policy, self._got_policy)
        # The link state is in memory (the sync engine keeps it): cheap to read each second.
        self._link_timer = QTimer(self)
        self._link_timer.timeout.connect(self._refresh_link)
        self._link_timer.start(1000)
        self._refresh_link()

    # --- pages ---------------------------------------------------------------------------

    def _welcome(self, demo_note: str) -> Page:
        page = Page("Bienvenido al kiosko ISSEG")
        page.layout_.addWidget(
            big(
                "Genera aquí tu ficha de pago para tus préstamos y págala en "
                "la caja de esta farmacia, sin comisión.",
                28,
                bold=False,
            )
        )
        page.layout_.addStretch(1)
        self.offline_banner = big("", 28, color=RED)
        page.layout_.addWidget(self.offline_banner)
        self.start_button = _button("Toca aquí para comenzar", primary=True)
        self.start_button.setMinimumHeight(120)
        self.start_button.clicked.connect(self.start)
        page.layout_.addWidget(self.start_button)
        if demo_note:
            page.layout_.addWidget(big(demo_note, 18, bold=False))
        page.layout_.addStretch(1)
        return page

    def _exit_button(self) -> QPushButton:
        b = _button("Salir")
        b.clicked.connect(self.reset)
        return b

    # --- idle and link ------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() in (
            QEvent.Type.MouseButtonPress,
            QEvent.Type.KeyPress,
            QEvent.Type.TouchBegin,
        ):
            self._last_activity = time.monotonic()
        return False

    def touch(self) -> None:
        self._last_activity = time.monotonic()
        self.countdown.hide()

    def _on_tick(self) -> None:
        if self.pages.currentWidget() is self.welcome:
            self.countdown.hide()
            return
        left = self.idle_seconds - (time.monotonic() - self._last_activity)
        if left <= 0:
            self.reset()
        elif left <= self.warning_seconds:
            self.countdown_label.setText(
                f"¿Sigues ahí? Por tu seguridad la sesión se cerrará en {int(left) + 1} s."
            )
            self.countdown.show()
        else:
            self.countdown.hide()

    def _refresh_link(self) -> None:
        online = self.terminal.online()
        self.offline_banner.setText(
            ""
            if online
            else "Sin conexión con el instituto: por ahora no se pueden emitir "
            "fichas. Intenta más tarde o pregunta en caja."
        )
        self.offline_banner.setVisible(not online)

    def _got_policy(self, policy: Policy) -> None:
        self.policy = policy

    # --- flow ---------------------------------------------------------------------------

    def go(self, page: QWidget) -> None:
        self.touch()
        self.pages.setCurrentWidget(page)

    def start(self) -> None:
        self.login_page.clear()
        self.go(self.login_page)
        self.login_page.number.setFocus()

    def logged_in(self, session: Any) -> None:
        self.session = session
        self.member_name = getattr(session, "member_name", "")
        self.runner.io(
            lambda: self.terminal.member_loans(session),
            self._got_loans,
            lambda exc: self.login_page.failed(exc),
        )

    def _got_loans(self, body: dict[str, Any]) -> None:
        self.login_page.busy(False)
        self.loans = [loan for loan in body.get("loans", []) if isinstance(loan, dict)]
        member = body.get("member") or {}
        self.member_name = str(member.get("name") or self.member_name)
        while self._loans_box.count():
            item = self._loans_box.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()  # type: ignore[union-attr]
        self.loans_page.heading.setText(f"Hola, {self.member_name}. Tus préstamos:")
        if not self.loans:
            self._loans_box.addWidget(big("No tienes préstamos activos.", 28))
        for loan in self.loans:
            options = loan.get("options", {})
            settled = loan.get("status") == "LIQUIDADO" or options.get("settled")
            pending = len(options.get("pending", []))
            text = (
                f"Préstamo {loan['loan_id']} · {loan.get('kind', '').title()}\n"
                f"Saldo {pesos(_dec(loan.get('outstanding_balance', '0')))} · "
                f"{'LIQUIDADO' if settled else f'{pending} quincenas pendientes'}"
            )
            b = _button(text)
            b.setStyleSheet("text-align: left;")
            b.setEnabled(not settled)
            b.clicked.connect(lambda _=False, ln=loan: self.choose_loan(ln))
            self._loans_box.addWidget(b)
        self.go(self.loans_page)

    def choose_loan(self, loan: dict[str, Any]) -> None:
        self.choice = Choice(loan=loan)
        self.options_page.show_loan(loan)
        self.go(self.options_page)

    def choose_kind(self, kind: str) -> None:
        loan = self.choice.loan or {}
        options = loan.get("options", {})
        self.choice.kind = kind
        self.choice.quincenas = []
        if kind == "QUINCENAL":
            self.quincenas_page.show_loan(options.get("pending", []))
            self.go(self.quincenas_page)
        elif kind == "ABONO":
            self.amount_page.show_loan(
                _dec(options.get("min_prepayment", "0")), _dec(options.get("max_prepayment", "0"))
            )
            self.go(self.amount_page)
        else:
            key = "renewal_amount" if kind == "RENOVACION" else "payoff_amount"
            self.choice.amount = _dec(options.get(key, "0"))
            self.show_summary()

    def show_summary(self) -> None:
        self.summary_page.show_choice(self.choice, self.warnings())
        self.go(self.summary_page)

    def warnings(self) -> list[str]:
        """What the affiliate must know before printing (SPEC 2.1 and 3.2)."""
        out: list[str] = []
        current = (self.choice.loan or {}).get("current_reference")
        if isinstance(current, dict) and current.get("status") == "VIGENTE":
            out.append(
                f"Esta ficha reemplaza a la ficha {_grouped(current.get('reference'))} de "
                f"{pesos(_dec(current.get('amount', '0')))}: la anterior ya no "
                "podrá pagarse."
            )
        now = self.terminal.clock()
        today: date = self.policy.local(now).date()
        if not self.policy.is_business_day(today):
            out.append(
                "Hoy no es día hábil: la ficha solo vale el día en que se genera y "
                "hoy no podrá pagarse."
            )
        else:
            left = self.policy.closes_in(now)
            if left is None:
                out.append(
                    f"La caja cobra de {self.policy.window_start:%H:%M} a "
                    f"{self.policy.window_end:%H:%M}: esta ficha solo vale hoy y ya no "
                    "podrá pagarse."
                )
            elif left < timedelta(minutes=30):
                out.append(
                    # Rounded up: with 14:59 left, a person reads "15 minutos".
                    f"La caja deja de cobrar en {-int(-left.total_seconds() // 60)} "
                    "minutos: esta ficha solo vale hoy."
                )
        return out

    def print_slip(self) -> None:
        choice, session = self.choice, self.session
        if choice.loan is None or session is None:
            return
        self.summary_page.busy(True)
        loan_id = str(choice.loan["loan_id"])
        amount = choice.amount if choice.kind == "ABONO" else None
        quincenas = list(choice.quincenas)
        kind = choice.kind
        self.runner.io(
            lambda: self.terminal.issue_slip(
                session, loan_id=loan_id, kind=kind, quincenas=quincenas, amount=amount
            ),
            self._issued,
            self._issue_failed,
        )

    def _issued(self, slip: dict[str, Any]) -> None:
        self.slip = slip
        document = self._slip_document(slip)
        self.runner.io(
            lambda: self.terminal.print_document(document),
            lambda result: self._printed(slip, result),
            self._print_failed,
        )

    def _slip_document(self, slip: dict[str, Any]) -> Any:
        from printing.documents import SlipData

        p = self.policy
        return SlipData(
            store_name=self.terminal.settings.store_name,
            member_name=str(slip.get("member_name") or self.member_name),
            member_number=str(slip.get("member_number", "")),
            loan_id=str(slip.get("loan_id", "")),
            kind=KINDS.get(str(slip.get("kind")), str(slip.get("kind"))),
            amount=_dec(slip["amount"]),
            reference=str(slip["reference"]),
            issued_on=date.fromisoformat(str(slip["issued_on"])),
            valid_hours=f"de {p.window_start:%H:%M} a {p.window_end:%H:%M} horas",
            cash_cap=p.cash_cap,
            quincenas=tuple(str(n) for n in slip.get("quincenas") or ()),
            concept=str(slip.get("concept", "")),
            replaces_reference=str(slip.get("replaced") or ""),
        )

    def _printed(self, slip: dict[str, Any], result: Any) -> None:
        self.summary_page.busy(False)
        ref = Reference(str(slip["reference"]))
        printed = getattr(result, "printed", True)
        lines = [
            f"Referencia {ref.grouped()}",
            f"Importe {pesos(_dec(slip['amount']))}",
            f"Válida solo hoy, {ref.issued_on:%d/%m/%Y}, por el importe exacto.",
        ]
        if not printed:
            lines.append(
                "La impresora no respondió: anota la referencia o pide ayuda en "
                "caja; la ficha ya está registrada."
            )
        if slip.get("warning"):
            lines.append(str(slip["warning"]))
        self.done_detail.setText("\n".join(lines))
        self.go(self.done_page)
        self._done_timer.start(int(self.done_seconds * 1000))
        self.slip_printed.emit(slip)

    def _print_failed(self, exc: BaseException) -> None:
        if self.slip is not None:
            self._printed(self.slip, type("R", (), {"printed": False})())

    def _issue_failed(self, exc: BaseException) -> None:
        self.summary_page.busy(False)
        self.summary_page.show_error(self._explain(exc))

    def _explain(self, exc: BaseException) -> str:
        if type(exc).__name__ == "Offline":
            return (
                "Sin conexión con el instituto: por ahora no se pueden emitir fichas. "
                "Intenta más tarde."
            )
        return message_of(exc)

    def reset(self) -> None:
        """Back to the welcome, forgetting everything about the affiliate."""
        self._done_timer.stop()
        self.session = None
        self.member_name = ""
        self.loans = []
        self.choice = Choice()
        self.slip = None
        self.login_page.clear()
        self.options_page.clear()
        self.quincenas_page.show_loan([])
        self.amount_page.clear()
        self.summary_page.clear()
        self.done_detail.clear()
        self.loans_page.heading.setText("Tus préstamos")
        while self._loans_box.count():
            item = self._loans_box.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()  # type: ignore[union-attr]
        self.countdown.hide()
        self.pages.setCurrentWidget(self.welcome)
        self.reset_done.emit()

    def closeEvent(self, event: Any) -> None:  # noqa: N802 (Qt name)
        self._tick.stop()
        self._link_timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        super().closeEvent(event)


class LoginPage(Page):
    def __init__(self, window: KioskWindow) -> None:
        super().__init__("Escribe tu número de afiliado y tu NIP")
        self.window_ = window
        row = QHBoxLayout()
        fields = QVBoxLayout()
        self.number = QLineEdit()
        self.number.setPlaceholderText("número de afiliado")
        self.nip = QLineEdit()
        self.nip.setPlaceholderText("NIP")
        self.nip.setEchoMode(QLineEdit.EchoMode.Password)
        for f in (self.number, self.nip):
            f.setMaxLength(20)
            fields.addWidget(f)
        fields.addWidget(self.error)
        fields.addStretch(1)
        self.keypad = Keypad()
        row.addLayout(fields, 1)
        row.addWidget(self.keypad)
        self.layout_.addLayout(row, 1)
        buttons = QHBoxLayout()
        back = _button("Cancelar")
        back.clicked.connect(window.reset)
        self.enter = _button("Entrar", primary=True)
        self.enter.clicked.connect(self.submit)
        buttons.addWidget(back)
        buttons.addWidget(self.enter, 1)
        self.layout_.addLayout(buttons)
        self.number.returnPressed.connect(self.nip.setFocus)
        self.nip.returnPressed.connect(self.submit)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus)

    def _focus(self, _old: QWidget | None, new: QWidget | None) -> None:
        if new in (self.number, self.nip):
            self.keypad.target = new  # type: ignore[assignment]

    def clear(self) -> None:
        self.number.clear()
        self.nip.clear()
        self.show_error("")
        self.busy(False)
        self.keypad.target = self.number

    def busy(self, on: bool) -> None:
        self.enter.setEnabled(not on)
        self.enter.setText("Consultando…" if on else "Entrar")

    def submit(self) -> None:
        number, nip = self.number.text().strip(), self.nip.text().strip()
        if not number or not nip:
            self.show_error("Escribe tu número de afiliado y tu NIP.")
            return
        self.busy(True)
        self.show_error("")
        terminal = self.window_.terminal
        self.window_.runner.io(
            lambda: terminal.member_login(number, nip), self.window_.logged_in, self.failed
        )

    def failed(self, exc: BaseException) -> None:
        self.busy(False)
        self.nip.clear()
        self.show_error(self.window_._explain(exc))


class OptionsPage(Page):
    def __init__(self, window: KioskWindow) -> None:
        super().__init__("¿Qué quieres pagar?")
        self.window_ = window
        self.info = big("", 24, bold=False)
        self.layout_.addWidget(self.info)
        grid = QGridLayout()
        self.kind_buttons: dict[str, QPushButton] = {}
        for i, kind in enumerate(KINDS):
            b = _button(KINDS[kind])
            b.setMinimumHeight(110)
            b.clicked.connect(lambda _=False, k=kind: window.choose_kind(k))
            grid.addWidget(b, i // 2, i % 2)
            self.kind_buttons[kind] = b
        self.layout_.addLayout(grid)
        self.layout_.addStretch(1)
        back = _button("Volver a mis préstamos")
        back.clicked.connect(lambda: window.go(window.loans_page))
        self.layout_.addWidget(back)

    def clear(self) -> None:
        self.info.clear()

    def show_loan(self, loan: dict[str, Any]) -> None:
        o = loan.get("options", {})
        pending = o.get("pending", [])
        self.heading.setText(f"Préstamo {loan['loan_id']}: ¿qué quieres pagar?")
        self.info.setText(
            f"Saldo {pesos(_dec(loan.get('outstanding_balance', '0')))} · descuento quincenal "
            f"{pesos(_dec(loan.get('installment', '0')))} · {len(pending)} quincenas pendientes"
        )
        b = self.kind_buttons
        b["QUINCENAL"].setText(f"Pago quincenal\n{len(pending)} quincenas por pagar")
        b["QUINCENAL"].setEnabled(bool(pending))
        b["ABONO"].setText(f"Abono a capital\ndesde {pesos(_dec(o.get('min_prepayment', '0')))}")
        b["ABONO"].setEnabled(bool(o.get("can_prepay")))
        renewal = _dec(o.get("renewal_amount", "0"))
        b["RENOVACION"].setText(
            "Renovación\nya puedes renovar sin pago"
            if renewal == 0
            else f"Renovación\n{pesos(renewal)}"
        )
        b["RENOVACION"].setEnabled(renewal > 0)
        b["LIQUIDACION"].setText(f"Liquidación\n{pesos(_dec(o.get('payoff_amount', '0')))}")
        b["LIQUIDACION"].setEnabled(bool(o.get("can_pay_off")))


class QuincenasPage(Page):
    """Quincenas oldest first: touching one selects it and every older one."""

    def __init__(self, window: KioskWindow) -> None:
        super().__init__("Elige las quincenas a pagar (de la más antigua a la más reciente)")
        self.window_ = window
        self.items: list[dict[str, Any]] = []
        self.buttons: list[QPushButton] = []
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        inner = QWidget()
        self.box = QVBoxLayout(inner)
        scroll.setWidget(inner)
        self.layout_.addWidget(scroll, 1)
        self.total = big("", 34, color=GREEN)
        self.layout_.addWidget(self.total)
        self.next_button = _back_and_next(
            self.layout_,
            ("Volver", lambda: window.go(window.options_page)),
            ("Continuar", self.next),
        )

    def show_loan(self, pending: list[dict[str, Any]]) -> None:
        for b in self.buttons:
            b.deleteLater()
        self.items, self.buttons = list(pending), []
        for item in self.items:
            b = _button("")
            b.setCheckable(True)
            b.clicked.connect(lambda _=False, n=int(item["number"]): self.toggle(n))
            self.box.addWidget(b)
            self.buttons.append(b)
        self._paint()

    def toggle(self, number: int) -> None:
        """Select ``number`` and all older ones; or, if selected, drop it and newer ones."""
        chosen = self.window_.choice.quincenas
        numbers = [int(i["number"]) for i in self.items]
        idx = numbers.index(number)
        self.window_.choice.quincenas = numbers[:idx] if number in chosen else numbers[: idx + 1]
        del chosen
        self._paint()

    def _paint(self) -> None:
        chosen = set(self.window_.choice.quincenas)
        total = Decimal("0.00")
        for item, b in zip(self.items, self.buttons, strict=True):
            n = int(item["number"])
            on = n in chosen
            if on:
                total += _dec(item["amount"])
            b.setChecked(on)
            b.setText(
                f"{'☑' if on else '☐'}  Quincena {n} · vence {_day(item.get('due_date'))}"
                f" · {pesos(_dec(item['amount']))}"
            )
        count = len(chosen)
        self.total.setText(
            f"Total: {pesos(total)} ({count} quincena{'s' if count != 1 else ''})"
            if count
            else "Toca la quincena más antigua para empezar."
        )
        self.window_.choice.amount = total
        self.next_button.setEnabled(bool(count))

    def next(self) -> None:
        if self.window_.choice.quincenas:
            self.window_.show_summary()


class AmountPage(Page):
    def __init__(self, window: KioskWindow) -> None:
        super().__init__("¿Cuánto quieres abonar a capital?")
        self.window_ = window
        self.minimum = Decimal("0.00")
        self.maximum = Decimal("0.00")
        row = QHBoxLayout()
        col = QVBoxLayout()
        self.rules = big("", 24, bold=False)
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("0.00")
        col.addWidget(self.rules)
        col.addWidget(self.amount)
        col.addWidget(self.error)
        col.addStretch(1)
        self.keypad = Keypad(decimal_point=True)
        self.keypad.target = self.amount
        row.addLayout(col, 1)
        row.addWidget(self.keypad)
        self.layout_.addLayout(row, 1)
        self.next_button = _back_and_next(
            self.layout_,
            ("Volver", lambda: window.go(window.options_page)),
            ("Continuar", self.next),
        )
        self.amount.returnPressed.connect(self.next)

    def clear(self) -> None:
        self.amount.clear()
        self.show_error("")

    def show_loan(self, minimum: Decimal, maximum: Decimal) -> None:
        self.minimum, self.maximum = minimum, maximum
        self.clear()
        self.rules.setText(
            f"Mínimo {pesos(minimum)} (tu descuento quincenal). "
            f"Máximo {pesos(maximum)}; para pagar todo elige Liquidación."
        )

    def next(self) -> None:
        try:
            value = money.parse(self.amount.text())
        except money.MoneyError as exc:
            self.show_error(str(exc))
            return
        if value < self.minimum:
            self.show_error(f"El abono debe ser de al menos {pesos(self.minimum)}.")
            return
        if value > self.maximum:
            self.show_error(
                f"El abono de {pesos(value)} es mayor que tu saldo de "
                f"{pesos(self.maximum)}: elige Liquidación."
            )
            return
        self.window_.choice.amount = value
        self.window_.show_summary()


class SummaryPage(Page):
    def __init__(self, window: KioskWindow) -> None:
        super().__init__("Revisa tu ficha antes de imprimirla")
        self.window_ = window
        self.detail = big("", 28, bold=False)
        self.amount = big("", 64, color=GREEN)
        # Con letra: legible, but the figure above is what the eye looks for.
        self.words = big("", 22, bold=False, color=GREY)
        self.warning_box = big("", 24, color=AMBER)
        self.warning_box.setStyleSheet(
            f"font-size: 24px; font-weight: bold; color: {AMBER}; background: {AMBER_BG};"
            " padding: 12px; border-radius: 8px;"
        )
        for w in (self.detail, self.amount, self.words, self.warning_box, self.error):
            self.layout_.addWidget(w)
        self.layout_.addStretch(1)
        self.print_button = _back_and_next(
            self.layout_,
            ("Cambiar", lambda: window.go(window.options_page)),
            ("Imprimir ficha", window.print_slip),
        )

    def clear(self) -> None:
        self.detail.clear()
        self.amount.clear()
        self.words.clear()
        self.warning_box.clear()
        self.warning_box.hide()
        self.show_error("")

    def show_choice(self, choice: Choice, warnings: list[str]) -> None:
        loan = choice.loan or {}
        lines = [f"Préstamo {loan.get('loan_id', '')}", KINDS.get(choice.kind, choice.kind)]
        if choice.quincenas:
            word = "Quincena" if len(choice.quincenas) == 1 else "Quincenas"
            lines.append(f"{word} " + ", ".join(str(n) for n in choice.quincenas))
        self.detail.setText(" · ".join(lines))
        self.amount.setText(pesos(choice.amount))
        self.words.setText(f"Importe con letra: {money.in_words(choice.amount)}")
        self.warning_box.setText("⚠ " + "\n⚠ ".join(warnings) if warnings else "")
        self.warning_box.setVisible(bool(warnings))
        self.show_error("")
        self.busy(False)

    def busy(self, on: bool) -> None:
        self.print_button.setEnabled(not on)
        self.print_button.setText("Imprimiendo…" if on else "Imprimir ficha")
