"""Pure service logic on an in-memory unit of work: order of writes, refusals, arithmetic."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from kiosk import audit, cashier, reports, shifts
from kiosk.ports import MEXICO_CITY, AuditEntry, Refused
from kiosk.rules import Tender
from local_db.testing import FAST_HASHER, FixedClock, reference_records
from tests.unit.test_services_fake_uow import FakeUnitOfWork

D = Decimal


def test_a_payment_writes_row_then_outbox_then_audit_in_one_commit(world):
    uow, clock, s = world
    commits = uow.commits
    p = cashier.take_payment(
        uow,
        reference=s.references[0].reference,
        tender=Tender(cash=D("540.00")),
        cashier_id=s.cashier_id,
        clock=clock,
    )
    assert uow.log == ["payment", "outbox", "audit"]
    assert uow.commits == commits + 1
    assert uow.references.get(p.reference).local_payment_uuid == p.uuid


def test_a_refused_payment_leaves_the_state_as_it_was(world):
    uow, clock, s = world
    before = repr(uow.state)
    with pytest.raises(Refused):
        cashier.take_payment(
            uow,
            reference=s.references[0].reference,
            tender=Tender(cash=D("540.00")),
            cash_received=D("100.00"),
            cashier_id=s.cashier_id,
            clock=clock,
        )
    assert repr(uow.state) == before


def test_change_is_received_minus_applied_cash(world):
    uow, clock, s = world
    p = cashier.take_payment(
        uow,
        reference=s.references[0].reference,
        tender=Tender(cash=D("40.00"), card=D("500.00")),
        cash_received=D("50"),
        card_authorization="X1",
        cashier_id=s.cashier_id,
        clock=clock,
    )
    assert (p.cash_received, p.change) == (D("50.00"), D("10.00"))


def test_count_total_keys_the_twenty_bill_and_coin_apart():
    assert shifts.count_total({"b20": 1, "m20": 1, "m0.50": 3}) == D("41.50")
    assert shifts.DENOMINATION_LABELS["b20"] != shifts.DENOMINATION_LABELS["m20"]
    assert len(shifts.DENOMINATIONS) == 14  # SPEC 2.4, the 0.20 and 0.10 coins included


def test_a_count_with_a_float_number_of_pieces_is_refused():
    with pytest.raises(Refused):
        shifts.count_total({"b100": 1.5})  # type: ignore[dict-item]


def test_the_z_figures_ignore_other_days(world):
    uow, clock, s = world
    cashier.take_payment(
        uow,
        reference=s.references[0].reference,
        tender=Tender(cash=D("540.00")),
        cashier_id=s.cashier_id,
        clock=clock,
    )
    other_day = datetime(2025, 3, 12, 9, 0, tzinfo=MEXICO_CITY)
    uow.references.upsert_many(reference_records(other_day.date(), 1, start=50))
    assert reports.day_figures(uow, other_day.date()).payments == 0
    assert reports.day_figures(uow, clock=clock).total == D("540.00")


def _chain(n: int) -> list[AuditEntry]:
    uow, clock = FakeUnitOfWork(), FixedClock()
    for i in range(n):
        with uow:
            audit.record(uow, audit.LOGIN, f"u{i}", {"i": i, "monto": D("1.50")}, clock())
            uow.commit()
    return uow.audit.all()


def test_a_chain_verifies_with_its_head():
    entries = _chain(5)
    head = f"{entries[-1].id}:{entries[-1].hash}"
    assert audit.verify(entries, head) is None
    assert entries[0].prev_hash == audit.GENESIS
    assert entries[0].details == {"i": 0, "monto": "1.50"}


def test_a_reordered_chain_is_broken():
    entries = _chain(4)
    head = f"{entries[-1].id}:{entries[-1].hash}"
    broken = audit.verify([entries[0], entries[2], entries[1], entries[3]], head)
    assert broken is not None and broken.entry_id == 2


def test_a_truncated_chain_is_caught_by_the_head():
    entries = _chain(4)
    head = f"{entries[-1].id}:{entries[-1].hash}"
    broken = audit.verify(entries[:3], head)
    assert broken is not None and broken.entry_id == 4


def test_the_hash_depends_on_every_field():
    base = audit.entry_hash(audit.GENESIS, 1, "t", "a", "X", {"k": 1})
    assert (
        len(
            {
                base,
                audit.entry_hash("1" * 64, 1, "t", "a", "X", {"k": 1}),
                audit.entry_hash(audit.GENESIS, 2, "t", "a", "X", {"k": 1}),
                audit.entry_hash(audit.GENESIS, 1, "u", "a", "X", {"k": 1}),
                audit.entry_hash(audit.GENESIS, 1, "t", "b", "X", {"k": 1}),
                audit.entry_hash(audit.GENESIS, 1, "t", "a", "Y", {"k": 1}),
                audit.entry_hash(audit.GENESIS, 1, "t", "a", "X", {"k": 2}),
            }
        )
        == 7
    )


def test_the_fast_hasher_is_still_argon2id():
    assert FAST_HASHER.hash("1234").startswith("$argon2id$")


def test_a_refund_central_sent_malformed_is_refused_whole() -> None:
    from kiosk.refunds import Refund

    good = {"case_id": 7, "payment_uuid": "u", "reference": "250610000000000155",
            "amount": "540.00", "paid_at": "2025-06-10T10:00:00-06:00"}  # fmt: skip
    assert Refund.from_central(good).amount == Decimal("540.00")
    for broken in ({**good, "amount": "-5"}, {**good, "paid_at": "ayer"}, {"case_id": 7}):
        with pytest.raises(Refused) as exc:
            Refund.from_central(broken)
        assert exc.value.code == "DEVOLUCION_ILEGIBLE"
