"""Shifts, cash drops, the count, voids, reprints and the X/Z figures on a real file."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from kiosk import audit, cashier, reports, shifts, voids
from kiosk.ports import Refused
from kiosk.rules import Tender
from local_db.testing import (
    CASHIER_PIN,
    FAST_HASHER,
    MANAGER_PIN,
    FixedClock,
    Seeded,
    seed_terminal,
)

D = Decimal


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def seeded(uow, clock) -> Seeded:
    return seed_terminal(uow, clock, opening_float=D("500.00"))


def pay(uow, s, clock, i, cash="540.00", card="0.00", received=None, auth=""):
    return cashier.take_payment(
        uow,
        reference=s.references[i].reference,
        tender=Tender(cash=D(cash), card=D(card)),
        cash_received=D(received) if received else None,
        card_authorization=auth,
        cashier_id=s.cashier_id,
        clock=clock,
    )


def void(uow, s, clock, p, pin=MANAGER_PIN, manager="gerente", reason="error de cobro"):
    return voids.void_payment(
        uow,
        p.uuid,
        manager=manager,
        manager_pin=pin,
        reason=reason,
        requested_by=s.cashier_id,
        hasher=FAST_HASHER,
        clock=clock,
    )


# --- shifts ----------------------------------------------------------------------------


def test_a_second_shift_cannot_open_while_one_is_open(uow, seeded, clock):
    with pytest.raises(Refused) as exc:
        shifts.open_shift(uow, cashier_id=seeded.cashier_id, opening_float=D("100"), clock=clock)
    assert exc.value.code == "TURNO_ABIERTO"


def test_expected_cash_is_float_plus_cash_applied_minus_drops(uow, seeded, clock):
    pay(uow, seeded, clock, 0, cash="540.00", received="1000.00")  # change 460
    pay(uow, seeded, clock, 1, cash="40.00", card="500.00", received="50.00", auth="AB12")
    shifts.record_drop(uow, amount=D("300.00"), user_id=seeded.manager_id, clock=clock)
    status = shifts.shift_status(uow, blind=False)
    assert status.expected_cash == D("500.00") + D("540.00") + D("40.00") - D("300.00")
    assert status.payments == 2 and status.cash_drops == D("300.00")


def test_a_drop_larger_than_the_drawer_is_refused(uow, seeded, clock):
    with pytest.raises(Refused) as exc:
        shifts.record_drop(uow, amount=D("500.01"), user_id=seeded.manager_id, clock=clock)
    assert exc.value.code == "RETIRO_EXCEDE"


def test_the_close_records_a_shortage_as_counted_never_adjusted(uow, seeded, clock):
    pay(uow, seeded, clock, 0)  # expected 1040.00
    close = shifts.close_shift(
        uow,
        pieces={"b1000": 1, "b20": 1, "m20": 0, "m10": 1, "m5": 1, "m2": 2, "m0.50": 1},
        closed_by=seeded.cashier_id,
        clock=clock,
    )
    assert close.counted_cash == D("1039.50")
    assert close.expected_cash == D("1040.00")
    assert close.over_short == D("-0.50") and close.label == "FALTANTE"
    with uow.reading():
        shift = uow.shifts.get(close.shift.id)
        stored_count = uow.counts.get(close.shift.id)
        entry = [e for e in uow.outbox.pending() if e.kind == "shift_close"][0]
    assert shift.counted_cash == D("1039.50") and shift.over_short == D("-0.50")
    assert stored_count.pieces["b20"] == 1 and "m20" not in stored_count.pieces
    assert entry.path == "/v1/closings" and entry.payload["kind"] == "TURNO"
    assert entry.payload["closing_uuid"] == entry.idempotency_key
    assert entry.payload["store_id"] == "F-01" and entry.payload["business_date"] == "2025-03-11"
    assert entry.payload["closed_at"] == clock().isoformat()
    report = entry.payload["report"]
    assert report["over_short"] == "-0.50" and report["cashier"] == "cajero"
    assert report["count"]["b20"] == 1 and report["shift_id"] == close.shift.id


def test_the_twenty_peso_bill_and_coin_are_counted_apart(uow, seeded, clock):
    close = shifts.close_shift(
        uow, pieces={"b20": 10, "m20": 15}, closed_by=seeded.cashier_id, clock=clock
    )
    assert close.counted_cash == D("500.00") and close.over_short == D("0.00")
    assert close.count.pieces == {"b20": 10, "m20": 15}


def test_a_blind_count_hides_the_expected_cash_until_the_count_is_stored(uow, seeded, clock):
    pay(uow, seeded, clock, 0)
    assert shifts.shift_status(uow, blind=True).expected_cash is None
    close = shifts.close_shift(
        uow, pieces={"b1000": 1, "b50": 1}, closed_by=seeded.cashier_id, clock=clock
    )
    assert close.expected_cash == D("1040.00") and close.over_short == D("10.00")
    assert close.label == "SOBRANTE"


def test_an_unknown_denomination_or_negative_count_is_refused(uow, seeded, clock):
    for pieces, code in (
        ({"b2000": 1}, "DENOMINACION_INVALIDA"),
        ({"b100": -1}, "CONTEO_INVALIDO"),
    ):
        with pytest.raises(Refused) as exc:
            shifts.close_shift(uow, pieces=pieces, closed_by=seeded.cashier_id, clock=clock)
        assert exc.value.code == code
    assert shifts.current_shift(uow) is not None


def test_closing_without_an_open_shift_is_refused(uow, seeded, clock):
    shifts.close_shift(uow, pieces={"b500": 1}, closed_by=seeded.cashier_id, clock=clock)
    with pytest.raises(Refused) as exc:
        shifts.close_shift(uow, pieces={}, closed_by=seeded.cashier_id, clock=clock)
    assert exc.value.code == "SIN_TURNO"


# --- voids -----------------------------------------------------------------------------


def test_a_void_makes_the_referencia_payable_again_and_queues_it(uow, seeded, clock):
    p = pay(uow, seeded, clock, 0)
    v = void(uow, seeded, clock, p)
    assert v.reason == "error de cobro" and v.manager_id == seeded.manager_id
    with uow:
        assert uow.references.get(p.reference).local_payment_uuid is None
        assert uow.outbox.status_of("void", p.uuid) == "pendiente"
        assert uow.audit.last().action == "CANCELACION"
        uow.outbox.mark_confirmed(uow.outbox.pending(limit=1)[0].id, {"status": 201})
        uow.commit()
    with uow.reading():
        entry = [e for e in uow.outbox.pending(limit=10) if e.kind == "void"][0]
    assert entry.path == f"/v1/payments/{p.uuid}/void"
    assert entry.payload == {
        "store_id": "F-01",
        "reason": v.reason,
        "voided_at": v.at.isoformat(),
        "authorized_by": "gerente",
    }
    again = pay(uow, seeded, clock, 0)
    assert again.uuid != p.uuid
    assert shifts.shift_status(uow, blind=False).expected_cash == D("1040.00")


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"pin": "0000"}, "CREDENCIALES_INVALIDAS"),
        ({"manager": "cajero", "pin": CASHIER_PIN}, "REQUIERE_GERENTE"),
        ({"reason": "  "}, "MOTIVO_REQUERIDO"),
    ],
)
def test_a_void_without_a_managers_pin_or_reason_is_refused(uow, seeded, clock, kwargs, code):
    p = pay(uow, seeded, clock, 0)
    with pytest.raises(Refused) as exc:
        void(uow, seeded, clock, p, **kwargs)
    assert exc.value.code == code
    with uow.reading():
        assert uow.voids.for_payment(p.uuid) is None
        assert uow.references.get(p.reference).local_payment_uuid == p.uuid


def test_a_payment_cannot_be_voided_twice(uow, seeded, clock):
    p = pay(uow, seeded, clock, 0)
    void(uow, seeded, clock, p)
    with pytest.raises(Refused) as exc:
        void(uow, seeded, clock, p)
    assert exc.value.code == "YA_CANCELADO"


def test_a_void_after_the_shift_closed_is_refused(uow, seeded, clock):
    p = pay(uow, seeded, clock, 0)
    shifts.close_shift(uow, pieces={"b1000": 1}, closed_by=seeded.cashier_id, clock=clock)
    with pytest.raises(Refused) as exc:
        void(uow, seeded, clock, p)
    assert exc.value.code == "TURNO_CERRADO"


def test_a_void_the_next_day_is_refused(uow, seeded, clock):
    p = pay(uow, seeded, clock, 0)
    clock.advance(days=1)
    with pytest.raises(Refused) as exc:
        void(uow, seeded, clock, p)
    assert exc.value.code == "FUERA_DE_PLAZO"


def reprint(uow, s, clock, uuid, user_id, pin=MANAGER_PIN, manager="gerente"):
    return cashier.record_reprint(
        uow,
        uuid,
        user_id=user_id,
        manager=manager,
        manager_pin=pin,
        hasher=FAST_HASHER,
        clock=clock,
    )


def test_reprints_are_counted_per_payment(uow, seeded, clock):
    p = pay(uow, seeded, clock, 0)
    assert reprint(uow, seeded, clock, p.uuid, seeded.cashier_id) == 1
    assert reprint(uow, seeded, clock, p.uuid, seeded.manager_id) == 2
    assert cashier.receipt_info(uow, p.uuid).reprints == 2
    with pytest.raises(Refused) as exc:
        reprint(uow, seeded, clock, "no-existe", seeded.cashier_id)
    assert exc.value.code == "PAGO_DESCONOCIDO"


def test_a_reprint_needs_a_managers_pin_and_the_log_says_who_approved_it(uow, seeded, clock):
    p = pay(uow, seeded, clock, 0)
    for manager, pin, code in (
        ("gerente", "0000", "CREDENCIALES_INVALIDAS"),
        ("cajero", CASHIER_PIN, "REQUIERE_GERENTE"),
    ):
        with pytest.raises(Refused) as exc:
            reprint(uow, seeded, clock, p.uuid, seeded.cashier_id, pin=pin, manager=manager)
        assert exc.value.code == code
    assert cashier.receipt_info(uow, p.uuid).reprints == 0
    assert reprint(uow, seeded, clock, p.uuid, seeded.cashier_id) == 1
    with uow.reading():
        line = [e for e in uow.audit.all() if e.action == audit.REPRINT][-1]
    assert line.actor == "cajero" and line.details["autorizo"] == "gerente"


# --- X and Z ---------------------------------------------------------------------------


def test_the_x_figures_add_up_by_method_and_list_voids_and_pending(uow, seeded, clock):
    a = pay(uow, seeded, clock, 0, received="600.00")
    b = pay(uow, seeded, clock, 1, cash="140.00", card="400.00", auth="Z9")
    c = pay(uow, seeded, clock, 2, cash="0.00", card="540.00", auth="Y8")
    void(uow, seeded, clock, c)
    reprint(uow, seeded, clock, a.uuid, seeded.cashier_id)
    with uow:
        entry = [e for e in uow.outbox.pending() if e.subject == a.uuid][0]
        uow.outbox.mark_confirmed(entry.id, {"status": 201})
        uow.commit()
    x = reports.day_figures(uow, clock=clock)
    assert x.payments == 2 and x.total == D("1080.00")
    assert x.cash_total == D("680.00") and x.card_total == D("400.00")
    assert x.change_given == D("60.00")
    assert [(line.folio, line.authorization) for line in x.card_lines] == [(b.folio, "Z9")]
    assert [v.folio for v in x.voids] == [c.folio] and x.voided_total == D("540.00")
    assert x.reprints == 1
    assert {u.uuid for u in x.unconfirmed} == {b.uuid, c.uuid}
    assert x.closed_at is None


def test_the_day_close_refuses_while_a_shift_is_open(uow, seeded, clock):
    with pytest.raises(Refused) as exc:
        reports.close_day(uow, closed_by=seeded.manager_id, clock=clock)
    assert exc.value.code == "TURNO_ABIERTO"


def test_the_day_close_freezes_the_z_figures_and_queues_them(uow, seeded, clock):
    pay(uow, seeded, clock, 0)
    shifts.close_shift(uow, pieces={"b1000": 1, "b20": 1}, closed_by=seeded.cashier_id, clock=clock)
    with pytest.raises(Refused) as exc:
        reports.close_day(uow, closed_by=seeded.cashier_id, clock=clock)
    assert exc.value.code == "REQUIERE_GERENTE"
    z = reports.close_day(uow, closed_by=seeded.manager_id, clock=clock)
    assert z.closed_at == clock() and z.over_short == D("-20.00")
    with uow.reading():
        stored = uow.day_closes.get(z.business_date)
        # Queued, but not yet due: a day close waits for what was queued before it.
        assert [e for e in uow.outbox.pending() if e.kind == "day_close"] == []
        entry = next(e for i in range(1, 50) if (e := uow.outbox.get(i)) and e.kind == "day_close")
    assert stored.figures["total"] == "540.00"
    assert entry.payload["kind"] == "DIA" and entry.payload["closing_uuid"] == entry.idempotency_key
    assert (
        entry.payload["store_id"] == "F-01"
        and entry.payload["closed_at"] == z.closed_at.isoformat()
    )
    assert entry.payload["business_date"] == z.business_date.isoformat()
    assert entry.payload["report"] == stored.figures and stored.figures["over_short"] == "-20.00"
    with pytest.raises(Refused) as exc:
        reports.close_day(uow, closed_by=seeded.manager_id, clock=clock)
    assert exc.value.code == "DIA_CERRADO"
    clock.advance(days=1)
    assert reports.day_figures(uow, clock=clock).payments == 0
    assert reports.day_figures(uow, (clock() - timedelta(days=1)).date()).closed_at is not None
