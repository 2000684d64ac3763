"""The dispatcher: pushes central's events out at once — webhooks to the institute and email
notices to affiliates — from inside central.

Every worker process runs one in a thread, but only the holder of the "dispatcher" lease in
the database works (one per deployment); the others wait for the lease to lapse, so a dead
holder is replaced within :data:`LEASE` and two never send at once. Each round it numbers new
events (:func:`central.service.events.number_pending`), queues a delivery per endpoint and a
notice per applied payment for the events after its durable cursor (one transaction with the
cursor's advance), then sends what is due. Everything it has to do is in the database, so a
restart loses nothing; a webhook sent but not yet recorded is sent again, and the receiver
de-duplicates it by its event id.

Scheduling (lease, backoff) uses the machine's real clock, not central's business clock.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from central.db import Database
from central.models import EventRow, Lease
from central.service import events, notices, webhooks
from central.service.common import utcnow
from kiosk.rules import Policy

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=15)
IDLE_WAIT = 0.05  # seconds before the round after one that found nothing new
RETRY_LOOK = 0.5  # seconds between looks for deliveries whose retry time came
FAN_OUT_PAGE = 1000
SEND_PAGE = 64
SENDERS = 8
TIMEOUT = 3.0


class Dispatcher:
    def __init__(
        self,
        db: Database,
        policy: Callable[[], Policy],
        smtp: notices.SmtpSettings | None = None,
        *,
        idle_wait: float = IDLE_WAIT,
    ) -> None:
        self.db = db
        self.policy = policy
        self.smtp = smtp
        self.idle_wait = idle_wait
        self.holder = uuid.uuid4().hex
        self._held_until: datetime | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._http = httpx.Client(timeout=TIMEOUT)
        self._pool = ThreadPoolExecutor(SENDERS, thread_name_prefix="webhook")
        # Mail goes out on a thread of its own: a slow or unreachable mail server must not
        # hold up the webhooks.
        self._mailer = ThreadPoolExecutor(1, thread_name_prefix="correo")
        self._mailing: Future[int] | None = None
        self._fanned = False  # the last fan-out queued deliveries
        self._next_look = 0.0  # monotonic time of the next look for due retries

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._pool.shutdown(wait=True)
        self._mailer.shutdown(wait=True)
        self._http.close()
        if self._held_until is not None:
            self._release()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # the database may be away for a while: try again later
                log.exception("despachador: se reintenta")
                busy = False
                self._stop.wait(1.0)
            if not busy:
                # Another worker holds the lease: look again well before it could lapse.
                idle = self.idle_wait if self._held_until is not None else LEASE.total_seconds() / 5
                self._stop.wait(idle)

    # --- the lease ---------------------------------------------------------------------------

    def holds_lease(self) -> bool:
        now = utcnow()
        if self._held_until is not None and self._held_until - now > LEASE / 2:
            return True
        until = now + LEASE
        with self.db.write() as s:
            if s.get(Lease, "dispatcher") is None:
                try:
                    with s.begin_nested():
                        s.execute(
                            insert(Lease).values(
                                name="dispatcher", holder=self.holder, until=until, cursor=0
                            )
                        )
                    self._held_until = until
                    return True
                except IntegrityError:
                    pass
            taken = (
                s.connection()
                .execute(
                    update(Lease)
                    .where(
                        Lease.name == "dispatcher",
                        or_(Lease.holder == self.holder, Lease.until < now),
                    )
                    .values(holder=self.holder, until=until)
                )
                .rowcount
            )
        self._held_until = until if taken == 1 else None
        return taken == 1

    def _release(self) -> None:
        with self.db.write() as s:
            s.execute(
                update(Lease)
                .where(Lease.name == "dispatcher", Lease.holder == self.holder)
                .values(until=utcnow() - LEASE)
            )
        self._held_until = None

    # --- one round ---------------------------------------------------------------------------

    def run_once(self) -> bool:
        """One round; True when it found work (so the next round starts at once)."""
        if not self.holds_lease():
            return False
        queued = self._fan_out()
        now = utcnow()
        sent = self._send_webhooks(now)
        if self.smtp is not None and (self._mailing is None or self._mailing.done()):
            self._mailing = self._mailer.submit(notices.send_due, self.db, self.smtp, now)
        # Under a stream of payments rounds follow each other (each carries what came in
        # during the last); a round with nothing new waits IDLE_WAIT.
        return bool(queued or sent)

    def _fan_out(self) -> int:
        """Number new events and queue their deliveries and notices, in one transaction with
        the cursor's advance."""
        with self.db.read() as s:
            cursor = s.execute(select(Lease.cursor).where(Lease.name == "dispatcher")).scalar_one()
            newer = s.execute(select(EventRow.seq).where(EventRow.seq > cursor).limit(1)).first()
            if newer is None and s.execute(events.ANY_UNSEQUENCED).first() is None:
                return 0
        now = utcnow()
        with self.db.write() as s:
            events.number_pending(s)
            mine = s.execute(
                select(Lease.cursor)
                .where(Lease.name == "dispatcher", Lease.holder == self.holder)
                .with_for_update()
            ).scalar_one_or_none()
            if mine is None:
                return 0  # the lease went to another worker meanwhile
            rows = s.execute(
                select(EventRow.event_id, EventRow.seq)
                .where(EventRow.seq > mine)
                .order_by(EventRow.seq)
                .limit(FAN_OUT_PAGE)
            ).all()
            if not rows:
                return 0
            last = rows[-1].seq
            self._fanned = webhooks.fan_out(s, [(r.event_id, r.seq) for r in rows], now) > 0
            notices.queue_for(s, mine, last, now, self.policy())
            s.execute(update(Lease).where(Lease.name == "dispatcher").values(cursor=last))
            return len(rows)

    def _send_webhooks(self, now: datetime) -> int:
        # New deliveries are looked for at once; retries, whose time comes later, every
        # RETRY_LOOK seconds: a round with nothing new costs no query here.
        if not self._fanned and time.monotonic() < self._next_look:
            return 0
        self._fanned, self._next_look = False, time.monotonic() + RETRY_LOOK
        due = webhooks.due(self.db, now, SEND_PAGE)
        if not due:
            return 0
        policy = self.policy()
        results = list(self._pool.map(lambda d: (d, *self._post(d, policy)), due))
        webhooks.record_attempts(self.db, results, utcnow())
        if len(due) == SEND_PAGE:
            self._next_look = 0.0  # a full page: more may be due already
        return len(due)

    def _post(self, d: dict[str, Any], policy: Policy) -> tuple[bool, int | None, str | None]:
        body = json.dumps(
            events.item(d["event"], policy), ensure_ascii=False, separators=(",", ":")
        ).encode()
        stamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-Isseg-Event-Id": d["event_id"],
            "X-Isseg-Timestamp": str(stamp),
            "X-Isseg-Signature": webhooks.signature(d["secret"], stamp, body),
        }
        try:
            r = self._http.post(d["url"], content=body, headers=headers)
        except httpx.HTTPError as exc:
            return False, None, f"{type(exc).__name__}: {exc}"
        ok = 200 <= r.status_code < 300
        return ok, r.status_code, None if ok else r.text[:300]
