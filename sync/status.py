"""The sync engine's background loop and the snapshot the screens poll.

``SyncEngine.start()`` runs one daemon thread that, every ``interval`` seconds or at once when
``nudge()`` is called, drains the outbox, follows the referencia feed, refreshes the policy
and checks the clock. Everything that talks to central happens on that thread (and on the
sender's small pool); ``status()`` only reads memory and one quick local count, so a UI timer
can call it freely. ``stop()`` returns when the thread has finished its current step.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kiosk import reference_cache, terminal_state
from kiosk.ports import Clock, StorageError
from kiosk.rules import Policy
from sync.client import AuthError, CentralClient, SyncError
from sync.heartbeat import Heartbeat
from sync.outbox import DrainResult, OutboxSender, UowFactory
from sync.refresher import CacheRefresher, ClockCheck, PolicyCache, RefreshResult

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SyncStatus:
    online: bool | None  # None: central not asked yet
    last_contact: datetime | None
    queue_length: int
    oldest_pending_age: float | None  # seconds
    rejected: int
    clock_skew: timedelta | None  # local minus central
    clock_ok: bool  # False: skew past the policy's limit, payments are refused
    last_error: str = ""

    @property
    def pending(self) -> int:
        return self.queue_length

    def summary(self) -> str:
        """One Spanish line for a status bar."""
        if self.online is None:
            link = "Conectando con el instituto…"
        elif self.online:
            link = "En línea"
        else:
            link = "Sin conexión"
        parts = [link]
        if self.queue_length:
            age = int(self.oldest_pending_age or 0)
            parts.append(f"{self.queue_length} por enviar (el más antiguo hace {age // 60} min)")
        if self.rejected:
            parts.append(f"{self.rejected} rechazados: avise al gerente")
        if not self.clock_ok and self.clock_skew is not None:
            minutes = round(abs(self.clock_skew).total_seconds() / 60)
            parts.append(f"Reloj desfasado {minutes} min: no se reciben pagos")
        return " · ".join(parts)


@dataclass(frozen=True, slots=True)
class CycleResult:
    drain: DrainResult | None
    refresh: RefreshResult | None
    policy: Policy | None
    errors: tuple[str, ...]


PRUNE_EVERY = 3600.0  # seconds between prunings of the referencia cache


class SyncEngine:
    def __init__(
        self,
        uow_factory: UowFactory,
        client: CentralClient,
        clock: Clock,
        *,
        sender: OutboxSender | None = None,
        refresher: CacheRefresher | None = None,
        interval: float = 5.0,
        policy_every: float = 300.0,
        clock_every: float = 60.0,
        heartbeat_every: float = 60.0,
        printer_state: Callable[[], str] | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.client = client
        self.clock = clock
        self.sender = sender or OutboxSender(uow_factory, client, clock)
        self.refresher = refresher or CacheRefresher(uow_factory, client)
        self.policy_cache = PolicyCache(uow_factory, client, clock)
        self.clock_check = ClockCheck(client, clock)
        self.interval = interval
        self.policy_every = policy_every
        self.clock_every = clock_every
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_policy = -1e18
        self._last_clock = -1e18
        self._central_seen: tuple[datetime, float] | None = None
        self.heartbeat = Heartbeat(uow_factory, client, clock, self._health)
        self.heartbeat_every = heartbeat_every
        self.printer_state = printer_state
        self._last_heartbeat = -1e18
        self._refreshed_at: float | None = None
        self._last_prune = -1e18
        self._reads_feed: bool | None = None  # known at the first cycle (the kind is stored)
        self._idle = threading.Event()
        self._idle.set()
        self._skew_limit: timedelta | None = None

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="sync-engine", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to end and wait for it (then close the sender's pool)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.sender.close()

    close = stop

    def nudge(self) -> None:
        """Something was just written to the outbox: send it now rather than at the next tick."""
        self._wake.set()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """For tests: wait until the loop is between cycles."""
        return self._idle.wait(timeout)

    # --- one cycle (also callable directly, deterministic in tests) -------------------------

    def run_once(self, *, force: bool = False) -> CycleResult:
        errors: list[str] = []
        drain = refresh = None
        policy = None
        now = time.monotonic()
        if self._reads_feed is None:
            # Central serves the feed to cajas only: a kiosk enrolled as one never asks (its
            # first 403 puzzled the support reading central's log). Unknown kind: ask, and a
            # 403 stops it below.
            try:
                with self.uow_factory().reading() as uow:
                    self._reads_feed = terminal_state.terminal_kind(uow) != "kiosko"
            except StorageError as exc:
                errors.append(f"caché: {exc}")
        was_online = self.client.link.snapshot().online
        # While central is not known to be up, the health call is also the probe that notices
        # it came back (the outbox may be empty, with nothing else to try). A kiosk reads no
        # feed, so the health call is also what notices each cycle that central went away.
        if (
            force
            or self.client.link.snapshot().online is not True
            or not self._reads_feed
            or (now - self._last_clock >= self.clock_every)
        ):
            try:
                reading = self.clock_check.check()
                self._central_seen = (reading.server, time.monotonic())
                self._last_clock = now
            except (SyncError, ValueError) as exc:
                errors.append(f"reloj: {exc}")
        if self._central_seen is not None:
            # Central's time has moved on since by at least the monotonic time, online or
            # not: the floor below which this caja refuses payments (SPEC 2.5).
            seen, at = self._central_seen
            try:
                terminal_state.note_central_time(
                    self.uow_factory(), seen + timedelta(seconds=time.monotonic() - at)
                )
            except StorageError as exc:
                errors.append(f"reloj: {exc}")
        back = was_online is not True and self.client.link.snapshot().online is True
        try:
            drain = self.sender.drain(ignore_backoff=back, stop=self._stop)
        except (SyncError, StorageError) as exc:
            errors.append(f"envío: {exc}")
        if self.client.link.snapshot().online is not False:
            if force or now - self._last_policy >= self.policy_every:
                try:
                    policy = self.policy_cache.refresh()
                    self._skew_limit = policy.max_clock_skew
                    self._last_policy = now
                except (SyncError, StorageError, ValueError) as exc:
                    errors.append(f"política: {exc}")
            if self._reads_feed:
                try:
                    refresh = self.refresher.refresh()
                    self._refreshed_at = time.monotonic()
                except AuthError as exc:
                    # A kiosk may not read referencias (it has no use for them): stop asking.
                    self._reads_feed = exc.status != 403
                    errors.append(f"referencias: {exc}")
                except (SyncError, StorageError, ValueError) as exc:
                    errors.append(f"referencias: {exc}")
        if now - self._last_prune >= PRUNE_EVERY:
            try:
                reference_cache.prune(self.uow_factory(), self.clock().date())
                self._last_prune = now
            except StorageError as exc:
                errors.append(f"caché: {exc}")
        beat_due = force or now - self._last_heartbeat >= self.heartbeat_every
        if beat_due and self.client.link.snapshot().online is not False:
            try:
                self.heartbeat.send()
                self._last_heartbeat = now
            except (SyncError, StorageError) as exc:
                errors.append(f"latido: {exc}")
        return CycleResult(drain, refresh, policy, tuple(errors))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._idle.clear()
            try:
                result = self.run_once()
                for e in result.errors:
                    log.info("sincronización: %s", e)
            except Exception:  # the loop must survive anything; the next tick retries
                log.exception("error inesperado en la sincronización")
            finally:
                self._idle.set()
            self._wake.wait(self.interval)
            self._wake.clear()

    def _health(self) -> dict[str, Any]:
        """The heartbeat's health fields (SPEC 4: queue, clock, printer, cache age)."""
        st = self.status()
        age = st.oldest_pending_age
        refreshed = self._refreshed_at
        printer = "desconocido"
        if self.printer_state is not None:
            try:
                printer = self.printer_state()[:100]
            except Exception:  # noqa: BLE001 - the heartbeat must go even if the printer fails
                printer = "error al consultar"
        return {
            "queue_depth": st.queue_length,
            "oldest_pending_seconds": None if age is None else int(age),
            "clock_skew_seconds": (
                None if st.clock_skew is None else int(st.clock_skew.total_seconds())
            ),
            "printer_state": printer,
            "cache_age_seconds": (None if refreshed is None else int(time.monotonic() - refreshed)),
        }

    # --- what the screens read --------------------------------------------------------------

    def status(self) -> SyncStatus:
        link = self.client.link.snapshot()
        try:
            with self.uow_factory().reading() as uow:
                counts = uow.outbox.counts()
        except StorageError:
            counts = None
        reading = self.clock_check.last()
        skew = reading.skew if reading else None
        limit = self._skew_limit
        if limit is None:
            try:
                limit = self.policy_cache.current().max_clock_skew
            except (StorageError, ValueError):
                limit = Policy().max_clock_skew
            self._skew_limit = limit
        return SyncStatus(
            online=link.online,
            last_contact=link.last_contact,
            queue_length=counts.pending if counts else 0,
            oldest_pending_age=counts.oldest_pending_age(self.clock()) if counts else None,
            rejected=counts.rejected if counts else 0,
            clock_skew=skew,
            clock_ok=skew is None or abs(skew) <= limit,
            last_error=link.last_error,
        )
