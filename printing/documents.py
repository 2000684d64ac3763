"""What each printed document needs, as plain frozen data a service can fill.

Only ``str``, ``Decimal``, ``int``, ``bool``, ``date`` and ``datetime`` here (and tuples of
small records), so that the cashier, kiosk and manager services can build them from their own
records without importing anything of printing's machinery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

ZERO = Decimal("0.00")

# Payment kinds as central names them (QUINCENAL...) and as the services may (installment...),
# looked up without regard to case; anything else prints as given.
KIND_LABELS = {
    "quincenal": "Pago quincenal",
    "abono": "Abono a capital",
    "renovacion": "Renovación",
    "liquidacion": "Liquidación",
    "installment": "Pago quincenal",
    "prepayment": "Abono a capital",
    "renewal": "Renovación",
    "payoff": "Liquidación",
}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind.strip().lower(), kind)


@dataclass(frozen=True, slots=True)
class ReceiptData:
    """Comprobante de pago: what the affiliate keeps as proof of payment."""

    store_name: str
    folio: str
    paid_at: datetime
    terminal: str
    cashier: str
    member_name: str
    member_number: str
    loan_id: str
    kind: str
    concept: str
    reference: str
    amount: Decimal
    cash_applied: Decimal = ZERO
    cash_received: Decimal = ZERO
    change: Decimal = ZERO
    card_amount: Decimal = ZERO
    card_authorization: str = ""
    confirmed_online: bool = False
    reprint_count: int = 0


@dataclass(frozen=True, slots=True)
class SlipData:
    """Ficha de pago printed at the kiosk, to be paid at a cashier the same day."""

    store_name: str
    member_name: str
    member_number: str
    loan_id: str
    kind: str
    amount: Decimal
    reference: str
    issued_on: date
    valid_hours: str = "de 07:00 a 22:00 horas"
    valid_days: str = "en días hábiles (lunes a viernes, excepto días inhábiles)"
    cash_cap: Decimal = Decimal("30000.00")
    quincenas: tuple[str, ...] = ()
    concept: str = ""
    issued_at: datetime | None = None
    replaces_reference: str = ""


@dataclass(frozen=True, slots=True)
class VoidData:
    """Cancelación de un pago, approved by a manager."""

    store_name: str
    folio: str
    voided_at: datetime
    terminal: str
    cashier: str
    manager: str
    original_folio: str
    reference: str
    member_name: str
    member_number: str
    amount: Decimal
    reason: str
    cash_refunded: Decimal = ZERO
    card_reversed: Decimal = ZERO
    confirmed_online: bool = False
    reprint_count: int = 0
    requested_by: str = ""


@dataclass(frozen=True, slots=True)
class RefundData:
    """Devolución al afiliado de un cobro que el instituto resolvió devolver; lo firma."""

    store_name: str
    case_id: int
    refunded_at: datetime
    terminal: str
    manager: str
    original_folio: str
    reference: str
    paid_at: datetime
    amount: Decimal
    reason: str
    resolved_by: str


@dataclass(frozen=True, slots=True)
class MethodTotal:
    """Payments by method (efectivo, tarjeta...): how many and how much."""

    method: str
    count: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class DenominationCount:
    """One line of the drawer count: ``count`` pieces of ``value`` pesos."""

    value: Decimal
    count: int
    form: str = "billete"  # billete | moneda: $20 exists as both

    @property
    def amount(self) -> Decimal:
        return self.value * self.count


@dataclass(frozen=True, slots=True)
class ReportLine:
    """A void, reprint or unconfirmed payment listed on a report."""

    folio: str
    reference: str
    amount: Decimal
    when: datetime | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class ShiftSummary:
    """One shift inside a day close (Z)."""

    terminal: str
    cashier: str
    payments: int
    total: Decimal
    over_short: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ReportData:
    """X report (mid-day, no close), Z report (the day close) or TURNO (a shift's close).

    ``over_short`` is counted minus expected: positive is sobrante, negative faltante. It is
    computed from what was recorded, never adjusted.
    """

    kind: str  # "X", "Z" or "TURNO"
    store_name: str
    terminal: str
    business_date: date
    generated_at: datetime
    cashier: str = ""
    manager: str = ""
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    totals_by_method: tuple[MethodTotal, ...] = ()
    payments_count: int = 0
    payments_total: Decimal = ZERO
    opening_float: Decimal = ZERO
    cash_taken: Decimal = ZERO
    change_given: Decimal = ZERO
    cash_drops: Decimal = ZERO
    rounding: Decimal = ZERO  # change rounded up to the 10-centavo coin, affiliates' favour
    drops: tuple[ReportLine, ...] = ()
    denominations: tuple[DenominationCount, ...] = ()
    counted_cash: Decimal | None = None
    shifts: tuple[ShiftSummary, ...] = ()
    card_payments: tuple[ReportLine, ...] = ()  # with their authorizations, for the bank
    voids: tuple[ReportLine, ...] = ()
    reprints: tuple[ReportLine, ...] = ()
    unconfirmed: tuple[ReportLine, ...] = ()

    @property
    def expected_cash(self) -> Decimal:
        return self.opening_float + self.cash_taken - self.change_given - self.cash_drops

    @property
    def over_short(self) -> Decimal | None:
        if self.counted_cash is None:
            return None
        return self.counted_cash - self.expected_cash


@dataclass(frozen=True, slots=True)
class DropData:
    """Retiro de efectivo: the slip that goes into the safe with the cash."""

    store_name: str
    folio: str
    at: datetime
    terminal: str
    shift: str
    cashier: str
    dropped_by: str
    amount: Decimal


Document = ReceiptData | SlipData | VoidData | RefundData | ReportData | DropData
