"""Central's batched payment path on PostgreSQL (central/pgpay.py) against the Core path.

The Core path is the reference: the same payment, taken by each path on twin databases seeded
alike, must leave the same rows and give the same answer. The guard that makes the batched path
safe, writing only over the exact rows the decision read, is checked directly.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from alembic import command
from sqlalchemy import select, text

from central import db as dbmod
from central import pgpay
from central import service as svc
from central.demo import seed_demo
from central.models import Terminal
from kiosk.rules import Policy
from tests.integration.central_support import BUSINESS_NOW, _pg_url, fresh_pg_database

POLICY = Policy(version=1)
KEY = "0f0e0d0c-0b0a-4908-8706-050403020100"

pytestmark = pytest.mark.skipif(
    _pg_url() is None, reason="PostgreSQL: defina ISSEG_TEST_PG_URL para estas pruebas"
)


@dataclass
class Seeded:
    url: str
    db: dbmod.Database
    demo: dict[str, Any]
    who: svc.TerminalPrincipal

    def dsn(self) -> str:
        return dbmod.libpq_dsn(self.url)


def _seeded(url: str) -> Seeded:
    dbmod.upgrade(url)
    db = dbmod.Database(url)
    demo = seed_demo(db, BUSINESS_NOW, POLICY)
    with db.read() as s:
        t = (
            s.execute(
                select(Terminal)
                .where(Terminal.store_id == "F001", Terminal.kind == "caja")
                .order_by(Terminal.terminal_id)
            )
            .scalars()
            .first()
        )
        assert t is not None
        who = svc.TerminalPrincipal(t.terminal_id, t.store_id, t.kind, t.name)
    return Seeded(url, db, demo, who)


@pytest.fixture
def twins() -> Iterator[tuple[Seeded, Seeded]]:
    base = _pg_url()
    assert base is not None
    with fresh_pg_database(base) as first_url, fresh_pg_database(base) as second_url:
        first, second = _seeded(first_url), _seeded(second_url)
        try:
            yield first, second
        finally:
            first.db.dispose()
            second.db.dispose()


def _request(ref: dict[str, Any]) -> svc.PaymentRequest:
    amount = Decimal(ref["amount"])
    return svc.PaymentRequest(
        reference=ref["reference"],
        store_id="F001",
        amount=amount,
        cash=amount,
        card=Decimal("0.00"),
        paid_at=BUSINESS_NOW,
        cashier="cajero1",
    )


def _state(seeded: Seeded, reference: str) -> dict[str, Any]:
    """Every row a payment of ``reference`` may write, as plain values."""
    with seeded.db.reading() as conn:
        loan_id = conn.execute(
            text("SELECT loan_id FROM payment_references WHERE reference = :r"), {"r": reference}
        ).scalar_one()
        queries = {
            "payments": "SELECT * FROM payments ORDER BY payment_uuid",
            "claims": "SELECT * FROM reference_claims ORDER BY reference",
            "reconciliation": "SELECT * FROM reconciliation ORDER BY reconciliation_id",
            "references": "SELECT reference, status, version, change_seq, replaced_by "
            "FROM payment_references WHERE loan_id = :loan ORDER BY reference",
            "loan": "SELECT * FROM loans WHERE loan_id = :loan",
            "installments": "SELECT * FROM loan_installments WHERE loan_id = :loan ORDER BY number",
        }
        return {
            name: [dict(row._mapping) for row in conn.execute(text(sql), {"loan": loan_id})]
            for name, sql in queries.items()
        }


def _abono(seeded: Seeded) -> dict[str, Any]:
    """A fresh ABONO ficha on the first demo loan (it replaces that loan's ficha)."""
    loan = seeded.demo["references"][0]
    return svc.kiosk_slip(
        seeded.db,
        loan["member_number"],
        loan_id=loan["loan_id"],
        kind="ABONO",
        quincenas=None,
        amount=Decimal("2000.00"),
        now=BUSINESS_NOW,
        policy=POLICY,
    )


@pytest.mark.parametrize("case", ["quincenal", "liquidacion", "otra quincenal", "abono"])
def test_a_payment_leaves_the_same_rows_and_answer_on_the_batched_path_as_on_the_core_path(
    twins: tuple[Seeded, Seeded], case: str
) -> None:
    core, batched = twins
    if case == "abono":
        refs = [_abono(core), _abono(batched)]
        assert refs[0]["reference"] == refs[1]["reference"]
        ref = refs[0]
    else:
        index = ["quincenal", "liquidacion", "otra quincenal"].index(case)
        ref = core.demo["references"][index]
    req = _request(ref)
    before = _state(batched, ref["reference"])

    expected = svc.record_payment(core.db, KEY, req, core.who, BUSINESS_NOW, POLICY)

    async def take() -> svc.Outcome | None:
        payments = pgpay.PgPayments(batched.url)
        try:
            return await payments.record(
                KEY, req, svc.Received.at(batched.who, BUSINESS_NOW, POLICY)
            )
        finally:
            await payments.close()

    got = asyncio.run(take())
    assert got is not None, "the batched path should take a plain payment, not hand it over"
    assert (got.status, got.body) == (expected.status, expected.body) == (201, expected.body)
    assert _state(batched, ref["reference"]) == _state(core, ref["reference"])
    after = _state(batched, ref["reference"])
    if case in ("liquidacion", "abono"):  # a prepayment: the loan row changes
        assert after["loan"][0]["prepayments"] > before["loan"][0]["prepayments"]
    else:  # a quincena: its installment is paid
        assert after["installments"] != before["installments"]


def _item(seeded: Seeded, ref: dict[str, Any], key: str, stamp: str) -> dict[str, Any]:
    """What the batched path sends ``isseg_apply_payments`` for paying ``ref`` under ``key``,
    decided on the rows as they are now but sent with ``stamp``."""
    req = _request(ref)
    with seeded.db.reading() as conn:
        row = conn.exec_driver_sql(pgpay._READ, ([ref["reference"]],)).one()
    found, installments, _ = pgpay._ref(tuple(row))
    decision = svc.judge_payment(
        svc.Received.at(seeded.who, BUSINESS_NOW, POLICY),
        key,
        req,
        svc.payment_digest(req, seeded.who),
        found,
        pgpay._given(installments),
    )
    assert isinstance(decision, svc.Acceptance)
    return pgpay._item_json(stamp, decision)


def _apply(conn: psycopg.Connection[Any], items: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    return [(str(k), bool(ok)) for k, ok in conn.execute(pgpay._APPLY, (json.dumps(items),))]


def _stamp(conn: psycopg.Connection[Any], reference: str) -> str:
    row = conn.execute("SELECT isseg_payment_stamp(%s)", (reference,)).fetchone()
    assert row is not None
    return str(row[0])


def test_a_payment_decided_on_rows_that_changed_since_writes_nothing(
    twins: tuple[Seeded, Seeded],
) -> None:
    seeded, _ = twins
    ref = seeded.demo["references"][0]
    before = _state(seeded, ref["reference"])
    with psycopg.connect(seeded.dsn(), autocommit=True) as conn:
        stamp = _stamp(conn, ref["reference"])
        # What a void or another payment of the same loan does meanwhile: rewrite its rows.
        conn.execute("UPDATE loans SET status = status WHERE loan_id = %s", (ref["loan_id"],))

        assert _apply(conn, [_item(seeded, ref, KEY, stamp)]) == [(KEY, False)]
        assert _state(seeded, ref["reference"]) == before

        fresh = _stamp(conn, ref["reference"])
        assert fresh != stamp
        assert _apply(conn, [_item(seeded, ref, KEY, fresh)]) == [(KEY, True)]
    after = _state(seeded, ref["reference"])
    assert [p["payment_uuid"] for p in after["payments"]] == [KEY]
    assert after["claims"] == [{"reference": ref["reference"], "payment_uuid": KEY}]


def test_a_payment_that_fails_in_a_batch_writes_nothing_and_leaves_the_others_applied(
    twins: tuple[Seeded, Seeded],
) -> None:
    seeded, _ = twins
    first, second = seeded.demo["references"][0], seeded.demo["references"][2]
    with psycopg.connect(seeded.dsn(), autocommit=True) as conn:
        items = [_item(seeded, ref, KEY, _stamp(conn, ref["reference"])) for ref in (first, second)]
        # Both under one key: the second fails on the payment's primary key, after it has
        # already marked its referencia paid.
        assert _apply(conn, items) == [(KEY, True), (KEY, False)]
    assert _state(seeded, first["reference"])["references"][0]["status"] == "PAGADA"
    untouched = _state(seeded, second["reference"])
    assert untouched["references"][0]["status"] == "VIGENTE"
    assert untouched["installments"] == _state(twins[1], second["reference"])["installments"]


def test_the_payment_functions_come_and_go_with_their_migration() -> None:
    base = _pg_url()
    assert base is not None
    names = "SELECT proname FROM pg_proc WHERE proname LIKE 'isseg_%' ORDER BY proname"
    with fresh_pg_database(base) as url:
        dbmod.upgrade(url)
        engine = dbmod.make_engine(url)
        try:
            with engine.connect() as conn:
                assert conn.execute(text(names)).scalars().all() == [
                    "isseg_apply_payments",
                    "isseg_payment_stamp",
                ]
            command.downgrade(dbmod.alembic_config(url), "0001")
            with engine.connect() as conn:
                assert conn.execute(text(names)).scalars().all() == []
            dbmod.upgrade(url)
            with engine.connect() as conn:
                assert len(conn.execute(text(names)).scalars().all()) == 2
        finally:
            engine.dispose()


@pytest.mark.timeout(60)
def test_payments_one_right_after_another_on_one_worker_are_each_answered(
    twins: tuple[Seeded, Seeded],
) -> None:
    _, seeded = twins
    refs = [seeded.demo["references"][0], seeded.demo["references"][2]]
    keys = [str(uuid.uuid4()) for _ in refs]

    async def one_after_another() -> list[svc.Outcome | None]:
        payments = pgpay.PgPayments(seeded.url)
        rx = svc.Received.at(seeded.who, BUSINESS_NOW, POLICY)
        try:
            # Awaited directly (no wait_for, whose extra task hop would hide it), the second
            # arrives before the lane that answered the first has finished ending.
            return [
                await payments.record(key, _request(ref), rx)
                for key, ref in zip(keys, refs, strict=True)
            ]
        finally:
            await payments.close()

    answers = asyncio.run(one_after_another())
    assert [a.status if a else None for a in answers] == [201, 201]
    assert [a.body["payment_uuid"] for a in answers if a] == keys
