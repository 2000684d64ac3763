"""Cases for a person to decide (SPEC 2.5, 2.6), as they are opened; their resolution and
listing are in :mod:`central.service.cases`.

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

from sqlalchemy import Connection, insert
from sqlalchemy.orm import Session

from central.models import Reconciliation
from central.service import events

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
    event: dict[str, Any] | None = None,
) -> int:
    """A new case in the caller's transaction, and its CASO_ABIERTO event for the institute
    (``event``: what the event says of it beyond the case itself); the case's id."""
    case_id = int(
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
    data = {
        "case_id": case_id,
        "kind": kind,
        "payment_uuid": payment_uuid,
        "terminal_id": terminal_id,
        "reason_code": code,
        "message": message,
        "detail": detail,
        **(event or {}),
    }
    events.record(s, events.CASE_OPENED, data, now)
    return case_id
