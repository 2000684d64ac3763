"""What every part of central's service shares: the refusal, the answer to a POST, who is
calling, time and hashing helpers, retries and the feed counter."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from central.models import Counter
from kiosk.rules import Policy

Clock = Callable[[], datetime]

APPLIED = "APLICADO"
VOIDED = "ANULADO"
REFUSED = "RECHAZADO"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


@dataclass(frozen=True)
class Outcome:
    """An answer to a POST: status code, JSON body, and whether it is a stored replay."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


@dataclass(frozen=True)
class TerminalPrincipal:
    terminal_id: int
    store_id: str
    kind: str
    name: str


@dataclass(frozen=True)
class SessionPrincipal:
    token_hash: str


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime, policy: Policy) -> str:
    """ISO 8601 with the offset of the policy's zone (what a person there would read)."""
    return policy.local(moment).isoformat()


def canonical_hash(data: Any) -> str:
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


T = TypeVar("T")


def retrying(action: Callable[[], T], attempts: int = 5) -> T:
    """Retry a transaction a SQLite lock timeout or a PostgreSQL deadlock aborted."""
    for attempt in range(attempts):
        try:
            return action()
        except OperationalError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


# --- counters ------------------------------------------------------------------------------


def next_seq(s: Session) -> int:
    """The next delta-feed position (also a new referencia's serial). The counter row stays
    locked until commit, so positions become visible in order."""
    value = s.execute(
        update(Counter)
        .where(Counter.name == "feed")
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    ).scalar_one()
    return int(value)
