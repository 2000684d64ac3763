"""Keeping the terminal's knowledge fresh: referencias, policy and the clock.

* ``CacheRefresher`` follows central's delta feed (``GET /v1/references?since=CURSOR``) page
  by page into the local cache; each page and its next cursor are stored in one transaction,
  so a crash never skips a page. A cache miss is looked up on demand.
* ``PolicyCache`` fetches ``GET /v1/policy`` and keeps it in the local database for offline use.
* ``ClockCheck`` compares this terminal's clock with central's ``Date`` header.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kiosk import reference_cache, terminal_state
from kiosk.ports import Clock, UnitOfWork, system_clock
from kiosk.rules import Policy
from sync.client import CentralClient, record_from_json

UowFactory = Callable[[], UnitOfWork]


def _items_and_cursor(page: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], str | None, bool]:
    items = page.get("items")
    if items is None:
        items = page.get("references", [])
    cursor = page.get("next_cursor", page.get("cursor"))
    has_more = page.get("has_more")
    return list(items), (None if cursor in (None, "") else str(cursor)), bool(has_more)


_Page = tuple[list[Mapping[str, Any]], str | None]


@dataclass(frozen=True, slots=True)
class RefreshResult:
    pages: int
    records: int
    cursor: str | None


class CacheRefresher:
    def __init__(
        self,
        uow_factory: UowFactory,
        client: CentralClient,
        *,
        page_size: int = 1000,  # central serves at most 1000 per page
        max_pages: int = 1000,
    ) -> None:
        self.uow_factory = uow_factory
        self.client = client
        self.page_size = page_size
        self.max_pages = max_pages
        self._lock = threading.Lock()  # one feed follower at a time

    def cursor(self) -> str | None:
        return reference_cache.cursor(self.uow_factory())

    def refresh(self) -> RefreshResult:
        """Follow the feed until it is exhausted. Raises ``Offline`` when central is away
        (pages already stored stay stored, with their cursor).

        The next page is fetched while the previous one is being written, so a long feed
        costs about max(network, disk) rather than their sum.
        """
        with self._lock:
            uow = self.uow_factory()
            start = reference_cache.cursor(uow)
            pages: queue.Queue[_Page | BaseException | None] = queue.Queue(maxsize=4)
            halt = threading.Event()
            fetcher = threading.Thread(
                target=self._fetch, args=(start, pages, halt), name="feed", daemon=True
            )
            fetcher.start()
            count = records = 0
            since = start
            error: BaseException | None = None
            while (item := pages.get()) is not None:
                if isinstance(item, BaseException):
                    error = error or item
                    continue
                if error is not None:
                    continue  # keep emptying the queue so the fetcher can finish
                items, nxt = item
                try:
                    parsed = [record_from_json(i) for i in items]
                    if parsed or (nxt is not None and nxt != since):
                        reference_cache.upsert(uow, parsed, nxt if nxt is not None else since)
                except BaseException as exc:
                    error = exc
                    halt.set()
                    continue
                count += 1
                records += len(parsed)
                if nxt is not None:
                    since = nxt
            fetcher.join()
            if error is not None:
                raise error
            reference_cache.mark_refreshed(uow, system_clock())  # for `diagnostico`
            return RefreshResult(count, records, since)

    def _fetch(
        self,
        since: str | None,
        out: queue.Queue[_Page | BaseException | None],
        halt: threading.Event,
    ) -> None:
        try:
            for _ in range(self.max_pages):
                if halt.is_set():
                    return
                page = self.client.references(since=since, limit=self.page_size)
                items, nxt, has_more = _items_and_cursor(page)
                out.put((items, nxt))
                if nxt is not None:
                    since = nxt
                if not items or (not has_more and len(items) < self.page_size):
                    return
        except BaseException as exc:  # handed to the writer, which raises it
            out.put(exc)
        finally:
            out.put(None)


class PolicyCache:
    """Central's policy, kept in the local database (audited when it changes)."""

    def __init__(self, uow_factory: UowFactory, client: CentralClient, clock: Clock) -> None:
        self.uow_factory = uow_factory
        self.client = client
        self.clock = clock

    def refresh(self) -> Policy:
        """Fetch and store the policy; raises ``Offline`` (the cached one stays)."""
        raw = self.client.policy()
        data = raw.get("policy", raw) if isinstance(raw.get("policy"), Mapping) else raw
        policy = Policy.from_dict(data)
        terminal_state.save_policy(self.uow_factory(), policy, clock=self.clock)
        return policy

    def current(self) -> Policy:
        """The cached policy (defaults of SPEC 2.1 before central was ever reached)."""
        return terminal_state.cached_policy(self.uow_factory())


@dataclass(frozen=True, slots=True)
class ClockReading:
    skew: timedelta  # local minus central: positive when this terminal runs ahead
    local: datetime
    server: datetime

    def too_far(self, policy: Policy) -> bool:
        return abs(self.skew) > policy.max_clock_skew


class ClockCheck:
    """Compares the local clock with central's. The Date header has one-second resolution,
    so the skew is known to about ±1 s: plenty for a five-minute limit."""

    def __init__(self, client: CentralClient, clock: Clock) -> None:
        self.client = client
        self.clock = clock
        self._last: ClockReading | None = None
        self._lock = threading.Lock()

    def check(self) -> ClockReading:
        """Ask central now (``GET /v1/health``). Raises ``Offline``."""
        before = self.clock()
        r = self.client.health()
        after = self.clock()
        server = r.server_date
        if server is None and isinstance(r.body, Mapping):
            for key in ("server_time", "time", "now"):
                if r.body.get(key):
                    server = datetime.fromisoformat(str(r.body[key]))
                    break
        elif server is not None:
            # The header is truncated to the second: its middle is the best estimate.
            server += timedelta(milliseconds=500)
        if server is None:
            raise ValueError("el instituto no envió su hora (encabezado Date)")
        local = before + (after - before) / 2
        reading = ClockReading(local - server, local, server)
        with self._lock:
            self._last = reading
        return reading

    def last(self) -> ClockReading | None:
        with self._lock:
            return self._last
