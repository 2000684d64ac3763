"""The reconciliation list: refused payments whose money was taken."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from central.db import Database
from central.models import Payment, Reconciliation
from central.service.common import iso
from kiosk.rules import Policy


def reconciliation_list(db: Database, policy: Policy) -> list[dict[str, Any]]:
    with db.read() as s:
        rows = s.execute(
            select(Reconciliation, Payment)
            .join(Payment, Payment.payment_uuid == Reconciliation.payment_uuid)
            .order_by(Reconciliation.reconciliation_id)
        ).all()
        return [
            {
                "reconciliation_id": rec.reconciliation_id,
                "payment_uuid": pay.payment_uuid,
                "reference": pay.reference,
                "store_id": pay.store_id,
                "terminal_id": pay.terminal_id,
                "amount": str(pay.amount),
                "cash": str(pay.cash),
                "card": str(pay.card),
                "paid_at": iso(pay.paid_at, policy),
                "reason_code": rec.reason_code,
                "message": rec.message,
                "created_at": iso(rec.created_at, policy),
                "resolved": rec.resolved,
            }
            for rec, pay in rows
        ]
