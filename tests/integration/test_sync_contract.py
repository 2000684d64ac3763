"""The sender's contract with central: what the kiosk services queue is central's request body.

Every kind of entry the services write (payment, void, shift close, day close) is sent as it
sits in the outbox, with no translation, to the real central on loopback: central applies it
(201) and answers the same body again as a replay (200), never as a reused key.
"""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import BaseModel

from central import schemas
from kiosk import reports, shifts, terminal_state
from sync.outbox import OutboxSender
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

# What central reads each entry kind's body as (central/app.py).
_SCHEMA: dict[str, type[BaseModel]] = {
    "payment": schemas.PaymentIn,
    "void": schemas.VoidIn,
    "shift_close": schemas.ClosingIn,
    "day_close": schemas.ClosingIn,
}


@pytest.fixture
def clock():
    return business_clock()


@pytest.fixture
def rig(tmp_path: Path, clock):
    """A caja with two payments, a void of the second, its shift close and its day close,
    all queued by the kiosk services and none sent yet."""
    with central_on_loopback(clock) as central:
        caja = make_terminal(tmp_path / "caja.sqlite", clock, terminal_entry(central))
        refs = seed_references(central.db_url, 2, clock())
        client = caja.client(central.base_url)
        CacheRefresher(caja.uow, client).refresh()
        kept = caja.pay(refs[0], Decimal("100.00"))
        voided = caja.pay(refs[1], Decimal("100.00"))
        caja.void(voided.uuid, "Error de captura")
        shifts.close_shift(caja.uow(), pieces={"b100": 6}, closed_by=caja.manager_id, clock=clock)
        reports.close_day(caja.uow(), closed_by=caja.manager_id, clock=clock)
        yield central, caja, client, (kept, voided)
        client.close()
        caja.close()


def _queued(caja):
    """Every outbox entry, oldest first (``pending()`` holds a void back behind its payment)."""
    with caja.uow().reading() as uow:
        ids = [r[0] for r in uow.run("SELECT id FROM outbox ORDER BY id")]
        return [uow.outbox.get(i) for i in ids]


def test_every_kind_the_services_queue_is_queued_once_each(rig):
    _, caja, _, (kept, voided) = rig
    assert [(e.kind, e.subject) for e in _queued(caja)] == [
        ("payment", kept.uuid),
        ("payment", voided.uuid),
        ("void", voided.uuid),
        ("shift_close", "1"),
        ("day_close", "2025-03-11"),
    ]


def test_every_queued_body_names_only_fields_central_reads(rig):
    # Central ignores unknown fields silently: a misspelt one would be lost, not refused.
    _, caja, _, _ = rig
    for e in _queued(caja):
        schema = _SCHEMA[e.kind]
        assert set(e.payload) <= set(schema.model_fields), (e.kind, e.payload)
        schema.model_validate(e.payload)
        assert e.payload["store_id"] == caja.store_id


def test_the_closings_are_keyed_by_their_own_closing_uuid(rig):
    _, caja, _, _ = rig
    closings = [e for e in _queued(caja) if e.path == "/v1/closings"]
    assert [e.payload["kind"] for e in closings] == ["TURNO", "DIA"]
    assert all(e.payload["closing_uuid"] == e.idempotency_key for e in closings)
    assert closings[0].payload["report"]["cashier"] == "cajero"
    assert closings[1].payload["report"]["payments"] == 1  # the voided one does not count


def test_every_entry_as_queued_is_applied_then_replayed_by_central(rig):
    central, caja, client, (kept, voided) = rig
    for e in _queued(caja):  # oldest first: the payments, then the void, then the closes
        first = client.request(
            e.method, e.path, json=dict(e.payload), idempotency_key=e.idempotency_key
        )
        again = client.request(
            e.method, e.path, json=dict(e.payload), idempotency_key=e.idempotency_key
        )
        assert (first.status, again.status) == (201, 200), e.kind
        assert again.body == first.body
    assert central_payments(central.db_url) == {
        kept.uuid: (kept.reference, "APLICADO"),
        voided.uuid: (voided.reference, "ANULADO"),
    }
    assert (first.body["kind"], first.body["store_id"]) == ("DIA", caja.store_id)


def test_the_sender_sends_what_was_queued_even_after_the_identity_changed(rig, clock):
    # The store is fixed when the business event happens: a later change of the terminal's
    # identity must not change a queued body (central would answer a retry with
    # LLAVE_REUTILIZADA, or refuse another store's id with TIENDA_AJENA).
    central, caja, client, (kept, voided) = rig
    before = [dict(e.payload) for e in _queued(caja)]
    terminal_state.set_identity(
        caja.uow(), terminal_id="999", store_id="OTRA", actor="gerente", clock=clock
    )
    sender = OutboxSender(caja.uow, client, clock, random.Random(3))
    try:
        result = sender.drain(ignore_backoff=True)
    finally:
        sender.close()
    assert (result.confirmed, result.rejected, result.pending) == (5, 0, 0)
    after = _queued(caja)
    assert [e.payload for e in after] == before
    assert all(e.response and e.response["store_id"] == caja.store_id for e in after)
    assert central_payments(central.db_url) == {
        kept.uuid: (kept.reference, "APLICADO"),
        voided.uuid: (voided.reference, "ANULADO"),
    }
