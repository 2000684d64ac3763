"""The terminal service: one method per user action of the cashier, manager and kiosk screens.

A screen asks for one action through its task runner and paints the typed result (or the
Spanish message of a ``Refused``); the workflow, the rules and every decision live here and
in the services it calls, testable without Qt. The parts (database, central, sync engine,
printer) are the Protocols of ``kiosk.ports``; ``kiosk.bootstrap`` builds them.

Every method blocks: call it from the task runner, never from the GUI thread. Each says which
of the runner's threads it belongs on: ``db`` (the database thread) or ``io`` (network and
printer; these actions also read and write SQLite, which serialises its writers).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from kiosk import (
    cashier,
    enrollment,
    payment_list,
    reference_cache,
    refunds,
    reports,
    shifts,
    users,
    voids,
)
from kiosk.kiosk_flow import KioskService
from kiosk.ports import (
    CONFIRMED,
    MANAGER,
    CashDrop,
    Central,
    Clock,
    Enrolled,
    Enroller,
    OutboxEntry,
    Payment,
    Printer,
    PrintOutcome,
    ReceiptOutcome,
    Refused,
    SendOutcome,
    Shift,
    Sync,
    TerminalNotAllowed,
    UnitOfWork,
    User,
    Void,
    system_clock,
)
from kiosk.references import parse as parse_reference
from kiosk.rules import NO_ENCONTRADA, Policy, Tender, Verdict, terminal_refused
from kiosk.settings import Settings
from kiosk.terminal_state import cached_policy, load_policy

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TerminalStatus:
    """What the status bar shows; gathered off the GUI thread."""

    online: bool | None  # None: not known yet
    pending: int
    oldest_pending_age: float | None
    rejected: int
    printer: str  # Spanish words: "lista", "sin papel", "desconocido"...
    printer_ok: bool | None
    reprint_queue: int
    clock_skew: timedelta | None = None
    clock_ok: bool = True  # False: the skew is past the limit and payments are refused
    detail: str = ""
    policy_version: int = 0  # of the policy central pushed last


@dataclass(frozen=True, slots=True)
class Scanned:
    """A scan's answer: the verdict to paint and the cash cap the tender is checked against."""

    verdict: Verdict
    cash_cap: Decimal


@dataclass(frozen=True, slots=True)
class ManagerView:
    """Everything the manager's window shows, read with a fixed number of queries."""

    shift: Shift | None
    status: shifts.ShiftStatus | None
    rows: tuple[payment_list.PaymentRow, ...]  # today's, by folio, with affiliate and cashier
    by_hour: tuple[tuple[int, Decimal, Decimal], ...]  # (hour, cash, card), voided left out
    cashiers: tuple[User, ...]  # who can be given a shift
    people: tuple[User, ...]  # everyone active
    rejected: tuple[OutboxEntry, ...]  # what central refused: the manager must look
    figures: reports.DayFigures


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    report: reports.DayReport
    printed: PrintOutcome


@dataclass(frozen=True, slots=True)
class VoidOutcome:
    """A void recorded (and queued for central), whether central already confirmed it, and
    its cancelación printed or queued."""

    void: Void
    printed: PrintOutcome
    confirmed_online: bool


@dataclass(frozen=True, slots=True)
class ShiftClosed:
    """A shift closed: the count against the expected cash, the whole breakdown (shown once
    the blind count is in) and its printed report."""

    close: shifts.ShiftClose
    figures: shifts.ShiftFigures
    printed: PrintOutcome


@dataclass(frozen=True, slots=True)
class DropOutcome:
    """A cash drop recorded, and its slip for the safe printed or queued."""

    drop: CashDrop
    printed: PrintOutcome


@dataclass
class Terminal:
    """One terminal's services.

    Built lazily (``kiosk.bootstrap.build(..., defer=True)``): the database, central and
    sync open on the first call that needs them (or ``start()``), so that a window can show
    before SQLAlchemy, httpx and escpos are even imported.
    """

    settings: Settings
    uow_factory: Callable[[], UnitOfWork] | None = None
    clock: Clock = system_clock
    hasher: users.PinHasher = users.DEFAULT_HASHER
    central: Central | None = None
    sync: Sync | None = None
    printer: Printer | None = None
    closers: list[Callable[[], object]] = field(default_factory=list)
    opener: Callable[[Terminal], None] | None = None  # opens the database, central, sync
    last_print: PrintOutcome | None = None  # the printer's last answer, for the status bar
    kiosk_factory: Callable[[Terminal], KioskService] | None = None
    enroller: Enroller | None = None  # joins central with a one-time code (first run)
    _open_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def uow(self) -> UnitOfWork:
        """A fresh unit of work (one per call: they are not shared between threads)."""
        factory = self.uow_factory
        if factory is None:
            self.start()
            factory = self.uow_factory
            if factory is None:
                raise Refused("SIN_BASE_DE_DATOS", "La base de datos de la caja no está abierta.")
        return factory()

    @property
    def started(self) -> bool:
        return self.uow_factory is not None

    def start(self) -> None:
        """Open the database, central's client and the sync engine (db). Idempotent; a
        failure is raised and the next call tries again."""
        with self._open_lock:
            if self.uow_factory is not None or self.opener is None:
                return
            self.opener(self)
            self.opener = None

    # --- enrollment (io) -----------------------------------------------------------------

    @property
    def needs_enrollment(self) -> bool:
        """No token yet: the screens first ask for central's address and a one-time code.
        In memory (the token file was read with the settings): fine on the GUI thread."""
        return not self.settings.terminal_token

    def enroll(self, central_url: str, code: str, kind: str | None = None) -> Enrolled:
        """Join central with a one-time code (io). The fields are checked and the code
        written as central issued it before anything is sent; afterwards this running
        terminal uses the new address, token and names at once (no restart). ``kind`` is
        what this terminal runs as (``caja``: the till and the manager's screen; ``kiosko``):
        central refuses a code of the other kind without spending it. The record returned
        does not carry the token."""
        url, normalized = enrollment.checked(central_url, code)
        if kind is not None and kind not in enrollment.KIND_WORDS:
            raise ValueError(f"unknown terminal kind {kind!r}")  # a programming error
        if self.enroller is None:
            raise Refused(
                "ALTA_NO_DISPONIBLE",
                "Esta terminal no puede darse de alta desde la pantalla; use el comando "
                "isseg-farmacia enrolar.",
            )
        done = self.enroller.enroll(url, normalized, kind)
        # Settings are read per action (tickets, the status bar), so replacing them is all
        # the rest of the terminal needs; the link to central was re-pointed by the port.
        self.settings = replace(
            self.settings,
            central_url=done.central_url,
            terminal_token=done.token,
            store_name=done.store_name or self.settings.store_name,
            terminal_name=done.name or self.settings.terminal_name,
        )
        self.nudge()  # the sync engine asks central now rather than at its next tick
        return replace(done, token="")

    # --- identity and users (db) ----------------------------------------------------------

    def boot(self) -> bool:
        """Open everything and say whether the first manager is missing (first run)."""
        self.start()
        return users.needs_first_manager(self.uow)

    def needs_first_manager(self) -> bool:
        return users.needs_first_manager(self.uow)

    def login(self, username: str, pin: str) -> User:
        return users.login(self.uow, username, pin, hasher=self.hasher, clock=self.clock)

    def create_first_manager(self, *, username: str, name: str, pin: str) -> User:
        """First run: the one manager who then registers everybody else."""
        return users.create_first_manager(
            self.uow, username=username, name=name, pin=pin, hasher=self.hasher, clock=self.clock
        )

    def create_user(
        self, *, manager: str, manager_pin: str, username: str, name: str, role: str, pin: str
    ) -> User:
        """A new cashier or manager, approved with a manager's PIN."""
        return users.create_user(
            self.uow,
            manager=manager,
            manager_pin=manager_pin,
            username=username,
            name=name,
            role=role,
            pin=pin,
            hasher=self.hasher,
            clock=self.clock,
        )

    def user_list(self) -> list[users.UserState]:
        """Everyone with role and state, for the manager's list."""
        return users.list_users(self.uow, clock=self.clock)

    def deactivate_user(self, username: str, *, manager: str, manager_pin: str) -> None:
        users.deactivate(
            self.uow,
            manager=manager,
            manager_pin=manager_pin,
            username=username,
            hasher=self.hasher,
            clock=self.clock,
        )

    def reset_pin(self, username: str, new_pin: str, *, manager: str, manager_pin: str) -> None:
        users.reset_pin(
            self.uow,
            manager=manager,
            manager_pin=manager_pin,
            username=username,
            new_pin=new_pin,
            hasher=self.hasher,
            clock=self.clock,
        )

    def unlock_user(self, username: str, *, manager: str, manager_pin: str) -> None:
        users.unlock(
            self.uow,
            manager=manager,
            manager_pin=manager_pin,
            username=username,
            hasher=self.hasher,
            clock=self.clock,
        )

    # --- shifts (db) ----------------------------------------------------------------------

    def current_shift(self) -> Shift | None:
        return shifts.current_shift(self.uow)

    def shift_for(self, cashier_id: int) -> Shift | None:
        """The cashier's own open shift (None: there is none to work in); refused when the
        open shift is somebody else's."""
        return shifts.shift_for(self.uow, cashier_id)

    def hand_over_shift(self, *, to_cashier_id: int, manager: str, manager_pin: str) -> Shift:
        return shifts.hand_over(
            self.uow,
            to_cashier_id=to_cashier_id,
            manager=manager,
            manager_pin=manager_pin,
            hasher=self.hasher,
            clock=self.clock,
        )

    def open_shift(
        self, *, cashier_id: int, opening_float: Decimal, opened_by: int | None = None
    ) -> Shift:
        return shifts.open_shift(
            self.uow,
            cashier_id=cashier_id,
            opening_float=opening_float,
            opened_by=opened_by,
            clock=self.clock,
        )

    def shift_status(self, *, blind: bool = False) -> shifts.ShiftStatus:
        return shifts.shift_status(self.uow, blind=blind)

    def record_drop(self, *, amount: Decimal, manager: str, manager_pin: str) -> DropOutcome:
        """A cash drop to the safe, approved with a manager's PIN asked again, and its slip
        printed (io)."""
        approver = self.verify_manager(manager, manager_pin)
        drop = shifts.record_drop(self.uow, amount=amount, user_id=approver.id, clock=self.clock)
        slip = shifts.drop_slip(
            self.uow,
            drop,
            store_name=self.settings.store_name,
            terminal_name=self.settings.terminal_name,
        )
        return DropOutcome(drop, self._printed(self._printer().print_drop_slip(slip)))

    def close_shift(self, *, pieces: Mapping[str, int], closed_by: int) -> ShiftClosed:
        """The close (corte) with the drawer counted, then its report printed (io)."""
        result = shifts.close_shift(self.uow, pieces=pieces, closed_by=closed_by, clock=self.clock)
        self.nudge()
        figures = shifts.shift_figures(self.uow, result.shift.id)
        report = shifts.ShiftReport(
            self.settings.store_name, self.settings.terminal_name, self.clock(), figures
        )
        return ShiftClosed(
            result, figures, self._printed(self._printer().print_shift_report(report))
        )

    # --- the scan, the payment and its receipt ---------------------------------------------

    def policy(self) -> Policy:
        return cached_policy(self.uow)

    def online(self) -> bool:
        """Whether central answered last time (memory only: cheap enough for every scan)."""
        return self.central is not None and bool(self.central.link.snapshot().online)

    def clock_skew(self) -> timedelta | None:
        reading = self.sync.clock_check.last() if self.sync is not None else None
        return reading.skew if reading is not None else None

    def scan(self, text: str) -> Scanned:
        """Rules 1–5 and 8 against the local cache; a referencia the cache lacks is asked
        of central (io), kept, and judged again with central's answer. Central unreachable:
        the cache's verdict stands ("sin conexión")."""
        # People type the digits grouped as the ficha prints them: spaces mean nothing.
        text = "".join(text.split())
        uow = self.uow
        with uow.reading():  # one snapshot: the policy and the referencia read together
            policy = load_policy(uow)
            verdict = self._check(uow, text, policy)
        if verdict.code == NO_ENCONTRADA and verdict.record is None and self.central is not None:
            try:
                reference_cache.fetch_missing(self.uow, self.central, parse_reference(text))
            except TerminalNotAllowed as exc:  # about this terminal, not the ficha
                log.warning("el instituto rechazó a esta terminal: %s", exc.code)
                return Scanned(terminal_refused(exc.message), policy.cash_cap)
            except Exception:  # offline, a bad answer: the cache's verdict stands
                log.info("no se pudo consultar la referencia al instituto", exc_info=True)
            else:  # central answered: judge again with what it said (and that it is up)
                verdict = self._check(self.uow, text, policy)
        return Scanned(verdict, policy.cash_cap)

    def _check(self, uow: UnitOfWork, text: str, policy: Policy) -> Verdict:
        return cashier.check(
            uow,
            text,
            clock=self.clock,
            policy=policy,
            online=self.online(),
            clock_skew=self.clock_skew(),
        )

    def pay(
        self,
        *,
        reference: str,
        tender: Tender,
        cashier_id: int,
        cash_received: Decimal,
        card_authorization: str,
        confirm_large_change: bool = False,
    ) -> Payment:
        """Every rule again, then the payment in one durable transaction (db)."""
        return cashier.take_payment(
            self.uow,
            reference=reference,
            tender=tender,
            cashier_id=cashier_id,
            cash_received=cash_received,
            card_authorization=card_authorization,
            confirm_large_change=confirm_large_change,
            clock=self.clock,
            online=self.online(),
            clock_skew=self.clock_skew(),
        )

    def deliver_receipt(self, payment_uuid: str) -> ReceiptOutcome:
        """The receipt of a payment just taken (io). Receipts tell the truth: the payment is
        sent first (short timeout), and the receipt says "aplicado en línea" only when
        central confirmed it; a printer failure leaves it in the reprint queue."""
        self.send_now(payment_uuid)
        return self._print_receipt(payment_uuid, open_drawer=True)

    def reprint(
        self, payment_uuid: str, *, user_id: int, manager: str, manager_pin: str
    ) -> ReceiptOutcome:
        """A copy of a receipt, at the till or the manager's desk alike: a manager's PIN
        approves it, and it is logged before it prints (io)."""
        cashier.record_reprint(
            self.uow,
            payment_uuid,
            user_id=user_id,
            manager=manager,
            manager_pin=manager_pin,
            hasher=self.hasher,
            clock=self.clock,
        )
        return self._print_receipt(payment_uuid)

    def _print_receipt(self, payment_uuid: str, *, open_drawer: bool = False) -> ReceiptOutcome:
        facts = cashier.receipt_facts(
            self.uow,
            payment_uuid,
            store_name=self.settings.store_name,
            terminal_name=self.settings.terminal_name,
        )
        if open_drawer and facts.payment.cash > 0:
            # The drawer opens for the change while the receipt prints; a drawer that does
            # not open is the cashier's to see, never a reason to hold the receipt.
            reason = self._printer().open_drawer()
            if reason:
                log.warning("no se abrió el cajón: %s", reason)
        printed = self._printed(self._printer().print_receipt(facts))
        return ReceiptOutcome(facts.payment, facts.confirmed_online, printed)

    def _printer(self) -> Printer:
        if self.printer is None:
            raise Refused("SIN_IMPRESORA", "No hay impresora configurada.")
        return self.printer

    def _printed(self, outcome: PrintOutcome) -> PrintOutcome:
        self.last_print = outcome
        return outcome

    def prepare_printer(self) -> None:
        """Load the printer's driver while the cashier logs in (io)."""
        if self.printer is not None:
            self.printer.prepare()

    def print_document(self, document: object) -> PrintOutcome:
        """A document a screen built (the kiosk's ficha), printed (io)."""
        return self._printed(self._printer().print_document(document))

    def payments_today(self) -> list[payment_list.PaymentRow]:
        """Today's payments with affiliate and cashier, to pick one for a reprint (db)."""
        return payment_list.rows_for_day(self.uow, self.today())

    def export_payments(self, path: Path, search: str = "") -> int:
        """Today's payments that ``search`` finds, as a CSV for Excel (db: reads, then
        writes the file); returns how many rows."""
        rows = payment_list.search(self.payments_today(), search)
        try:
            path.write_bytes(payment_list.csv_bytes(rows))
        except OSError as exc:
            raise Refused(
                "NO_SE_GUARDO", f"No se pudo guardar el archivo ({exc.strerror or 'error'})."
            ) from None
        return len(rows)

    def retry_prints(self) -> int:
        """Print what waits in the reprint queue, oldest first (io)."""
        if self.printer is None:
            return 0
        printed = self.printer.retry_pending()
        if printed or not self.printer.pending_count():
            # Nothing is failing any more (another window may have printed what waited):
            # the state recovers by itself instead of keeping the last error on show.
            self.last_print = None
        return printed

    def send_now(self, payment_uuid: str) -> SendOutcome:
        """Send a payment just taken to central at once (short timeout); confirmed when
        central confirmed it. Offline or slow, it stays queued and the sync engine keeps
        trying: nothing waits on it."""
        return self._send_now("payment", payment_uuid)

    def _send_now(self, kind: str, subject: str) -> SendOutcome:
        """The outbox entry of ``kind`` about ``subject`` sent at once (a payment, a void):
        the paper then says "aplicado en línea" only when central confirmed it."""
        sync = self.sync
        if sync is None:
            return SendOutcome(False)
        if sync.status().online is False:
            self.nudge()
            return SendOutcome(False)
        with self.uow.reading() as uow:
            entry = uow.outbox.latest_for(kind, subject)
        if entry is None:
            return SendOutcome(False)
        if entry.status == CONFIRMED:
            return SendOutcome(True)
        try:
            sync.sender.send_now(entry.id)
        except Exception:  # the engine retries; the paper then says "se enviará"
            log.info("envío inmediato fallido; queda en la cola", exc_info=True)
            self.nudge()
            return SendOutcome(False)
        with self.uow.reading() as uow:
            confirmed = uow.outbox.status_of(kind, subject) == CONFIRMED
        if not confirmed:
            self.nudge()  # refused or no answer: the engine and the manager's alert take it
        return SendOutcome(confirmed)

    # --- the manager (db unless said) -----------------------------------------------------

    def verify_manager(self, username: str, pin: str) -> User:
        """A manager's PIN for an approval: audited, counts to lockout."""
        uow = self.uow
        with uow:
            user = users.verify_pin(
                uow, username, pin, hasher=self.hasher, clock=self.clock, required_role=MANAGER
            )
            uow.commit()
        return user

    def void(
        self, payment_uuid: str, *, manager: str, manager_pin: str, reason: str, requested_by: int
    ) -> VoidOutcome:
        """A void approved with a manager's PIN, queued for central, and its cancelación
        printed (io)."""
        void = voids.void_payment(
            self.uow,
            payment_uuid,
            manager=manager,
            manager_pin=manager_pin,
            reason=reason,
            requested_by=requested_by,
            hasher=self.hasher,
            clock=self.clock,
        )
        # Sent before the cancelación prints, as a receipt's payment is: the ticket says
        # "aplicada en línea" only once central has it.
        self._send_now("void", payment_uuid)
        facts = voids.void_facts(
            self.uow,
            payment_uuid,
            store_name=self.settings.store_name,
            terminal_name=self.settings.terminal_name,
        )
        printed = self._printed(self._printer().print_void(facts))
        return VoidOutcome(void, printed, facts.confirmed)

    def refunds_due(self) -> list[refunds.Refund]:
        """The refunds the institute decided for this store, less those handed back (io)."""
        if self.central is None:
            raise Refused("SIN_CONEXION", "Sin conexión con el instituto.")
        return refunds.still_due(self.uow, self.central.refunds())

    def pay_refund(self, refund: refunds.Refund, *, manager: User) -> PrintOutcome:
        """Hand a refund back from the drawer (recorded first, with its outbox entry), then
        print the voucher the affiliate signs (db)."""
        refunds.pay_refund(self.uow, refund, user_id=manager.id, clock=self.clock)
        self.nudge()
        facts = refunds.RefundFacts(
            self.settings.store_name,
            self.settings.terminal_name,
            refund,
            manager.name,
            self.clock(),
        )
        return self._printed(self._printer().print_refund(facts))

    def manager_view(self, *, blind: bool) -> ManagerView:
        """The manager's whole window: a handful of queries, none per payment."""
        shift = self.current_shift()
        status = self.shift_status(blind=blind) if shift else None
        figures = reports.day_figures(self.uow, clock=self.clock)
        rows = tuple(payment_list.rows_for_day(self.uow, figures.business_date))
        with self.uow.reading() as uow:
            people = tuple(u for u in uow.users.all() if u.active)
            rejected = tuple(uow.outbox.rejected())
        hours: dict[int, tuple[Decimal, Decimal]] = {}
        for row in rows:
            p = row.payment
            if not row.voided:
                cash, card = hours.get(p.paid_at.hour, (Decimal(0), Decimal(0)))
                hours[p.paid_at.hour] = (cash + p.cash, card + p.card)
        return ManagerView(
            shift=shift,
            status=status,
            rows=rows,
            by_hour=tuple((h, c, k) for h, (c, k) in sorted(hours.items())),
            cashiers=tuple(u for u in people if u.role != MANAGER),
            people=people,
            rejected=rejected,
            figures=figures,
        )

    def print_report(self, kind: str, *, manager: User, manager_pin: str = "") -> ReportOutcome:
        """X: today's figures, printed. Z: the day close, with the manager's PIN asked again
        (refused while a shift is open or when already done), then its report printed (io)."""
        figures = None
        if kind == "Z":
            approver = self.verify_manager(manager.username, manager_pin)
            figures = reports.close_day(self.uow, closed_by=approver.id, clock=self.clock)
            self.nudge()
        report = reports.day_report(
            self.uow,
            kind=kind,
            store_name=self.settings.store_name,
            terminal_name=self.settings.terminal_name,
            manager=manager.name,
            clock=self.clock,
            figures=figures,
        )
        return ReportOutcome(report, self._printed(self._printer().print_report(report)))

    # --- the status bar (db) --------------------------------------------------------------

    def status(self) -> TerminalStatus:
        """Everything the status bar shows (reads only; today's work, not the history)."""
        if self.sync is not None:
            st = self.sync.status()
            online, skew, clock_ok = st.online, st.clock_skew, st.clock_ok
            detail = "Reloj desfasado: no se reciben pagos." if not clock_ok else st.last_error
        else:
            online, skew, clock_ok, detail = None, None, True, ""
        with self.uow.reading() as uow:
            counts = uow.outbox.counts()
        printer_state, printer_ok, queue = self._printer_state()
        return TerminalStatus(
            online=online,
            pending=counts.pending,
            oldest_pending_age=counts.oldest_pending_age(self.clock()),
            rejected=counts.rejected,
            printer=printer_state,
            printer_ok=printer_ok,
            reprint_queue=queue,
            clock_skew=skew,
            clock_ok=clock_ok,
            detail=detail,
            policy_version=self.policy().version,
        )

    def printer_words(self) -> str:
        """The printer's state as the status bar says it (for the heartbeat)."""
        return self._printer_state()[0]

    def _printer_state(self) -> tuple[str, bool | None, int]:
        """From the last job and the queue; asking the printer itself is left to printing,
        which does it before every job (a status poll would open the port every second)."""
        if self.printer is None:
            return ("sin impresora", False, 0)
        queue = self.printer.pending_count()
        last = self.last_print
        if last is None:
            return ("en espera" if queue else "lista", None if queue else True, queue)
        if last.printed:
            return ("lista", True, queue)
        return (last.message or "falló la última impresión", False, queue)

    def nudge(self) -> None:
        if self.sync is not None:
            try:
                self.sync.nudge()
            except Exception:  # a nudge is a hint; the engine retries on its own
                log.exception("no se pudo avisar al sincronizador")

    # --- kiosk (io) -----------------------------------------------------------------------

    def kiosk_service(self) -> KioskService:
        """The kiosk's workflow over central's kiosk endpoints and this terminal's printer
        (built by the composition root, which names the parts)."""
        if self.kiosk_factory is None:
            raise Refused("SIN_CONEXION", "Sin conexión con el instituto.")
        return self.kiosk_factory(self)

    def today(self) -> date:
        return cashier.business_date(self.clock())

    # --- life cycle -----------------------------------------------------------------------

    def close(self) -> None:
        for stop in reversed(self.closers):
            try:
                stop()
            except Exception:
                log.exception("error al cerrar %r", stop)
        self.closers.clear()
