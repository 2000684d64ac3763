"""Shift and day closings (cortes) that terminals send."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from central.db import Database
from central.models import Closing
from central.service import events
from central.service.common import ApiError, Outcome, TerminalPrincipal, canonical_hash, iso
from central.service.heartbeats import Head, check_head
from kiosk.rules import Policy


@dataclass(frozen=True)
class ClosingRequest:
    closing_uuid: str
    store_id: str
    kind: str
    business_date: date
    closed_at: datetime
    report: dict[str, Any] = field(default_factory=dict)
    audit_head: Head | None = None

    def canonical(self, terminal_id: int) -> dict[str, Any]:
        head = self.audit_head
        anchor = {} if head is None else {"audit_head": [head.seq, head.hash]}
        return {
            **anchor,
            "terminal_id": terminal_id,
            "closing_uuid": self.closing_uuid,
            "store_id": self.store_id,
            "kind": self.kind,
            "business_date": self.business_date.isoformat(),
            "closed_at": self.closed_at.astimezone(UTC).isoformat(),
            "report": self.report,
        }


def record_closing(
    db: Database, req: ClosingRequest, who: TerminalPrincipal, now: datetime, policy: Policy
) -> Outcome:
    if req.store_id != who.store_id:
        raise ApiError(403, "TIENDA_AJENA", "Esta terminal solo puede enviar cortes de su tienda.")
    digest = canonical_hash(req.canonical(who.terminal_id))

    def body(c: Closing) -> dict[str, Any]:
        return {
            "closing_uuid": c.closing_uuid,
            "status": "RECIBIDO",
            "store_id": c.store_id,
            "terminal_id": c.terminal_id,
            "kind": c.kind,
            "business_date": c.business_date.isoformat(),
            "closed_at": iso(c.closed_at, policy),
            "received_at": iso(c.received_at, policy),
        }

    def replay(c: Closing) -> Outcome:
        if c.request_hash != digest:
            raise ApiError(
                422, "LLAVE_REUTILIZADA", "Este UUID de corte ya se usó con otro contenido."
            )
        return Outcome(200, body(c), replayed=True)

    with db.read() as s:
        existing = s.get(Closing, req.closing_uuid)
        if existing is not None:
            return replay(existing)
    try:
        with db.write() as s:
            closing = Closing(
                closing_uuid=req.closing_uuid,
                store_id=who.store_id,
                terminal_id=who.terminal_id,
                kind=req.kind,
                business_date=req.business_date,
                closed_at=req.closed_at,
                received_at=now,
                request_hash=digest,
                report=req.report,
            )
            s.add(closing)
            if req.audit_head is not None:
                check_head(s, who, req.audit_head, now, current=False)
            s.flush()
            events.record(s, events.CLOSING, {**body(closing), "report": req.report}, now)
            return Outcome(201, body(closing))
    except IntegrityError:
        with db.read() as s:
            again = s.get(Closing, req.closing_uuid)
            assert again is not None
            return replay(again)
