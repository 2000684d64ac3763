"""The policy as the institute administers it: versions kept in ``policy_versions`` (the
highest is current), set with PUT /v1/policy or ``admin politica``, served by GET /v1/policy.

Every worker keeps the current policy for a few seconds (:class:`PolicyCache`), as it does
terminal tokens, so a new version is in force everywhere within that time.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from central.db import Database
from central.models import PolicyVersion
from central.service.common import ApiError, Outcome, iso
from kiosk.rules import Policy

# Seconds a worker keeps the current policy before looking again.
POLICY_CACHE_TTL = 5.0

# What PUT /v1/policy and ``admin politica`` may set; anything not given keeps its value.
SETTABLE = (
    "window_start",
    "window_end",
    "business_weekdays",
    "non_working_days",
    "cash_cap",
    "offline_window_hours",
    "max_daily_slips",
    "max_clock_skew_seconds",
)


def current_policy(db: Database, default: Policy) -> Policy:
    """The highest version stored, or ``default`` when none was ever set."""
    with db.read() as s:
        row = s.execute(
            select(PolicyVersion.data).order_by(PolicyVersion.version.desc()).limit(1)
        ).scalar_one_or_none()
    return default if row is None else Policy.from_dict(row)


class PolicyCache:
    """The current policy of this worker, looked up again after ``ttl`` seconds."""

    def __init__(self, db: Database, default: Policy, ttl: float = POLICY_CACHE_TTL) -> None:
        self.db = db
        self.default = default
        self.ttl = ttl
        self._lock = threading.Lock()
        self._policy = current_policy(db, default)
        self._until = time.monotonic() + ttl

    def __call__(self) -> Policy:
        if time.monotonic() >= self._until:
            with self._lock:
                if time.monotonic() >= self._until:
                    self._policy = current_policy(self.db, self.default)
                    self._until = time.monotonic() + self.ttl
        return self._policy

    def refresh(self) -> Policy:
        self._until = 0.0
        return self()


def _view(row: PolicyVersion, policy: Policy) -> dict[str, Any]:
    return {
        **Policy.from_dict(row.data).to_dict(),
        "created_at": iso(row.created_at, policy),
        "created_by": row.created_by,
    }


def set_policy(
    db: Database, changes: dict[str, Any], by: str, now: datetime, default: Policy
) -> Outcome:
    """Store a new version: ``changes`` (keys of :data:`SETTABLE`, and ``version``) over the
    current policy. A version not above the current one changes nothing: the same content
    again is a replay (200), anything else a conflict (409)."""
    unknown = set(changes) - {*SETTABLE, "version"}
    if unknown:
        raise ApiError(
            422, "CAMPO_DESCONOCIDO", f"Campos desconocidos: {', '.join(sorted(unknown))}."
        )
    version = changes.get("version")
    if not isinstance(version, int) or not 1 <= version <= 2**31 - 1:
        raise ApiError(422, "VERSION_INVALIDA", "La versión debe ser un entero positivo.")
    current = current_policy(db, default)
    fields = {k: v for k, v in changes.items() if k != "offline_window_hours"}
    if "offline_window_hours" in changes:  # the institute speaks in hours; the policy in seconds
        fields["offline_window_seconds"] = int(changes["offline_window_hours"]) * 3600
    try:
        new = Policy.from_dict({**current.to_dict(), **fields})
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise ApiError(422, "POLITICA_INVALIDA", f"Política inválida: {exc}") from None
    if new.cash_cap <= 0 or new.max_daily_slips < 1 or new.offline_window.days > 30:
        raise ApiError(
            422,
            "POLITICA_INVALIDA",
            "El tope de efectivo y las fichas por día deben ser positivos, y la ventana sin "
            "conexión de 30 días o menos.",
        )
    data = new.to_dict()
    try:
        with db.write() as s:
            newest = s.execute(
                select(PolicyVersion).order_by(PolicyVersion.version.desc()).limit(1)
            ).scalar_one_or_none()
            if newest is not None and version <= newest.version:
                same = s.get(PolicyVersion, version)
                if same is not None and same.data == data:
                    return Outcome(200, _view(same, new), replayed=True)
                raise ApiError(
                    409,
                    "VERSION_ANTERIOR",
                    f"La política vigente ya es la versión {newest.version}: envíe una versión "
                    "mayor.",
                    current_version=newest.version,
                )
            row = PolicyVersion(version=version, data=data, created_at=now, created_by=by)
            s.add(row)
            s.flush()
            return Outcome(201, _view(row, new))
    except IntegrityError:
        raise ApiError(
            409, "VERSION_ANTERIOR", "Otra actualización de la política llegó al mismo tiempo."
        ) from None


def policy_history(db: Database, policy: Policy) -> list[dict[str, Any]]:
    with db.read() as s:
        rows = s.execute(select(PolicyVersion).order_by(PolicyVersion.version)).scalars().all()
        return [_view(r, policy) for r in rows]
