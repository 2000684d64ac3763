"""Sync with central (SPEC 3.5): the httpx client, the outbox sender, the referencia cache
refresher, the policy cache, the clock check and the background engine that runs them.

Wiring (the composition root)::

    client = CentralClient(settings.central_url, settings.terminal_token,
                           timeout=settings.http_timeout_seconds, clock=clock)
    engine = SyncEngine(db.unit_of_work, client, clock,
                        interval=settings.sync_interval_seconds)
    engine.start()      # engine.nudge() after writing to the outbox; engine.status() for the UI
    ...
    engine.stop(); client.close()
"""

from sync.client import (
    AuthError,
    CentralClient,
    KioskSession,
    Offline,
    ProtocolError,
    Rejected,
    SyncError,
)
from sync.outbox import DrainResult, OutboxSender, Outcome
from sync.refresher import CacheRefresher, ClockCheck, ClockReading, PolicyCache, RefreshResult
from sync.status import SyncEngine, SyncStatus

__all__ = [
    "AuthError",
    "CacheRefresher",
    "CentralClient",
    "ClockCheck",
    "ClockReading",
    "DrainResult",
    "KioskSession",
    "Offline",
    "OutboxSender",
    "Outcome",
    "PolicyCache",
    "ProtocolError",
    "RefreshResult",
    "Rejected",
    "SyncEngine",
    "SyncError",
    "SyncStatus",
]
