"""The referencia cache and the outbox API the sync helper uses, on a real file."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from kiosk import cashier, reference_cache, voids
from kiosk.rules import Tender
from local_db.testing import (
    FAST_HASHER,
    MANAGER_PIN,
    FixedClock,
    reference_records,
    seed_terminal,
)

D = Decimal
DAY = date(2025, 3, 11)


def test_thousands_of_referencias_are_upserted_at_once_and_looked_up(uow):
    records = reference_records(DAY, 5000)
    assert reference_cache.upsert(uow, records, cursor="c-5000") == 5000
    with uow.reading():
        assert uow.references.count() == 5000
    assert reference_cache.lookup(uow, records[1234].reference) == records[1234]
    assert reference_cache.lookup(uow, "250311999999999999") is None
    assert reference_cache.cursor(uow) == "c-5000"


def test_a_newer_version_from_the_feed_updates_the_row(uow):
    [r] = reference_records(DAY, 1)
    reference_cache.upsert(uow, [r])
    reference_cache.upsert(uow, [replace(r, status="SUSTITUIDA", version=2)])
    assert reference_cache.lookup(uow, r.reference).status == "SUSTITUIDA"


def test_an_older_version_replayed_never_overwrites_a_newer_one(uow):
    [r] = reference_records(DAY, 1)
    reference_cache.upsert(uow, [replace(r, status="CANCELADA", version=5)])
    reference_cache.upsert(uow, [replace(r, version=4)])
    assert reference_cache.lookup(uow, r.reference).status == "CANCELADA"


def test_the_upsert_keeps_the_local_payment_mark(uow):
    [r] = reference_records(DAY, 1)
    reference_cache.upsert(uow, [r])
    with uow:
        uow.references.mark_paid(r.reference, "uuid-local")
        uow.commit()
    reference_cache.upsert(uow, [replace(r, version=1, member_name="OTRO")])
    got = reference_cache.lookup(uow, r.reference)
    assert got.local_payment_uuid == "uuid-local" and got.member_name == "OTRO"


def test_the_cursor_can_be_set_alone(uow):
    assert reference_cache.cursor(uow) is None
    reference_cache.set_cursor(uow, "abc")
    assert reference_cache.cursor(uow) == "abc"


@pytest.fixture
def paid(uow):
    clock = FixedClock()
    s = seed_terminal(uow, clock, references=3)
    payments = [
        cashier.take_payment(
            uow,
            reference=r.reference,
            tender=Tender(cash=D("540.00")),
            cashier_id=s.cashier_id,
            clock=clock,
        )
        for r in s.references
    ]
    return clock, s, payments


def test_pending_entries_come_oldest_first_with_their_request(uow, paid):
    _, _, payments = paid
    with uow.reading():
        pending = uow.outbox.pending(limit=2)
    assert [e.subject for e in pending] == [payments[0].uuid, payments[1].uuid]
    assert all(e.method == "POST" and e.path == "/v1/payments" for e in pending)


def test_a_confirmed_entry_leaves_the_queue_and_the_receipt_says_confirmed(uow, paid):
    _, _, payments = paid
    with uow:
        first = uow.outbox.pending(limit=1)[0]
        uow.outbox.mark_confirmed(first.id, {"status": 201, "id": "central-1"})
        uow.commit()
    with uow.reading():
        assert first.id not in [e.id for e in uow.outbox.pending()]
        assert uow.outbox.get(first.id).response == {"status": 201, "id": "central-1"}
        counts = uow.outbox.counts()
    assert (counts.pending, counts.rejected) == (2, 0)
    assert cashier.receipt_info(uow, payments[0].uuid).confirmed
    assert not cashier.receipt_info(uow, payments[1].uuid).confirmed


def test_a_rejected_entry_is_kept_for_the_manager_and_never_dropped(uow, paid):
    _, _, payments = paid
    with uow:
        entry = uow.outbox.pending(limit=1)[0]
        uow.outbox.mark_rejected(entry.id, "PAGADA", "Ya pagada en otra farmacia")
        uow.commit()
    with uow.reading():
        [rejected] = uow.outbox.rejected()
        assert rejected.rejection_code == "PAGADA"
        assert rejected.subject == payments[0].uuid
        assert rejected.payload["reference"] == payments[0].reference
        assert uow.outbox.counts().rejected == 1
        assert payments[0].uuid in uow.outbox.unconfirmed_subjects("payment")


def test_a_failed_attempt_backs_off_until_its_time(uow, paid):
    clock, _, _ = paid
    later = clock() + timedelta(seconds=30)
    with uow:
        entry = uow.outbox.pending(limit=1)[0]
        uow.outbox.record_attempt(entry.id, "timeout", later)
        uow.commit()
    with uow.reading():
        due_now = uow.outbox.pending(now=clock())
        due_later = uow.outbox.pending(now=later)
        got = uow.outbox.get(entry.id)
    assert entry.id not in [e.id for e in due_now]
    assert due_later[0].id == entry.id
    assert got.attempts == 1 and got.last_error == "timeout"


def test_the_oldest_pending_age_is_reported(uow, paid):
    clock, _, _ = paid
    with uow.reading():
        counts = uow.outbox.counts()
    assert counts.oldest_pending_age(clock() + timedelta(minutes=2)) == 120.0


def test_a_void_is_not_sent_before_its_payment(uow, paid):
    clock, s, payments = paid
    voids.void_payment(
        uow,
        payments[0].uuid,
        manager="gerente",
        manager_pin=MANAGER_PIN,
        reason="cobro duplicado",
        requested_by=s.cashier_id,
        hasher=FAST_HASHER,
        clock=clock,
    )
    with uow:
        pay_entry = uow.outbox.pending(limit=1)[0]
        uow.outbox.record_attempt(pay_entry.id, "sin red", clock() + timedelta(minutes=5))
        uow.commit()
    with uow.reading():
        kinds = [(e.kind, e.subject) for e in uow.outbox.pending(now=clock())]
    assert ("void", payments[0].uuid) not in kinds
    with uow:
        uow.outbox.mark_confirmed(pay_entry.id, {"status": 201})
        uow.commit()
    with uow.reading():
        kinds = [(e.kind, e.subject) for e in uow.outbox.pending(now=clock())]
    assert ("void", payments[0].uuid) in kinds
