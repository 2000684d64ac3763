"""The reconciliation list: cases for a person to decide (SPEC 2.6).

Each case has a ``kind``:

* ``REFUSED_PAYMENT``: a payment refused after its money was taken (paid elsewhere,
  superseded while offline, a rule broken).
* ``LATE_PAYMENT``: a payment that reached central later than the policy's offline window
  after the time it claims; held, not applied.
* ``CLOCK_BACKWARDS``: a payment whose time is earlier than the terminal's previous one
  (by folio); held, not applied.
* ``LATE_VOID``: a void asked after the payment's business day by central's clock, or after
  the store's day close reached central; the payment stays applied.
* ``AUDIT_HEAD``: a terminal's audit chain went back or no longer extends a head central saw
  (no payment; ``terminal_id`` and ``detail`` say which).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session

from central.db import Database
from central.models import Payment, Reconciliation
from central.service.common import iso
from kiosk.rules import Policy

REFUSED_PAYMENT = "REFUSED_PAYMENT"
LATE_PAYMENT = "LATE_PAYMENT"
CLOCK_BACKWARDS = "CLOCK_BACKWARDS"
LATE_VOID = "LATE_VOID"
AUDIT_HEAD = "AUDIT_HEAD"
CASE_KINDS = (REFUSED_PAYMENT, LATE_PAYMENT, CLOCK_BACKWARDS, LATE_VOID, AUDIT_HEAD)


def open_case(
    s: Session | Connection,
    *,
    kind: str,
    code: str,
    message: str,
    now: datetime,
    terminal_id: int,
    payment_uuid: str | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """A new case in the caller's transaction; its id."""
    return int(
        s.execute(
            insert(Reconciliation)
            .values(
                payment_uuid=payment_uuid,
                kind=kind,
                terminal_id=terminal_id,
                detail=detail,
                reason_code=code,
                message=message,
                created_at=now,
                resolved=False,
            )
            .returning(Reconciliation.reconciliation_id)
        ).scalar_one()
    )


def reconciliation_list(db: Database, policy: Policy) -> list[dict[str, Any]]:
    with db.read() as s:
        rows = s.execute(
            select(Reconciliation, Payment)
            .outerjoin(Payment, Payment.payment_uuid == Reconciliation.payment_uuid)
            .order_by(Reconciliation.reconciliation_id)
        ).all()
        return [
            {
                "reconciliation_id": rec.reconciliation_id,
                "kind": rec.kind,
                "terminal_id": rec.terminal_id,
                "payment_uuid": rec.payment_uuid,
                "reference": pay.reference if pay else None,
                "store_id": pay.store_id if pay else None,
                "amount": str(pay.amount) if pay else None,
                "cash": str(pay.cash) if pay else None,
                "card": str(pay.card) if pay else None,
                "paid_at": iso(pay.paid_at, policy) if pay else None,
                "reason_code": rec.reason_code,
                "message": rec.message,
                "detail": rec.detail,
                "created_at": iso(rec.created_at, policy),
                "resolved": rec.resolved,
            }
            for rec, pay in rows
        ]
