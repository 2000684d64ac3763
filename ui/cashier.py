"""The cashier screen: scan → verdict → tender → receipt, keyboard only.

The scan field keeps the focus whenever no tender is being typed, so a keyboard-wedge scanner
always lands in it. Everything slow (database, central, printer) goes through the task runner.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk import money, payment_list
from kiosk.app import Scanned, ShiftClosed, Terminal, TerminalStatus
from kiosk.payment_list import PaymentRow
from kiosk.ports import Payment, ReceiptOutcome, Shift, User
from kiosk.references import LENGTH, Reference
from kiosk.rules import Policy, Verdict
from kiosk.scanner import KeyLog
from kiosk.shifts import ShiftStatus
from kiosk.tender import TenderPlan, exact_cash, plan, rest_on_card
from ui.approval import Confirm, confirm
from ui.common import (
    AMBER_BG,
    BLUE,
    GREEN,
    GREEN_BG,
    GREY,
    RED,
    RED_BG,
    IdleWatch,
    big,
    ensure_style,
    error_label,
    fit_fields,
    hint,
    message_of,
    pesos,
    title,
)
from ui.count import CountPanel
from ui.enrollment import EnrollmentPanel
from ui.first_run import FirstManagerPanel
from ui.login import LoginPanel
from ui.status import PrintRetry, StatusBar, receipts_waiting
from ui.tasks import TaskRunner


class VerdictPanel(QFrame):
    """The big answer: green with the affiliate and importe, or red with the reason."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("verdict")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        self.headline = big("", 34)
        self.member = big("", 24)
        self.concept = big("", 20, bold=False)
        self.amount = big("", 56)
        self.words = big("", 18, bold=False)
        self.reason = big("", 24)
        for w in (self.headline, self.member, self.concept, self.amount, self.words, self.reason):
            layout.addWidget(w)
        layout.addStretch(1)
        self.show_idle()

    def _paint(self, bg: str, fg: str) -> None:
        self.setStyleSheet(
            f"QFrame#verdict {{ background: {bg}; border: 3px solid {fg}; border-radius: 10px; }}"
        )
        self.headline.setStyleSheet(f"font-size: 34px; font-weight: bold; color: {fg};")

    def _set(
        self,
        headline: str,
        member: str = "",
        concept: str = "",
        amount: str = "",
        words: str = "",
        reason: str = "",
    ) -> None:
        for label, text in (
            (self.headline, headline),
            (self.member, member),
            (self.concept, concept),
            (self.amount, amount),
            (self.words, words),
            (self.reason, reason),
        ):
            label.setText(text)
            label.setVisible(bool(text))

    def show_idle(self) -> None:
        self._paint("#ffffff", "#c4c8cf")
        self.headline.setStyleSheet(f"font-size: 30px; color: {GREY};")
        self._set("Escanee la ficha o escriba la referencia y pulse Enter.")

    def show_busy(self, text: str) -> None:
        self._paint("#ffffff", BLUE)
        self._set(text)

    def show_verdict(self, verdict: Verdict, scanned: str = "") -> None:
        record = verdict.record
        if verdict.ok and record is not None:
            self._paint(GREEN_BG, GREEN)
            member = record.member_name
            if record.member_number:
                member += f"  ·  afiliado {record.member_number}"
            concept = record.concept or record.kind
            if record.loan_id and record.loan_id not in concept:
                concept += f"  ·  préstamo {record.loan_id}"
            self._set(
                "✔ REFERENCIA VÁLIDA: COBRE",
                member,
                concept,
                pesos(record.amount),
                money.in_words(record.amount),
            )
            return
        self._paint(RED_BG, RED)
        detail = ""
        if record is not None:
            detail = f"{record.member_name}  ·  {pesos(record.amount)}".strip(" ·")
        # What was read stays in view: the cashier compares it with the ficha.
        read = f"Leído: {scanned.strip()[:40]}" if scanned.strip() else ""
        self._set("✘ NO SE PUEDE COBRAR", detail, read, reason=verdict.message)
        self.reason.setStyleSheet(f"font-size: 26px; font-weight: bold; color: {RED};")

    def show_paid(self, payment: Payment) -> None:
        self._paint(GREEN_BG, GREEN)
        change = (
            f"CAMBIO: {pesos(payment.change_given)}"
            if payment.cash_received
            else "Pago con tarjeta"
        )
        self._set(
            f"✔ PAGO REGISTRADO · folio {payment.folio}",
            Reference(payment.reference).grouped(),  # as printed on the ficha
            "",
            change,
            reason="",
        )

    def show_error(self, text: str) -> None:
        self._paint(RED_BG, RED)
        self._set("✘ NO SE REGISTRÓ EL PAGO", reason=text)
        self.reason.setStyleSheet(f"font-size: 26px; font-weight: bold; color: {RED};")


class TenderPanel(QFrame):
    """Cash received, card amount and authorization; change shown large as it is typed.

    A scanner's burst of digits and Enter in the cash, card or authorization field is a scan,
    never an amount: it is handed on as ``scanned``."""

    confirmed = Signal(object)  # TenderPlan
    scanned = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.amount = Decimal("0.00")
        self.cap = Policy().cash_cap
        grid = QGridLayout(self)
        self.cash = QLineEdit()
        self.cash.setPlaceholderText("0.00")
        self.card = QLineEdit()
        self.card.setPlaceholderText("0.00")
        self.auth = QLineEdit()
        self.auth.setPlaceholderText("autorización")  # the longer text was cut at 1366 px
        self.auth.setMaxLength(24)
        # Not "exacto": it fills the amount rounded up to coins the drawer holds
        # ($1,731.56 → $1,731.60, cambio $0.10), up to the cash cap.
        self.exact = QPushButton("Efectivo (F2)")
        self.exact.setToolTip(
            "Escribe el importe en efectivo redondeado a las monedas de la caja "
            "(hasta el tope de efectivo)."
        )
        self.all_card = QPushButton("Todo con tarjeta (F3)")
        self.rest_card = QPushButton("Resto con tarjeta (F4)")
        grid.addWidget(QLabel("Efectivo recibido"), 0, 0)
        grid.addWidget(self.cash, 0, 1)
        grid.addWidget(self.exact, 0, 2)
        grid.addWidget(QLabel("Con tarjeta"), 1, 0)
        grid.addWidget(self.card, 1, 1)
        grid.addWidget(self.all_card, 1, 2)
        grid.addWidget(QLabel("Autorización"), 2, 0)
        grid.addWidget(self.auth, 2, 1)
        grid.addWidget(self.rest_card, 2, 2)
        # Fits beside the fields on a 1024-px screen with the demo list: never wrapped (a
        # wrapped "$1,731.5" hides centavos), so the layout gives it the width it needs.
        self.change = big("", 30, color=BLUE)
        self.change.setWordWrap(False)
        self.change.ensurePolished()  # the style sheet's font, to measure with
        self.change.setMinimumWidth(self.change.fontMetrics().horizontalAdvance("$99,999.99") + 4)
        grid.addWidget(self.change, 0, 3, 2, 1)
        self.message = error_label()
        grid.addWidget(self.message, 3, 0, 1, 4)
        self.confirm = QPushButton("Cobrar (Enter)")
        self.confirm.setObjectName("primary")
        grid.addWidget(self.confirm, 2, 3)
        grid.setColumnStretch(3, 1)
        for field in (self.cash, self.card, self.auth):
            field.textChanged.connect(self.update_plan)
            field.returnPressed.connect(self.submit)
        self.confirm.clicked.connect(self.submit)
        self.exact.clicked.connect(self.fill_exact)
        self.all_card.clicked.connect(self.fill_card)
        self.rest_card.clicked.connect(self.fill_rest_on_card)
        # Tab goes cash → card → authorization → Cobrar, never through the buttons between.
        for button in (self.exact, self.all_card, self.rest_card):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        QWidget.setTabOrder(self.cash, self.card)
        QWidget.setTabOrder(self.card, self.auth)
        QWidget.setTabOrder(self.auth, self.confirm)
        # The authorization too: a ficha scanned there is a scan, not a card number to wipe.
        self.keys = {self.cash: KeyLog(), self.card: KeyLog(), self.auth: KeyLog()}
        for field in self.keys:
            field.installEventFilter(self)
        self.current: TenderPlan = plan(self.amount, "", "", "", self.cap)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        log = self.keys.get(watched)  # type: ignore[call-overload]
        if log is None or event.type() != QEvent.Type.KeyPress:
            return False
        assert isinstance(event, QKeyEvent)
        now = time.monotonic()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            code = log.enter(now)
            if code is not None and watched is self.auth and len(code) != LENGTH:
                code = None  # a card number typed fast: the authorization field wipes it
            if code is not None:
                self.stop()
                self.scanned.emit(code)
                return True
        elif event.text():
            log.typed(event.text(), now)
        return False

    def start(self, amount: Decimal, cap: Decimal) -> None:
        self.amount, self.cap = amount, cap
        for field in (self.cash, self.card, self.auth):
            field.blockSignals(True)
            field.clear()
            field.blockSignals(False)
        self.setEnabled(True)
        self.update_plan()
        self.cash.setFocus()

    def stop(self) -> None:
        for field in (self.cash, self.card, self.auth):
            field.clear()
        self.change.clear()
        self.message.clear()
        self.setEnabled(False)

    def fill_exact(self) -> None:
        self.cash.setText(f"{exact_cash(self.amount, self.card.text(), self.cap):.2f}")
        self.cash.setFocus()

    def fill_card(self) -> None:
        self.cash.clear()
        self.card.setText(f"{self.amount:.2f}")
        self.auth.setFocus()

    def fill_rest_on_card(self) -> None:
        self.card.setText(f"{rest_on_card(self.amount, self.cash.text()):.2f}")
        self.auth.setFocus()

    def update_plan(self) -> None:
        self.current = plan(
            self.amount, self.cash.text(), self.card.text(), self.auth.text(), self.cap
        )
        p = self.current
        # What looks like a card number is hidden at once and wiped on Enter: wiping it on
        # each keystroke would leave the last digits behind as a plausible authorization.
        self.auth.setEchoMode(
            QLineEdit.EchoMode.Password if p.card_number_typed else QLineEdit.EchoMode.Normal
        )
        self.message.setText(p.message)
        # A first prompt is not a mistake: red only once something typed is wrong.
        self.message.setStyleSheet(f"color: {GREY};" if p.prompt else "")
        if p.ready and p.cash_received:
            self.change.setText(f"Cambio\n{pesos(p.change)}")
        elif p.ready:
            self.change.setText("Sin cambio")
        else:
            self.change.setText(f"A cobrar\n{pesos(self.amount)}")
        self.confirm.setEnabled(p.ready)

    def submit(self) -> None:
        self.update_plan()
        if self.current.card_number_typed:
            self.auth.clear()
            self.message.setText(
                "Se borró lo que parecía un número de tarjeta. Escriba solo "
                "la autorización del voucher."
            )
            return
        if self.isEnabled() and self.current.ready:
            self.confirmed.emit(self.current)


class OpenShiftPanel(QWidget):
    opened = Signal(object)  # Shift

    def __init__(
        self, terminal: Terminal, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._terminal, self._runner = terminal, runner
        self.user: User | None = None
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(title("Abrir turno"), 0, Qt.AlignmentFlag.AlignHCenter)
        explain = hint(
            "No hay turno abierto en esta caja. Cuente el fondo de caja que "
            "recibe y escríbalo para comenzar."
        )
        # Layouts skip height-for-width on items placed with an alignment: a wrapped label
        # added that way is clipped, so it spans the row and centres its own text.
        explain.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        outer.addWidget(explain)
        form = QFormLayout()
        self.float_ = QLineEdit()
        self.float_.setPlaceholderText("0.00")
        form.addRow("Fondo de caja", self.float_)
        box = QWidget()
        box.setMaximumWidth(480)
        box.setLayout(form)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        self.button = QPushButton("Abrir turno")
        self.button.setObjectName("primary")
        outer.addWidget(self.button, 0, Qt.AlignmentFlag.AlignHCenter)
        # Whoever logged in by mistake leaves without opening a shift.
        self.leave = QPushButton("Salir (F12)")
        outer.addWidget(self.leave, 0, Qt.AlignmentFlag.AlignHCenter)
        self.error = error_label()
        outer.addWidget(self.error, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        self.float_.returnPressed.connect(self.submit)
        self.button.clicked.connect(self.submit)

    def submit(self) -> None:
        if self.user is None:
            return
        try:
            amount = money.parse(self.float_.text())
        except money.MoneyError as exc:
            self.error.setText(str(exc))
            return
        user = self.user
        self.button.setEnabled(False)
        self._runner.db(
            lambda: self._terminal.open_shift(cashier_id=user.id, opening_float=amount),
            self._ok,
            self._bad,
        )

    def _ok(self, shift: Shift) -> None:
        self.button.setEnabled(True)
        self.float_.clear()
        self.opened.emit(shift)

    def _bad(self, exc: BaseException) -> None:
        self.button.setEnabled(True)
        self.error.setText(message_of(exc))


class PaymentPicker(QDialog):
    """Choose one of today's payments (for a reprint): the affiliate shown, searchable by
    referencia, name, folio or amount."""

    def __init__(self, rows: Sequence[PaymentRow], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Reimprimir un comprobante")
        self.rows = sorted(rows, key=lambda r: r.payment.folio, reverse=True)
        layout = QVBoxLayout(self)
        self.search = QLineEdit()
        self.search.setPlaceholderText("buscar por referencia, afiliado, folio o importe")
        self.search.setMaxLength(40)
        layout.addWidget(self.search)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        layout.addWidget(self.list)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.list.itemActivated.connect(lambda _item: self.accept())
        self.search.textChanged.connect(self._fill)
        self.search.returnPressed.connect(self.accept)
        layout.addWidget(buttons)
        self._fill()
        fit_fields(self)
        self.resize(720, 440)

    def _fill(self) -> None:
        self.list.clear()
        for r in payment_list.search(self.rows, self.search.text()):
            p = r.payment
            item = QListWidgetItem(
                f"Folio {p.folio}  ·  {p.paid_at:%H:%M}  ·  {r.member_name or 'sin nombre'}  ·  "
                f"{pesos(p.amount)}\n{p.reference}" + ("  ·  CANCELADO" if r.voided else "")
            )
            item.setData(Qt.ItemDataRole.UserRole, p.folio)
            self.list.addItem(item)
        self.list.setCurrentRow(0)

    def chosen(self) -> PaymentRow | None:
        item = self.list.currentItem()
        if item is None:
            return None
        folio = int(item.data(Qt.ItemDataRole.UserRole))
        return next(r for r in self.rows if r.payment.folio == folio)


class CashierWindow(QMainWindow):
    verdict_shown = Signal(object)  # Verdict
    payment_taken = Signal(object)  # Payment
    receipt_printed = Signal(object)  # ReceiptOutcome: printed
    receipt_failed = Signal(str)  # the payment stands; the receipt waits in the queue
    locked = Signal()
    booted = Signal(bool)  # database open; True when it has no user yet (first run)
    shift_closed = Signal(object)  # ShiftClosed

    def __init__(
        self,
        terminal: Terminal,
        runner: TaskRunner,
        *,
        login_note: str = "",
        demo_references: Sequence[tuple[str, str]] = (),
        idle_lock_ms: int | None = None,
        status_poll_ms: int = 1000,
        print_retry_ms: int = 15000,
    ) -> None:
        ensure_style()
        super().__init__()
        self.terminal, self.runner = terminal, runner
        self.user: User | None = None
        self.shift: Shift | None = None
        self.verdict: Verdict | None = None
        self.last_payment: Payment | None = None
        self.confirmation: Confirm | None = None  # the open confirmation, if any
        self.scanned_text = ""  # the last scan as read, shown beside a refusal
        self._retitle()
        self.pages = QStackedWidget()
        self.login = LoginPanel(
            terminal, runner, heading="Caja ISSEG: iniciar sesión", note=login_note
        )
        self.first_run = FirstManagerPanel(terminal, runner)
        self.enrollment = EnrollmentPanel(
            terminal,
            runner,
            next_step="Con «Continuar» se registra el gerente de la farmacia (si aún no lo hay) "
            "o se inicia sesión.",
        )
        self.open_shift = OpenShiftPanel(terminal, runner)
        self.work = self._build_work(demo_references)
        self.close_page = self._build_close()
        pages = (self.login, self.first_run, self.enrollment, self.open_shift, self.work)
        for page in (*pages, self.close_page):
            self.pages.addWidget(page)
        self.status = StatusBar(terminal, runner, poll_ms=status_poll_ms)
        self.print_retry = PrintRetry(terminal, runner, self.status, print_retry_ms, self)
        self.print_retry.finished.connect(self._retried)
        self.status.updated.connect(self._status_updated)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.status)
        self.setCentralWidget(central)
        self.login.logged_in.connect(self._logged_in)
        self.open_shift.opened.connect(self._shift_opened)
        self.open_shift.leave.clicked.connect(self.lock)
        QShortcut(QKeySequence("F12"), self.open_shift).activated.connect(self.lock)
        self.first_run.created.connect(self._first_manager_created)
        self.enrollment.enrolled.connect(self._retitle)
        self.enrollment.continued.connect(self._enrolled)
        minutes = terminal.settings.cashier_idle_lock_minutes
        self.idle = IdleWatch(idle_lock_ms or max(1, round(minutes * 60_000)), self.lock, self)
        self._focus_keeper = QTimer(self)
        self._focus_keeper.timeout.connect(self._keep_scan_focus)
        self._focus_keeper.start(300)
        runner.failed.connect(self._task_failed)
        self.resize(1200, 800)
        fit_fields(self)
        if terminal.needs_enrollment:  # no token: nothing works until central knows it
            self.pages.setCurrentWidget(self.enrollment)
            self.enrollment.reset()
        else:
            self.login.reset()
        # The database opens on its own thread once the window is up (a cold start shows
        # the login at once); escpos loads on the network pool for the first receipt.
        QTimer.singleShot(0, self._boot)

    def _boot(self) -> None:
        t = self.terminal
        self.runner.io(t.prepare_printer, None, lambda _exc: None)
        if t.needs_enrollment:
            return  # after the alta (``_enrolled``): the first manager or the login
        self.runner.db(t.boot, self._booted, self._boot_failed)

    def _retitle(self, _enrolled: object = None) -> None:
        s = self.terminal.settings
        if self.terminal.needs_enrollment:  # the names are still the defaults, not its own
            self.setWindowTitle("Caja ISSEG · sin dar de alta")
            return
        self.setWindowTitle(f"Caja ISSEG · {s.store_name} · {s.terminal_name}")

    def _enrolled(self, _enrolled: object) -> None:
        self.pages.setCurrentWidget(self.login)
        self.login.reset()
        self.runner.db(self.terminal.boot, self._booted, self._boot_failed)

    def _booted(self, first_run: bool) -> None:
        if first_run:
            self.pages.setCurrentWidget(self.first_run)
            self.first_run.reset()
        self.booted.emit(first_run)

    def _boot_failed(self, exc: BaseException) -> None:
        self.login.error.setText(f"No se pudo abrir la base de datos de la caja: {message_of(exc)}")

    def _first_manager_created(self, user: User) -> None:
        self.pages.setCurrentWidget(self.login)
        self.login.username.setText(user.username)
        self.login.reset()
        self.login.error.setStyleSheet(f"color: {GREEN}; font-size: 18px; font-weight: bold;")
        self.login.error.setText(
            f"Gerente «{user.username}» creado. Inicie sesión con su NIP. Los cajeros se dan "
            "de alta en la pantalla del gerente, ventana aparte que se abre con el comando "
            "«isseg\u2011farmacia gerente»."
        )

    # --- layout ---------------------------------------------------------------------------

    def _build_work(self, demo_references: Sequence[tuple[str, str]]) -> QWidget:
        page = QWidget()
        outer = QHBoxLayout(page)
        left = QVBoxLayout()
        outer.addLayout(left, 3)
        row = QHBoxLayout()
        label = QLabel("Referencia")
        label.setStyleSheet("font-size: 22px; font-weight: bold;")
        row.addWidget(label)
        self.scan = QLineEdit()
        self.scan.setObjectName("scan")
        self.scan.setPlaceholderText("escanee la ficha")
        self.scan.setMaxLength(40)
        row.addWidget(self.scan, 1)
        left.addLayout(row)
        self.verdict_panel = VerdictPanel()
        left.addWidget(self.verdict_panel, 1)
        self.tender = TenderPanel()
        self.tender.setEnabled(False)
        left.addWidget(self.tender)
        self.notice = big("", 18, bold=False)
        left.addWidget(self.notice)
        # Two rows of three, so the screen fits a 1024-pixel-wide till monitor.
        buttons = QGridLayout()
        self.reprint_last = QPushButton("Reimprimir último (F5)")
        self.reprint_other = QPushButton("Reimprimir otro… (F6)")
        self.retry_prints = QPushButton("Imprimir pendientes (F7)")
        self.retry_prints.setEnabled(False)
        self.cancel = QPushButton("Cancelar cobro (Esc)")
        self.close_shift_button = QPushButton("Corte de caja (F9)")
        self.lock_button = QPushButton("Bloquear (F12)")
        for i, b in enumerate(
            (
                self.reprint_last,
                self.reprint_other,
                self.retry_prints,
                self.cancel,
                self.close_shift_button,
                self.lock_button,
            )
        ):
            buttons.addWidget(b, i // 3, i % 3)
        left.addLayout(buttons)
        if demo_references:
            side = QFrame()
            # Narrower on a 1024-pixel screen rather than pushing the window past it.
            side.setMinimumWidth(220)
            side.setMaximumWidth(340)
            side.setStyleSheet(f"QFrame {{ background: {AMBER_BG}; border-radius: 8px; }}")
            side_layout = QVBoxLayout(side)
            side_layout.addWidget(big("Referencias de demostración", 18))
            side_layout.addWidget(
                hint("Escriba (o copie) una en el campo Referencia y pulse Enter. Emitidas hoy.")
            )
            for ref, label_text in demo_references:
                item = QLabel(
                    f"<b style='font-family:monospace;font-size:17px'>{ref}</b><br>"
                    f"<span style='color:{GREY}'>{label_text}</span>"
                )
                item.setWordWrap(True)
                item.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                side_layout.addWidget(item)
            side_layout.addStretch(1)
            outer.addWidget(side, 1)
        self.scan.returnPressed.connect(self.on_scan)
        self.tender.confirmed.connect(self.on_confirm)
        self.tender.scanned.connect(self._scanned_in_tender)
        self.reprint_last.clicked.connect(self.on_reprint_last)
        self.reprint_other.clicked.connect(self.on_reprint_other)
        self.cancel.clicked.connect(self.on_escape)
        self.lock_button.clicked.connect(self.lock)
        self.retry_prints.clicked.connect(self.on_retry_prints)
        self.close_shift_button.clicked.connect(self.start_close)
        for key, slot in (
            ("F2", self.tender.fill_exact),
            ("F3", self.tender.fill_card),
            ("F4", self.tender.fill_rest_on_card),
            ("F5", self.on_reprint_last),
            ("F6", self.on_reprint_other),
            ("F7", self.on_retry_prints),
            ("F9", self.start_close),
            ("F12", self.lock),
            ("Esc", self.on_escape),
        ):
            shortcut = QShortcut(QKeySequence(key), page)
            shortcut.activated.connect(slot)
        return page

    def _build_close(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(title("Corte de caja"))
        self.count = CountPanel(self.terminal, self.runner)
        layout.addWidget(self.count, 1)
        row = QHBoxLayout()
        self.back_to_work = QPushButton("Volver al cobro")
        self.finish_close = QPushButton("Terminar y salir")
        self.finish_close.setObjectName("primary")
        self.finish_close.setVisible(False)
        row.addWidget(self.back_to_work)
        row.addWidget(self.finish_close)
        row.addStretch(1)
        layout.addLayout(row)
        self.back_to_work.clicked.connect(self._back_to_work)
        self.finish_close.clicked.connect(self.lock)
        self.count.closed.connect(self._shift_closed)
        return page

    # --- session ------------------------------------------------------------------------

    def _logged_in(self, user: User) -> None:
        self.user = user
        self.idle.timer.start()
        self.runner.db(lambda: self.terminal.shift_for(user.id), self._got_shift, self._not_yours)

    def _not_yours(self, exc: BaseException) -> None:
        """The open shift is somebody else's: back to the login, saying whose and what to do."""
        self.lock()
        self.login.error.setStyleSheet("")
        self.login.error.setText(message_of(exc))

    def _got_shift(self, shift: Shift | None) -> None:
        if shift is None:
            self.open_shift.user = self.user
            self.pages.setCurrentWidget(self.open_shift)
            self.open_shift.float_.setFocus()
            self._show_person()
            return
        self._shift_opened(shift)

    def _shift_opened(self, shift: Shift) -> None:
        self.shift = shift
        self._show_person()
        self.pages.setCurrentWidget(self.work)
        self.reset_for_next()

    def _show_person(self) -> None:
        name = self.user.name if self.user else ""
        shift = (
            f"Turno {self.shift.id} · fondo {pesos(self.shift.opening_float)}"
            if self.shift
            else "sin turno"
        )
        # A manager may take payments here too: the role said, never "Cajero" for everyone.
        role = {"cajero": "Cajero", "gerente": "Gerente"}.get(
            self.user.role if self.user else "", "Usuario"
        )
        self.status.set_person(f"{role}: {name}" if name else "", shift)

    # --- the close (corte) --------------------------------------------------------------

    def start_close(self) -> None:
        """The count by denomination; under a blind count the expected cash is not asked."""
        user = self.user
        if user is None or self.pages.currentWidget() is not self.work:
            return
        self.reset_for_next()
        blind = self.count.blind
        self.runner.db(
            lambda: self.terminal.shift_status(blind=blind),
            lambda status: self._show_close(user, status),
            self._check_failed,
        )

    def _show_close(self, user: User, status: ShiftStatus) -> None:
        self.count.start(user, status)
        self.back_to_work.setVisible(True)
        self.finish_close.setVisible(False)
        # Counting a drawer takes minutes with no key pressed: a lock would lose the count.
        self.idle.timer.stop()
        self.pages.setCurrentWidget(self.close_page)
        first = next(iter(self.count.spins.values()))
        first.setFocus()
        first.selectAll()

    def _back_to_work(self) -> None:
        self.pages.setCurrentWidget(self.work)
        self.idle.timer.start()
        self.reset_for_next()

    def _shift_closed(self, result: ShiftClosed) -> None:
        self.shift = None
        self.last_payment = None
        self._show_person()
        self.back_to_work.setVisible(False)
        self.finish_close.setVisible(True)
        self.finish_close.setFocus()
        self.shift_closed.emit(result)

    def lock(self) -> None:
        """Back to the login (the shift stays open); nothing of the last affiliate shown."""
        if self.user is None:
            return
        closed = self.pages.currentWidget() is self.close_page and self.count.result is not None
        self.user = None
        self.idle.timer.stop()
        self.tender.stop()
        self.verdict = None
        self.verdict_panel.show_idle()
        self.notice.clear()
        self.pages.setCurrentWidget(self.login)
        self.login.reset()
        # News, not an error: never in the error label's red.
        self.login.error.setStyleSheet(f"color: {BLUE}; font-weight: bold;")
        self.login.error.setText(
            "Turno cerrado. Hasta luego."
            if closed
            else "Caja bloqueada. Inicie sesión para continuar."
        )
        self.status.set_person("", "sin turno" if closed else "bloqueada")
        self.locked.emit()

    # --- scan and verdict -----------------------------------------------------------------

    def _keep_scan_focus(self) -> None:
        if (
            self.pages.currentWidget() is self.work
            and not self.tender.isEnabled()
            and QApplication.activeModalWidget() is None
            and not self.scan.hasFocus()
        ):
            self.scan.setFocus()

    def on_scan(self) -> None:
        text = self.scan.text()
        self.scan.clear()
        self.tender.stop()
        self.notice.clear()
        self.verdict = None
        if not text.strip():
            return
        self.scanned_text = text
        self.verdict_panel.show_busy("Verificando…")
        self.runner.io(lambda: self.terminal.scan(text), self._show_scanned, self._check_failed)

    def _scanned_in_tender(self, code: str) -> None:
        """A scan that landed in a money field is a scan: checked as one, never paid."""
        self.scan.setText(code)
        self.on_scan()

    def _check_failed(self, exc: BaseException) -> None:
        self.verdict_panel.show_error(message_of(exc))
        self.scan.setFocus()

    def _show_scanned(self, scanned: Scanned) -> None:
        verdict = self.verdict = scanned.verdict
        self.verdict_panel.show_verdict(verdict, self.scanned_text)
        self.cancel.setEnabled(True)
        if verdict.ok and verdict.record is not None:
            self.tender.start(verdict.record.amount, scanned.cash_cap)
        else:
            self.scan.setFocus()
        self.verdict_shown.emit(verdict)

    # --- payment and receipt ------------------------------------------------------------

    def on_confirm(self, tender_plan: TenderPlan) -> None:
        if tender_plan.confirm_change:
            self.confirmation = confirm(
                self,
                "Confirmar el cambio",
                f"El cambio es de {pesos(tender_plan.change)}. ¿Recibió "
                f"{pesos(tender_plan.cash_received)} en efectivo?",
                lambda _m, _p: self._pay(tender_plan, confirmed=True),
                action=f"Sí, entregar {pesos(tender_plan.change)}",
            )
            return
        self._pay(tender_plan, confirmed=False)

    def _pay(self, tender_plan: TenderPlan, *, confirmed: bool) -> None:
        verdict, user = self.verdict, self.user
        if verdict is None or verdict.record is None or user is None or tender_plan.tender is None:
            return
        tender = tender_plan.tender
        self.tender.setEnabled(False)
        self.verdict_panel.show_busy("Registrando el pago…")
        reference = verdict.record.reference
        self.runner.db(
            lambda: self.terminal.pay(
                reference=reference,
                tender=tender,
                cashier_id=user.id,
                cash_received=tender_plan.cash_received,
                card_authorization=self.tender.auth.text().strip(),
                confirm_large_change=confirmed,
            ),
            self._paid,
            self._pay_failed,
        )

    def _paid(self, payment: Payment) -> None:
        self.last_payment = payment
        self.verdict = None
        self.verdict_panel.show_paid(payment)
        self.cancel.setEnabled(False)
        self.tender.stop()
        self.notice.setText("Imprimiendo comprobante…")
        self.scan.setFocus()
        self.status.refresh()
        self.payment_taken.emit(payment)
        uuid = payment.uuid
        self.runner.io(
            lambda: self.terminal.deliver_receipt(uuid), self._show_receipt, self._print_failed
        )

    def _pay_failed(self, exc: BaseException) -> None:
        self.verdict = None
        self.tender.stop()
        self.verdict_panel.show_error(message_of(exc))
        self.scan.setFocus()

    def _reprint(self, payment_uuid: str, folio: int) -> None:
        """A reprint is a second proof of payment: a manager approves it at the till."""
        user_id = self.user.id if self.user else 0

        def approved(manager: str, pin: str) -> None:
            self.notice.setText(f"Reimprimiendo folio {folio}…")
            self.runner.io(
                lambda: self.terminal.reprint(
                    payment_uuid, user_id=user_id, manager=manager, manager_pin=pin
                ),
                self._show_receipt,
                self._reprint_failed,
            )

        self.confirmation = confirm(
            self,
            "Reimprimir comprobante",
            f"Reimprimir el comprobante del folio {folio} (saldrá marcado REIMPRESIÓN). "
            "Un gerente lo autoriza con su NIP.",
            approved,
            action="Reimprimir",
            pin=True,
        )

    def _show_receipt(self, outcome: ReceiptOutcome) -> None:
        if not outcome.printed.printed:
            self._paint_print_failure(outcome.printed.message)
            return
        self.notice.setStyleSheet(f"font-size: 18px; color: {GREEN};")
        self.notice.setText("Comprobante impreso. Listo para la siguiente ficha.")
        self.status.refresh()
        self.receipt_printed.emit(outcome)

    def _print_failed(self, exc: BaseException) -> None:
        self._paint_print_failure(f"El comprobante no se imprimió: {message_of(exc)}")

    def _reprint_failed(self, exc: BaseException) -> None:
        """A refused or failed reprint: the reason alone (the payment was never in doubt)."""
        self.notice.setStyleSheet(f"font-size: 18px; font-weight: bold; color: {RED};")
        self.notice.setText(f"No se reimprimió: {message_of(exc)}")

    def _paint_print_failure(self, reason: str) -> None:
        self.notice.setStyleSheet(f"font-size: 18px; font-weight: bold; color: {RED};")
        self.notice.setText(f"El pago quedó registrado. {reason}")
        self.status.refresh()
        self.receipt_failed.emit(reason)

    def on_reprint_last(self) -> None:
        if self.last_payment is None or self.user is None:
            self.notice.setText("Aún no hay un comprobante en este turno para reimprimir.")
            return
        self._reprint(self.last_payment.uuid, self.last_payment.folio)

    def on_reprint_other(self) -> None:
        if self.user is None:
            return
        self.runner.db(self.terminal.payments_today, self._pick_reprint)

    def _pick_reprint(self, rows: list[PaymentRow]) -> None:
        if not rows:
            self.notice.setText("Hoy no hay pagos en esta caja.")
            return
        picker = PaymentPicker(rows, self)
        picker.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def chosen() -> None:
            row = picker.chosen()
            if row is not None:
                self._reprint(row.payment.uuid, row.payment.folio)

        picker.accepted.connect(chosen)
        picker.open()
        self.picker = picker

    def on_retry_prints(self) -> None:
        if self.user is None:
            return
        self.notice.setStyleSheet("font-size: 18px;")
        self.notice.setText("Imprimiendo los comprobantes pendientes…")
        self.print_retry.retry()

    def _retried(self, printed: int) -> None:
        if printed:
            self.notice.setStyleSheet(f"font-size: 18px; color: {GREEN};")
            self.notice.setText(
                "Se imprimió 1 comprobante pendiente."
                if printed == 1
                else f"Se imprimieron {printed} comprobantes pendientes."
            )

    def _status_updated(self, status: TerminalStatus) -> None:
        waiting = status.reprint_queue
        self.retry_prints.setEnabled(waiting > 0)
        self.retry_prints.setText(
            f"Imprimir pendientes: {waiting} (F7)" if waiting else "Imprimir pendientes (F7)"
        )
        self.retry_prints.setToolTip(receipts_waiting(waiting) if waiting else "")
        if waiting and "Imprimiendo los comprobantes" in self.notice.text():
            self.notice.setStyleSheet(f"font-size: 18px; font-weight: bold; color: {RED};")
            self.notice.setText(f"La impresora sigue sin responder: {receipts_waiting(waiting)}.")

    def on_escape(self) -> None:
        """Esc drops the ficha on screen before it is paid. After a payment there is nothing
        to cancel: the change stays in sight until the next scan (a payment is undone only
        by a manager's void)."""
        if self.verdict is None:
            self.scan.setFocus()
            return
        self.reset_for_next()

    def reset_for_next(self) -> None:
        self.verdict = None
        self.tender.stop()
        self.verdict_panel.show_idle()
        self.scan.clear()
        self.scan.setFocus()
        self.cancel.setEnabled(False)

    def _task_failed(self, text: str) -> None:
        self.notice.setStyleSheet(f"font-size: 18px; color: {RED};")
        self.notice.setText(text)

    def closeEvent(self, event: Any) -> None:  # noqa: N802 (Qt name)
        self.status.stop()
        self.print_retry.stop()
        self._focus_keeper.stop()
        self.idle.remove()
        super().closeEvent(event)
