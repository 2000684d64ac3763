"""Terminal heartbeats and the audit-chain heads they carry (SPEC 3.8, issue 13).

A terminal's hash-chained audit log lives on the terminal; an administrator of that machine
could rewrite it and rehash the chain. Central keeps every head it saw (heartbeats and
closings), so a head that goes back, or a chain that no longer passes through a head central
holds, is a case of kind AUDIT_HEAD for a person to look at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.db import Database
from central.models import AuditHead, Reconciliation, TerminalHeartbeat
from central.service.common import TerminalPrincipal, iso, retrying
from central.service.reconciliation import AUDIT_HEAD, open_case
from kiosk.rules import Policy

HEARTBEAT = "HEARTBEAT"
CLOSING = "CLOSING"


@dataclass(frozen=True)
class Head:
    """An audit chain's position: the last line's number and hash."""

    seq: int
    hash: str


@dataclass(frozen=True)
class Heartbeat:
    sent_at: datetime
    version: str
    queue_depth: int
    oldest_pending_seconds: int | None
    clock_skew_seconds: int | None
    printer_state: str
    cache_age_seconds: int | None
    audit_head: Head
    # The terminal's line at the head central last told it it holds: proof that the chain
    # still passes through it.
    anchor: Head | None = None


def check_head(
    s: Session,
    who: TerminalPrincipal,
    head: Head,
    now: datetime,
    *,
    anchor: Head | None = None,
    current: bool = True,
) -> list[str]:
    """Compare ``head`` (and ``anchor``) with the heads central holds for this terminal and
    keep it; what is wrong, in Spanish (each also opens a case). ``current``: the head is the
    terminal's head now (a heartbeat), not one from a queued closing, so it must not be
    behind any head central saw."""
    highest = s.execute(
        select(func.max(AuditHead.seq)).where(AuditHead.terminal_id == who.terminal_id)
    ).scalar_one_or_none()
    problems = []
    if current and highest is not None and head.seq < highest:
        problems.append(
            f"La bitácora de la terminal retrocedió: su último registro es el {head.seq} y el "
            f"instituto ya vio el {highest}. Se borraron registros."
        )
    same = s.get(AuditHead, (who.terminal_id, head.seq))
    if same is not None and same.hash != head.hash:
        problems.append(
            f"El registro {head.seq} de la bitácora ya no es el que el instituto vio: la "
            "bitácora fue reescrita."
        )
    if current and _anchored(s, who.terminal_id):
        seen = s.get(AuditHead, (who.terminal_id, anchor.seq)) if anchor else None
        if anchor is None or seen is None or seen.hash != anchor.hash:
            problems.append(
                "La bitácora de la terminal no pasa por el último registro que el instituto "
                "le confirmó: fue reescrita o reemplazada."
            )
    if problems:
        _flag(s, who, head, now, problems)
    elif same is None:
        s.add(
            AuditHead(
                terminal_id=who.terminal_id,
                seq=head.seq,
                hash=head.hash,
                received_at=now,
                source=HEARTBEAT if current else CLOSING,
            )
        )
    return problems


def _anchored(s: Session, terminal_id: int) -> bool:
    """Whether a heartbeat answer already told this terminal a head to prove."""
    return (
        s.execute(
            select(AuditHead.seq)
            .where(AuditHead.terminal_id == terminal_id, AuditHead.source == HEARTBEAT)
            .limit(1)
        ).first()
        is not None
    )


def _flag(
    s: Session, who: TerminalPrincipal, head: Head, now: datetime, problems: list[str]
) -> None:
    """One open case per terminal: later findings wait on the same person's decision."""
    open_already = s.execute(
        select(Reconciliation.reconciliation_id).where(
            Reconciliation.terminal_id == who.terminal_id,
            Reconciliation.kind == AUDIT_HEAD,
            Reconciliation.resolved.is_(False),
        )
    ).first()
    if open_already is None:
        open_case(
            s,
            kind=AUDIT_HEAD,
            code="BITACORA_ALTERADA",
            message=" ".join(problems),
            now=now,
            terminal_id=who.terminal_id,
            detail={"seq": head.seq, "hash": head.hash},
        )


def highest_head(s: Session, terminal_id: int) -> AuditHead | None:
    """The latest head a heartbeat brought: the one the terminal proves next time."""
    return s.execute(
        select(AuditHead)
        .where(AuditHead.terminal_id == terminal_id, AuditHead.source == HEARTBEAT)
        .order_by(AuditHead.seq.desc())
        .limit(1)
    ).scalar_one_or_none()


def record_heartbeat(
    db: Database, hb: Heartbeat, who: TerminalPrincipal, now: datetime, policy: Policy
) -> dict[str, Any]:
    def attempt() -> dict[str, Any]:
        with db.write() as s:
            row = s.get(TerminalHeartbeat, who.terminal_id, with_for_update=True)
            if row is None:
                row = TerminalHeartbeat(terminal_id=who.terminal_id)
                s.add(row)
            row.received_at = now
            row.sent_at = hb.sent_at
            row.version = hb.version
            row.queue_depth = hb.queue_depth
            row.oldest_pending_seconds = hb.oldest_pending_seconds
            row.clock_skew_seconds = hb.clock_skew_seconds
            row.printer_state = hb.printer_state
            row.cache_age_seconds = hb.cache_age_seconds
            row.audit_seq = hb.audit_head.seq
            row.audit_hash = hb.audit_head.hash
            problems = check_head(s, who, hb.audit_head, now, anchor=hb.anchor)
            s.flush()
            held = highest_head(s, who.terminal_id)
            return {
                "received_at": iso(now, policy),
                "audit_ok": not problems,
                "audit_anchor": {"seq": held.seq, "hash": held.hash} if held else None,
            }

    return retrying(attempt)


def audit_heads(db: Database, terminal_id: int) -> list[Head]:
    """Every head central holds for a terminal, oldest first (for verificar-bitacora)."""
    with db.read() as s:
        rows = s.execute(
            select(AuditHead.seq, AuditHead.hash)
            .where(AuditHead.terminal_id == terminal_id)
            .order_by(AuditHead.seq)
        ).all()
    return [Head(int(seq), str(digest)) for seq, digest in rows]
