"""The sender's contract with central: what the kiosk services queue vs. what central accepts.

The first tests document the mismatch (the payloads as the kiosk services write them are
refused by central's request validation); the last ones show that ``sync.contract`` turns
each of them into a body central applies.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from kiosk import reports, shifts, voids
from local_db.testing import FAST_HASHER, MANAGER_PIN
from sync.client import ProtocolError
from sync.contract import central_body
from sync.refresher import CacheRefresher
from tests.integration.sync_support import (
    business_clock,
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
def rig(tmp_path: Path, clock):
    """A caja with one payment, its void, its shift close and its day close all queued."""
    with central_on_loopback(clock) as central:
        caja = make_terminal(tmp_path / "caja.sqlite", clock, terminal_entry(central))
        refs = seed_references(central.db_url, 2, clock())
        client = caja.client(central.base_url)
        CacheRefresher(caja.uow, client).refresh()
        kept = caja.pay(refs[0], Decimal("100.00"))
        voided = caja.pay(refs[1], Decimal("100.00"))
        voids.void_payment(
            caja.uow(),
            voided.uuid,
            manager="gerente",
            manager_pin=MANAGER_PIN,
            reason="Error de captura",
            requested_by=caja.cashier_id,
            hasher=FAST_HASHER,
            clock=clock,
        )
        shifts.close_shift(caja.uow(), pieces={"b100": 6}, closed_by=caja.manager_id, clock=clock)
        reports.close_day(caja.uow(), closed_by=caja.manager_id, clock=clock)
        with caja.uow().reading() as uow:
            entries = {e.kind: e for e in uow.outbox.pending(limit=100)}
        yield central, caja, client, entries, (kept, voided)
        client.close()
        caja.close()


def test_the_queued_payloads_as_written_are_refused_by_central_validation(rig):
    central, caja, client, entries, _ = rig
    assert set(entries) == {"payment", "shift_close", "day_close"}  # the void waits its turn
    for kind in ("payment", "shift_close", "day_close"):
        e = entries[kind]
        with pytest.raises(ProtocolError) as refused:
            client.request(
                e.method, e.path, json=dict(e.payload), idempotency_key=e.idempotency_key
            )
        assert refused.value.status == 422
        assert refused.value.body["code"] == "SOLICITUD_INVALIDA"
        missing = {tuple(d["loc"]) for d in refused.value.body["detail"] if d["type"] == "missing"}
        assert ("body", "store_id") in missing
    assert central_payments(central.db_url) == {}


def test_the_closings_as_written_miss_their_uuid_and_use_another_kind_vocabulary(rig):
    _, _, client, entries, _ = rig
    for kind, word in (("shift_close", "shift"), ("day_close", "day")):
        e = entries[kind]
        assert e.payload["kind"] == word
        with pytest.raises(ProtocolError) as refused:
            client.request(e.method, e.path, json=dict(e.payload))
        problems = {d["loc"][-1]: d["type"] for d in refused.value.body["detail"]}
        assert problems["closing_uuid"] == "missing"
        assert problems["kind"] == "literal_error"


def test_the_void_as_written_names_the_manager_where_central_expects_authorized_by(rig):
    _, caja, _, _, (_, voided) = rig
    with caja.uow().reading() as uow:
        [void] = [e for e in _every(uow) if e.kind == "void"]
    assert void.subject == voided.uuid
    assert "manager" in void.payload and "authorized_by" not in void.payload
    assert "store_id" not in void.payload
    body = central_body(void, caja.store_id)
    assert body["authorized_by"] == "gerente" and body["store_id"] == caja.store_id


def _every(uow):
    ids = uow.execute(text("SELECT id FROM outbox ORDER BY id")).scalars().all()
    return [uow.outbox.get(i) for i in ids]


def test_every_mapped_request_is_applied_by_central(rig):
    central, caja, client, entries, (kept, voided) = rig
    answers = {}
    with caja.uow().reading() as uow:
        every = _every(uow)
    for e in every:  # oldest first: the payments, then the void, then the closes
        r = client.request(
            e.method, e.path, json=central_body(e, caja.store_id), idempotency_key=e.idempotency_key
        )
        answers[(e.kind, e.subject)] = r.status
    assert set(answers.values()) == {201}
    assert len(answers) == 5
    assert central_payments(central.db_url) == {
        kept.uuid: (kept.reference, "APLICADO"),
        voided.uuid: (voided.reference, "ANULADO"),
    }


def test_the_mapping_is_deterministic_so_a_retry_is_a_replay(rig):
    _, caja, client, entries, _ = rig
    e = entries["payment"]
    first = client.request(
        e.method, e.path, json=central_body(e, caja.store_id), idempotency_key=e.idempotency_key
    )
    again = client.request(
        e.method, e.path, json=central_body(e, caja.store_id), idempotency_key=e.idempotency_key
    )
    assert (first.status, again.status) == (201, 200)
    assert again.body == first.body
