"""Cache refresh, cache misses, policy, clock check and the background engine, against the
real central server on loopback."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest

from central.clock import ShiftedClock
from central.models import ReferenceRow
from kiosk import cashier, reference_cache, terminal_state
from kiosk.references import issue
from kiosk.rules import Policy, Tender, check_payment
from sync.client import CentralClient, Offline
from sync.outbox import OutboxSender
from sync.refresher import CacheRefresher, ClockCheck, PolicyCache
from sync.status import SyncEngine
from tests.integration.sync_support import (
    BUSINESS_START,
    business_clock,
    central_count,
    central_on_loopback,
    make_terminal,
    seed_references,
    terminal_entry,
)

pytestmark = pytest.mark.timeout(120)

# Well formed, dated on the test's business day, never issued by central.
NEVER_ISSUED = str(issue(BUSINESS_START.date(), 9_999_999_999))


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


def test_the_feed_is_followed_page_by_page_and_then_only_changes_come(caja, central, clock):
    seed_references(central.db_url, 2500, clock())
    total = central_count(central.db_url, ReferenceRow)
    with caja.client(central.base_url) as client:
        refresher = CacheRefresher(caja.uow, client, page_size=1000)
        first = refresher.refresh()
        assert first.records == total and first.pages == 3
        with caja.uow().reading() as uow:
            assert uow.references.count() == total
        assert reference_cache.cursor(caja.uow()) == first.cursor
        idle = refresher.refresh()
        assert (idle.pages, idle.records, idle.cursor) == (1, 0, first.cursor)
        new = seed_references(central.db_url, 3, clock())
        delta = refresher.refresh()
    assert delta.records == 3 and int(delta.cursor) > int(first.cursor)
    with caja.uow().reading() as uow:
        assert all(uow.references.get(r) is not None for r in new)


def test_a_referencia_paid_elsewhere_turns_pagada_in_the_cache_and_is_refused_here(
    caja, central, clock, tmp_path
):
    [ref] = seed_references(central.db_url, 1, clock())
    with caja.client(central.base_url) as client:
        refresher = CacheRefresher(caja.uow, client)
        refresher.refresh()
        assert cashier.check(caja.uow(), ref, clock=clock).ok
        other = make_terminal(tmp_path / "leon.sqlite", clock, terminal_entry(central, "F002"))
        try:
            with CentralClient(central.base_url, other.token, clock=clock) as oc:
                reference_cache.fetch_missing(other.uow(), oc, ref)
                other.pay(ref, Decimal("100.00"))
                OutboxSender(other.uow, oc, clock).drain()
        finally:
            other.close()
        refresher.refresh()
    verdict = cashier.check(caja.uow(), ref, clock=clock)
    assert not verdict.ok and verdict.code == "PAGADA"


def test_a_cache_miss_is_fetched_on_demand_and_kept(caja, central, clock):
    [ref] = seed_references(central.db_url, 1, clock(), amount=Decimal("731.25"))
    assert reference_cache.lookup(caja.uow(), ref) is None
    with caja.client(central.base_url) as client:
        record = reference_cache.fetch_missing(caja.uow(), client, ref)
        unknown = reference_cache.fetch_missing(caja.uow(), client, NEVER_ISSUED)
    assert record is not None and record.amount == Decimal("731.25")
    assert reference_cache.lookup(caja.uow(), ref) == record
    assert unknown is None
    payment = caja.pay(ref, Decimal("731.25"))
    assert payment.reference == ref


def test_a_cache_miss_while_offline_raises_offline_and_the_cashier_is_told_why(caja, clock):
    ref = NEVER_ISSUED
    with (
        CentralClient("http://127.0.0.1:9", caja.token, timeout=0.5, clock=clock) as client,
        pytest.raises(Offline),
    ):
        reference_cache.fetch_missing(caja.uow(), client, ref)
    verdict = cashier.check(caja.uow(), ref, clock=clock, online=False)
    assert verdict.code == "NO_ENCONTRADA" and "Sin conexión" in verdict.message


def test_the_policy_pushed_by_central_is_cached_for_offline_use(tmp_path, clock):
    pushed = Policy(cash_cap=Decimal("20000.00"), version=7)
    with _central_with(clock, pushed) as c:
        caja = make_terminal(tmp_path / "caja.sqlite", clock, terminal_entry(c))
        try:
            with caja.client(c.base_url) as client:
                got = PolicyCache(caja.uow, client, clock).refresh()
        finally:
            caja.close()
    assert got.version == 7 and got.cash_cap == Decimal("20000.00")
    import local_db

    db = local_db.open_database(tmp_path / "caja.sqlite")
    try:
        with CentralClient("http://127.0.0.1:9", "t", timeout=0.3) as offline:
            cache = PolicyCache(db.unit_of_work, offline, clock)
            with pytest.raises(Offline):
                cache.refresh()
            assert cache.current() == got
        assert terminal_state.cached_policy(db.unit_of_work()).cash_cap == Decimal("20000.00")
    finally:
        db.close()


def _central_with(clock, policy):
    from central.embedded import EmbeddedCentral

    return EmbeddedCentral(clock=clock, seed_demo=True, policy=policy)


def test_a_terminal_clock_ten_minutes_ahead_is_detected_and_payments_are_refused(tmp_path, central):
    fast = ShiftedClock(BUSINESS_START + timedelta(minutes=10))
    caja = make_terminal(tmp_path / "caja.sqlite", fast, terminal_entry(central))
    try:
        with caja.client(central.base_url) as client:
            reading = ClockCheck(client, fast).check()
            engine = SyncEngine(caja.uow, client, fast)
            engine.run_once(force=True)
            status = engine.status()
            engine.stop()
    finally:
        caja.close()
    assert timedelta(minutes=9, seconds=58) < reading.skew < timedelta(minutes=10, seconds=2)
    assert reading.too_far(Policy())
    assert status.clock_ok is False and "Reloj desfasado 10 min" in status.summary()
    [ref] = seed_references(central.db_url, 1, fast())
    record = CentralClient(central.base_url, terminal_entry(central)["token"]).get_reference(ref)
    verdict = check_payment(
        record,
        tender=Tender(cash=Decimal("100.00")),
        now=fast(),
        policy=Policy(),
        clock_skew=reading.skew,
    )
    assert verdict.code == "RELOJ_DESFASADO"


def test_a_terminal_in_step_with_central_has_a_small_skew(caja, central, clock):
    with caja.client(central.base_url) as client:
        reading = ClockCheck(client, clock).check()
    assert abs(reading.skew) < timedelta(seconds=1.5)
    assert not reading.too_far(Policy())


def test_one_engine_cycle_sends_refreshes_and_reports(caja, central, clock):
    ref = central.demo["references"][0]
    with caja.client(central.base_url) as client:
        engine = SyncEngine(caja.uow, client, clock)
        before = engine.status()
        first = engine.run_once(force=True)
        payment = caja.pay(ref["reference"], Decimal(ref["amount"]))
        queued = engine.status()
        second = engine.run_once()
        after = engine.status()
        engine.stop()
    assert before.online is None and before.queue_length == 0
    assert first.errors == () and first.refresh is not None and first.refresh.records >= 4
    assert first.policy is not None and first.policy.version == 1
    assert queued.queue_length == 1 and queued.oldest_pending_age is not None
    assert second.drain is not None and second.drain.confirmed == 1
    assert after.online is True and after.queue_length == 0 and after.last_contact is not None
    assert cashier.receipt_info(caja.uow(), payment.uuid).confirmed


def test_the_engine_sends_at_once_when_nudged_and_stops_promptly(caja, central, clock):
    ref = central.demo["references"][1]
    with caja.client(central.base_url) as client:
        engine = SyncEngine(caja.uow, client, clock, interval=60.0)
        engine.start()
        try:
            assert engine.wait_idle(10)
            time.sleep(0.2)
            assert engine.wait_idle(10)
            payment = caja.pay(ref["reference"], Decimal(ref["amount"]))
            engine.nudge()
            deadline = time.monotonic() + 10
            while engine.status().queue_length and time.monotonic() < deadline:
                time.sleep(0.02)
            assert engine.status().queue_length == 0
        finally:
            started = time.monotonic()
            engine.stop()
            stopped_in = time.monotonic() - started
    assert stopped_in < 5
    assert cashier.receipt_info(caja.uow(), payment.uuid).confirmed


@pytest.mark.parametrize(
    ("token", "status"), [("kiosko", "403 TIPO_DE_TERMINAL"), ("revocado", "401")]
)
def test_central_refusing_the_terminal_on_a_scan_is_not_an_unknown_ficha(
    central, clock, tmp_path, token, status
):
    """A kiosk's token at a till (central answers 403) or a token central does not know
    (401): the valid ficha must not read "no existe" (the affiliate would be sent away)."""
    from kiosk.bootstrap import build
    from kiosk.rules import TERMINAL_RECHAZADA
    from kiosk.settings import Settings

    [ref] = seed_references(central.db_url, 1, clock())
    tokens = {
        "kiosko": terminal_entry(central, kind="kiosko")["token"],
        "revocado": "token-que-central-no-conoce",
        "caja": terminal_entry(central)["token"],
    }

    def scan_with(name: str):
        settings = Settings().with_values(
            {
                "data_dir": str(tmp_path / name),
                "central_url": central.base_url,
                "terminal_token": tokens[name],
                "printer_kind": "file",
                "printer_path": str(tmp_path / f"{name}.bin"),
            }
        )
        t = build(settings, clock=clock, start_sync=False)
        try:
            return t.scan(ref).verdict
        finally:
            t.close()

    refused = scan_with(token)
    assert refused.code == TERMINAL_RECHAZADA, status
    assert "no existe" not in refused.message
    assert "rechazó a esta terminal" in refused.message
    assert "área de sistemas del ISSEG" in refused.message
    assert "Traceback" not in refused.message and "AuthError" not in refused.message
    # The same ficha at a till central accepts: it was valid all along.
    assert scan_with("caja").ok
