"""The composition root: builds a terminal's services from ``kiosk.settings``.

This is the one module that names ``local_db``, ``sync`` and ``printing``; the screens get a
:class:`Terminal` and call its plain, blocking methods from their task runner (never from the
GUI thread). Every method is a thin pass-through to a ``kiosk`` service or to a part.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, cast

from kiosk import cashier, reference_cache, refunds, reports, shifts, users, voids
from kiosk.ports import (
    CONFIRMED,
    MANAGER,
    Clock,
    OutboxCounts,
    OutboxEntry,
    Payment,
    Refused,
    Shift,
    UnitOfWork,
    User,
    system_clock,
)
from kiosk.references import ReferenceRecord
from kiosk.rules import Policy, Tender, Verdict
from kiosk.settings import Settings
from kiosk.terminal_state import cached_policy

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


@dataclass
class Terminal:
    """One terminal's services. Blocking methods: call them from a worker thread.

    Built lazily (``build(..., defer=True)``): the database, central and sync open on the
    first call that needs them (or ``start()``), the printer on the first print, so that a
    window can show before SQLAlchemy, httpx and escpos are even imported.
    """

    settings: Settings
    uow_factory: Callable[[], UnitOfWork] | None = None
    clock: Clock = system_clock
    hasher: users.PinHasher = users.DEFAULT_HASHER
    central: Any = None  # sync.CentralClient (HTTP, thread-safe)
    sync: Any = None  # sync.SyncEngine: status(), nudge()
    printer: Any = None  # printing.PrintService, built by print_service()
    closers: list[Any] = field(default_factory=list)
    last_print: Any = None  # the print service's last answer, for the status bar
    opener: Callable[[Terminal], None] | None = None  # opens the database, central, sync
    printer_factory: Callable[[Any], Any] | None = None  # spool → PrintService
    spool: Any = None  # printing.spool.Spool: one per process and folder
    _open_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _print_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

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
        """Open the database, central's client and the sync engine (database thread).
        Idempotent; a failure is raised and the next call tries again."""
        with self._open_lock:
            if self.uow_factory is not None or self.opener is None:
                return
            self.opener(self)
            self.opener = None

    def _print_spool(self) -> Any:
        with self._print_lock:
            if self.spool is None:
                from printing.spool import Spool

                self.spool = Spool(self.settings.data_path / "cola-impresion")
            return self.spool

    def print_service(self) -> Any:
        """The print service, built on first use (network pool: it imports escpos)."""
        spool = self._print_spool()
        with self._print_lock:
            if self.printer is None and self.printer_factory is not None:
                self.printer = self.printer_factory(spool)
            return self.printer

    # --- identity and users -------------------------------------------------------------

    def login(self, username: str, pin: str) -> User:
        return users.login(self.uow, username, pin, hasher=self.hasher, clock=self.clock)

    def boot(self) -> bool:
        """Open everything (database thread) and say whether the first manager is missing."""
        self.start()
        return self.needs_first_manager()

    def needs_first_manager(self) -> bool:
        return users.needs_first_manager(self.uow)

    def create_first_manager(self, *, username: str, name: str, pin: str) -> User:
        """First run: the one manager who then registers everybody else."""
        return users.create_first_manager(
            self.uow, username=username, name=name, pin=pin, hasher=self.hasher, clock=self.clock
        )

    def user(self, user_id: int) -> User | None:
        with self.uow.reading() as uow:
            return uow.users.get(user_id)

    def people(self) -> list[User]:
        with self.uow.reading() as uow:
            return [u for u in uow.users.all() if u.active]

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

    def cashiers(self) -> list[User]:
        """Who can be given a shift: active people who are not managers."""
        return [u for u in self.people() if u.role != MANAGER]

    # --- shifts -------------------------------------------------------------------------

    def current_shift(self) -> Shift | None:
        return shifts.current_shift(self.uow)

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

    def record_drop(self, *, amount: Decimal, user_id: int) -> Any:
        drop = shifts.record_drop(self.uow, amount=amount, user_id=user_id, clock=self.clock)
        return drop

    def close_shift(self, *, pieces: Mapping[str, int], closed_by: int) -> shifts.ShiftClose:
        result = shifts.close_shift(self.uow, pieces=pieces, closed_by=closed_by, clock=self.clock)
        self.nudge()
        return result

    # --- the scan and the payment ------------------------------------------------------

    def policy(self) -> Policy:
        return cached_policy(self.uow)

    def online(self) -> bool:
        """Whether central answered last time (memory only: cheap enough for every scan)."""
        if self.central is None:
            return False
        return bool(self.central.link.snapshot().online)

    def clock_skew(self) -> timedelta | None:
        if self.sync is None:
            return None
        reading = self.sync.clock_check.last()
        skew = getattr(reading, "skew", None)
        return skew if isinstance(skew, timedelta) else None

    def check(self, text: str) -> Verdict:
        """Rules 1–5 and 8 against the local cache (database thread)."""
        return cashier.check(
            self.uow,
            text,
            clock=self.clock,
            online=self.online(),
            clock_skew=self.clock_skew(),
        )

    def fetch_reference(self, reference: str) -> ReferenceRecord | None:
        """A cache miss asked of central (network pool). None when central does not know it;
        raises when central cannot be reached."""
        if self.central is None:
            raise Refused("SIN_CONEXION", "No hay conexión con el instituto.")
        record: ReferenceRecord | None = self.central.get_reference(reference)
        return record

    def cache_reference(self, record: ReferenceRecord) -> None:
        reference_cache.upsert(self.uow, [record])

    def take_payment(
        self,
        *,
        reference: str,
        tender: Tender,
        cashier_id: int,
        cash_received: Decimal,
        card_authorization: str,
    ) -> Payment:
        payment = cashier.take_payment(
            self.uow,
            reference=reference,
            tender=tender,
            cashier_id=cashier_id,
            cash_received=cash_received,
            card_authorization=card_authorization,
            clock=self.clock,
            online=self.online(),
            clock_skew=self.clock_skew(),
        )
        return payment

    def payments_today(self) -> list[Payment]:
        with self.uow.reading() as uow:
            return uow.payments.for_business_date(cashier.business_date(self.clock()))

    def payments_by_hour(self) -> list[tuple[int, Decimal, Decimal]]:
        """(hour, cash, card) for today's payments that were not voided."""
        rows: dict[int, tuple[Decimal, Decimal]] = {}
        with self.uow.reading() as uow:
            today = cashier.business_date(self.clock())
            for p in uow.payments.for_business_date(today):
                if uow.voids.for_payment(p.uuid) is not None:
                    continue
                cash, card = rows.get(p.paid_at.hour, (Decimal(0), Decimal(0)))
                rows[p.paid_at.hour] = (cash + p.cash, card + p.card)
        return [(h, c, k) for h, (c, k) in sorted(rows.items())]

    def is_voided(self, payment_uuid: str) -> bool:
        with self.uow.reading() as uow:
            return uow.voids.for_payment(payment_uuid) is not None

    def receipt(self, payment_uuid: str, *, reprint: bool = False, user_id: int = 0) -> Any:
        """The receipt data of a payment; a reprint is logged first (database thread)."""
        from printing.documents import ReceiptData

        if reprint:
            cashier.record_reprint(self.uow, payment_uuid, user_id=user_id, clock=self.clock)
        info = cashier.receipt_info(self.uow, payment_uuid)
        p = info.payment
        with self.uow.reading() as uow:
            record = uow.references.get(p.reference)
            person = uow.users.get(p.cashier_id)
        return ReceiptData(
            store_name=self.settings.store_name,
            folio=str(p.folio),
            paid_at=p.paid_at,
            terminal=self.settings.terminal_name,
            cashier=person.name if person else str(p.cashier_id),
            member_name=record.member_name if record else "",
            member_number=record.member_number if record else "",
            loan_id=record.loan_id if record else "",
            kind=record.kind if record else "",
            concept=record.concept if record else "",
            reference=p.reference,
            amount=p.amount,
            cash_applied=p.cash,
            cash_received=p.cash_received,
            change=p.change,
            card_amount=p.card,
            card_authorization=p.card_authorization,
            confirmed_online=info.confirmed,
            reprint_count=info.reprints,
        )

    def void(
        self, payment_uuid: str, *, manager: str, manager_pin: str, reason: str, requested_by: int
    ) -> Any:
        result = voids.void_payment(
            self.uow,
            payment_uuid,
            manager=manager,
            manager_pin=manager_pin,
            reason=reason,
            requested_by=requested_by,
            hasher=self.hasher,
            clock=self.clock,
        )
        self.nudge()
        return result

    def verify_manager(self, username: str, pin: str) -> User:
        """A manager's PIN for an approval (a reprint, say): audited, counts to lockout."""
        uow = self.uow
        with uow:
            user = users.verify_pin(
                uow,
                username,
                pin,
                hasher=self.hasher,
                clock=self.clock,
                required_role=MANAGER,
            )
            uow.commit()
        return user

    def refunds_due(self) -> list[refunds.Refund]:
        """The refunds the institute decided for this store (network pool)."""
        if self.central is None:
            self.start()
        if self.central is None:
            raise Refused("SIN_CENTRAL", "La caja no está conectada al instituto.")
        return refunds.still_due(self.uow, self.central.refunds())

    def pay_refund(self, refund: refunds.Refund, *, user_id: int) -> Any:
        """Hand a refund back from the drawer (recorded first), then print the voucher the
        affiliate signs; the answer is the print's. Database thread."""
        from printing.documents import RefundData

        refunds.pay_refund(self.uow, refund, user_id=user_id, clock=self.clock)
        self.nudge()
        user = self.user(user_id)
        document = RefundData(
            store_name=self.settings.store_name,
            case_id=refund.case_id,
            refunded_at=self.clock(),
            terminal=self.settings.terminal_name,
            manager=user.name if user else str(user_id),
            original_folio=refund.payment_uuid,
            reference=refund.reference,
            paid_at=refund.paid_at,
            amount=refund.amount,
            reason=refund.reason,
            resolved_by=refund.resolved_by,
        )
        return self.print_document(document)

    def rejected(self) -> list[OutboxEntry]:
        with self.uow.reading() as uow:
            return uow.outbox.rejected()

    def outbox_counts(self) -> OutboxCounts:
        with self.uow.reading() as uow:
            return uow.outbox.counts()

    # --- reports ----------------------------------------------------------------------

    def day_figures(self) -> reports.DayFigures:
        return reports.day_figures(self.uow, clock=self.clock)

    def close_day(self, *, closed_by: int) -> reports.DayFigures:
        figures = reports.close_day(self.uow, closed_by=closed_by, clock=self.clock)
        self.nudge()
        return figures

    def report_document(self, figures: reports.DayFigures, *, kind: str, manager: str) -> Any:
        """X (mid-day) or Z (day close) report as printing's data, with everything the day
        has: each shift with its payments and over/short, the drawer counted by denomination,
        floats and drops, voids, reprints and what central has not confirmed yet."""
        from printing.documents import (
            DenominationCount,
            MethodTotal,
            ReportData,
            ReportLine,
            ShiftSummary,
        )

        summaries: list[ShiftSummary] = []
        names: list[str] = []
        pieces: dict[str, int] = {}
        opening_float = drops = counted = Decimal("0.00")
        opened_at = None
        with self.uow.reading() as uow:
            for line in figures.shifts:
                shift = uow.shifts.get(line.shift_id)
                person = uow.users.get(line.cashier_id)
                name = person.name if person else str(line.cashier_id)
                if name not in names:
                    names.append(name)
                taken = [
                    p
                    for p in uow.payments.for_shift(line.shift_id)
                    if uow.voids.for_payment(p.uuid) is None
                ]
                summaries.append(
                    ShiftSummary(
                        terminal=f"Turno {line.shift_id}",
                        cashier=name,
                        payments=len(taken),
                        total=sum((p.amount for p in taken), Decimal("0.00")),
                        over_short=line.over_short,
                    )
                )
                opening_float += line.opening_float
                drops += sum(
                    (d.amount for d in uow.drops.for_shift(line.shift_id)), Decimal("0.00")
                )
                if shift is not None and (opened_at is None or shift.opened_at < opened_at):
                    opened_at = shift.opened_at
                count = uow.counts.get(line.shift_id)
                if count is not None:
                    counted += count.total
                    for key, n in count.pieces.items():
                        pieces[key] = pieces.get(key, 0) + int(n)
            reprint_lines = []
            for r in uow.reprints.for_business_date(figures.business_date):
                paid = uow.payments.get(r.payment_uuid)
                if paid is None:
                    continue
                who = uow.users.get(r.user_id)
                reprint_lines.append(
                    ReportLine(
                        str(paid.folio),
                        paid.reference,
                        paid.amount,
                        r.at,
                        f"Reimprimió: {who.name}" if who else "",
                    )
                )
        # A counted figure only when every shift of the day was counted: a partial count
        # against the whole day's expected cash would print a false faltante.
        all_counted = bool(figures.shifts) and all(
            line.counted_cash is not None for line in figures.shifts
        )
        denominations = tuple(
            DenominationCount(
                shifts.DENOMINATIONS[key],
                pieces[key],
                "billete" if key.startswith("b") else "moneda",
            )
            for key in shifts.DENOMINATIONS
            if pieces.get(key)
        )
        return ReportData(
            kind=kind,
            store_name=self.settings.store_name,
            terminal=self.settings.terminal_name,
            business_date=figures.business_date,
            generated_at=self.clock(),
            cashier=", ".join(names),
            manager=manager,
            opened_at=opened_at,
            closed_at=figures.closed_at,
            totals_by_method=(
                MethodTotal("Efectivo", figures.cash_payments, figures.cash_total),
                MethodTotal("Tarjeta", figures.card_payments, figures.card_total),
            ),
            payments_count=figures.payments,
            payments_total=figures.total,
            opening_float=opening_float,
            cash_taken=figures.cash_total + figures.change_given,
            change_given=figures.change_given,
            cash_drops=drops,
            denominations=denominations,
            counted_cash=counted if all_counted else None,
            shifts=tuple(summaries),
            voids=tuple(
                ReportLine(str(v.folio), v.reference, v.amount, v.at, v.reason)
                for v in figures.voids
            ),
            reprints=tuple(reprint_lines),
            unconfirmed=tuple(
                ReportLine(str(u.folio), u.reference, u.amount, u.paid_at, "por confirmar")
                for u in figures.unconfirmed
            ),
        )

    # --- printing -----------------------------------------------------------------------

    def print_document(self, document: Any) -> Any:
        """Render, queue and print (network pool). Never raises for a printer failure: the
        answer says whether it printed or stayed in the reprint queue."""
        printer = self.print_service()
        if printer is None:
            raise Refused("SIN_IMPRESORA", "No hay impresora configurada.")
        result = printer.print_document(document)
        self.last_print = result
        return result

    def retry_prints(self) -> int:
        """Print what waits in the reprint queue, oldest first (network pool)."""
        printer = self.print_service()
        if printer is None:
            return 0
        printed = int(printer.retry_pending())
        if printed:
            self.last_print = None
        return printed

    # --- sync ---------------------------------------------------------------------------

    def send_now(self, payment_uuid: str) -> bool:
        """Send a payment just taken to central at once (network pool, short timeout) so its
        receipt can say "aplicado en línea"; True when central confirmed it. Offline or slow,
        it stays queued and the sync engine keeps trying: nothing waits on it."""
        if self.sync is None:
            return False
        if self.sync.status().online is False:
            self.nudge()
            return False
        with self.uow.reading() as uow:
            entry = uow.outbox.latest_for("payment", payment_uuid)
        if entry is None:
            return False
        if entry.status == CONFIRMED:
            return True
        try:
            self.sync.sender.send_now(entry.id)
        except Exception:  # the engine retries; the receipt then says "se enviará"
            self.nudge()
            return False
        with self.uow.reading() as uow:
            return uow.outbox.status_of("payment", payment_uuid) == CONFIRMED

    def nudge(self) -> None:
        if self.sync is not None:
            try:
                self.sync.nudge()
            except Exception:  # a nudge is a hint; the engine retries on its own
                log.exception("no se pudo avisar al sincronizador")

    def _sync_status(self) -> dict[str, Any]:
        if self.sync is None:
            return {}
        st = self.sync.status()
        if is_dataclass(st) and not isinstance(st, type):
            return {f.name: getattr(st, f.name) for f in fields(st)}
        return dict(st) if isinstance(st, Mapping) else {}

    def status(self) -> TerminalStatus:
        """Everything the status bar shows (database thread: reads only)."""
        st = self._sync_status()
        counts = self.outbox_counts()
        if st.get("clock_ok") is False:
            detail = "Reloj desfasado: no se reciben pagos."
        else:
            detail = str(st.get("last_error") or "")
        printer_state, printer_ok, queue = self._printer_state()
        return TerminalStatus(
            online=st.get("online") if st else None,
            pending=counts.pending,
            oldest_pending_age=counts.oldest_pending_age(self.clock()),
            rejected=counts.rejected,
            printer=printer_state,
            printer_ok=printer_ok,
            reprint_queue=queue,
            clock_skew=st.get("clock_skew"),
            clock_ok=st.get("clock_ok") is not False,
            detail=detail,
            policy_version=self.policy().version,
        )

    def _printer_state(self) -> tuple[str, bool | None, int]:
        """From the last job and the queue; asking the printer itself is left to printing,
        which does it before every job (a status poll would open the port every second)."""
        if self.printer is None and self.printer_factory is None:
            return ("sin impresora", False, 0)
        if self.printer is not None:
            queue = len(self.printer.pending())
        else:  # not built yet: the queue folder alone says what waits (no escpos import)
            try:
                queue = len(self._print_spool().pending())
            except Exception:  # noqa: BLE001 - the status bar must not fail on the spool
                log.exception("no se pudo leer la cola de impresión")
                queue = 0
        last = self.last_print
        if last is None:
            return ("en espera" if queue else "lista", None if queue else True, queue)
        if getattr(last, "printed", False):
            return ("lista", True, queue)
        return (str(getattr(last, "error", "") or "falló la última impresión"), False, queue)

    # --- kiosk --------------------------------------------------------------------------

    def member_login(self, member_number: str, nip: str) -> Any:
        if self.central is None:
            raise Refused("SIN_CONEXION", "Sin conexión con el instituto.")
        return self.central.kiosk_login(member_number, nip)

    def member_loans(self, session: Any) -> Any:
        return self.central.kiosk_loans(session)

    def issue_slip(
        self,
        session: Any,
        *,
        loan_id: str,
        kind: str,
        quincenas: Sequence[int] = (),
        amount: Decimal | None = None,
    ) -> Any:
        return self.central.kiosk_issue_slip(
            session, loan_id=loan_id, kind=kind, quincenas=list(quincenas), amount=amount
        )

    def today(self) -> date:
        return cashier.business_date(self.clock())

    # --- life cycle ---------------------------------------------------------------------

    def close(self) -> None:
        for part in reversed(self.closers):
            for name in ("stop", "close", "dispose"):
                fn = getattr(part, name, None)
                if callable(fn):
                    try:
                        fn()
                    except Exception:
                        log.exception("error al cerrar %r", part)
                    break
        self.closers.clear()


def _open_parts(start_sync: bool) -> Callable[[Terminal], None]:
    """What ``Terminal.start()`` runs: the database (with its migrations), central's client
    and the sync engine. Their imports (SQLAlchemy, Alembic, httpx) happen here too."""

    def open_parts(t: Terminal) -> None:
        import local_db
        from sync.client import CentralClient
        from sync.refresher import CacheRefresher
        from sync.status import SyncEngine

        settings = t.settings
        db = local_db.open_database(settings.database_file)
        uow_factory = cast("Callable[[], UnitOfWork]", db.unit_of_work)
        closers: list[Any] = [db]
        try:
            central = CentralClient(
                settings.central_url,
                settings.terminal_token,
                settings.http_timeout_seconds,
                clock=t.clock,
            )
            closers.append(central)
            # Central serves at most 1000 referencias per page of the feed.
            refresher = CacheRefresher(uow_factory, central, page_size=1000)
            engine = SyncEngine(
                uow_factory,
                central,
                t.clock,
                refresher=refresher,
                interval=settings.sync_interval_seconds,
            )
            closers.append(engine)
        except BaseException:
            for part in reversed(closers):
                part.close()
            raise
        t.central, t.sync = central, engine
        t.closers.extend(closers)
        t.uow_factory = uow_factory
        if start_sync:
            engine.start()

    return open_parts


def _print_service(settings: Settings) -> Callable[[Any], Any]:
    def make(spool: Any) -> Any:
        from printing.service import PrintService

        return PrintService.from_settings(settings, spool)

    return make


def build(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    hasher: users.PinHasher = users.DEFAULT_HASHER,
    start_sync: bool = True,
    defer: bool = False,
) -> Terminal:
    """A terminal for ``settings``. With ``defer`` nothing is opened yet (the screens call
    ``start()`` on their database thread once the window shows); otherwise the database,
    central's client and the sync engine are open on return. The printer is always built
    on its first use."""
    terminal = Terminal(
        settings=settings,
        clock=clock,
        hasher=hasher,
        opener=_open_parts(start_sync),
        printer_factory=_print_service(settings),
    )
    if not defer:
        terminal.start()
    return terminal
