"""The terminal's domain records: what the services read and write, as plain data.

Money is ``Decimal`` pesos (the store keeps integer centavos), times are aware datetimes in
Mexico City. The Protocols that move these records live in ``kiosk.ports``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from kiosk import money
from kiosk.references import ReferenceRecord

MEXICO_CITY = ZoneInfo("America/Mexico_City")

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, aware, in Mexico City: the default clock of every service."""
    return datetime.now(MEXICO_CITY)


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


def change_given(change_owed: Decimal) -> Decimal:
    """The change handed over for ``change_owed``: rounded up to the smallest coin, because
    the drawer has no coin under 10 centavos (SPEC 2.4); the centavos go to the affiliate."""
    return money.round_up_to_coin(change_owed)


@dataclass(frozen=True, slots=True)
class Payment:
    """A payment this terminal took. ``cash`` is applied cash; ``change`` is what was owed
    back (cash received minus cash applied, exact to the centavo). The drawer gives
    ``change_given``; the difference, ``rounding``, is the affiliate's and is reported."""

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

    @property
    def change_given(self) -> Decimal:
        return change_given(self.change)

    @property
    def rounding(self) -> Decimal:
        return self.change_given - self.change

    @property
    def drawer_cash(self) -> Decimal:
        """What this payment left in the drawer: cash received minus change handed over."""
        return self.cash_received - self.change_given


@dataclass(frozen=True, slots=True)
class PaymentTotals:
    """Sums over a day's payments that were not voided (the Z report's top lines)."""

    payments: int = 0
    amount: Decimal = Decimal("0.00")
    cash: Decimal = Decimal("0.00")
    card: Decimal = Decimal("0.00")
    change: Decimal = Decimal("0.00")  # handed over (``Payment.change_given``)
    cash_payments: int = 0  # payments with a cash part
    card_payments: int = 0  # payments with a card part
    cash_received: Decimal = Decimal("0.00")

    @property
    def rounding(self) -> Decimal:
        """Centavos of change rounded up in the affiliates' favour."""
        return self.change - (self.cash_received - self.cash)


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
    """What still waits for central (the settled history is not counted: it only grows)."""

    pending: int
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


# --- what the parts answered ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PrintOutcome:
    """What happened to one document: printed, or kept in the reprint queue (``message`` is
    Spanish, for the screen)."""

    printed: bool
    queued: bool
    message: str


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """Whether central confirmed a payment when it was sent at once after being taken."""

    confirmed: bool


@dataclass(frozen=True, slots=True)
class ReceiptFacts:
    """Everything a payment's receipt says, read in one transaction."""

    store_name: str
    terminal_name: str
    payment: Payment
    record: ReferenceRecord | None  # the cached referencia: affiliate, loan, concept
    cashier_name: str
    confirmed_online: bool
    reprints: int


@dataclass(frozen=True, slots=True)
class ReceiptOutcome:
    """A receipt delivered: what it said about central and what the printer did."""

    payment: Payment
    confirmed_online: bool  # the receipt says "aplicado en línea"
    printed: PrintOutcome


@dataclass(frozen=True, slots=True)
class Enrolled:
    """This terminal joined central: which terminal of which store it now is. ``token`` is
    filled only between the enrollment port and the terminal service; a screen never gets
    it (``Terminal.enroll`` returns the record without it)."""

    terminal_id: int
    store_id: str
    store_name: str
    name: str  # "Caja 1"
    kind: str  # caja | kiosko
    central_url: str
    token: str = field(default="", repr=False, compare=False)
