"""What the terminal remembers about itself: its identity and central's cached policy."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from kiosk import audit
from kiosk.ports import Clock, UnitOfWork, system_clock
from kiosk.rules import Policy

TERMINAL_ID_KEY = "terminal_id"
STORE_ID_KEY = "store_id"
POLICY_KEY = "policy"


def terminal_id(uow: UnitOfWork) -> str:
    """Inside an open transaction: this terminal's id at central ("" before enrollment)."""
    return uow.meta.get(TERMINAL_ID_KEY) or ""


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


def current_state(uow: UnitOfWork) -> TerminalState:
    """Inside an open transaction: this terminal's identity and central's policy, in one
    read (a payment needs all three)."""
    values = uow.meta.get_many((TERMINAL_ID_KEY, STORE_ID_KEY, POLICY_KEY))
    return TerminalState(
        values.get(TERMINAL_ID_KEY, ""),
        values.get(STORE_ID_KEY, ""),
        _parsed_policy(values.get(POLICY_KEY, "")),
    )


def set_identity(
    uow: UnitOfWork, *, terminal_id: str, store_id: str, actor: str, clock: Clock = system_clock
) -> None:
    with uow:
        old = {k: uow.meta.get(k) for k in (TERMINAL_ID_KEY, STORE_ID_KEY)}
        uow.meta.set(TERMINAL_ID_KEY, terminal_id)
        uow.meta.set(STORE_ID_KEY, store_id)
        audit.record_settings_change(
            uow,
            actor,
            {
                TERMINAL_ID_KEY: {"antes": old[TERMINAL_ID_KEY], "despues": terminal_id},
                STORE_ID_KEY: {"antes": old[STORE_ID_KEY], "despues": store_id},
            },
            clock(),
        )
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
