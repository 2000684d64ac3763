"""The event log the institute reads (SPEC 2.6): every payment, void, closing, case and ficha
is an event, written in the same transaction as the change it records, read with a cursor
(``GET /v1/events?since=``) and pushed by the dispatcher as signed webhooks.

An event's ``event_id`` (a UUID) is for de-duplication by the receiver; its ``seq`` is its
position in the feed, given after commit under the "events" counter's lock
(:func:`assign_pending`, as :func:`central.service.feed.assign_pending` does for
referencias): a later commit can only get a later position, so a cursor never skips an
event, and no payment waits on the counter.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.orm import Session

from central.db import Database
from central.models import Counter, EventRow
from central.service.common import iso, retrying
from kiosk.rules import Policy

PAYMENT_APPLIED = "PAGO_APLICADO"
PAYMENT_HELD = "PAGO_RETENIDO"
PAYMENT_VOIDED = "PAGO_ANULADO"
CLOSING = "CORTE_RECIBIDO"
CASE_OPENED = "CASO_ABIERTO"
CASE_RESOLVED = "CASO_RESUELTO"
REFUND_PAID = "DEVOLUCION_ENTREGADA"
SLIP_ISSUED = "FICHA_EMITIDA"
SLIP_SUPERSEDED = "FICHA_SUSTITUIDA"
SLIP_EXPIRED = "FICHA_CADUCADA"
KINDS = (
    PAYMENT_APPLIED, PAYMENT_HELD, PAYMENT_VOIDED, CLOSING, CASE_OPENED, CASE_RESOLVED,
    REFUND_PAID, SLIP_ISSUED, SLIP_SUPERSEDED, SLIP_EXPIRED,
)  # fmt: skip

EVENTS_DEFAULT_PAGE = 500
EVENTS_MAX_PAGE = 5000

INSERT = insert(EventRow)
ANY_UNSEQUENCED = select(EventRow.event_id).where(EventRow.seq.is_(None)).limit(1)


_last_id = 0
_id_lock = threading.Lock()


def _event_id() -> str:
    """A UUID laid out like a version 7 one (RFC 9562) but with a finer clock: its first 60
    bits count 256 ns steps of the machine's time, never repeating in this process, so ids
    sort in the order they were made; the feed numbers a batch of events in that order."""
    global _last_id
    with _id_lock:
        stamp = max(time.time_ns() // 256, _last_id + 1)
        _last_id = stamp
    high = stamp & ((1 << 60) - 1)
    value = (high >> 12) << 80 | 0x7 << 76 | (high & 0xFFF) << 64
    value |= 0b10 << 62 | secrets.randbits(62)
    return str(uuid.UUID(int=value))


def new_event(kind: str, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """An event row's values (``payload`` is what the institute receives, less ``seq``)."""
    event_id = _event_id()
    return {
        "event_id": event_id,
        "seq": None,
        "kind": kind,
        "created_at": now,
        "payload": {"event_id": event_id, "kind": kind, "data": data},
        "member_number": data.get("member_number"),
    }


def record(
    s: Session | Connection, kind: str, data: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Write an event in the caller's transaction; returns its values."""
    values = new_event(kind, data, now)
    s.execute(INSERT, values)
    return values


def number_pending(s: Session) -> int:
    """In the caller's transaction, under the "events" counter's lock: give feed positions
    to committed events that have none yet; how many got one."""
    start = s.execute(
        select(Counter.value).where(Counter.name == "events").with_for_update()
    ).scalar_one()
    # One statement, in the order the ids were made (see _event_id).
    order = func.row_number().over(order_by=EventRow.event_id).label("n")
    pending = select(EventRow.event_id, order).where(EventRow.seq.is_(None)).subquery()
    done = (
        s.connection()
        .execute(
            update(EventRow)
            .where(EventRow.event_id == pending.c.event_id)
            .values(seq=start + pending.c.n)
        )
        .rowcount
    )
    if done:
        s.execute(update(Counter).where(Counter.name == "events").values(value=start + done))
    return int(done)


def unnumbered(db: Database) -> bool:
    with db.reading() as conn:
        return conn.execute(ANY_UNSEQUENCED).first() is not None


def assign_pending(db: Database) -> int:
    """:func:`number_pending` in a transaction of its own, when there is anything to number."""
    if not unnumbered(db):
        return 0

    def attempt() -> int:
        with db.write() as s:
            return number_pending(s)

    return retrying(attempt)


def item(row: Any, policy: Policy) -> dict[str, Any]:
    """An event as the feed and the webhooks show it."""
    return {**row.payload, "seq": row.seq, "occurred_at": iso(row.created_at, policy)}


def events_json(db: Database, since: int, limit: int, policy: Policy) -> str:
    """One page of GET /v1/events as JSON text: the events after ``since``, in order."""
    assign_pending(db)
    with db.reading() as conn:
        rows = conn.execute(
            select(EventRow.seq, EventRow.created_at, EventRow.payload)
            .where(EventRow.seq > since)
            .order_by(EventRow.seq)
            .limit(limit)
        ).all()
    items = [item(r, policy) for r in rows]
    cursor = rows[-1].seq if rows else since
    return json.dumps(
        {"events": items, "next_cursor": cursor, "more": len(rows) == limit},
        ensure_ascii=False,
        separators=(",", ":"),
    )
