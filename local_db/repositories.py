"""SQLite implementations of the ``kiosk.ports`` repositories (SQLAlchemy Core, plain SQL).

Money is stored as integer centavos, instants as UTC ISO 8601 text (so they sort and compare
as text), dates as ISO text. Records come back with Decimal pesos and Mexico City times.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kiosk.money import to_centavos
from kiosk.ports import (
    CONFIRMED,
    MEXICO_CITY,
    PENDING,
    REJECTED,
    RESOLVED,
    AuditEntry,
    CardLine,
    CashCount,
    CashDrop,
    DayClose,
    NewOutboxEntry,
    OutboxCounts,
    OutboxEntry,
    Payment,
    PaymentTotals,
    PendingLine,
    Reprint,
    Shift,
    User,
    Void,
)
from kiosk.references import PAGADA, VIGENTE, ReferenceRecord

if TYPE_CHECKING:
    from local_db.uow import SqlUnitOfWork


def ts(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("se requiere una fecha y hora con zona horaria (aware)")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def dt(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(MEXICO_CITY)


def opt_dt(value: str | None) -> datetime | None:
    return None if value is None else dt(value)


def cents(value: Decimal) -> int:
    return to_centavos(value)


def pesos(value: int) -> Decimal:
    # scaleb is exact and ~3x faster than from_centavos's division: it matters for the Z.
    return Decimal(value).scaleb(-2)


def opt_pesos(value: int | None) -> Decimal | None:
    return None if value is None else pesos(value)


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _row_id(cursor: sqlite3.Cursor) -> int:
    if cursor.lastrowid is None:  # pragma: no cover - every INSERT here sets it
        raise RuntimeError("la inserción no devolvió su id")
    return cursor.lastrowid


class _Repo:
    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def _rows(self, sql: str, params: Mapping[str, Any] | None = None) -> Sequence[Any]:
        return self._uow.run(sql, params).fetchall()

    def _first(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._uow.run(sql, params).fetchone()


# --- referencia cache ------------------------------------------------------------------

_REF_COLS = (
    "reference, amount_cents, issued_on, status, member_number, member_name, loan_id, "
    "kind, concept, version, local_payment_uuid"
)
_REF_GET = f"SELECT {_REF_COLS} FROM reference_cache WHERE reference = :r"
# The feed never carries local_payment_uuid, so the update leaves it alone; an older version
# of a row (a feed page replayed out of order) never overwrites a newer one.
_REF_UPSERT = (
    "INSERT INTO reference_cache (reference, amount_cents, issued_on, status, member_number, "
    "member_name, loan_id, kind, concept, version) VALUES (?,?,?,?,?,?,?,?,?,?) "
    "ON CONFLICT(reference) DO UPDATE SET amount_cents=excluded.amount_cents, "
    "issued_on=excluded.issued_on, status=excluded.status, "
    "member_number=excluded.member_number, member_name=excluded.member_name, "
    "loan_id=excluded.loan_id, kind=excluded.kind, concept=excluded.concept, "
    "version=excluded.version WHERE excluded.version >= reference_cache.version"
)


class SqlReferences(_Repo):
    def get(self, reference: str) -> ReferenceRecord | None:
        row = self._first(_REF_GET, {"r": reference})
        if row is None:
            return None
        return ReferenceRecord(
            reference=row[0],
            amount=pesos(row[1]),
            issued_on=date.fromisoformat(row[2]),
            status=row[3],
            member_number=row[4],
            member_name=row[5],
            loan_id=row[6],
            kind=row[7],
            concept=row[8],
            version=row[9],
            local_payment_uuid=row[10],
        )

    def upsert_many(self, records: Iterable[ReferenceRecord]) -> int:
        rows = [
            (
                r.reference,
                to_centavos(r.amount),
                r.issued_on.isoformat(),
                r.status,
                r.member_number,
                r.member_name,
                r.loan_id,
                r.kind,
                r.concept,
                r.version,
            )
            for r in records
        ]
        if rows:
            self._uow.executemany(_REF_UPSERT, rows)
        return len(rows)

    def mark_paid(self, reference: str, payment_uuid: str) -> None:
        self._uow.run(
            "UPDATE reference_cache SET local_payment_uuid = :u WHERE reference = :r",
            {"u": payment_uuid, "r": reference},
        )

    def clear_paid(self, reference: str, payment_uuid: str) -> None:
        # A same-day void makes the ficha payable again, as central does; the feed may
        # already have said PAGADA (the payment reached central), and says otherwise with a
        # newer version if central decides otherwise (a newer ficha replaced it).
        self._uow.run(
            (
                "UPDATE reference_cache SET local_payment_uuid = NULL, "
                f"status = CASE WHEN status = '{PAGADA}' THEN '{VIGENTE}' ELSE status END "
                "WHERE reference = :r AND local_payment_uuid = :u"
            ),
            {"u": payment_uuid, "r": reference},
        )

    def count(self) -> int:
        return int(self._first("SELECT count(*) FROM reference_cache")[0])

    def prune(self, before: date) -> int:
        cursor = self._uow.run(
            "DELETE FROM reference_cache WHERE issued_on < :d", {"d": before.isoformat()}
        )
        return int(cursor.rowcount)


class SqlMeta(_Repo):
    def get(self, key: str) -> str | None:
        row = self._first("SELECT value FROM meta WHERE key = :k", {"k": key})
        return None if row is None else str(row[0])

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        marks = ", ".join("?" * len(keys))
        rows = self._uow.run(f"SELECT key, value FROM meta WHERE key IN ({marks})", tuple(keys))
        return {str(k): str(v) for k, v in rows}

    def set(self, key: str, value: str) -> None:
        self._uow.run(
            (
                "INSERT INTO meta (key, value) VALUES (:k, :v) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value"
            ),
            {"k": key, "v": value},
        )


# --- payments --------------------------------------------------------------------------

_PAY_COLS = (
    "uuid, folio, reference, amount_cents, cash_cents, card_cents, card_authorization, "
    "cash_received_cents, change_cents, cashier_id, shift_id, terminal_id, paid_at, "
    "business_date"
)
_PAY_INSERT = (
    f"INSERT INTO payments ({_PAY_COLS}) VALUES (:uuid, :folio, :reference, :amount, :cash, "
    ":card, :auth, :received, :change, :cashier, :shift, :terminal, :paid_at, :day)"
)


def _payment(row: Any) -> Payment:
    return Payment(
        uuid=row[0],
        folio=row[1],
        reference=row[2],
        amount=pesos(row[3]),
        cash=pesos(row[4]),
        card=pesos(row[5]),
        card_authorization=row[6],
        cash_received=pesos(row[7]),
        change=pesos(row[8]),
        cashier_id=row[9],
        shift_id=row[10],
        terminal_id=row[11],
        paid_at=dt(row[12]),
        business_date=date.fromisoformat(row[13]),
    )


class SqlPayments(_Repo):
    def next_folio(self) -> int:
        return int(self._first("SELECT coalesce(max(folio), 0) + 1 FROM payments")[0])

    def add(self, p: Payment) -> None:
        self._uow.run(
            _PAY_INSERT,
            {
                "uuid": p.uuid,
                "folio": p.folio,
                "reference": p.reference,
                "amount": cents(p.amount),
                "cash": cents(p.cash),
                "card": cents(p.card),
                "auth": p.card_authorization,
                "received": cents(p.cash_received),
                "change": cents(p.change),
                "cashier": p.cashier_id,
                "shift": p.shift_id,
                "terminal": p.terminal_id,
                "paid_at": ts(p.paid_at),
                "day": p.business_date.isoformat(),
            },
        )

    def get(self, uuid: str) -> Payment | None:
        row = self._first(f"SELECT {_PAY_COLS} FROM payments WHERE uuid = :u", {"u": uuid})
        return None if row is None else _payment(row)

    def for_business_date(self, day: date) -> list[Payment]:
        rows = self._rows(
            f"SELECT {_PAY_COLS} FROM payments WHERE business_date = :d ORDER BY folio",
            {"d": day.isoformat()},
        )
        return [_payment(r) for r in rows]

    def for_shift(self, shift_id: int) -> list[Payment]:
        rows = self._rows(
            f"SELECT {_PAY_COLS} FROM payments WHERE shift_id = :s ORDER BY folio",
            {"s": shift_id},
        )
        return [_payment(r) for r in rows]

    def totals(self, day: date) -> PaymentTotals:
        r = self._first(_PAY_TOTALS, {"d": day.isoformat()})
        return PaymentTotals(
            payments=r[0],
            amount=pesos(r[1]),
            cash=pesos(r[2]),
            card=pesos(r[3]),
            change=pesos(r[4]),
            cash_payments=r[5],
            card_payments=r[6],
            cash_received=pesos(r[7]),
        )

    def card_lines(self, day: date) -> list[CardLine]:
        rows = self._rows(_PAY_CARD_LINES, {"d": day.isoformat()})
        return [CardLine(r[0], r[1], r[2], pesos(r[3])) for r in rows]

    def shift_totals(self, day: date) -> dict[int, tuple[int, Decimal]]:
        rows = self._rows(_PAY_SHIFT_TOTALS, {"d": day.isoformat()})
        return {r[0]: (r[1], pesos(r[2])) for r in rows}

    def members_on(self, day: date) -> dict[str, tuple[str, str]]:
        rows = self._rows(_PAY_MEMBERS, {"d": day.isoformat()})
        return {r[0]: (r[1], r[2]) for r in rows}

    def unconfirmed(self, day: date) -> list[PendingLine]:
        rows = self._rows(_PAY_UNCONFIRMED, {"d": day.isoformat()})
        return [PendingLine(r[0], r[1], r[2], pesos(r[3]), dt(r[4])) for r in rows]


_NOT_VOIDED = "NOT EXISTS (SELECT 1 FROM voids v WHERE v.payment_uuid = p.uuid)"
# Change handed over is the change owed rounded up to 10 centavos (kiosk.records.change_given).
_PAY_TOTALS = (
    "SELECT count(*), coalesce(sum(amount_cents), 0), coalesce(sum(cash_cents), 0), "
    "coalesce(sum(card_cents), 0), coalesce(sum((change_cents + 9) / 10 * 10), 0), "
    "coalesce(sum(cash_cents > 0), 0), coalesce(sum(card_cents > 0), 0), "
    "coalesce(sum(cash_received_cents), 0) "
    f"FROM payments p WHERE business_date = :d AND {_NOT_VOIDED}"
)
_PAY_CARD_LINES = (
    "SELECT folio, reference, card_authorization, card_cents FROM payments p "
    f"WHERE business_date = :d AND card_cents > 0 AND {_NOT_VOIDED} ORDER BY folio"
)
# From the day's payments (index on business_date) to each one's outbox entry (index on kind,
# subject): the cost follows the day, not the outbox's whole history.
_PAY_UNCONFIRMED = (
    "SELECT p.folio, p.uuid, p.reference, p.amount_cents, p.paid_at FROM payments p "
    "WHERE p.business_date = :d AND EXISTS (SELECT 1 FROM outbox o WHERE o.kind = 'payment' AND o.subject = p.uuid "
    f"AND o.status != '{CONFIRMED}') ORDER BY p.folio"
)
_PAY_MEMBERS = (
    "SELECT p.uuid, r.member_name, r.member_number FROM payments p "
    "JOIN reference_cache r ON r.reference = p.reference WHERE p.business_date = :d"
)
_PAY_SHIFT_TOTALS = (
    "SELECT shift_id, count(*), coalesce(sum(amount_cents), 0) FROM payments p "
    f"WHERE business_date = :d AND {_NOT_VOIDED} GROUP BY shift_id"
)


# --- outbox ----------------------------------------------------------------------------

_OUT_COLS = (
    "id, kind, method, path, idempotency_key, subject, payload, created_at, status, "
    "attempts, last_error, next_attempt_at, response, rejection_code, "
    "rejection_message, settled_at"
)


def _outbox(row: Any) -> OutboxEntry:
    return OutboxEntry(
        id=row[0],
        kind=row[1],
        method=row[2],
        path=row[3],
        idempotency_key=row[4],
        subject=row[5],
        payload=json.loads(row[6]),
        created_at=dt(row[7]),
        status=row[8],
        attempts=row[9],
        last_error=row[10],
        next_attempt_at=opt_dt(row[11]),
        response=None if row[12] is None else json.loads(row[12]),
        rejection_code=row[13],
        rejection_message=row[14],
        settled_at=opt_dt(row[15]),
    )


_OUT_COUNTS = (
    "SELECT status, count(*), min(created_at) FROM outbox "
    f"WHERE status IN ('{PENDING}', '{REJECTED}') GROUP BY status"
)


class SqlOutbox(_Repo):
    """The queue of requests for central, written with what they report.

    For the sync sender, each step in its own ``with uow: …; uow.commit()``:

    * ``pending(limit, now)`` – entries still to send, oldest first (by id). With ``now``,
      entries whose ``next_attempt_at`` is later are skipped (they are backing off). A void
      is held back while its payment's entry is still pending, so central never sees a void
      before the payment.
    * Send ``entry.method`` ``entry.path`` with JSON ``entry.payload`` and header
      ``Idempotency-Key: entry.idempotency_key`` (for payments, the payment uuid).
    * ``mark_confirmed(id, response)`` on 200/201: settled for good.
    * ``mark_rejected(id, code, message)`` on a definitive refusal (409, 422): the entry
      stays, listed by ``rejected()`` and counted for the manager's alert; never dropped.
    * ``record_attempt(id, error, next_attempt_at)`` on a network error or 5xx: counts the
      try, keeps the error text, and schedules the retry (the sender picks the backoff).
    * ``counts()`` – pending / rejected and the oldest pending ``created_at``
      (``OutboxCounts.oldest_pending_age(now)`` gives seconds) for the status bar.
    """

    def add(self, e: NewOutboxEntry) -> int:
        result = self._uow.run(
            (
                "INSERT INTO outbox (kind, method, path, idempotency_key, subject, payload, "
                "created_at) VALUES (:kind, :method, :path, :key, :subject, :payload, :at)"
            ),
            {
                "kind": e.kind,
                "method": e.method,
                "path": e.path,
                "key": e.idempotency_key,
                "subject": e.subject,
                "payload": dumps(dict(e.payload)),
                "at": ts(e.created_at),
            },
        )
        return _row_id(result)

    def get(self, entry_id: int) -> OutboxEntry | None:
        row = self._first(f"SELECT {_OUT_COLS} FROM outbox WHERE id = :i", {"i": entry_id})
        return None if row is None else _outbox(row)

    def pending(self, limit: int = 50, now: datetime | None = None) -> list[OutboxEntry]:
        sql = (
            f"SELECT {_OUT_COLS} FROM outbox o WHERE status = '{PENDING}' "
            "AND (:now IS NULL OR next_attempt_at IS NULL OR next_attempt_at <= :now) "
            "AND NOT (kind = 'void' AND EXISTS (SELECT 1 FROM outbox p WHERE "
            f"p.kind = 'payment' AND p.subject = o.subject AND p.status = '{PENDING}')) "
            # A day close goes after everything queued before it: central takes no void of
            # that day once the close reached it (SPEC 2.5).
            "AND NOT (kind = 'day_close' AND EXISTS (SELECT 1 FROM outbox p WHERE "
            f"p.id < o.id AND p.status = '{PENDING}')) "
            "ORDER BY id LIMIT :limit"
        )
        rows = self._rows((sql), {"now": None if now is None else ts(now), "limit": limit})
        return [_outbox(r) for r in rows]

    def _settle(self, entry_id: int, status: str, at: datetime | None, **values: Any) -> None:
        sets = ", ".join(f"{k} = :{k}" for k in values)
        self._uow.run(
            f"UPDATE outbox SET status = :status, settled_at = :at, {sets} WHERE id = :id",
            {"status": status, "at": ts(at or datetime.now(UTC)), "id": entry_id, **values},
        )

    def mark_confirmed(
        self, entry_id: int, response: Mapping[str, Any], at: datetime | None = None
    ) -> None:
        self._settle(entry_id, CONFIRMED, at, response=dumps(dict(response)))

    def mark_rejected(
        self, entry_id: int, code: str, message: str, at: datetime | None = None
    ) -> None:
        self._settle(entry_id, REJECTED, at, rejection_code=code, rejection_message=message)

    def mark_resolved(self, entry_id: int, note: str, at: datetime | None = None) -> None:
        self._settle(entry_id, RESOLVED, at, last_error=note)

    def record_attempt(self, entry_id: int, error: str, next_attempt_at: datetime) -> None:
        self._uow.run(
            (
                "UPDATE outbox SET attempts = attempts + 1, last_error = :e, "
                "next_attempt_at = :n WHERE id = :id"
            ),
            {"e": error, "n": ts(next_attempt_at), "id": entry_id},
        )

    def counts(self) -> OutboxCounts:
        # What waits, never the settled history: the index on (status, id) makes this cost
        # what is queued, however many entries central confirmed over the years.
        rows = self._rows(_OUT_COUNTS)
        by_status = {r[0]: (r[1], r[2]) for r in rows}
        pending, oldest = by_status.get(PENDING, (0, None))
        return OutboxCounts(
            pending=pending,
            rejected=by_status.get(REJECTED, (0, None))[0],
            oldest_pending_at=opt_dt(oldest),
        )

    def rejected(self) -> list[OutboxEntry]:
        rows = self._rows(f"SELECT {_OUT_COLS} FROM outbox WHERE status = '{REJECTED}' ORDER BY id")
        return [_outbox(r) for r in rows]

    def status_of(self, kind: str, subject: str) -> str | None:
        row = self._first(
            "SELECT status FROM outbox WHERE kind = :k AND subject = :s ORDER BY id DESC LIMIT 1",
            {"k": kind, "s": subject},
        )
        return None if row is None else str(row[0])

    def latest_for(self, kind: str, subject: str) -> OutboxEntry | None:
        row = self._first(
            "SELECT id FROM outbox WHERE kind = :k AND subject = :s ORDER BY id DESC LIMIT 1",
            {"k": kind, "s": subject},
        )
        return None if row is None else self.get(int(row[0]))

    def unconfirmed_subjects(self, kind: str) -> set[str]:
        rows = self._rows(
            f"SELECT subject FROM outbox WHERE kind = :k AND status != '{CONFIRMED}'",
            {"k": kind},
        )
        return {r[0] for r in rows}


# --- shifts, drops, counts -------------------------------------------------------------

_SHIFT_COLS = (
    "id, terminal_id, cashier_id, opening_float_cents, opened_at, business_date, "
    "closed_at, closed_by, expected_cents, counted_cents, over_short_cents"
)


def _shift(row: Any) -> Shift:
    return Shift(
        id=row[0],
        terminal_id=row[1],
        cashier_id=row[2],
        opening_float=pesos(row[3]),
        opened_at=dt(row[4]),
        business_date=date.fromisoformat(row[5]),
        closed_at=opt_dt(row[6]),
        closed_by=row[7],
        expected_cash=opt_pesos(row[8]),
        counted_cash=opt_pesos(row[9]),
        over_short=opt_pesos(row[10]),
    )


class SqlShifts(_Repo):
    def add(self, s: Shift) -> int:
        result = self._uow.run(
            (
                "INSERT INTO shifts (terminal_id, cashier_id, opening_float_cents, opened_at, "
                "business_date) VALUES (:t, :c, :f, :at, :d)"
            ),
            {
                "t": s.terminal_id,
                "c": s.cashier_id,
                "f": cents(s.opening_float),
                "at": ts(s.opened_at),
                "d": s.business_date.isoformat(),
            },
        )
        return _row_id(result)

    def get(self, shift_id: int) -> Shift | None:
        row = self._first(f"SELECT {_SHIFT_COLS} FROM shifts WHERE id = :i", {"i": shift_id})
        return None if row is None else _shift(row)

    def open_shift(self) -> Shift | None:
        row = self._first(f"SELECT {_SHIFT_COLS} FROM shifts WHERE closed_at IS NULL")
        return None if row is None else _shift(row)

    def set_cashier(self, shift_id: int, cashier_id: int) -> None:
        self._uow.run(
            "UPDATE shifts SET cashier_id = :c WHERE id = :i AND closed_at IS NULL",
            {"c": cashier_id, "i": shift_id},
        )

    def close(
        self,
        shift_id: int,
        *,
        closed_at: datetime,
        closed_by: int,
        expected_cash: Decimal,
        counted_cash: Decimal,
        over_short: Decimal,
    ) -> None:
        self._uow.run(
            (
                "UPDATE shifts SET closed_at = :at, closed_by = :by, expected_cents = :e, "
                "counted_cents = :c, over_short_cents = :o WHERE id = :i AND closed_at IS NULL"
            ),
            {
                "at": ts(closed_at),
                "by": closed_by,
                "e": cents(expected_cash),
                "c": cents(counted_cash),
                "o": cents(over_short),
                "i": shift_id,
            },
        )

    def for_business_date(self, day: date) -> list[Shift]:
        rows = self._rows(
            f"SELECT {_SHIFT_COLS} FROM shifts WHERE business_date = :d ORDER BY id",
            {"d": day.isoformat()},
        )
        return [_shift(r) for r in rows]


class SqlDrops(_Repo):
    def add(self, d: CashDrop) -> int:
        result = self._uow.run(
            (
                "INSERT INTO cash_drops (shift_id, amount_cents, user_id, at, kind) "
                "VALUES (:s, :a, :u, :at, :k)"
            ),
            {"s": d.shift_id, "a": cents(d.amount), "u": d.user_id, "at": ts(d.at), "k": d.kind},
        )
        return _row_id(result)

    def for_shift(self, shift_id: int) -> list[CashDrop]:
        rows = self._rows(
            (
                "SELECT shift_id, amount_cents, user_id, at, id, kind FROM cash_drops "
                "WHERE shift_id = :s ORDER BY id"
            ),
            {"s": shift_id},
        )
        return [CashDrop(r[0], pesos(r[1]), r[2], dt(r[3]), r[4], r[5]) for r in rows]


class SqlCounts(_Repo):
    def add(self, c: CashCount) -> None:
        self._uow.run(
            (
                "INSERT INTO cash_counts (shift_id, pieces, total_cents, user_id, at) "
                "VALUES (:s, :p, :t, :u, :at)"
            ),
            {
                "s": c.shift_id,
                "p": dumps(dict(c.pieces)),
                "t": cents(c.total),
                "u": c.user_id,
                "at": ts(c.at),
            },
        )

    def get(self, shift_id: int) -> CashCount | None:
        r = self._first(
            (
                "SELECT shift_id, pieces, total_cents, user_id, at FROM cash_counts "
                "WHERE shift_id = :s"
            ),
            {"s": shift_id},
        )
        return None if r is None else CashCount(r[0], json.loads(r[1]), pesos(r[2]), r[3], dt(r[4]))


# --- voids, reprints, day closes -------------------------------------------------------

_VOID_COLS = "payment_uuid, reason, manager_id, requested_by, at, business_date, id"


def _void(r: Any) -> Void:
    return Void(r[0], r[1], r[2], r[3], dt(r[4]), date.fromisoformat(r[5]), r[6])


class SqlVoids(_Repo):
    def add(self, v: Void) -> int:
        result = self._uow.run(
            (
                "INSERT INTO voids (payment_uuid, reason, manager_id, requested_by, at, "
                "business_date) VALUES (:p, :r, :m, :q, :at, :d)"
            ),
            {
                "p": v.payment_uuid,
                "r": v.reason,
                "m": v.manager_id,
                "q": v.requested_by,
                "at": ts(v.at),
                "d": v.business_date.isoformat(),
            },
        )
        return _row_id(result)

    def for_payment(self, payment_uuid: str) -> Void | None:
        r = self._first(
            f"SELECT {_VOID_COLS} FROM voids WHERE payment_uuid = :p", {"p": payment_uuid}
        )
        return None if r is None else _void(r)

    def for_business_date(self, day: date) -> list[Void]:
        rows = self._rows(
            f"SELECT {_VOID_COLS} FROM voids WHERE business_date = :d ORDER BY id",
            {"d": day.isoformat()},
        )
        return [_void(r) for r in rows]

    def voided_on(self, day: date) -> set[str]:
        rows = self._rows(
            (
                "SELECT v.payment_uuid FROM voids v JOIN payments p ON p.uuid = v.payment_uuid "
                "WHERE p.business_date = :d"
            ),
            {"d": day.isoformat()},
        )
        return {r[0] for r in rows}


class SqlReprints(_Repo):
    def add(self, r: Reprint) -> int:
        result = self._uow.run(
            (
                "INSERT INTO reprints (payment_uuid, user_id, at, business_date) "
                "VALUES (:p, :u, :at, :d)"
            ),
            {"p": r.payment_uuid, "u": r.user_id, "at": ts(r.at), "d": r.business_date.isoformat()},
        )
        return _row_id(result)

    def count_for(self, payment_uuid: str) -> int:
        return int(
            self._first(
                "SELECT count(*) FROM reprints WHERE payment_uuid = :p", {"p": payment_uuid}
            )[0]
        )

    def for_business_date(self, day: date) -> list[Reprint]:
        rows = self._rows(
            (
                "SELECT payment_uuid, user_id, at, business_date, id FROM reprints "
                "WHERE business_date = :d ORDER BY id"
            ),
            {"d": day.isoformat()},
        )
        return [Reprint(r[0], r[1], dt(r[2]), date.fromisoformat(r[3]), r[4]) for r in rows]


class SqlDayCloses(_Repo):
    def get(self, day: date) -> DayClose | None:
        r = self._first(
            (
                "SELECT business_date, closed_at, closed_by, figures FROM day_closes "
                "WHERE business_date = :d"
            ),
            {"d": day.isoformat()},
        )
        if r is None:
            return None
        return DayClose(date.fromisoformat(r[0]), dt(r[1]), r[2], json.loads(r[3]))

    def add(self, c: DayClose) -> None:
        self._uow.run(
            (
                "INSERT INTO day_closes (business_date, closed_at, closed_by, figures) "
                "VALUES (:d, :at, :by, :f)"
            ),
            {
                "d": c.business_date.isoformat(),
                "at": ts(c.closed_at),
                "by": c.closed_by,
                "f": dumps(dict(c.figures)),
            },
        )


# --- users, audit ----------------------------------------------------------------------

_USER_COLS = "id, username, name, role, pin_hash, failed_attempts, locked_until, active"


def _user(r: Any) -> User:
    return User(r[0], r[1], r[2], r[3], r[4], r[5], opt_dt(r[6]), bool(r[7]))


class SqlUsers(_Repo):
    def add(self, u: User) -> int:
        result = self._uow.run(
            (
                "INSERT INTO users (username, name, role, pin_hash, active) "
                "VALUES (:u, :n, :r, :h, :a)"
            ),
            {"u": u.username, "n": u.name, "r": u.role, "h": u.pin_hash, "a": int(u.active)},
        )
        return _row_id(result)

    def get(self, user_id: int) -> User | None:
        r = self._first(f"SELECT {_USER_COLS} FROM users WHERE id = :i", {"i": user_id})
        return None if r is None else _user(r)

    def by_username(self, username: str) -> User | None:
        r = self._first(f"SELECT {_USER_COLS} FROM users WHERE username = :u", {"u": username})
        return None if r is None else _user(r)

    def count(self) -> int:
        return int(self._first("SELECT count(*) FROM users")[0])

    def set_failures(
        self, user_id: int, failed_attempts: int, locked_until: datetime | None
    ) -> None:
        self._uow.run(
            "UPDATE users SET failed_attempts = :f, locked_until = :l WHERE id = :i",
            {
                "f": failed_attempts,
                "l": None if locked_until is None else ts(locked_until),
                "i": user_id,
            },
        )

    def set_pin(self, user_id: int, pin_hash: str) -> None:
        self._uow.run("UPDATE users SET pin_hash = :h WHERE id = :i", {"h": pin_hash, "i": user_id})

    def set_active(self, user_id: int, active: bool) -> None:
        self._uow.run("UPDATE users SET active = :a WHERE id = :i", {"a": active, "i": user_id})

    def all(self) -> list[User]:
        return [_user(r) for r in self._rows(f"SELECT {_USER_COLS} FROM users ORDER BY id")]


_AUDIT_COLS = "id, at, actor, action, details, prev_hash, hash"


def _audit(r: Any) -> AuditEntry:
    return AuditEntry(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6])


class SqlAudit(_Repo):
    def last(self) -> AuditEntry | None:
        r = self._first(f"SELECT {_AUDIT_COLS} FROM audit_log ORDER BY id DESC LIMIT 1")
        return None if r is None else _audit(r)

    def at(self, entry_id: int) -> AuditEntry | None:
        r = self._first(f"SELECT {_AUDIT_COLS} FROM audit_log WHERE id = :i", {"i": entry_id})
        return None if r is None else _audit(r)

    def add(self, e: AuditEntry) -> None:
        self._uow.run(
            (
                f"INSERT INTO audit_log ({_AUDIT_COLS}) VALUES (:i, :at, :actor, :action, "
                ":details, :prev, :hash)"
            ),
            {
                "i": e.id,
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "details": dumps(dict(e.details)),
                "prev": e.prev_hash,
                "hash": e.hash,
            },
        )

    def all(self) -> list[AuditEntry]:
        return [_audit(r) for r in self._rows(f"SELECT {_AUDIT_COLS} FROM audit_log ORDER BY id")]
