"""Where features built elsewhere plug into the console.

Each seam is a small function with a working default over what central has today; the
defaults say what they stand in for. At merge, the lead swaps in:

* ``resolve_case`` and ``case_actions`` — case resolution (apply as abono a capital, refund at
  the store, reject); today a case can only be rejected with a reason, which closes the
  reconciliation row and keeps the reason in the console's audit.
* ``policy_history`` / ``change_policy`` — versioned policy; today the history is the running
  policy alone and changing it is not offered.
* ``member_email`` — the affiliate's email (members have none yet), where a new NIP goes.
* ``channel`` — the channel a ficha was issued on (kiosk, portal, phone); every ficha central
  issues today comes from a kiosk.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, literal, select, update
from sqlalchemy.orm import Session

from central.console.notify import Notifier, SmtpNotifier
from central.db import Database
from central.models import Reconciliation, TerminalHeartbeat
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


def reject_reconciliation(
    s: Session, case_id: int, action: str, reason: str, by: str, now: datetime
) -> bool:
    """Close an open case as rejected (the only resolution central has today), in the
    caller's transaction, which audits it with the reason. False: no such open case."""
    del action, reason, by, now  # what the full resolution records; the audit keeps them here
    closed = s.execute(
        update(Reconciliation)
        .where(Reconciliation.reconciliation_id == case_id, Reconciliation.resolved.is_(False))
        .values(resolved=True)
        .returning(Reconciliation.reconciliation_id)
    ).first()
    return closed is not None


def current_policy_only(db: Database, policy: Policy) -> list[PolicyVersion]:
    return [PolicyVersion(policy.version, policy)]


def no_email(s: Session, member_number: str) -> str | None:
    return None


def kiosk_channel() -> ColumnElement[str]:
    return literal("KIOSKO")


@dataclass
class Seams:
    terminal_health: Callable[[Database, Sequence[int]], Mapping[int, Health]] = heartbeats
    resolve_case: Callable[[Session, int, str, str, str, datetime], bool] = reject_reconciliation
    case_actions: dict[str, str] = field(default_factory=lambda: {"RECHAZAR": "Rechazar"})
    policy_history: Callable[[Database, Policy], list[PolicyVersion]] = current_policy_only
    change_policy: Callable[[Database, dict[str, str], str, datetime], Policy] | None = None
    member_email: Callable[[Session, str], str | None] = no_email
    channel: Callable[[], ColumnElement[str]] = kiosk_channel
    notifier: Notifier | None = field(default_factory=SmtpNotifier.from_env)
