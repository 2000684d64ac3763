"""What the console reads: today's money, the stores' day close, the reports, terminals and
affiliates. Read-only; sums are taken by the database in integer centavos."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    case,
    func,
    or_,
    select,
    true,
)

from central.db import Database, is_sqlite
from central.enrollment import EnrollmentCode
from central.models import (
    Closing,
    LoanRow,
    LoginAttempts,
    Member,
    Payment,
    Reconciliation,
    ReferenceRow,
    Store,
    Terminal,
    fold_name,
)
from central.service.common import APPLIED
from central.service.slips import _CONCEPTS as KIND_LABELS
from kiosk.rules import Policy

ZERO = Decimal("0.00")
MONTHS = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
    "octubre", "noviembre", "diciembre",
)  # fmt: skip
CHANNEL_LABELS = {"KIOSKO": "Kiosco", "PORTAL": "Portal", "TELEFONO": "Teléfono"}
SEARCH_LIMIT = 50


def day_bounds(day: date, policy: Policy) -> tuple[datetime, datetime]:
    """The UTC instants where a local business day starts and ends."""
    start = datetime.combine(day, time(0), tzinfo=policy.tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=policy.tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def _sum(column: Any) -> Any:
    return func.coalesce(func.sum(column), 0)


def _dec(value: Any) -> Decimal:
    """A sum the database returned: centavos through the Money type, or 0 for no rows."""
    if isinstance(value, Decimal):
        return value
    return Decimal(int(value or 0)) / 100


# --- today -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TerminalDay:
    store_id: str
    store_name: str
    terminal_id: int
    terminal_name: str
    payments: int
    total: Decimal
    cash: Decimal
    card: Decimal


@dataclass(frozen=True)
class Today:
    day: date
    rows: list[TerminalDay]
    payments: int
    total: Decimal
    cash: Decimal
    card: Decimal
    cash_payments: int
    card_payments: int
    open_cases: list[dict[str, Any]]

    def by_store(self) -> list[tuple[str, str, list[TerminalDay], int, Decimal]]:
        """(store, name, its terminals, payments, total) in store order."""
        stores: dict[str, list[TerminalDay]] = {}
        for row in self.rows:
            stores.setdefault(row.store_id, []).append(row)
        return [
            (sid, rows[0].store_name, rows, sum(r.payments for r in rows),
             sum((r.total for r in rows), ZERO))
            for sid, rows in stores.items()
        ]  # fmt: skip


def today(db: Database, now: datetime, policy: Policy) -> Today:
    day = policy.local(now).date()
    start, end = day_bounds(day, policy)
    in_day = and_(Payment.paid_at >= start, Payment.paid_at < end, Payment.status == APPLIED)
    with db.reading() as conn:
        rows = conn.execute(
            select(
                Payment.store_id,
                Store.name,
                Payment.terminal_id,
                Terminal.name,
                func.count(),
                _sum(Payment.amount),
                _sum(Payment.cash),
                _sum(Payment.card),
            )
            .join(Store, Store.store_id == Payment.store_id)
            .join(Terminal, Terminal.terminal_id == Payment.terminal_id)
            .where(in_day)
            .group_by(Payment.store_id, Store.name, Payment.terminal_id, Terminal.name)
            .order_by(Payment.store_id, Terminal.name)
        ).all()
        counts = conn.execute(
            select(
                func.count(case((Payment.cash > 0, 1))), func.count(case((Payment.card > 0, 1)))
            ).where(in_day)
        ).one()
        cases = conn.execute(
            select(Reconciliation, Payment.reference, Payment.store_id, Payment.amount)
            .join(Payment, Payment.payment_uuid == Reconciliation.payment_uuid)
            .where(Reconciliation.resolved.is_(False))
            .order_by(Reconciliation.reconciliation_id)
            .limit(SEARCH_LIMIT)
        ).all()
    lines = [
        TerminalDay(r[0], r[1], r[2], r[3], r[4], _dec(r[5]), _dec(r[6]), _dec(r[7])) for r in rows
    ]
    return Today(
        day=day,
        rows=lines,
        payments=sum(r.payments for r in lines),
        total=sum((r.total for r in lines), ZERO),
        cash=sum((r.cash for r in lines), ZERO),
        card=sum((r.card for r in lines), ZERO),
        cash_payments=int(counts[0]),
        card_payments=int(counts[1]),
        open_cases=[
            {
                "id": c.reconciliation_id,
                "reference": c.reference,
                "store_id": c.store_id,
                "amount": _dec(c.amount),
                "reason": c.message,
                "created_at": policy.local(c.created_at),
            }
            for c in cases
        ],
    )


# --- terminals ---------------------------------------------------------------------------


def terminals(db: Database) -> list[dict[str, Any]]:
    with db.reading() as conn:
        rows = conn.execute(
            select(Terminal, Store.name.label("store_name"))
            .join(Store, Store.store_id == Terminal.store_id)
            .order_by(Terminal.store_id, Terminal.name)
        ).all()
    return [
        {
            "terminal_id": r.terminal_id,
            "store_id": r.store_id,
            "store_name": r.store_name,
            "name": r.name,
            "kind": r.kind,
            "created_at": r.created_at,
            "revoked_at": r.revoked_at,
        }
        for r in rows
    ]


def enrollment_codes(db: Database, now: datetime) -> list[dict[str, Any]]:
    """Enrollment codes still waiting to be used (the codes themselves are never stored)."""
    code = EnrollmentCode
    with db.reading() as conn:
        rows = conn.execute(
            select(code.store_id, code.name, code.kind, code.expires_at)
            .where(code.used_at.is_(None), code.expires_at > now)
            .order_by(code.expires_at)
        ).all()
    return [r._asdict() for r in rows]


# --- the store's day close ----------------------------------------------------------------


@dataclass(frozen=True)
class CajaZ:
    """One caja's day close as its Z said, next to what central received from it."""

    terminal_id: int
    name: str
    closed_at: datetime | None  # None: no Z reached central for the day
    payments: int  # from the Z
    total: Decimal
    cash: Decimal
    card: Decimal
    voided: Decimal
    over_short: Decimal
    unconfirmed: int
    central_payments: int  # applied at central for this caja and day
    central_total: Decimal

    @property
    def discrepancies(self) -> list[str]:
        found = []
        if self.closed_at is None:
            if self.central_payments:
                found.append("Sin cierre del día")
            return found
        if self.total != self.central_total or self.payments != self.central_payments:
            found.append("El Z no coincide con lo recibido en central")
        if self.over_short:
            found.append("Sobrante" if self.over_short > 0 else "Faltante")
        if self.unconfirmed:
            found.append("Pagos sin confirmar")
        return found


@dataclass(frozen=True)
class StoreClose:
    store_id: str
    name: str
    cajas: list[CajaZ] = field(default_factory=list)

    def total(self, attr: str) -> Any:
        values = [getattr(c, attr) for c in self.cajas]
        return sum(values, ZERO) if values and isinstance(values[0], Decimal) else sum(values)

    @property
    def closed(self) -> bool:
        return all(c.closed_at is not None for c in self.cajas)


def _money_of(report: dict[str, Any], key: str) -> Decimal:
    try:
        return Decimal(str(report.get(key, "0"))).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return ZERO


def _int_of(value: Any) -> int:
    if isinstance(value, list):
        return len(value)
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def day_close(
    db: Database, day: date, policy: Policy, store_id: str | None = None
) -> list[StoreClose]:
    """Every caja's Z for ``day``, combined per store (or for one store), with central's own
    figures."""
    start, end = day_bounds(day, policy)
    one = (lambda column: column == store_id) if store_id else (lambda column: true())
    with db.reading() as conn:
        cajas = conn.execute(
            select(Terminal.terminal_id, Terminal.name, Store.store_id, Store.name)
            .join(Store, Store.store_id == Terminal.store_id)
            .where(Terminal.kind == "caja", one(Terminal.store_id))
            .order_by(Store.store_id, Terminal.name)
        ).all()
        zs = conn.execute(
            select(Closing.terminal_id, Closing.closed_at, Closing.report)
            .where(Closing.business_date == day, Closing.kind == "DIA", one(Closing.store_id))
            .order_by(Closing.received_at)
        ).all()
        received = conn.execute(
            select(Payment.terminal_id, func.count(), _sum(Payment.amount))
            .where(
                Payment.paid_at >= start,
                Payment.paid_at < end,
                Payment.status == APPLIED,
                one(Payment.store_id),
            )
            .group_by(Payment.terminal_id)
        ).all()
    latest = {z.terminal_id: z for z in zs}  # a repeated Z: the last one received counts
    got = {r[0]: (int(r[1]), _dec(r[2])) for r in received}
    stores: dict[str, StoreClose] = {}
    for terminal_id, name, store_id, store_name in cajas:
        store = stores.setdefault(store_id, StoreClose(store_id, store_name))
        z = latest.get(terminal_id)
        report: dict[str, Any] = z.report if z is not None and isinstance(z.report, dict) else {}
        count, total = got.get(terminal_id, (0, ZERO))
        store.cajas.append(
            CajaZ(
                terminal_id=terminal_id,
                name=name,
                closed_at=policy.local(z.closed_at) if z is not None else None,
                payments=_int_of(report.get("payments")),
                total=_money_of(report, "total"),
                cash=_money_of(report, "cash_total"),
                card=_money_of(report, "card_total"),
                voided=_money_of(report, "voided_total"),
                over_short=_money_of(report, "over_short"),
                unconfirmed=_int_of(report.get("unconfirmed")),
                central_payments=count,
                central_total=total,
            )
        )
    return list(stores.values())


# --- reports -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    label: str
    total: Decimal
    count: int
    level: int = 0  # 0: a group (year), 1: inside it (month)


@dataclass(frozen=True)
class Report:
    title: str
    label_header: str
    rows: list[Row]
    note: str = ""

    @property
    def nested(self) -> bool:
        """Groups with rows inside them (the monthly table), not a flat list."""
        return any(r.level for r in self.rows)

    @property
    def grand_total(self) -> Row:
        top = [r for r in self.rows if r.level == 0]
        return Row("Total general", sum((r.total for r in top), ZERO), sum(r.count for r in top))


def _local_month(conn: Connection, policy: Policy) -> ColumnElement[Any]:
    """The first day of a payment's local month, as the database can group by it."""
    if not is_sqlite(str(conn.engine.url)):
        # The console16 migration keeps statistics on exactly this expression.
        local = func.timezone(policy.timezone, func.timezone("UTC", Payment.paid_at))
        return func.date_trunc("month", local)
    zone = ZoneInfo(policy.timezone)

    def month(value: str) -> str:
        moment = datetime.fromisoformat(value).replace(tzinfo=UTC).astimezone(zone)
        return f"{moment.year:04d}-{moment.month:02d}"

    conn.connection.driver_connection.create_function(  # type: ignore[union-attr]
        "isseg_local_month", 1, month, deterministic=True
    )
    return func.isseg_local_month(Payment.paid_at)


def _year_month(value: Any) -> tuple[int, int]:
    if isinstance(value, str):
        return int(value[:4]), int(value[5:7])
    return value.year, value.month


def monthly(db: Database, policy: Policy) -> Report:
    """The institute's own table: year, then its months, with the sum and count of applied
    payments ("Etiquetas de fila / Suma de MONTO / Cuenta de MONTO")."""
    with db.reading() as conn:
        month = _local_month(conn, policy)
        found = conn.execute(
            select(month, _sum(Payment.amount), func.count())
            .where(Payment.status == APPLIED)
            .group_by(month)
        ).all()
    months = sorted((_year_month(m), _dec(total), int(n)) for m, total, n in found)
    rows: list[Row] = []
    for year in sorted({ym[0] for ym, _, _ in months}):
        inside = [(m, t, n) for (y, m), t, n in months if y == year]
        rows.append(
            Row(str(year), sum((t for _, t, _ in inside), ZERO), sum(n for *_, n in inside))
        )
        rows.extend(Row(MONTHS[m - 1], t, n, level=1) for m, t, n in inside)
    return Report("Pagos por año y mes", "Etiquetas de fila", rows)


DIMENSIONS = {
    "tienda": "Por farmacia",
    "tipo": "Por tipo de pago",
    "metodo": "Por forma de pago",
    "canal": "Por canal de la ficha",
}


def breakdown(
    db: Database,
    dimension: str,
    since: date,
    until: date,
    policy: Policy,
    channel: Callable[[], ColumnElement[str]],
) -> Report:
    """Applied payments from ``since`` to ``until`` (local days, inclusive) by one dimension."""
    start, _ = day_bounds(since, policy)
    _, end = day_bounds(until, policy)
    where = and_(Payment.paid_at >= start, Payment.paid_at < end, Payment.status == APPLIED)
    title = f"{DIMENSIONS[dimension]}, del {since:%d/%m/%Y} al {until:%d/%m/%Y}"
    with db.reading() as conn:
        if dimension == "metodo":
            cash, n_cash, card, n_card = conn.execute(
                select(
                    _sum(Payment.cash),
                    func.count(case((Payment.cash > 0, 1))),
                    _sum(Payment.card),
                    func.count(case((Payment.card > 0, 1))),
                ).where(where)
            ).one()
            rows = [
                Row("Efectivo", _dec(cash), int(n_cash)),
                Row("Tarjeta", _dec(card), int(n_card)),
            ]
            note = "Un pago mixto cuenta en ambas formas, cada una por su parte."
            return Report(title, "Forma de pago", rows, note)
        key: Any
        if dimension == "tienda":
            key = Payment.store_id
            query = select(key, Store.name).join(Store, Store.store_id == Payment.store_id)
            group: list[Any] = [key, Store.name]
        else:
            key = ReferenceRow.kind if dimension == "tipo" else channel()
            query = select(key).join(ReferenceRow, ReferenceRow.reference == Payment.reference)
            group = [key]
        found = conn.execute(
            query.add_columns(_sum(Payment.amount), func.count())
            .select_from(Payment)
            .where(where)
            .group_by(*group)
            .order_by(key)
        ).all()
    labels = {"tipo": KIND_LABELS, "canal": CHANNEL_LABELS}.get(dimension, {})
    out = []
    for r in found:
        label = f"{r[0]} {r[1]}" if dimension == "tienda" else labels.get(r[0], str(r[0]))
        out.append(Row(label, _dec(r[-2]), int(r[-1])))
    header = {"tienda": "Farmacia", "tipo": "Tipo de pago", "canal": "Canal"}[dimension]
    return Report(title, header, out)


# --- affiliates --------------------------------------------------------------------------


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_members(db: Database, text: str) -> list[dict[str, Any]]:
    """Affiliates by number (from its start) or by name (any part, any case, any accents:
    "maria lopez" finds "María López"; both sides folded by fold_name)."""
    text = text.strip()[:100]
    if not text:
        return []
    with db.reading() as conn:
        rows = conn.execute(
            select(Member.number, Member.name, LoginAttempts.locked_until)
            .outerjoin(LoginAttempts, LoginAttempts.member_number == Member.number)
            .where(
                or_(
                    Member.number.like(f"{_like_escaped(text)}%", escape="\\"),
                    Member.name_folded.like(f"%{_like_escaped(fold_name(text))}%", escape="\\"),
                )
            )
            .order_by(Member.number)
            .limit(SEARCH_LIMIT)
        ).all()
    return [{"number": r.number, "name": r.name, "locked_until": r.locked_until} for r in rows]


def member_detail(db: Database, number: str, policy: Policy) -> dict[str, Any] | None:
    with db.reading() as conn:
        member = conn.execute(
            select(Member.number, Member.name, LoginAttempts.failures, LoginAttempts.locked_until)
            .outerjoin(LoginAttempts, LoginAttempts.member_number == Member.number)
            .where(Member.number == number)
        ).first()
        if member is None:
            return None
        loans = conn.execute(
            select(LoanRow).where(LoanRow.member_number == number).order_by(LoanRow.loan_id)
        ).all()
        payments = conn.execute(
            select(Payment, ReferenceRow.kind, ReferenceRow.loan_id)
            .join(ReferenceRow, ReferenceRow.reference == Payment.reference)
            .where(ReferenceRow.member_number == number)
            .order_by(Payment.paid_at.desc())
            .limit(SEARCH_LIMIT)
        ).all()
    return {
        "number": member.number,
        "name": member.name,
        "failed_attempts": member.failures or 0,  # the kiosk's, kept per number
        "locked_until": member.locked_until,
        "loans": [dict(r._mapping) for r in loans],
        "payments": [
            {
                "paid_at": policy.local(p.paid_at),
                "reference": p.reference,
                "loan_id": p.loan_id,
                "kind": KIND_LABELS.get(p.kind, p.kind),
                "amount": p.amount,
                "store_id": p.store_id,
                "status": p.status,
            }
            for p in payments
        ],
    }
