"""What the console reads of other parts of central, in one place, so tests can swap it:
terminals' health (their heartbeats), the affiliate's email (where a new NIP goes), the
channel a ficha came from, and the notifier that sends mail."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from central.console.notify import Notifier, SmtpNotifier
from central.db import Database
from central.models import Member, ReferenceRow, TerminalHeartbeat
from central.models import PolicyVersion as PolicyRow
from kiosk.rules import Policy

# A terminal sends its heartbeat every minute: this much silence in business hours is an alert.
SILENCE = timedelta(minutes=5)
UNSENT = timedelta(hours=1)


@dataclass(frozen=True)
class Health:
    """What a terminal's latest heartbeat said."""

    last_seen_at: datetime
    version: str = ""
    queue: int = 0
    oldest_pending_at: datetime | None = None
    clock_skew: timedelta | None = None
    printer: str = ""
    cache_age: timedelta | None = None


@dataclass(frozen=True)
class PolicyVersion:
    version: int
    policy: Policy
    changed_at: datetime | None = None
    changed_by: str = ""


def alerts(health: Health | None, now: datetime, policy: Policy) -> list[str]:
    """The console's alerts for one active terminal: money waiting over an hour to be sent,
    and silence during business hours."""
    if health is None:
        return []
    found = []
    if health.oldest_pending_at is not None and now - health.oldest_pending_at > UNSENT:
        since = policy.local(health.oldest_pending_at).strftime("%d/%m %H:%M")
        found.append(f"Pagos sin enviar desde {since} ({health.queue} en cola)")
    if policy.is_open(now) and now - health.last_seen_at > SILENCE:
        found.append(f"Sin latido desde {policy.local(health.last_seen_at).strftime('%H:%M')}")
    return found


def heartbeats(db: Database, terminal_ids: Sequence[int]) -> Mapping[int, Health]:
    """Each terminal's latest heartbeat (``POST /v1/heartbeat``), timed by central's clock:
    the oldest pending payment's age is counted back from when central received it."""
    if not terminal_ids:
        return {}
    beat = TerminalHeartbeat
    with db.reading() as conn:
        rows = conn.execute(select(beat).where(beat.terminal_id.in_(terminal_ids))).all()

    def seconds(value: int | None) -> timedelta | None:
        return None if value is None else timedelta(seconds=value)

    return {
        r.terminal_id: Health(
            last_seen_at=r.received_at,
            version=r.version,
            queue=r.queue_depth,
            oldest_pending_at=(
                None if r.oldest_pending_seconds is None
                else r.received_at - timedelta(seconds=r.oldest_pending_seconds)
            ),
            clock_skew=seconds(r.clock_skew_seconds),
            printer=r.printer_state,
            cache_age=seconds(r.cache_age_seconds),
        )
        for r in rows
    }


def policy_versions(db: Database, policy: Policy) -> list[PolicyVersion]:
    """Every version the institute stored, newest first; the running one when none was."""
    with db.reading() as conn:
        rows = conn.execute(
            select(PolicyRow).order_by(PolicyRow.version.desc())
        ).all()
    if not rows:
        return [PolicyVersion(policy.version, policy)]
    return [
        PolicyVersion(r.version, Policy.from_dict(r.data), r.created_at, r.created_by)
        for r in rows
    ]


def member_email(s: Session, member_number: str) -> str | None:
    member = s.get(Member, member_number)
    return member.email if member is not None else None


def ficha_channel() -> ColumnElement[str]:
    return ReferenceRow.__table__.c.channel


@dataclass
class Seams:
    terminal_health: Callable[[Database, Sequence[int]], Mapping[int, Health]] = heartbeats
    member_email: Callable[[Session, str], str | None] = member_email
    channel: Callable[[], ColumnElement[str]] = ficha_channel
    notifier: Notifier | None = field(default_factory=SmtpNotifier.from_env)
