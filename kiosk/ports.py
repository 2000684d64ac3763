"""What the kiosk services need from the parts around them: storage, central, the sync
engine and the printer, as Protocols (the records they carry are in ``kiosk.records``).

The services in ``kiosk`` speak only to these Protocols; ``local_db``, ``sync`` and
``printing`` implement them and ``kiosk.bootstrap`` plugs them in; the unit tests implement
them with fakes. Money is ``Decimal`` pesos here (the store keeps integer centavos), times are
aware datetimes.

Use::

    with uow:                 # BEGIN IMMEDIATE: a write transaction
        ...
        uow.commit()          # leaving the block without commit() rolls everything back

    with uow.reading():       # a read-only snapshot (BEGIN DEFERRED), nothing to commit
        ...
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, Self

from kiosk.records import (
    CASHIER,
    CONFIRMED,
    DROP,
    MANAGER,
    MEXICO_CITY,
    PENDING,
    REFUND,
    REJECTED,
    RESOLVED,
    ROLES,
    AuditEntry,
    CardLine,
    CashCount,
    CashDrop,
    Clock,
    DayClose,
    Enrolled,
    NewOutboxEntry,
    OutboxCounts,
    OutboxEntry,
    Payment,
    PaymentTotals,
    PendingLine,
    PrintOutcome,
    ReceiptFacts,
    ReceiptOutcome,
    Reprint,
    SendOutcome,
    Shift,
    User,
    Void,
    system_clock,
)
from kiosk.references import ReferenceRecord

if TYPE_CHECKING:  # these import this module; the types are only for the Protocols
    from kiosk.refunds import RefundFacts
    from kiosk.reports import DayReport
    from kiosk.shifts import DropSlip, ShiftReport
    from kiosk.voids import VoidFacts

# The records are re-exported: ``from kiosk.ports import Refused, Payment`` keeps working.
__all__ = [
    "MEXICO_CITY",
    "Clock",
    "system_clock",
    "CASHIER",
    "MANAGER",
    "ROLES",
    "User",
    "Payment",
    "PaymentTotals",
    "CardLine",
    "PendingLine",
    "Shift",
    "CashDrop",
    "CashCount",
    "Void",
    "Reprint",
    "DayClose",
    "AuditEntry",
    "PENDING",
    "CONFIRMED",
    "REJECTED",
    "OutboxEntry",
    "OutboxCounts",
    "NewOutboxEntry",
    "PrintOutcome",
    "SendOutcome",
    "ReceiptFacts",
    "ReceiptOutcome",
    "Enrolled",
    "Refused",
    "StorageError",
    "TerminalNotAllowed",
    "DROP",
    "REFUND",
    "RESOLVED",
]


class Refused(Exception):
    """A service said no. ``code`` is for programs, ``message`` (Spanish) for people.

    A refusal leaves the database as it was (except where documented: a failed PIN still
    counts towards the lockout and is audited).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


class StorageError(Refused):
    """The local database could not do what was asked (disk full, read-only, locked).

    Raised by storage implementations so services never see driver exceptions.
    """


class TerminalNotAllowed(Refused):
    """Central refused this terminal itself (401/403): its token is unknown or revoked, or
    it is not the kind of terminal that may ask this (a kiosk's token at a till). Not an
    answer about what was asked: a referencia is not "unknown" because of it."""


# --- repositories ----------------------------------------------------------------------


class ReferenceRepository(Protocol):
    def get(self, reference: str) -> ReferenceRecord | None: ...

    def upsert_many(self, records: Iterable[ReferenceRecord]) -> int:
        """Insert or update from central's feed. Never touches ``local_payment_uuid``;
        an older ``version`` never overwrites a newer one. Returns rows given."""
        ...

    def mark_paid(self, reference: str, payment_uuid: str) -> None: ...

    def clear_paid(self, reference: str, payment_uuid: str) -> None: ...

    def count(self) -> int: ...

    def prune(self, before: date) -> int:
        """Forget referencias issued before ``before``; how many."""
        ...


class MetaRepository(Protocol):
    def get(self, key: str) -> str | None: ...

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        """The values of those of ``keys`` that are set, in one read."""
        ...

    def set(self, key: str, value: str) -> None: ...


class PaymentRepository(Protocol):
    def next_folio(self) -> int: ...

    def add(self, payment: Payment) -> None: ...

    def get(self, uuid: str) -> Payment | None: ...

    def for_business_date(self, day: date) -> list[Payment]: ...

    def for_shift(self, shift_id: int) -> list[Payment]: ...

    def totals(self, day: date) -> PaymentTotals:
        """Sums over the day's payments, voided ones left out."""
        ...

    def card_lines(self, day: date) -> list[CardLine]:
        """The day's card payments, voided ones left out, by folio."""
        ...

    def shift_totals(self, day: date) -> dict[int, tuple[int, Decimal]]:
        """shift id → (payments, amount) over the day's payments, voided ones left out."""
        ...

    def members_on(self, day: date) -> dict[str, tuple[str, str]]:
        """payment uuid → (affiliate name, number) from the cached referencias, for the day's
        payments whose referencia is still cached."""
        ...

    def unconfirmed(self, day: date) -> list[PendingLine]:
        """The day's payments whose outbox entry central has not confirmed, by folio."""
        ...


class OutboxRepository(Protocol):
    """The queue of requests for central; see ``local_db.repositories.SqlOutbox`` docs."""

    def add(self, entry: NewOutboxEntry) -> int: ...

    def get(self, entry_id: int) -> OutboxEntry | None: ...

    def pending(self, limit: int = 50, now: datetime | None = None) -> list[OutboxEntry]: ...

    def mark_confirmed(
        self, entry_id: int, response: Mapping[str, Any], at: datetime | None = None
    ) -> None: ...

    def mark_rejected(
        self, entry_id: int, code: str, message: str, at: datetime | None = None
    ) -> None: ...

    def record_attempt(self, entry_id: int, error: str, next_attempt_at: datetime) -> None: ...

    def mark_resolved(self, entry_id: int, note: str, at: datetime | None = None) -> None:
        """A rejected entry whose case was resolved: it leaves the manager's alerts."""
        ...

    def counts(self) -> OutboxCounts: ...

    def rejected(self) -> list[OutboxEntry]: ...

    def status_of(self, kind: str, subject: str) -> str | None: ...

    def latest_for(self, kind: str, subject: str) -> OutboxEntry | None:
        """The newest entry about ``subject`` (e.g. a payment's uuid), to send it at once."""
        ...

    def unconfirmed_subjects(self, kind: str) -> set[str]: ...


class ShiftRepository(Protocol):
    def add(self, shift: Shift) -> int: ...

    def get(self, shift_id: int) -> Shift | None: ...

    def open_shift(self) -> Shift | None: ...

    def close(
        self,
        shift_id: int,
        *,
        closed_at: datetime,
        closed_by: int,
        expected_cash: Decimal,
        counted_cash: Decimal,
        over_short: Decimal,
    ) -> None: ...

    def for_business_date(self, day: date) -> list[Shift]: ...

    def set_cashier(self, shift_id: int, cashier_id: int) -> None:
        """Hand the open shift over to another cashier."""
        ...


class DropRepository(Protocol):
    def add(self, drop: CashDrop) -> int: ...

    def for_shift(self, shift_id: int) -> list[CashDrop]: ...


class CountRepository(Protocol):
    def add(self, count: CashCount) -> None: ...

    def get(self, shift_id: int) -> CashCount | None: ...


class VoidRepository(Protocol):
    def add(self, void: Void) -> int: ...

    def for_payment(self, payment_uuid: str) -> Void | None: ...

    def for_business_date(self, day: date) -> list[Void]: ...

    def voided_on(self, day: date) -> set[str]:
        """The uuids of the day's payments that were voided (one query for a whole day)."""
        ...


class ReprintRepository(Protocol):
    def add(self, reprint: Reprint) -> int: ...

    def count_for(self, payment_uuid: str) -> int: ...

    def for_business_date(self, day: date) -> list[Reprint]: ...


class UserRepository(Protocol):
    def add(self, user: User) -> int: ...

    def get(self, user_id: int) -> User | None: ...

    def by_username(self, username: str) -> User | None: ...

    def count(self) -> int: ...

    def set_failures(
        self, user_id: int, failed_attempts: int, locked_until: datetime | None
    ) -> None: ...

    def set_pin(self, user_id: int, pin_hash: str) -> None: ...

    def set_active(self, user_id: int, active: bool) -> None: ...

    def all(self) -> list[User]: ...


class AuditRepository(Protocol):
    def last(self) -> AuditEntry | None: ...

    def at(self, entry_id: int) -> AuditEntry | None: ...

    def add(self, entry: AuditEntry) -> None: ...

    def all(self) -> Sequence[AuditEntry]: ...


class DayCloseRepository(Protocol):
    def get(self, day: date) -> DayClose | None: ...

    def add(self, close: DayClose) -> None: ...


class UnitOfWork(Protocol):
    # Read-only properties so that implementations may use their own repository classes.
    @property
    def references(self) -> ReferenceRepository: ...

    @property
    def meta(self) -> MetaRepository: ...

    @property
    def payments(self) -> PaymentRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def shifts(self) -> ShiftRepository: ...

    @property
    def drops(self) -> DropRepository: ...

    @property
    def counts(self) -> CountRepository: ...

    @property
    def voids(self) -> VoidRepository: ...

    @property
    def reprints(self) -> ReprintRepository: ...

    @property
    def users(self) -> UserRepository: ...

    @property
    def audit(self) -> AuditRepository: ...

    @property
    def day_closes(self) -> DayCloseRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...

    def reading(self) -> AbstractContextManager[Self]: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


# --- central, the sync engine and the printer --------------------------------------------
# Implemented by sync.client.CentralClient, sync.status.SyncEngine and
# printing.terminal.TerminalPrinter; kiosk.bootstrap plugs them in and mypy checks the fit.


class LinkView(Protocol):
    @property
    def online(self) -> bool | None:
        """Whether central answered last time (None: not asked yet)."""
        ...


class Link(Protocol):
    def snapshot(self) -> LinkView: ...


class Central(Protocol):
    """What the terminal asks central itself (everything else goes through the outbox)."""

    @property
    def link(self) -> Link: ...

    def refunds(self) -> list[Mapping[str, Any]]:
        """The refunds the institute decided for this store, not yet handed back."""
        ...

    def get_reference(self, reference: str) -> ReferenceRecord | None:
        """One referencia as a cache record; None when central does not know it. Raises
        ``TerminalNotAllowed`` when central refuses this terminal, something else when
        central cannot be asked."""
        ...


class SyncView(Protocol):
    """What the sync engine says about itself (for the status bar)."""

    @property
    def online(self) -> bool | None: ...

    @property
    def clock_skew(self) -> timedelta | None: ...

    @property
    def clock_ok(self) -> bool: ...

    @property
    def last_error(self) -> str: ...


class ClockReadingView(Protocol):
    @property
    def skew(self) -> timedelta:
        """Local minus central: positive when this terminal runs ahead."""
        ...


class ClockCheckView(Protocol):
    def last(self) -> ClockReadingView | None: ...


class Sender(Protocol):
    def send_now(self, entry_id: int) -> object:
        """One short attempt at an outbox entry; its outcome is read back from the outbox."""
        ...


class Sync(Protocol):
    @property
    def sender(self) -> Sender: ...

    @property
    def clock_check(self) -> ClockCheckView: ...

    def status(self) -> SyncView: ...

    def nudge(self) -> None:
        """A hint that something waits to be sent: the engine looks now instead of later."""
        ...


class Enroller(Protocol):
    """Joins central with a one-time code (``sync.enrollment``, wired in ``kiosk.bootstrap``)."""

    def enroll(self, central_url: str, code: str, kind: str | None = None) -> Enrolled:
        """Redeem ``code`` (already checked and written as central issued it) at
        ``central_url``, saying this terminal runs as ``kind`` (caja or kiosko; central
        refuses a code of the other kind without spending it), and keep what central
        answered: the token in a file only this user reads (0600), the names and central's address in config.json, the identity in the
        terminal's database; the running link to central then uses the new address and
        token. Raises ``Refused`` (Spanish) when central says no or cannot be reached, and
        keeps nothing then. The returned record carries the token for the terminal service."""
        ...


class Printer(Protocol):
    """The receipt printer with its durable reprint queue. Never raises for a printer
    failure: the outcome says whether it printed or stayed in the queue."""

    def prepare(self) -> None:
        """Load the driver ahead of the first job (the first receipt does not wait on it)."""
        ...

    def print_receipt(self, receipt: ReceiptFacts) -> PrintOutcome: ...

    def print_report(self, report: DayReport) -> PrintOutcome: ...

    def print_void(self, void: VoidFacts) -> PrintOutcome: ...

    def print_shift_report(self, report: ShiftReport) -> PrintOutcome: ...

    def print_drop_slip(self, slip: DropSlip) -> PrintOutcome: ...

    def print_refund(self, refund: RefundFacts) -> PrintOutcome: ...

    def open_drawer(self) -> str | None:
        """Pulse the cash drawer when one is wired (never queued); None when it opened or
        there is none, else the Spanish reason."""
        ...

    def print_document(self, document: object) -> PrintOutcome:
        """A document the screens built themselves (the kiosk's ficha)."""
        ...

    def retry_pending(self) -> int:
        """Print what waits in the queue, oldest first; how many printed."""
        ...

    def pending_count(self) -> int: ...
