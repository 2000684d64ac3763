"""Cash shifts (turnos): opening float, cash drops, and the close with the drawer counted.

Expected cash = opening float + what payments not voided left in the drawer (cash received
minus the change handed over) − cash drops. Change is given in coins down to 10 centavos and
rounded up to them (``kiosk.ports.change_given``), so the drawer only ever moves by whole
coins and a count after a day of exact change matches to the centavo. The over/short is
counted − expected, recorded as counted.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from kiosk import audit, money
from kiosk.cashier import business_date, not_your_shift
from kiosk.ports import (
    DROP,
    MANAGER,
    CashCount,
    CashDrop,
    Clock,
    NewOutboxEntry,
    Refused,
    Shift,
    UnitOfWork,
    User,
    system_clock,
)
from kiosk.terminal_state import store_id, terminal_id
from kiosk.users import DEFAULT_HASHER, PinHasher, display_name, verify_pin

# Key → face value. The 20-peso bill and coin are both in circulation: keyed apart.
DENOMINATIONS: dict[str, Decimal] = {
    "b1000": Decimal("1000"),
    "b500": Decimal("500"),
    "b200": Decimal("200"),
    "b100": Decimal("100"),
    "b50": Decimal("50"),
    "b20": Decimal("20"),
    "m20": Decimal("20"),
    "m10": Decimal("10"),
    "m5": Decimal("5"),
    "m2": Decimal("2"),
    "m1": Decimal("1"),
    "m0.50": Decimal("0.50"),
    "m0.20": Decimal("0.20"),
    "m0.10": Decimal("0.10"),
}
DENOMINATION_LABELS: dict[str, str] = {
    k: (
        f"Billete ${v:,.0f}"
        if k.startswith("b")
        else f"Moneda ${v:,.2f}"
        if v < 1
        else f"Moneda ${v:,.0f}"
    )
    for k, v in DENOMINATIONS.items()
}


def count_total(pieces: Mapping[str, int]) -> Decimal:
    unknown = set(pieces) - set(DENOMINATIONS)
    if unknown:
        raise Refused(
            "DENOMINACION_INVALIDA", f"Denominación desconocida: {', '.join(sorted(unknown))}."
        )
    total = Decimal("0.00")
    for key, n in pieces.items():
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise Refused(
                "CONTEO_INVALIDO",
                f"La cantidad de «{DENOMINATION_LABELS[key]}» debe ser un entero ≥ 0.",
            )
        total += DENOMINATIONS[key] * n
    return money.round_centavo(total)


def _user(uow: UnitOfWork, user_id: int) -> User:
    user = uow.users.get(user_id)
    if user is None:
        raise Refused("USUARIO_DESCONOCIDO", "El usuario no está registrado en esta caja.")
    return user


@dataclass(frozen=True, slots=True)
class DropLine:
    """A cash drop with the name of who took it to the safe, as reports and slips print it."""

    id: int
    shift_id: int
    amount: Decimal
    at: datetime
    who: str


def drop_lines(uow: UnitOfWork, shift_id: int) -> tuple[DropLine, ...]:
    return tuple(
        DropLine(d.id, d.shift_id, d.amount, d.at, display_name(uow, d.user_id))
        for d in uow.drops.for_shift(shift_id)
    )


@dataclass(frozen=True, slots=True)
class VoidLine:
    folio: int
    reference: str
    amount: Decimal
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ReprintLine:
    folio: int
    reference: str
    amount: Decimal
    at: datetime
    who: str


@dataclass(frozen=True, slots=True)
class ShiftFigures:
    """A shift's cash, as its report prints it and the screen shows it after the count.

    Voided payments are left out of the totals (their cash went back to the affiliate) and
    listed in ``voids``; ``reprints`` lists the copies of its receipts (the audit of a
    shift). ``counted_cash`` and ``over_short`` are None until the shift is closed."""

    shift: Shift
    cashier: str  # the cashier's name
    payments: int
    total: Decimal
    cash_received: Decimal
    change_given: Decimal
    rounding: Decimal  # centavos of change rounded up in the affiliates' favour
    card_total: Decimal
    cash_payments: int  # payments with a cash part
    card_payments: int  # payments with a card part
    drops: tuple[DropLine, ...]
    count: CashCount | None
    voids: tuple[VoidLine, ...]
    reprints: tuple[ReprintLine, ...]

    @property
    def cash_drops(self) -> Decimal:
        return sum((d.amount for d in self.drops), money.ZERO)

    @property
    def expected_cash(self) -> Decimal:
        return self.shift.opening_float + self.cash_received - self.change_given - self.cash_drops

    @property
    def counted_cash(self) -> Decimal | None:
        return self.shift.counted_cash

    @property
    def over_short(self) -> Decimal | None:
        return self.shift.over_short


def _figures_in(uow: UnitOfWork, shift: Shift) -> ShiftFigures:
    taken = uow.payments.for_shift(shift.id)
    by_uuid = {p.uuid: p for p in taken}
    voided = {p.uuid: v for p in taken if (v := uow.voids.for_payment(p.uuid)) is not None}
    live = [p for p in taken if p.uuid not in voided]
    return ShiftFigures(
        shift=shift,
        cashier=display_name(uow, shift.cashier_id),
        payments=len(live),
        total=sum((p.amount for p in live), money.ZERO),
        cash_received=sum((p.cash_received for p in live), money.ZERO),
        change_given=sum((p.change_given for p in live), money.ZERO),
        rounding=sum((p.rounding for p in live), money.ZERO),
        card_total=sum((p.card for p in live), money.ZERO),
        cash_payments=sum(1 for p in live if p.cash),
        card_payments=sum(1 for p in live if p.card),
        drops=drop_lines(uow, shift.id),
        count=uow.counts.get(shift.id),
        voids=tuple(
            VoidLine(p.folio, p.reference, p.amount, v.reason, v.at)
            for p in taken
            if (v := voided.get(p.uuid)) is not None
        ),
        reprints=tuple(
            ReprintLine(p.folio, p.reference, p.amount, r.at, display_name(uow, r.user_id))
            for r in uow.reprints.for_business_date(shift.business_date)
            if (p := by_uuid.get(r.payment_uuid)) is not None
        ),
    )


def _expected_in(uow: UnitOfWork, shift: Shift) -> Decimal:
    return _figures_in(uow, shift).expected_cash


def shift_figures(uow: UnitOfWork, shift_id: int) -> ShiftFigures:
    """The figures of any shift, open or closed (its report, or the breakdown the cashier
    sees once the blind count is in)."""
    with uow.reading():
        shift = uow.shifts.get(shift_id)
        if shift is None:
            raise Refused("TURNO_DESCONOCIDO", "No existe ese turno en esta caja.")
        return _figures_in(uow, shift)


def day_drops(uow: UnitOfWork, day: date) -> list[DropLine]:
    """Every cash drop of the business day, shift by shift, oldest first."""
    with uow.reading():
        return [d for s in uow.shifts.for_business_date(day) for d in drop_lines(uow, s.id)]


@dataclass(frozen=True, slots=True)
class ShiftReport:
    """The corte de turno as printed: a shift's figures and where it was printed."""

    store_name: str
    terminal_name: str
    generated_at: datetime
    figures: ShiftFigures


@dataclass(frozen=True, slots=True)
class DropSlip:
    """The slip that goes into the safe with a cash drop."""

    store_name: str
    terminal_name: str
    drop: DropLine
    cashier: str  # the shift's cashier, who hands the cash over


def drop_slip(uow: UnitOfWork, drop: CashDrop, *, store_name: str, terminal_name: str) -> DropSlip:
    figures = shift_figures(uow, drop.shift_id)
    (line,) = (d for d in figures.drops if d.id == drop.id)
    return DropSlip(store_name, terminal_name, line, figures.cashier)


# The change a drawer starts with: a few thousand pesos. A mistyped float (an extra zero)
# would hide that much cash from the count, so a larger one is refused, not asked about.
MAX_OPENING_FLOAT = Decimal("10000.00")


def open_shift(
    uow: UnitOfWork,
    *,
    cashier_id: int,
    opening_float: Decimal,
    opened_by: int | None = None,
    clock: Clock = system_clock,
) -> Shift:
    """Open this terminal's shift for ``cashier_id`` (``opened_by``: who counted the float)."""
    now = clock()
    day = business_date(now)
    if opening_float < 0 or opening_float != money.round_centavo(opening_float):
        raise Refused("FONDO_INVALIDO", "El fondo de caja debe ser un importe positivo.")
    if opening_float > MAX_OPENING_FLOAT:
        raise Refused(
            "FONDO_EXCESIVO",
            f"El fondo de caja no puede pasar de {money.fmt(MAX_OPENING_FLOAT)}. "
            "Revise el importe: el fondo es el cambio para empezar, no la venta.",
        )
    with uow:
        if uow.day_closes.get(day) is not None:
            raise Refused("DIA_CERRADO", "El día ya se cerró en esta caja: no se abren turnos.")
        current = uow.shifts.open_shift()
        if current is not None:
            raise Refused(
                "TURNO_ABIERTO",
                f"Ya hay un turno abierto en esta caja (turno {current.id}); "
                "ciérrelo antes de abrir otro.",
            )
        cashier = _user(uow, cashier_id)
        actor = _user(uow, opened_by).username if opened_by is not None else cashier.username
        shift = Shift(0, terminal_id(uow), cashier_id, opening_float, now, day)
        shift = replace(shift, id=uow.shifts.add(shift))
        audit.record(
            uow,
            audit.SHIFT_OPEN,
            actor,
            {"turno": shift.id, "cajero": cashier.username, "fondo": str(opening_float)},
            now,
        )
        uow.commit()
    return shift


def current_shift(uow: UnitOfWork) -> Shift | None:
    with uow.reading():
        return uow.shifts.open_shift()


def shift_for(uow: UnitOfWork, cashier_id: int) -> Shift | None:
    """The open shift, if it is ``cashier_id``'s; None when there is none (they may open one).
    Refused when it belongs to somebody else."""
    with uow.reading():
        shift = uow.shifts.open_shift()
        if shift is not None and shift.cashier_id != cashier_id:
            raise not_your_shift(uow, shift)
        return shift


def hand_over(
    uow: UnitOfWork,
    *,
    to_cashier_id: int,
    manager: str,
    manager_pin: str,
    hasher: PinHasher = DEFAULT_HASHER,
    clock: Clock = system_clock,
) -> Shift:
    """A manager hands the open shift, float and drawer included, to another cashier; the
    log says from whom to whom. The payments already taken keep their own cashier."""
    now = clock()
    with uow:
        shift = uow.shifts.open_shift()
        if shift is None:
            raise Refused("SIN_TURNO", "No hay turno abierto.")
        approver = verify_pin(
            uow, manager, manager_pin, hasher=hasher, clock=clock, required_role=MANAGER
        )
        new = _user(uow, to_cashier_id)
        if not new.active:
            raise Refused("USUARIO_INACTIVO", f"{new.name} está dado de baja.")
        if new.id == shift.cashier_id:
            raise Refused("MISMO_CAJERO", f"El turno ya es de {new.name}.")
        uow.shifts.set_cashier(shift.id, new.id)
        audit.record(
            uow,
            audit.SHIFT_HANDOVER,
            approver.username,
            {"turno": shift.id, "de": _user(uow, shift.cashier_id).username, "a": new.username},
            now,
        )
        uow.commit()
    return replace(shift, cashier_id=new.id)


def record_drop(
    uow: UnitOfWork, *, amount: Decimal, user_id: int, clock: Clock = system_clock
) -> CashDrop:
    """A cash drop (retiro) from the open shift's drawer to the safe."""
    now = clock()
    with uow:
        drop, user = take_out(uow, amount, user_id, now, DROP)
        audit.record(
            uow,
            audit.CASH_DROP,
            user.username,
            {"turno": drop.shift_id, "importe": str(amount)},
            now,
        )
        uow.commit()
    return drop


def take_out(
    uow: UnitOfWork, amount: Decimal, user_id: int, now: datetime, kind: str
) -> tuple[CashDrop, User]:
    """Cash leaving the open shift's drawer (a retiro or a refund), inside the caller's
    transaction; never more than the drawer should hold."""
    what = "El retiro" if kind == DROP else "La devolución"
    if amount <= 0 or amount != money.round_centavo(amount):
        raise Refused("RETIRO_INVALIDO", f"{what} debe ser un importe mayor que cero.")
    shift = uow.shifts.open_shift()
    if shift is None:
        raise Refused("SIN_TURNO", "No hay turno abierto.")
    user = _user(uow, user_id)
    in_drawer = _expected_in(uow, shift)
    if amount > in_drawer:
        raise Refused(
            "RETIRO_EXCEDE",
            f"{what} ({money.fmt(amount)}) es mayor que el efectivo esperado "
            f"en caja ({money.fmt(in_drawer)}).",
        )
    drop = CashDrop(shift.id, amount, user_id, now, kind=kind)
    return replace(drop, id=uow.drops.add(drop)), user


@dataclass(frozen=True, slots=True)
class ShiftStatus:
    shift: Shift
    payments: int
    cash_drops: Decimal
    expected_cash: Decimal | None  # None under a blind count: revealed only at the close


def shift_status(uow: UnitOfWork, *, blind: bool) -> ShiftStatus:
    """The open shift at a glance. Under a blind count the expected cash stays hidden."""
    with uow.reading():
        shift = uow.shifts.open_shift()
        if shift is None:
            raise Refused("SIN_TURNO", "No hay turno abierto.")
        drops = sum((d.amount for d in uow.drops.for_shift(shift.id)), Decimal("0.00"))
        n = len(uow.payments.for_shift(shift.id))
        expected = None if blind else _expected_in(uow, shift)
        return ShiftStatus(shift, n, drops, expected)


@dataclass(frozen=True, slots=True)
class ShiftClose:
    shift: Shift
    count: CashCount
    expected_cash: Decimal
    counted_cash: Decimal
    over_short: Decimal  # > 0 sobrante, < 0 faltante

    @property
    def label(self) -> str:
        if self.over_short > 0:
            return "SOBRANTE"
        return "FALTANTE" if self.over_short < 0 else "CUADRA"


SHIFT_CLOSING = "TURNO"
DAY_CLOSING = "DIA"


def closing_body(
    *,
    closing_uuid: str,
    store_id: str,
    kind: str,
    business_date: date,
    closed_at: datetime,
    report: Mapping[str, Any],
    audit_head: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Central's ``ClosingIn``, exactly: the body of ``POST /v1/closings`` for a shift close
    (``TURNO``) or a day close (``DIA``). ``closing_uuid`` is also the entry's
    Idempotency-Key; central checks a replay against this whole body, report included, so it
    is fixed here, when the close happens."""
    return {
        "closing_uuid": closing_uuid,
        "store_id": store_id,
        "kind": kind,
        "business_date": business_date.isoformat(),
        "closed_at": closed_at.isoformat(),
        "report": dict(report),
        # Central keeps the audit chain's head it sees, so a rewritten log is noticed there.
        **({} if audit_head is None else {"audit_head": dict(audit_head)}),
    }


def closing_payload(
    close: ShiftClose, *, closing_uuid: str, store_id: str, cashier: str, closed_by: str
) -> dict[str, Any]:
    """The shift close for central; ``cashier``/``closed_by`` are usernames (local user ids
    mean nothing there)."""
    s = close.shift
    if s.closed_at is None:
        raise ValueError("closing_payload needs the closed shift")
    report = {
        "terminal_id": s.terminal_id,
        "shift_id": s.id,
        "cashier": cashier,
        "closed_by": closed_by,
        "opened_at": s.opened_at.isoformat(),
        "opening_float": str(s.opening_float),
        "expected_cash": str(close.expected_cash),
        "counted_cash": str(close.counted_cash),
        "over_short": str(close.over_short),
        "count": dict(close.count.pieces),
    }
    return closing_body(
        closing_uuid=closing_uuid,
        store_id=store_id,
        kind=SHIFT_CLOSING,
        business_date=s.business_date,
        closed_at=s.closed_at,
        report=report,
    )


def close_shift(
    uow: UnitOfWork, *, pieces: Mapping[str, int], closed_by: int, clock: Clock = system_clock
) -> ShiftClose:
    """Store the count, then (and only then) compute the expected cash; close the shift and
    queue its report for central, in one transaction."""
    now = clock()
    total = count_total(pieces)
    with uow:
        shift = uow.shifts.open_shift()
        if shift is None:
            raise Refused("SIN_TURNO", "No hay turno abierto.")
        user = _user(uow, closed_by)
        if user.id != shift.cashier_id and user.role != MANAGER:
            raise Refused(
                "NO_AUTORIZADO", "Solo el cajero del turno o un gerente pueden cerrar el turno."
            )
        count = CashCount(
            shift.id, {k: int(v) for k, v in pieces.items() if v}, total, closed_by, now
        )
        uow.counts.add(count)
        expected = _expected_in(uow, shift)
        over_short = total - expected
        uow.shifts.close(
            shift.id,
            closed_at=now,
            closed_by=closed_by,
            expected_cash=expected,
            counted_cash=total,
            over_short=over_short,
        )
        closed = replace(
            shift,
            closed_at=now,
            closed_by=closed_by,
            expected_cash=expected,
            counted_cash=total,
            over_short=over_short,
        )
        result = ShiftClose(closed, count, expected, total, over_short)
        closing_uuid = str(uuid.uuid4())
        payload = closing_payload(
            result,
            closing_uuid=closing_uuid,
            store_id=store_id(uow),
            cashier=_user(uow, shift.cashier_id).username,
            closed_by=user.username,
        )
        payload["audit_head"] = audit.head_json(uow)
        uow.outbox.add(
            NewOutboxEntry(
                kind="shift_close",
                method="POST",
                path="/v1/closings",
                idempotency_key=closing_uuid,
                subject=str(closed.id),
                payload=payload,
                created_at=now,
            )
        )
        audit.record(
            uow,
            audit.SHIFT_CLOSE,
            user.username,
            {
                "turno": shift.id,
                "esperado": str(expected),
                "contado": str(total),
                "diferencia": str(over_short),
            },
            now,
        )
        uow.commit()
    return result
