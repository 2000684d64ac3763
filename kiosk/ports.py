"""What the kiosk services need from storage: records, repositories and the unit of work.

The services in ``kiosk`` speak only to these Protocols; ``local_db`` implements them on
SQLite and the unit tests implement them with fakes. Money is ``Decimal`` pesos here (the
store keeps integer centavos), times are aware datetimes.

Use::

    with uow:                 # BEGIN IMMEDIATE: a write transaction
        ...
        uow.commit()          # leaving the block without commit() rolls everything back

    with uow.reading():       # a read-only snapshot (BEGIN DEFERRED), nothing to commit
        ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, Self
from zoneinfo import ZoneInfo

from kiosk.references import ReferenceRecord

MEXICO_CITY = ZoneInfo("America/Mexico_City")

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, aware, in Mexico City: the default clock of every service."""
    return datetime.now(MEXICO_CITY)


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


# --- records -------------------------------------------------------------------------

CASHIER = "cajero"
MANAGER = "gerente"
ROLES = (CASHIER, MANAGER)


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    name: str
    role: str
    pin_hash: str
    failed_attempts: int = 0
    locked_until: datetime | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class Payment:
    """A payment this terminal took. ``cash`` is applied cash (received minus change)."""

    uuid: str
    folio: int
    reference: str
    amount: Decimal
    cash: Decimal
    card: Decimal
    card_authorization: str
    cash_received: Decimal
    change: Decimal
    cashier_id: int
    shift_id: int
    terminal_id: str
    paid_at: datetime
    business_date: date


@dataclass(frozen=True, slots=True)
class PaymentTotals:
    """Sums over a day's payments that were not voided (the Z report's top lines)."""

    payments: int = 0
    amount: Decimal = Decimal("0.00")
    cash: Decimal = Decimal("0.00")
    card: Decimal = Decimal("0.00")
    change: Decimal = Decimal("0.00")
    cash_payments: int = 0  # payments with a cash part
    card_payments: int = 0  # payments with a card part


@dataclass(frozen=True, slots=True)
class CardLine:
    """A card payment, to match against the bank terminal's batch."""

    folio: int
    reference: str
    authorization: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class PendingLine:
    """A payment central has not confirmed (still queued, or rejected)."""

    folio: int
    uuid: str
    reference: str
    amount: Decimal
    paid_at: datetime


@dataclass(frozen=True, slots=True)
class Shift:
    id: int
    terminal_id: str
    cashier_id: int
    opening_float: Decimal
    opened_at: datetime
    business_date: date
    closed_at: datetime | None = None
    closed_by: int | None = None
    expected_cash: Decimal | None = None
    counted_cash: Decimal | None = None
    over_short: Decimal | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


DROP = "RETIRO"  # cash to the safe
REFUND = "DEVOLUCION"  # cash back to an affiliate, as the institute decided for a case


@dataclass(frozen=True, slots=True)
class CashDrop:
    """Cash that left the drawer during a shift."""

    shift_id: int
    amount: Decimal
    user_id: int
    at: datetime
    id: int = 0
    kind: str = DROP


@dataclass(frozen=True, slots=True)
class CashCount:
    """The drawer counted by denomination: a denomination key → number of pieces.

    Keys are those of ``kiosk.shifts.DENOMINATIONS`` (``b20`` is the bill, ``m20`` the coin).
    """

    shift_id: int
    pieces: Mapping[str, int]
    total: Decimal
    user_id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class Void:
    payment_uuid: str
    reason: str
    manager_id: int
    requested_by: int
    at: datetime
    business_date: date
    id: int = 0


@dataclass(frozen=True, slots=True)
class Reprint:
    payment_uuid: str
    user_id: int
    at: datetime
    business_date: date
    id: int = 0


@dataclass(frozen=True, slots=True)
class DayClose:
    business_date: date
    closed_at: datetime
    closed_by: int
    figures: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the hash-chained audit log. ``hash`` covers ``prev_hash`` and the rest."""

    id: int
    at: str  # ISO 8601, kept as text so the hash is computed over exactly what is stored
    actor: str
    action: str
    details: Mapping[str, Any]
    prev_hash: str
    hash: str


# Outbox statuses.
PENDING = "pendiente"
CONFIRMED = "confirmado"
REJECTED = "rechazado"
RESOLVED = "resuelto"  # a rejected payment whose case the institute resolved


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A request central must receive, written in the same transaction as what it reports.

    ``kind`` is ``payment``, ``void``, ``shift_close`` or ``day_close``; ``method`` and
    ``path`` are the HTTP request to send, ``idempotency_key`` its Idempotency-Key header and
    ``payload`` its JSON body. ``subject`` is the payment uuid (or shift/day id) it is about.
    """

    id: int
    kind: str
    method: str
    path: str
    idempotency_key: str
    subject: str
    payload: Mapping[str, Any]
    created_at: datetime
    status: str = PENDING
    attempts: int = 0
    last_error: str = ""
    next_attempt_at: datetime | None = None
    response: Mapping[str, Any] | None = None
    rejection_code: str = ""
    rejection_message: str = ""
    settled_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    pending: int
    confirmed: int
    rejected: int
    oldest_pending_at: datetime | None = None

    def oldest_pending_age(self, now: datetime) -> float | None:
        """Seconds the oldest pending entry has waited, or None when nothing waits."""
        if self.oldest_pending_at is None:
            return None
        return max(0.0, (now - self.oldest_pending_at).total_seconds())


@dataclass(frozen=True, slots=True)
class NewOutboxEntry:
    kind: str
    method: str
    path: str
    idempotency_key: str
    subject: str
    payload: Mapping[str, Any]
    created_at: datetime
    extra: Mapping[str, Any] = field(default_factory=dict)


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


class MetaRepository(Protocol):
    def get(self, key: str) -> str | None: ...

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

    def all(self) -> list[User]: ...


class AuditRepository(Protocol):
    def last(self) -> AuditEntry | None: ...

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
