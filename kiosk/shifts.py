"""Cash shifts (turnos): opening float, cash drops, and the close with the drawer counted.

Expected cash = opening float + cash applied to payments not voided (cash received minus
change) − cash drops. The over/short is counted − expected, recorded as counted.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from kiosk import audit, money
from kiosk.cashier import business_date
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


def _expected_in(uow: UnitOfWork, shift: Shift) -> Decimal:
    cash = Decimal("0.00")
    for p in uow.payments.for_shift(shift.id):
        if uow.voids.for_payment(p.uuid) is None:
            cash += p.cash
    drops = sum((d.amount for d in uow.drops.for_shift(shift.id)), Decimal("0.00"))
    return shift.opening_float + cash - drops


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
