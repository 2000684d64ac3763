"""X and Z figures as data (printing lays them out), and the day close (cierre del día).

X: the figures mid-day, nothing closed. Z: the same figures frozen by the day close, which
needs every shift closed and stops this terminal taking payments for that business day.
Every figure of a report is read in one read transaction, with a fixed number of queries
per day (none per payment), so a year of history costs what a week does.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from kiosk import audit
from kiosk.cashier import business_date
from kiosk.ports import (
    MANAGER,
    CardLine,
    Clock,
    DayClose,
    NewOutboxEntry,
    PendingLine,
    Refused,
    UnitOfWork,
    system_clock,
)
from kiosk.shifts import (
    DAY_CLOSING,
    DENOMINATIONS,
    DropLine,
    ReprintLine,
    VoidLine,
    closing_body,
    drop_lines,
)
from kiosk.terminal_state import store_id, terminal_id

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class ShiftLine:
    shift_id: int
    cashier_id: int
    opening_float: Decimal
    is_open: bool
    expected_cash: Decimal | None
    counted_cash: Decimal | None
    over_short: Decimal | None


@dataclass(frozen=True, slots=True)
class DayFigures:
    business_date: date
    terminal_id: str
    payments: int  # not voided
    total: Decimal
    cash_total: Decimal
    card_total: Decimal
    cash_payments: int  # payments with a cash part
    card_payments: int  # payments with a card part
    change_given: Decimal
    cash_received: Decimal
    card_lines: tuple[CardLine, ...]  # to match against the bank terminal's batch
    voids: tuple[VoidLine, ...]
    voided_total: Decimal
    reprints: int
    shifts: tuple[ShiftLine, ...]
    over_short: Decimal  # over all closed shifts; > 0 sobrante
    unconfirmed: tuple[PendingLine, ...]  # payments central has not confirmed yet
    rejected_by_central: int  # outbox entries central refused: the manager must look
    closed_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        def conv(v: Any) -> Any:
            if isinstance(v, Decimal):
                return str(v)
            if isinstance(v, (date, datetime)):
                return v.isoformat()
            if isinstance(v, dict):
                return {k: conv(x) for k, x in v.items()}
            if isinstance(v, (list, tuple)):
                return [conv(x) for x in v]
            return v

        result: dict[str, Any] = conv(asdict(self))
        return result


def _figures_in(uow: UnitOfWork, day: date) -> DayFigures:
    # Sums come from the store (integer centavos, exact) so the Z stays fast at 10,000+.
    totals = uow.payments.totals(day)
    void_lines = []
    voided_total = ZERO
    for v in uow.voids.for_business_date(day):
        vp = uow.payments.get(v.payment_uuid)
        if vp is None:  # pragma: no cover - a void always has its payment (foreign key)
            continue
        voided_total += vp.amount
        void_lines.append(VoidLine(vp.folio, vp.reference, vp.amount, v.reason, v.at))
    shifts = tuple(
        ShiftLine(
            s.id,
            s.cashier_id,
            s.opening_float,
            s.is_open,
            s.expected_cash,
            s.counted_cash,
            s.over_short,
        )
        for s in uow.shifts.for_business_date(day)
    )
    over_short = sum((s.over_short for s in shifts if s.over_short is not None), ZERO)
    close = uow.day_closes.get(day)
    return DayFigures(
        business_date=day,
        terminal_id=terminal_id(uow),
        payments=totals.payments,
        total=totals.amount,
        cash_total=totals.cash,
        card_total=totals.card,
        cash_payments=totals.cash_payments,
        card_payments=totals.card_payments,
        change_given=totals.change,
        cash_received=totals.cash_received,
        card_lines=tuple(uow.payments.card_lines(day)),
        voids=tuple(sorted(void_lines, key=lambda v: v.folio)),
        voided_total=voided_total,
        reprints=len(uow.reprints.for_business_date(day)),
        shifts=shifts,
        over_short=over_short,
        unconfirmed=tuple(uow.payments.unconfirmed(day)),
        rejected_by_central=uow.outbox.counts().rejected,
        closed_at=close.closed_at if close else None,
    )


@dataclass(frozen=True, slots=True)
class ShiftTotal:
    shift_id: int
    cashier: str
    payments: int  # not voided
    total: Decimal
    over_short: Decimal | None


@dataclass(frozen=True, slots=True)
class DayReport:
    """An X (mid-day) or Z (day close) report: the figures and everything the day has (each
    shift with its payments and over/short, the drawer counted by denomination, floats and
    drops, reprints). Printing lays it out."""

    kind: str  # "X" or "Z"
    store_name: str
    terminal_name: str
    manager: str
    generated_at: datetime
    figures: DayFigures
    cashiers: tuple[str, ...]
    opened_at: datetime | None
    opening_float: Decimal
    drops: Decimal
    drop_lines: tuple[DropLine, ...]  # the day's drops, listed
    pieces: Mapping[str, int]  # denomination key (kiosk.shifts.DENOMINATIONS) → pieces
    counted_cash: Decimal | None  # None unless every shift of the day was counted
    shifts: tuple[ShiftTotal, ...]
    reprints: tuple[ReprintLine, ...]


def _report_in(
    uow: UnitOfWork,
    figures: DayFigures,
    *,
    kind: str,
    store_name: str,
    terminal_name: str,
    manager: str,
    now: datetime,
) -> DayReport:
    names: dict[int, str] = {}

    def name_of(user_id: int) -> str:
        if user_id not in names:
            person = uow.users.get(user_id)
            names[user_id] = person.name if person else str(user_id)
        return names[user_id]

    taken = uow.payments.shift_totals(figures.business_date)
    totals: list[ShiftTotal] = []
    pieces: dict[str, int] = {}
    opening_float = drops = counted = ZERO
    day_drops: list[DropLine] = []
    opened_at: datetime | None = None
    for shift in uow.shifts.for_business_date(figures.business_date):
        count_, total = taken.get(shift.id, (0, ZERO))
        totals.append(
            ShiftTotal(shift.id, name_of(shift.cashier_id), count_, total, shift.over_short)
        )
        opening_float += shift.opening_float
        shift_drops = drop_lines(uow, shift.id)
        day_drops.extend(shift_drops)
        drops += sum((d.amount for d in shift_drops), ZERO)
        if opened_at is None or shift.opened_at < opened_at:
            opened_at = shift.opened_at
        count = uow.counts.get(shift.id)
        if count is not None:
            counted += count.total
            for key, n in count.pieces.items():
                pieces[key] = pieces.get(key, 0) + int(n)
    reprints = []
    for r in uow.reprints.for_business_date(figures.business_date):
        paid = uow.payments.get(r.payment_uuid)
        if paid is not None:
            reprints.append(
                ReprintLine(paid.folio, paid.reference, paid.amount, r.at, name_of(r.user_id))
            )
    # A counted figure only when every shift of the day was counted: a partial count
    # against the whole day's expected cash would print a false faltante.
    all_counted = bool(figures.shifts) and all(s.counted_cash is not None for s in figures.shifts)
    return DayReport(
        kind=kind,
        store_name=store_name,
        terminal_name=terminal_name,
        manager=manager,
        generated_at=now,
        figures=figures,
        cashiers=tuple(dict.fromkeys(t.cashier for t in totals)),
        opened_at=opened_at,
        opening_float=opening_float,
        drops=drops,
        drop_lines=tuple(day_drops),
        pieces={k: pieces[k] for k in DENOMINATIONS if pieces.get(k)},
        counted_cash=counted if all_counted else None,
        shifts=tuple(totals),
        reprints=tuple(reprints),
    )


def day_report(
    uow: UnitOfWork,
    *,
    kind: str,
    store_name: str,
    terminal_name: str,
    manager: str,
    clock: Clock = system_clock,
    figures: DayFigures | None = None,
) -> DayReport:
    """The X report (``figures`` None: today's, read now) or the Z report of the day close
    that returned ``figures``; everything read in one read transaction."""
    now = clock()
    with uow.reading():
        figures = figures or _figures_in(uow, business_date(now))
        return _report_in(
            uow,
            figures,
            kind=kind,
            store_name=store_name,
            terminal_name=terminal_name,
            manager=manager,
            now=now,
        )


def day_figures(
    uow: UnitOfWork, day: date | None = None, *, clock: Clock = system_clock
) -> DayFigures:
    """The X report's figures (any time) for ``day`` (default: today)."""
    if isinstance(day, datetime):  # a datetime is a date too: take its local business date
        day = business_date(day)
    with uow.reading():
        return _figures_in(uow, day or business_date(clock()))


def close_day(uow: UnitOfWork, *, closed_by: int, clock: Clock = system_clock) -> DayFigures:
    """The day close (Z). Refused while a shift is open or when already done."""
    now = clock()
    day = business_date(now)
    with uow:
        if uow.day_closes.get(day) is not None:
            raise Refused("DIA_CERRADO", "El día ya se cerró en esta caja.")
        open_shift = uow.shifts.open_shift()
        if open_shift is not None:
            raise Refused(
                "TURNO_ABIERTO",
                f"Cierre primero el turno abierto (turno {open_shift.id}) "
                "antes del cierre del día.",
            )
        user = uow.users.get(closed_by)
        if user is None:
            raise Refused("USUARIO_DESCONOCIDO", "El usuario no está registrado en esta caja.")
        if user.role != MANAGER:
            raise Refused("REQUIERE_GERENTE", "El cierre del día lo hace un gerente.")
        figures = _figures_in(uow, day)
        figures = replace(figures, closed_at=now)
        data = figures.to_json()
        uow.day_closes.add(DayClose(day, now, closed_by, data))
        closing_uuid = str(uuid.uuid4())
        uow.outbox.add(
            NewOutboxEntry(
                kind="day_close",
                method="POST",
                path="/v1/closings",
                idempotency_key=closing_uuid,
                subject=day.isoformat(),
                payload=closing_body(
                    closing_uuid=closing_uuid,
                    store_id=store_id(uow),
                    kind=DAY_CLOSING,
                    business_date=day,
                    closed_at=now,
                    report=data,
                    audit_head=audit.head_json(uow),
                ),
                created_at=now,
            )
        )
        audit.record(
            uow,
            audit.DAY_CLOSE,
            user.username,
            {
                "dia": day.isoformat(),
                "pagos": figures.payments,
                "total": str(figures.total),
                "cancelaciones": len(figures.voids),
                "sin_confirmar": len(figures.unconfirmed),
            },
            now,
        )
        uow.commit()
    return figures
