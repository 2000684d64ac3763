"""The outbox sender: every payment, void and close reaches central, once.

Entries are written by the kiosk services in the same transaction as what they report
(``kiosk.ports.OutboxEntry``: method, path, Idempotency-Key and JSON body). The body is
central's request exactly as the service wrote it at the business event, so every attempt
sends the same bytes (central answers a changed body under a used key with 422
``LLAVE_REUTILIZADA``). This module only sends them and writes down what central said:

* 201/200 → confirmed (200 is central replaying its original answer to a retry);
* 409/422 → rejected with central's code and reason: money was collected and central will not
  apply it, so the manager must see it (``OutboxRepository.rejected()``); never dropped;
* no answer, 5xx, or an unexpected answer → the attempt is recorded and the entry waits
  ``uniform(0, min(cap, base·2^attempts))`` seconds ("full jitter") before the next try.

Retrying is always safe because central keys every request on its Idempotency-Key.

A drain sends payments with nothing queued after them in a few requests of up to
``payments_per_request`` each (``POST /v1/payments/batch``): central records each one as its
own ``POST /v1/payments`` would, and its answer for each is read exactly as above.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from kiosk import failpoints
from kiosk.ports import PENDING, Clock, OutboxEntry, UnitOfWork
from sync.client import (
    AuthError,
    CentralClient,
    Offline,
    ProtocolError,
    Rejected,
    Response,
    SyncError,
    answer,
)

UowFactory = Callable[[], UnitOfWork]

CONFIRMED_OUTCOME = "confirmed"
REJECTED_OUTCOME = "rejected"
FAILED_OUTCOME = "failed"
DEFERRED_OUTCOME = "deferred"
SKIPPED_OUTCOME = "skipped"

PAYMENTS_PATH = "/v1/payments"
# Payments per request when draining a backlog (POST /v1/payments/batch; central takes up to
# 100). Central spends more on each HTTP request than on the payment in it, so a backlog goes
# in a few requests at a time; a small number keeps several requests on the wire at once.
PAYMENTS_PER_REQUEST = 25

# A void (or anything about a payment) waits for the payment itself: central cannot void what
# it has not received. Checked again after this short pause.
_WAIT_FOR_PAYMENT = timedelta(seconds=2)


def backoff_delay(attempts: int, rng: random.Random, base: float = 1.0, cap: float = 60.0) -> float:
    """Seconds to wait after the ``attempts``-th failure: full jitter (AWS architecture blog)."""
    ceiling = min(cap, base * (2 ** min(max(attempts - 1, 0), 30)))
    return rng.uniform(0.0, ceiling)


@dataclass(frozen=True, slots=True)
class Outcome:
    entry_id: int
    outcome: str  # confirmed | rejected | failed | deferred | skipped
    status: int = 0
    code: str = ""
    message: str = ""
    response: Mapping[str, Any] | None = None
    offline: bool = False


@dataclass(frozen=True, slots=True)
class DrainResult:
    attempted: int
    confirmed: int
    rejected: int
    failed: int
    pending: int  # still waiting after the drain (due later or failed)
    offline: bool  # the drain stopped because central did not answer
    seconds: float

    @property
    def rate(self) -> float:
        return self.confirmed / self.seconds if self.seconds > 0 else 0.0


class OutboxSender:
    """Sends outbox entries. Thread-safe: ``send_now`` and ``drain`` may run at the same time
    (an entry is never in flight twice from this process)."""

    def __init__(
        self,
        uow_factory: UowFactory,
        client: CentralClient,
        clock: Clock,
        rng: random.Random | None = None,
        *,
        workers: int = 8,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        send_now_timeout: float = 2.0,
        payments_per_request: int = PAYMENTS_PER_REQUEST,
    ) -> None:
        self.uow_factory = uow_factory
        self.client = client
        self.clock = clock
        self.rng = rng or random.Random()
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.send_now_timeout = send_now_timeout
        self.payments_per_request = max(1, payments_per_request)
        self._workers = max(1, workers)
        self._pool: ThreadPoolExecutor | None = None
        self._recorder_pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._inflight: set[int] = set()

    def close(self) -> None:
        with self._lock:
            pools = [self._pool, self._recorder_pool]
            self._pool = self._recorder_pool = None
        for pool in pools:
            if pool is not None:
                pool.shutdown(wait=True)

    # --- public ----------------------------------------------------------------------------

    def send_now(self, entry_id: int) -> Outcome:
        """One short attempt right after the payment committed (from a worker thread)."""
        with self.uow_factory().reading() as uow:
            entry = uow.outbox.get(entry_id)
            waits = (
                entry is not None
                and entry.kind != "payment"
                and uow.outbox.status_of("payment", entry.subject) == PENDING
            )
        if entry is None or entry.status != PENDING or waits or not self._claim([entry]):
            return Outcome(entry_id, SKIPPED_OUTCOME)
        try:
            outcome = self._send(entry, timeout=self.send_now_timeout)
            self._record([(entry, outcome)])
        finally:
            self._release([entry])
        return outcome

    def drain(
        self,
        batch: int = 200,
        *,
        max_entries: int | None = None,
        deadline_seconds: float | None = None,
        ignore_backoff: bool = False,
        stop: threading.Event | None = None,
    ) -> DrainResult:
        """Send the due entries, oldest first, ``batch`` at a time (each batch concurrently).

        Stops when nothing is due, when a whole batch got no answer (central is down: the
        backoff decides when to look again), at ``max_entries``/``deadline_seconds``, or when
        ``stop`` is set. ``ignore_backoff`` sends every pending entry now (central just came
        back: there is no point waiting out delays chosen while it was away).
        """
        started = time.monotonic()
        attempted = confirmed = rejected = failed = 0
        offline = False
        # A window of up to four batches is read at once; batch N's outcomes are written by
        # the recorder thread while batch N+1 is on the wire (SQLite and sockets both release
        # the GIL); at most one write is in flight.
        recording: Future[None] | None = None
        stopped = False
        try:
            while not stopped:
                window = (
                    batch * 4 if max_entries is None else min(batch * 4, max_entries - attempted)
                )
                if window <= 0:
                    break
                with self.uow_factory().reading() as uow:
                    due = uow.outbox.pending(
                        limit=window, now=None if ignore_backoff else self.clock()
                    )
                ignore_backoff = False  # only the first window: a failure now backs off again
                claimed = self._claim(due)
                if not claimed:
                    break
                for start in range(0, len(claimed), batch):
                    chunk = claimed[start : start + batch]
                    late = deadline_seconds is not None and (
                        time.monotonic() - started >= deadline_seconds
                    )
                    if late or (stop is not None and stop.is_set()):
                        self._release(claimed[start:])
                        stopped = True
                        break
                    try:
                        outcomes = self._send_batch(chunk)
                    except BaseException:
                        self._release(claimed[start:])
                        raise
                    if recording is not None:
                        recording.result()
                    recording = self._recorder().submit(self._record_and_release, outcomes, chunk)
                    results = [o for _, o in outcomes]
                    attempted += len(results)
                    confirmed += sum(o.outcome == CONFIRMED_OUTCOME for o in results)
                    rejected += sum(o.outcome == REJECTED_OUTCOME for o in results)
                    failed += sum(o.outcome == FAILED_OUTCOME for o in results)
                    if not any(o.outcome in (CONFIRMED_OUTCOME, REJECTED_OUTCOME) for o in results):
                        offline = any(o.offline for o in results)
                        self._release(claimed[start + batch :])
                        stopped = True
                        break
                if recording is not None:
                    recording.result()  # the next window must not see these as pending
                    recording = None
        finally:
            if recording is not None:
                recording.result()
        with self.uow_factory().reading() as uow:
            pending = uow.outbox.counts().pending
        return DrainResult(
            attempted, confirmed, rejected, failed, pending, offline, time.monotonic() - started
        )

    # --- internals -------------------------------------------------------------------------

    def _claim(self, entries: Sequence[OutboxEntry]) -> list[OutboxEntry]:
        with self._lock:
            mine = [e for e in entries if e.id not in self._inflight]
            self._inflight.update(e.id for e in mine)
        return mine

    def _record_and_release(
        self, outcomes: list[tuple[OutboxEntry, Outcome]], claimed: list[OutboxEntry]
    ) -> None:
        try:
            self._record(outcomes)
        finally:
            self._release(claimed)

    def _recorder(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._recorder_pool is None:
                self._recorder_pool = ThreadPoolExecutor(1, thread_name_prefix="outbox-db")
            return self._recorder_pool

    def _release(self, entries: Sequence[OutboxEntry]) -> None:
        with self._lock:
            self._inflight.difference_update(e.id for e in entries)

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="outbox")
            return self._pool

    def _send_batch(self, entries: list[OutboxEntry]) -> list[tuple[OutboxEntry, Outcome]]:
        # Entries about the same subject (a payment and its void) go in order, in one chain;
        # different subjects go in parallel.
        chains: dict[str, list[OutboxEntry]] = {}
        for e in entries:
            chains.setdefault(e.subject, []).append(e)
        blocked = self._subjects_waiting_for_payment(entries)

        def run(chain: list[OutboxEntry]) -> list[tuple[OutboxEntry, Outcome]]:
            done: list[tuple[OutboxEntry, Outcome]] = []
            stop = chain[0].subject in blocked
            for e in chain:
                if stop:
                    done.append((e, Outcome(e.id, DEFERRED_OUTCOME)))
                    continue
                outcome = self._send(e)
                done.append((e, outcome))
                stop = e.kind == "payment" and outcome.outcome != CONFIRMED_OUTCOME
            return done

        # A payment with nothing queued after it in this batch rides with other payments in
        # one request; a chain (a payment and its void) keeps its one-by-one order.
        alone: list[OutboxEntry] = []
        groups: list[list[OutboxEntry]] = []
        for chain in chains.values():
            e = chain[0]
            if len(chain) == 1 and e.kind == "payment" and e.path == PAYMENTS_PATH:
                alone.append(e)
            else:
                groups.append(chain)
        size = self.payments_per_request
        Job = Callable[[], list[tuple[OutboxEntry, Outcome]]]
        jobs: list[Job] = [partial(run, c) for c in groups]
        if size > 1:
            jobs += [
                partial(self._send_payments, alone[i : i + size])
                for i in range(0, len(alone), size)
            ]
        else:
            jobs += [partial(run, [e]) for e in alone]
        if len(jobs) == 1:
            return jobs[0]()
        out: list[tuple[OutboxEntry, Outcome]] = []
        for part in self._executor().map(lambda job: job(), jobs):
            out.extend(part)
        return out

    def _subjects_waiting_for_payment(self, entries: list[OutboxEntry]) -> set[str]:
        """Subjects of non-payment entries whose payment is still pending outside this batch."""
        in_batch = {e.subject for e in entries if e.kind == "payment"}
        others = {e.subject for e in entries if e.kind != "payment" and e.subject not in in_batch}
        if not others:
            return set()
        with self.uow_factory().reading() as uow:
            return {s for s in others if uow.outbox.status_of("payment", s) == PENDING}

    def _send(self, entry: OutboxEntry, timeout: float | None = None) -> Outcome:
        return _outcome(
            entry,
            lambda: self.client.request(
                entry.method,
                entry.path,
                json=dict(entry.payload),
                idempotency_key=entry.idempotency_key,
                timeout=timeout,
            ),
        )

    def _send_payments(self, entries: list[OutboxEntry]) -> list[tuple[OutboxEntry, Outcome]]:
        """Payments in one request (POST /v1/payments/batch); each gets the outcome its own
        POST /v1/payments would have had."""
        if len(entries) == 1:
            return [(entries[0], self._send(entries[0]))]
        try:
            answers = self.client.post_payments([(e.idempotency_key, e.payload) for e in entries])
        except ProtocolError:
            # Central could not take the batch as a whole (a malformed entry, or a central
            # without the batch route): each goes alone, so only a bad one stays behind.
            return [(e, self._send(e)) for e in entries]
        except SyncError as exc:
            return [(e, _outcome(e, _raiser(exc))) for e in entries]
        return [
            (e, _outcome(e, partial(_answer_item, status, body)))
            for e, (status, body) in zip(entries, answers, strict=True)
        ]

    def _record(self, outcomes: list[tuple[OutboxEntry, Outcome]]) -> None:
        """Write every outcome of a batch in one transaction (one fsync, not one per entry)."""
        if not outcomes:
            return
        # Crash-test point: central has answered, nothing is written here yet.
        failpoints.hit("sync_after_response")
        now = self.clock()
        with self.uow_factory() as uow:
            # Entries were claimed from PENDING before sending and are never in flight twice
            # in this process, so no re-read is needed: a settled entry is only ever settled
            # again with the same answer (central replays it).
            for entry, o in outcomes:
                if o.outcome == CONFIRMED_OUTCOME:
                    uow.outbox.mark_confirmed(entry.id, o.response or {}, now)
                elif o.outcome == REJECTED_OUTCOME:
                    uow.outbox.mark_rejected(entry.id, o.code, o.message, now)
                elif o.outcome == DEFERRED_OUTCOME:
                    uow.outbox.record_attempt(
                        entry.id,
                        "Esperando que el instituto reciba el pago.",
                        now + _WAIT_FOR_PAYMENT,
                    )
                elif o.outcome == FAILED_OUTCOME:
                    delay = backoff_delay(
                        entry.attempts + 1, self.rng, self.backoff_base, self.backoff_cap
                    )
                    uow.outbox.record_attempt(
                        entry.id, o.message[:500], now + timedelta(seconds=delay)
                    )
            uow.commit()


def _outcome(entry: OutboxEntry, call: Callable[[], Response]) -> Outcome:
    """What central's answer means for ``entry``: ``call`` returns it, or raises the client's
    error for it."""
    try:
        r = call()
    except Rejected as exc:
        return Outcome(entry.id, REJECTED_OUTCOME, exc.status, exc.code, exc.message)
    except Offline as exc:
        return Outcome(entry.id, FAILED_OUTCOME, message=str(exc), offline=True)
    except AuthError as exc:
        # A revoked or wrong token: keep everything queued until the terminal is enrolled
        # again; the message tells the manager why nothing leaves.
        return Outcome(entry.id, FAILED_OUTCOME, exc.status, exc.code, str(exc))
    except (ProtocolError, SyncError) as exc:
        return Outcome(entry.id, FAILED_OUTCOME, getattr(exc, "status", 0), "", str(exc))
    body = r.body if isinstance(r.body, Mapping) else {"body": r.body}
    return Outcome(entry.id, CONFIRMED_OUTCOME, r.status, response=dict(body))


def _answer_item(status: int, body: Any) -> Response:
    """One payment's answer inside a batch; a 5xx there is central asking for it again later
    (503 REINTENTE), not central being down."""
    if status >= 500:
        raise ProtocolError(status, f"el instituto pidió reintentar ({status})", body)
    return answer(status, body)


def _raiser(exc: SyncError) -> Callable[[], Response]:
    def call() -> Response:
        raise exc

    return call
