"""Webhooks to the institute: every event, POSTed to each active endpoint, signed with
HMAC-SHA256, retried with backoff until the receiver answers 2xx. ``webhook_deliveries`` is
the delivery log (attempts, last answer, when delivered); a replay puts deliveries back in
the queue. The dispatcher (:mod:`central.dispatcher`) does the sending.

What the receiver gets: the event's JSON (``event_id``, ``seq``, ``kind``, ``occurred_at``,
``data``) with headers ``X-Isseg-Event-Id``, ``X-Isseg-Timestamp`` (Unix seconds) and
``X-Isseg-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the endpoint's
secret>``. Delivery is at least once: the receiver de-duplicates by ``event_id``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, exists, insert, literal, select, update
from sqlalchemy.orm import Session

from central.db import Database
from central.models import EventRow, Lease, UTCDateTime, WebhookDelivery, WebhookEndpoint
from central.service.common import ApiError

PENDING = "PENDIENTE"
DELIVERED = "ENTREGADO"
MAX_BACKOFF = timedelta(minutes=5)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed ones: 0.5 s, 1 s, 2 s … 5 min."""
    return min(MAX_BACKOFF, timedelta(seconds=0.25 * 2 ** min(attempts, 20)))


def add_endpoint(s: Session, url: str, secret: str, now: datetime) -> WebhookEndpoint:
    if not re.fullmatch(r"https?://[^\s]{1,490}", url):
        raise ApiError(422, "URL_INVALIDA", "La dirección debe empezar con http:// o https://.")
    if len(secret) < 16 or len(secret) > 200:
        raise ApiError(422, "SECRETO_INVALIDO", "El secreto debe tener de 16 a 200 caracteres.")
    endpoint = WebhookEndpoint(url=url, secret=secret, created_at=now, active=True)
    s.add(endpoint)
    s.flush()
    return endpoint


def fan_out(s: Session, rows: list[tuple[str, int]], now: datetime) -> int:
    """Queue a delivery of each (event_id, seq) to every active endpoint."""
    endpoints = (
        s.execute(select(WebhookEndpoint.endpoint_id).where(WebhookEndpoint.active.is_(True)))
        .scalars()
        .all()
    )
    values = [
        {
            "endpoint_id": e,
            "event_id": event_id,
            "seq": seq,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for e in endpoints
        for event_id, seq in rows
    ]
    if values:
        s.execute(insert(WebhookDelivery), values)
    return len(values)


def due(db: Database, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Deliveries whose time has come, oldest event first, with what to send."""
    with db.read() as s:
        rows = s.execute(
            select(WebhookDelivery, WebhookEndpoint, EventRow)
            .join(WebhookEndpoint, WebhookEndpoint.endpoint_id == WebhookDelivery.endpoint_id)
            .join(EventRow, EventRow.event_id == WebhookDelivery.event_id)
            .where(
                WebhookDelivery.status == PENDING,
                WebhookDelivery.next_attempt_at <= now,
                WebhookEndpoint.active.is_(True),
            )
            .order_by(WebhookDelivery.seq)
            .limit(limit)
        ).all()
        return [
            {
                "endpoint_id": d.endpoint_id,
                "event_id": d.event_id,
                "attempts": d.attempts,
                "url": e.url,
                "secret": e.secret,
                "event": ev,
            }
            for d, e, ev in rows
        ]


_RECORD = (
    update(WebhookDelivery)
    .where(
        WebhookDelivery.endpoint_id == bindparam("e"),
        WebhookDelivery.event_id == bindparam("ev"),
        WebhookDelivery.status == PENDING,
    )
    .values(
        status=bindparam("st"),
        attempts=bindparam("n"),
        last_status=bindparam("code"),
        last_error=bindparam("err"),
        delivered_at=bindparam("at"),
        next_attempt_at=bindparam("next"),
    )
)


def record_attempts(
    db: Database, results: list[tuple[dict[str, Any], bool, int | None, str | None]], now: datetime
) -> None:
    """Write the outcome of each try (a delivery from :func:`due`, acknowledged or not, the
    receiver's status and error) in one transaction: a failed one waits :func:`backoff`."""
    rows = [
        {
            "e": d["endpoint_id"],
            "ev": d["event_id"],
            "st": DELIVERED if ok else PENDING,
            "n": d["attempts"] + 1,
            "code": status,
            "err": (error or "")[:300] or None,
            "at": now if ok else None,
            "next": now if ok else now + backoff(d["attempts"] + 1),
        }
        for d, ok, status, error in results
    ]
    with db.begin() as conn:
        conn.execute(_RECORD, rows)


def replay(db: Database, since: int, now: datetime, endpoint_id: int | None = None) -> int:
    """Send again every event after ``since`` (to one endpoint, or to all): delivered ones go
    back in the queue, and an endpoint added later gets the events it never had; returns how
    many deliveries were queued."""
    with db.write() as s:
        conn = s.connection()
        stmt = (
            update(WebhookDelivery)
            .where(WebhookDelivery.seq > since)
            .values(status=PENDING, next_attempt_at=now, delivered_at=None)
        )
        if endpoint_id is not None:
            stmt = stmt.where(WebhookDelivery.endpoint_id == endpoint_id)
        queued = int(conn.execute(stmt).rowcount)
        if endpoint_id is None:
            return queued
        cursor = s.execute(select(Lease.cursor).where(Lease.name == "dispatcher")).scalar()
        missing = select(
            literal(endpoint_id), EventRow.event_id, EventRow.seq, literal(PENDING), literal(0),
            literal(now, UTCDateTime()), literal(now, UTCDateTime()),
        ).where(
            EventRow.seq > since,
            EventRow.seq <= (cursor or 0),  # later ones the dispatcher fans out itself
            ~exists().where(
                WebhookDelivery.endpoint_id == endpoint_id,
                WebhookDelivery.event_id == EventRow.event_id,
            ),
        )  # fmt: skip
        columns = ["endpoint_id", "event_id", "seq", "status", "attempts",
                   "next_attempt_at", "created_at"]  # fmt: skip
        added = conn.execute(insert(WebhookDelivery).from_select(columns, missing)).rowcount
        return queued + int(added)


def delivery_log(db: Database, limit: int = 100) -> list[dict[str, Any]]:
    with db.read() as s:
        rows = s.execute(
            select(WebhookDelivery).order_by(WebhookDelivery.seq.desc()).limit(limit)
        ).scalars()
        return [
            {
                "endpoint_id": d.endpoint_id,
                "event_id": d.event_id,
                "seq": d.seq,
                "status": d.status,
                "attempts": d.attempts,
                "last_status": d.last_status,
                "last_error": d.last_error,
                "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
            }
            for d in rows
        ]
