"""What the terminal remembers about itself: its identity and central's cached policy."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime

from kiosk import audit
from kiosk.ports import Clock, UnitOfWork, system_clock
from kiosk.rules import Policy

TERMINAL_ID_KEY = "terminal_id"
STORE_ID_KEY = "store_id"
POLICY_KEY = "policy"
CENTRAL_TIME_KEY = "central_time_seen"
KIND_KEY = "terminal_kind"  # caja or kiosko, as central enrolled it ("" before, or by hand)


def terminal_id(uow: UnitOfWork) -> str:
    """Inside an open transaction: this terminal's id at central ("" before enrollment)."""
    return uow.meta.get(TERMINAL_ID_KEY) or ""


def terminal_kind(uow: UnitOfWork) -> str:
    """Inside an open transaction: caja or kiosko as central enrolled this terminal ("" when
    it was enrolled before the kind was kept, or by hand)."""
    return uow.meta.get(KIND_KEY) or ""


def store_id(uow: UnitOfWork) -> str:
    """Inside an open transaction: the store this terminal is enrolled in ("" before).

    Read when a business event is queued and written into its outbox body, so a retry after
    a re-enrollment still sends the body central first saw."""
    return uow.meta.get(STORE_ID_KEY) or ""


@dataclass(frozen=True, slots=True)
class TerminalState:
    terminal_id: str
    store_id: str
    policy: Policy
    central_floor: datetime | None = None  # the latest central time seen (SPEC 2.5)

    def behind_central(self, now: datetime, policy: Policy) -> bool:
        """Whether ``now`` (this terminal's clock) is behind the latest central time it saw
        by more than the policy's skew limit. Checked even offline: a clock turned back
        cannot reopen a past day."""
        return self.central_floor is not None and now < self.central_floor - policy.max_clock_skew


def current_state(uow: UnitOfWork) -> TerminalState:
    """Inside an open transaction: this terminal's identity and central's policy, in one
    read (a payment needs all three)."""
    values = uow.meta.get_many((TERMINAL_ID_KEY, STORE_ID_KEY, POLICY_KEY, CENTRAL_TIME_KEY))
    floor = values.get(CENTRAL_TIME_KEY)
    return TerminalState(
        values.get(TERMINAL_ID_KEY, ""),
        values.get(STORE_ID_KEY, ""),
        _parsed_policy(values.get(POLICY_KEY, "")),
        datetime.fromisoformat(floor) if floor else None,
    )


def set_identity(
    uow: UnitOfWork,
    *,
    terminal_id: str,
    store_id: str,
    actor: str,
    clock: Clock = system_clock,
    kind: str = "",
) -> None:
    new = {TERMINAL_ID_KEY: terminal_id, STORE_ID_KEY: store_id}
    if kind:
        new[KIND_KEY] = kind
    with uow:
        changes = {k: {"antes": uow.meta.get(k), "despues": v} for k, v in new.items()}
        for key, value in new.items():
            uow.meta.set(key, value)
        audit.record_settings_change(uow, actor, changes, clock())
        uow.commit()


def load_policy(uow: UnitOfWork) -> Policy:
    """Inside an open transaction: central's last policy, or the defaults of SPEC 2.1."""
    return _parsed_policy(uow.meta.get(POLICY_KEY) or "")


@functools.lru_cache(maxsize=4)
def _parsed_policy(raw: str) -> Policy:
    # Every scan and payment reads the stored text (one primary-key lookup) and parses it
    # only when it changed: the parse was a third of a scan's CPU. Policy is immutable.
    return Policy.from_dict(json.loads(raw)) if raw else Policy()


def cached_policy(uow: UnitOfWork) -> Policy:
    with uow.reading():
        return load_policy(uow)


def save_policy(
    uow: UnitOfWork, policy: Policy, *, actor: str = "central", clock: Clock = system_clock
) -> bool:
    """Cache central's policy; audited as a settings change. False when nothing changed."""
    new = policy.to_dict()
    with uow:
        raw = uow.meta.get(POLICY_KEY)
        old = json.loads(raw) if raw else None
        if old == new:
            return False
        uow.meta.set(POLICY_KEY, json.dumps(new, sort_keys=True))
        audit.record_settings_change(
            uow, actor, {"politica": {"antes": old, "despues": new}}, clock()
        )
        uow.commit()
    return True


def note_central_time(uow: UnitOfWork, central: datetime) -> None:
    """Remember ``central`` (a time central sent, or one it has surely reached since) if it
    is the latest known; persisted, so a restart with the clock turned back still knows it."""
    with uow:
        raw = uow.meta.get(CENTRAL_TIME_KEY)
        if raw and datetime.fromisoformat(raw) >= central:
            return
        uow.meta.set(CENTRAL_TIME_KEY, central.isoformat())
        uow.commit()


def central_time_floor(uow: UnitOfWork) -> datetime | None:
    """Inside an open transaction: the earliest time it can be now, by what central said."""
    raw = uow.meta.get(CENTRAL_TIME_KEY)
    return datetime.fromisoformat(raw) if raw else None
