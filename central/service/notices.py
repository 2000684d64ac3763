"""Email notices to affiliates (SPEC 2.6): when a payment is applied, the affiliate's email
(set by PUT /v1/members) gets a Spanish message with the folio, amount, referencia, store and
time. Notices are queued from the event log by the dispatcher, after the payment committed,
and sent with retries: a slow or failing mail server never delays a payment.

SMTP settings come from the environment: ``ISSEG_SMTP_HOST`` (no host, no sending; notices
wait in the queue), ``ISSEG_SMTP_PORT`` (25), ``ISSEG_SMTP_FROM``, ``ISSEG_SMTP_USER`` and
``ISSEG_SMTP_PASSWORD`` (optional), ``ISSEG_SMTP_STARTTLS`` (1 to use STARTTLS).
"""

from __future__ import annotations

import os
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from central.db import Database
from central.models import EventRow, Member, Notice, Store
from central.service.events import PAYMENT_APPLIED
from kiosk.money import fmt, in_words, to_decimal
from kiosk.rules import Policy

PENDING = "PENDIENTE"
SENT = "ENVIADO"
MAX_BACKOFF = timedelta(minutes=30)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    sender: str = "ISSEG Farmacias <no-responder@isseg.gob.mx>"
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_env(cls) -> SmtpSettings | None:
        host = os.environ.get("ISSEG_SMTP_HOST", "").strip()
        if not host:
            return None
        return cls(
            host=host,
            port=int(os.environ.get("ISSEG_SMTP_PORT", "25")),
            sender=os.environ.get("ISSEG_SMTP_FROM") or cls.sender,
            user=os.environ.get("ISSEG_SMTP_USER") or None,
            password=os.environ.get("ISSEG_SMTP_PASSWORD") or None,
            starttls=os.environ.get("ISSEG_SMTP_STARTTLS", "") == "1",
        )


def payment_message(data: dict[str, Any], store_name: str, policy: Policy) -> tuple[str, str]:
    """Subject and text of the notice of an applied payment (``data``: the event's)."""
    paid_at = policy.local(datetime.fromisoformat(data["paid_at"]))
    amount = to_decimal(data["amount"])
    subject = f"ISSEG: recibimos su pago de {fmt(amount)} (referencia {data['reference']})"
    lines = [
        f"Estimado(a) {data['member_name']}:",
        "",
        "Su pago quedó aplicado en el Instituto de Seguridad Social del Estado de Guanajuato.",
        "",
        f"Folio: {data['payment_uuid']}",
        f"Importe: {fmt(amount)} ({in_words(amount)})",
        f"Referencia: {data['reference']}",
        f"Concepto: {data['concept']}",
        f"Farmacia: {store_name} ({data['store_id']})",
        f"Fecha y hora: {paid_at:%d/%m/%Y %H:%M} (hora del centro de México)",
    ]
    if data.get("became_renewable"):
        lines += [
            "",
            "Con este pago su préstamo ya puede renovarse en cualquier módulo de atención.",
        ]
    lines += [
        "",
        "Si usted no reconoce este pago, comuníquese con el ISSEG para su aclaración.",
        "Este mensaje se envía automáticamente; no lo responda.",
    ]
    return subject, "\n".join(lines) + "\n"


def queue_for(s: Session, after: int, upto: int, now: datetime, policy: Policy) -> int:
    """Queue the notice of each applied payment numbered in (``after``, ``upto``] whose
    affiliate has an email."""
    rows = s.execute(
        select(EventRow.event_id, EventRow.payload, Member.email)
        .join(Member, Member.number == EventRow.member_number)
        .where(
            EventRow.seq > after,
            EventRow.seq <= upto,
            EventRow.kind == PAYMENT_APPLIED,
            Member.email.is_not(None),
        )
    ).all()
    if not rows:
        return 0
    stores: dict[str, str] = {}
    for store_id, name in s.execute(select(Store.store_id, Store.name)).all():
        stores[store_id] = name
    values = []
    for event_id, payload, email in rows:
        data = payload["data"]
        subject, body = payment_message(data, stores.get(data["store_id"], ""), policy)
        values.append(
            {
                "event_id": event_id,
                "to_address": email,
                "subject": subject,
                "body": body,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    s.execute(insert(Notice), values)
    return len(values)


def send_due(db: Database, smtp: SmtpSettings, now: datetime, limit: int = 50) -> int:
    """Send the notices whose time has come over one SMTP connection; how many went out."""
    with db.read() as s:
        due = (
            s.execute(
                select(Notice)
                .where(Notice.status == PENDING, Notice.next_attempt_at <= now)
                .order_by(Notice.notice_id)
                .limit(limit)
            )
            .scalars()
            .all()
        )
    if not due:
        return 0
    sent = 0
    results: list[tuple[Notice, str | None]] = []
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as conn:
            if smtp.starttls:
                conn.starttls()
            if smtp.user:
                conn.login(smtp.user, smtp.password or "")
            for notice in due:
                msg = EmailMessage()
                msg["From"] = smtp.sender
                msg["To"] = notice.to_address
                msg["Subject"] = notice.subject
                msg["Message-ID"] = f"<{notice.event_id}@caja.isseg>"
                msg.set_content(notice.body)
                try:
                    conn.send_message(msg)
                    results.append((notice, None))
                    sent += 1
                except smtplib.SMTPException as exc:
                    results.append((notice, str(exc)))
    except (OSError, smtplib.SMTPException) as exc:
        done = {n.notice_id for n, _ in results}
        results += [(n, f"servidor de correo: {exc}") for n in due if n.notice_id not in done]
    with db.write() as s:
        for notice, error in results:
            s.execute(
                update(Notice)
                .where(Notice.notice_id == notice.notice_id)
                .values(
                    status=SENT if error is None else PENDING,
                    attempts=notice.attempts + 1,
                    last_error=error[:300] if error else None,
                    sent_at=now if error is None else None,
                    next_attempt_at=now
                    if error is None
                    else now
                    + min(MAX_BACKOFF, timedelta(seconds=2 ** min(notice.attempts + 1, 20))),
                )
            )
    return sent
