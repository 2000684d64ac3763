"""The outbox sender against the real central server on loopback."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from central.models import Closing, Reconciliation
from kiosk import cashier, reference_cache, shifts
from kiosk.ports import CONFIRMED, PENDING, REJECTED
from local_db.testing import reference_records
from sync.client import CentralClient
from sync.outbox import OutboxSender, backoff_delay
from sync.refresher import CacheRefresher
from tests.integration.sync_faults import LOST, OK, fault_proxy
from tests.integration.sync_support import (
    Terminal,
    assert_exactly_once,
    business_clock,
    central_count,
    central_on_loopback,
    central_payments,
    make_terminal,
    seed_references,
    terminal_entry,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def clock():
    return business_clock()


@pytest.fixture
def central(clock):
    with central_on_loopback(clock) as c:
        yield c


@pytest.fixture
def caja(tmp_path: Path, clock, central) -> Iterator[Terminal]:
    t = make_terminal(tmp_path / "caja.sqlite", clock, terminal_entry(central))
    yield t
    t.close()


def sender_for(caja: Terminal, client: CentralClient, **kw) -> OutboxSender:
    kw.setdefault("backoff_base", 0.01)
    kw.setdefault("backoff_cap", 0.05)
    return OutboxSender(caja.uow, client, caja.clock, random.Random(7), **kw)


def entry_of(caja: Terminal, kind: str, subject: str):
    with caja.uow().reading() as uow:
        return next(e for e in _all_entries(uow) if e.kind == kind and e.subject == subject)


def _all_entries(uow):
    ids = [r[0] for r in uow.run("SELECT id FROM outbox ORDER BY id")]
    return [uow.outbox.get(i) for i in ids]


def test_a_ficha_issued_at_the_kiosk_and_paid_at_the_caja_reaches_central_at_once(
    central, caja, clock
):
    kiosk = terminal_entry(central, kind="kiosko")
    member = central.demo["members"][1]
    with CentralClient(central.base_url, kiosk["token"], clock=clock) as kc:
        session = kc.kiosk_login(member["number"], member["nip"])
        loans = kc.kiosk_loans(session)
        loan = loans["loans"][0]
        first = loan["options"]["pending"][0]["number"]
        slip = kc.kiosk_issue_slip(
            session, loan_id=loan["loan_id"], kind="QUINCENAL", quincenas=[first]
        )
    with caja.client(central.base_url) as client:
        record = reference_cache.fetch_missing(caja.uow(), client, slip["reference"])
        assert record is not None and record.amount == Decimal(slip["amount"])
        payment = caja.pay(slip["reference"], record.amount)
        entry = entry_of(caja, "payment", payment.uuid)
        outcome = sender_for(caja, client).send_now(entry.id)
    assert outcome.outcome == "confirmed" and outcome.status == 201
    assert central_payments(central.db_url) == {payment.uuid: (slip["reference"], "APLICADO")}
    assert cashier.receipt_info(caja.uow(), payment.uuid).confirmed
    assert entry_of(caja, "payment", payment.uuid).response["member_name"] == member["name"]


def test_a_retry_after_a_lost_answer_is_confirmed_by_central_replaying_it(central, caja, clock):
    [ref] = seed_references(central.db_url, 1, clock())
    with fault_proxy(
        "127.0.0.1", int(central.base_url.rsplit(":", 1)[1]), weights={LOST: 1.0}
    ) as proxy:
        client = CentralClient(proxy.base_url, caja.token, timeout=1.0, clock=clock)
        reference_cache.fetch_missing(caja.uow(), CentralClient(central.base_url, caja.token), ref)
        payment = caja.pay(ref, Decimal("100.00"))
        sender = sender_for(caja, client)
        entry = entry_of(caja, "payment", payment.uuid)
        first = sender.send_now(entry.id)
        assert first.outcome == "failed" and first.offline
        assert set(central_payments(central.db_url)) == {payment.uuid}  # central has it
        assert entry_of(caja, "payment", payment.uuid).status == PENDING
        assert entry_of(caja, "payment", payment.uuid).attempts == 1
        proxy.set_weights({OK: 1.0})
        clock.advance(timedelta(seconds=1))
        result = sender.drain()
        sender.close()
    assert result.confirmed == 1
    settled = entry_of(caja, "payment", payment.uuid)
    assert settled.status == CONFIRMED and settled.response["payment_uuid"] == payment.uuid
    assert_exactly_once(central.db_url, [payment])


def test_a_referencia_paid_first_at_another_store_is_rejected_and_kept_for_the_manager(
    central, caja, clock, tmp_path
):
    [ref] = seed_references(central.db_url, 1, clock())
    with caja.client(central.base_url) as client:
        CacheRefresher(caja.uow, client).refresh()  # this caja sees it VIGENTE...
        other = make_terminal(tmp_path / "leon.sqlite", clock, terminal_entry(central, "F002"))
        try:
            with CentralClient(central.base_url, other.token, clock=clock) as oc:
                reference_cache.fetch_missing(other.uow(), oc, ref)
                theirs = other.pay(ref, Decimal("100.00"))
                assert sender_for(other, oc).drain().confirmed == 1
        finally:
            other.close()
        payment = caja.pay(ref, Decimal("100.00"))  # ...and takes the money while offline
        result = sender_for(caja, client).drain()
    assert result.rejected == 1 and result.confirmed == 0
    entry = entry_of(caja, "payment", payment.uuid)
    assert entry.status == REJECTED and entry.rejection_code == "PAGADA"
    assert theirs.uuid in entry.rejection_message
    with caja.uow().reading() as uow:
        assert uow.outbox.counts().rejected == 1
        assert [e.subject for e in uow.outbox.rejected()] == [payment.uuid]
    held = central_payments(central.db_url)
    assert held[theirs.uuid] == (ref, "APLICADO") and held[payment.uuid] == (ref, "RECHAZADO")
    assert central_count(central.db_url, Reconciliation) == 1


def test_a_backlog_goes_in_batches_and_a_refused_payment_in_one_is_kept_apart(
    central, caja, clock, tmp_path
):
    refs = seed_references(central.db_url, 7, clock())
    with caja.client(central.base_url) as client:
        CacheRefresher(caja.uow, client).refresh()
        other = make_terminal(tmp_path / "leon.sqlite", clock, terminal_entry(central, "F002"))
        try:
            with CentralClient(central.base_url, other.token, clock=clock) as oc:
                reference_cache.fetch_missing(other.uow(), oc, refs[3])
                theirs = other.pay(refs[3], Decimal("100.00"))
                assert sender_for(other, oc).drain().confirmed == 1
        finally:
            other.close()
        taken = [caja.pay(ref, Decimal("100.00")) for ref in refs]  # offline, one paid already
        with fault_proxy("127.0.0.1", int(central.base_url.rsplit(":", 1)[1])) as proxy:
            with CentralClient(proxy.base_url, caja.token, clock=clock) as counted:
                result = sender_for(caja, counted, payments_per_request=3).drain()
            requests = proxy.forwarded
    assert requests == 3  # 3 + 3 + 1
    assert result.confirmed == 6 and result.rejected == 1 and result.pending == 0
    refused = entry_of(caja, "payment", taken[3].uuid)
    assert refused.status == REJECTED and refused.rejection_code == "PAGADA"
    assert theirs.uuid in refused.rejection_message
    confirmed = [entry_of(caja, "payment", p.uuid) for p in taken if p is not taken[3]]
    assert all(e.status == CONFIRMED for e in confirmed)
    assert all(e.response["payment_uuid"] == e.subject for e in confirmed)
    held = central_payments(central.db_url)
    assert held[taken[3].uuid] == (refs[3], "RECHAZADO")
    assert all(held[p.uuid] == (p.reference, "APLICADO") for p in taken if p is not taken[3])


def test_a_void_and_a_shift_close_follow_their_payment_to_central(central, caja, clock):
    refs = seed_references(central.db_url, 2, clock())
    with caja.client(central.base_url) as client:
        CacheRefresher(caja.uow, client).refresh()
        kept = caja.pay(refs[0], Decimal("100.00"))
        voided = caja.pay(refs[1], Decimal("100.00"))
        caja.void(voided.uuid, "Cobro duplicado por error")
        shifts.close_shift(caja.uow(), pieces={"b100": 6}, closed_by=caja.manager_id, clock=clock)
        result = sender_for(caja, client).drain()
    assert result.confirmed == 4 and result.pending == 0
    assert central_payments(central.db_url) == {
        kept.uuid: (refs[0], "APLICADO"),
        voided.uuid: (refs[1], "ANULADO"),
    }
    assert central_count(central.db_url, Closing) == 1


def test_backoff_is_full_jitter_doubling_up_to_the_cap():
    rng = random.Random(3)
    for attempts, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (7, 60.0), (40, 60.0)]:
        delays = [backoff_delay(attempts, rng) for _ in range(300)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # the whole range is used, not a fixed delay
        assert min(delays) < ceiling * 0.2


def test_a_failed_send_schedules_the_retry_inside_the_backoff_window(caja, clock):
    with CentralClient("http://127.0.0.1:9", caja.token, timeout=0.5, clock=clock) as client:
        # Nothing listens on port 9: the attempt fails at once.
        [record] = reference_records(clock().date(), 1, amount=Decimal("100.00"))
        reference_cache.upsert(caja.uow(), [record])
        payment = caja.pay(record.reference, Decimal("100.00"))
        sender = OutboxSender(
            caja.uow, client, clock, random.Random(1), backoff_base=1.0, backoff_cap=60.0
        )
        before = clock()
        result = sender.drain()
    assert result.failed == 1 and result.offline and result.pending == 1
    entry = entry_of(caja, "payment", payment.uuid)
    assert entry.attempts == 1 and "conexión" in entry.last_error
    assert entry.next_attempt_at is not None
    wait = (entry.next_attempt_at - before).total_seconds()
    assert 0.0 <= wait <= 1.5
    assert client.link.snapshot().online is False


def test_a_void_is_never_sent_before_its_payment(central, caja, clock):
    [ref] = seed_references(central.db_url, 1, clock())
    with caja.client(central.base_url) as client:
        CacheRefresher(caja.uow, client).refresh()
        payment = caja.pay(ref, Decimal("100.00"))
        caja.void(payment.uuid, "El afiliado se arrepintió")
        sender = sender_for(caja, client)
        early = sender.send_now(entry_of(caja, "void", payment.uuid).id)
        assert early.outcome == "skipped"
        assert central_payments(central.db_url) == {}
        result = sender.drain()
    assert result.confirmed == 2
    assert central_payments(central.db_url) == {payment.uuid: (ref, "ANULADO")}
