"""Faults between the caja and central: each test ends with central holding exactly the
payments taken, once. Central is the real server on loopback; the faults come from
``sync_faults.FaultProxy`` (seeded) or from killing the terminal's process."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from central.models import Closing
from kiosk import shifts
from kiosk.ports import CONFIRMED, PENDING
from sync.client import CentralClient, Offline
from sync.outbox import OutboxSender
from sync.refresher import CacheRefresher
from sync.status import SyncEngine
from tests.integration.sync_faults import ERROR500, HANG, LOST, OK, SLOW, FaultProxy, fault_proxy
from tests.integration.sync_support import (
    assert_exactly_once,
    business_clock,
    central_count,
    central_on_loopback,
    central_payments,
    make_terminal,
    seed_references,
    terminal_entry,
)

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
AMOUNT = Decimal("100.00")


@pytest.fixture
def clock():
    return business_clock()


@pytest.fixture
def central(clock):
    with central_on_loopback(clock) as c:
        yield c


@pytest.fixture
def caja(tmp_path, clock, central):
    t = make_terminal(tmp_path / "caja.sqlite", clock, terminal_entry(central))
    yield t
    t.close()


def port_of(central) -> int:
    return int(central.base_url.rsplit(":", 1)[1])


def take(caja, central, clock, count: int):
    """``count`` referencias issued at central, cached through the real feed, then paid."""
    refs = seed_references(central.db_url, count, clock())
    with caja.client(central.base_url) as direct:
        CacheRefresher(caja.uow, direct).refresh()
    return [caja.pay(ref, AMOUNT) for ref in refs]


def quick_sender(caja, client, seed: int = 11, per_request: int = 1) -> OutboxSender:
    return OutboxSender(
        caja.uow,
        client,
        caja.clock,
        random.Random(seed),
        backoff_base=0.02,
        backoff_cap=0.2,
        payments_per_request=per_request,
    )


def outbox_statuses(caja) -> dict[str, int]:
    with caja.uow().reading() as uow:
        rows = uow.run("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
    return {r[0]: r[1] for r in rows}


def drain_until_empty(sender: OutboxSender, seconds: float = 90) -> int:
    rounds = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rounds += 1
        if sender.drain(batch=16).pending == 0:
            return rounds
        time.sleep(0.05)
    raise AssertionError("la cola no se vació a tiempo")


def wait_for(predicate, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("no ocurrió a tiempo")


def test_central_down_the_whole_time_then_up_gets_everything_once(caja, central, clock):
    with fault_proxy("127.0.0.1", port_of(central)) as proxy:
        proxy.down()  # connection refused from the start
        client = CentralClient(proxy.base_url, caja.token, timeout=0.5, clock=clock)
        engine = SyncEngine(
            caja.uow, client, clock, sender=quick_sender(caja, client), interval=0.1
        )
        engine.start()
        try:
            taken = take(caja, central, clock, 12)
            caja.void(taken[0].uuid, "Cobro equivocado")
            shifts.close_shift(
                caja.uow(), pieces={"b1000": 2}, closed_by=caja.manager_id, clock=clock
            )
            engine.nudge()
            wait_for(lambda: engine.status().online is False)
            time.sleep(0.5)  # several rounds of failed attempts
            down = engine.status()
            assert down.queue_length == 14 and down.oldest_pending_age is not None
            assert central_payments(central.db_url) == {}
            with caja.uow().reading() as uow:
                assert all(e.attempts >= 1 for e in uow.outbox.pending(limit=100))
            proxy.up()
            wait_for(lambda: engine.status().queue_length == 0)
            up = engine.status()
        finally:
            engine.stop()
            client.close()
    assert up.online is True and up.rejected == 0 and up.oldest_pending_age is None
    held = central_payments(central.db_url)
    assert held.pop(taken[0].uuid) == (taken[0].reference, "ANULADO")
    assert set(held) == {p.uuid for p in taken[1:]}
    assert {s for _, s in held.values()} == {"APLICADO"}
    assert central_count(central.db_url, Closing) == 1
    assert outbox_statuses(caja) == {CONFIRMED: 14}


def test_thirty_percent_of_requests_failing_still_delivers_each_payment_once(caja, central, clock):
    weights = {OK: 0.70, ERROR500: 0.10, HANG: 0.05, LOST: 0.10, SLOW: 0.05}
    with fault_proxy(
        "127.0.0.1", port_of(central), seed=20250311, weights=weights, hang_seconds=3.0
    ) as proxy:
        taken = take(caja, central, clock, 40)
        with CentralClient(proxy.base_url, caja.token, timeout=0.5, clock=clock) as client:
            sender = quick_sender(caja, client)
            drain_until_empty(sender)
            sender.close()
        faults = dict(proxy.counts)
    assert all(faults.get(kind, 0) > 0 for kind in (ERROR500, HANG, LOST, SLOW)), faults
    assert sum(v for k, v in faults.items() if k != OK) >= 10, faults
    assert_exactly_once(central.db_url, taken)
    assert outbox_statuses(caja) == {CONFIRMED: 40}


def test_a_backlog_sent_in_batches_through_failing_requests_arrives_once(caja, central, clock):
    weights = {OK: 0.60, ERROR500: 0.15, HANG: 0.05, LOST: 0.15, SLOW: 0.05}
    with fault_proxy(
        "127.0.0.1", port_of(central), seed=20250312, weights=weights, hang_seconds=3.0
    ) as proxy:
        taken = take(caja, central, clock, 60)
        with CentralClient(proxy.base_url, caja.token, timeout=0.5, clock=clock) as client:
            sender = quick_sender(caja, client, per_request=4)
            drain_until_empty(sender)
            sender.close()
        faults = dict(proxy.counts)
    assert sum(faults.values()) < 60, faults  # several payments per request
    assert sum(v for k, v in faults.items() if k != OK) >= 3, faults
    assert_exactly_once(central.db_url, taken)
    assert outbox_statuses(caja) == {CONFIRMED: 60}


@pytest.mark.parametrize("per_request", [1, 4])
def test_answers_lost_after_central_committed_are_settled_by_replays(
    caja, central, clock, per_request
):
    with fault_proxy("127.0.0.1", port_of(central), weights={LOST: 1.0}) as proxy:
        taken = take(caja, central, clock, 20)
        with CentralClient(proxy.base_url, caja.token, timeout=1.0, clock=clock) as client:
            sender = quick_sender(caja, client, per_request=per_request)
            first = sender.drain(batch=20)
            assert first.confirmed == 0 and first.failed == 20
            assert proxy.forwarded == 20 // per_request  # one by one, or 5 batches of 4
            assert len(central_payments(central.db_url)) == 20  # all committed, none known
            proxy.set_weights({OK: 1.0})
            drain_until_empty(sender)
            sender.close()
        if per_request == 1:
            assert proxy.forwarded == 40  # each payment twice: lost, then replayed
    assert_exactly_once(central.db_url, taken)
    with caja.uow().reading() as uow:
        bodies = [uow.outbox.get(i).response for (i,) in uow.run("SELECT id FROM outbox")]
    assert sorted(b["payment_uuid"] for b in bodies) == sorted(p.uuid for p in taken)


CHILD = """
import random, sys, time
from datetime import datetime
import local_db
from central.clock import ShiftedClock
from sync.client import CentralClient, Offline
from sync.outbox import OutboxSender

path, url, token, now = sys.argv[1:5]
clock = ShiftedClock(datetime.fromisoformat(now))
db = local_db.open_database(path)
client = CentralClient(url, token, timeout=5.0, clock=clock)
sender = OutboxSender(db.unit_of_work, client, clock, random.Random(5), workers=2,
                      backoff_base=0.02, backoff_cap=0.2)
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    if sender.drain(batch=4).pending == 0:
        print("vacia", flush=True)
        sys.exit(0)
    time.sleep(0.05)
sys.exit(3)
"""


def run_terminal(caja, url: str, clock, failpoint: str = "") -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("ISSEG_FAILPOINT", None)
    if failpoint:
        env["ISSEG_FAILPOINT"] = failpoint
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(caja.db.path), url, caja.token, clock().isoformat()],
        env=env,
        cwd=str(ROOT),
        stdout=subprocess.PIPE,
    )


def test_the_terminal_killed_mid_send_and_restarted_sends_each_payment_once(caja, central, clock):
    with fault_proxy("127.0.0.1", port_of(central)) as proxy:
        taken = take(caja, central, clock, 12)
        proxy.hold_next_forwarded()
        child = run_terminal(caja, proxy.base_url, clock)
        try:
            assert proxy.held.wait(30), "el envío no llegó al instituto"
            # Central committed the first payment; its answer is parked in the proxy.
            child.kill()  # SIGKILL: no finally, no rollback
            assert child.wait(10) == -9
        finally:
            proxy.release()
            if child.poll() is None:
                child.kill()
                child.wait(10)
        assert len(central_payments(central.db_url)) >= 1
        assert outbox_statuses(caja).get(PENDING, 0) >= 1
        again = run_terminal(caja, proxy.base_url, clock)
        out, _ = again.communicate(timeout=90)
    assert again.returncode == 0 and b"vacia" in out
    assert_exactly_once(central.db_url, taken)
    assert outbox_statuses(caja) == {CONFIRMED: 12}


def test_a_crash_between_central_answering_and_the_local_write_is_healed_on_restart(
    caja, central, clock
):
    taken = take(caja, central, clock, 8)
    crashed = run_terminal(caja, central.base_url, clock, failpoint="sync_after_response")
    crashed.communicate(timeout=60)
    assert crashed.returncode == -9
    # The first batch (maybe part of the next, already on the wire) reached central...
    assert 4 <= len(central_payments(central.db_url)) <= 8
    assert outbox_statuses(caja) == {PENDING: 8}  # ...and the caja never wrote it down
    again = run_terminal(caja, central.base_url, clock)
    again.communicate(timeout=60)
    assert again.returncode == 0
    assert_exactly_once(central.db_url, taken)
    assert outbox_statuses(caja) == {CONFIRMED: 8}


def test_the_proxy_really_refuses_connections_while_down(central, clock):
    proxy = FaultProxy("127.0.0.1", port_of(central))
    proxy.up()
    try:
        proxy.down()
        with CentralClient(proxy.base_url, "x", timeout=0.5) as client, pytest.raises(Offline):
            client.health()
        proxy.up()
        with CentralClient(proxy.base_url, "x", timeout=2.0) as client:
            assert client.health().status == 200
    finally:
        proxy.close()
