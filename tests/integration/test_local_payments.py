"""Taking a payment on a real SQLite file: what is written, and every refusal."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

import local_db
from kiosk import cashier, reference_cache, reports, shifts
from kiosk.ports import Refused
from kiosk.references import CANCELADA, SUSTITUIDA, ReferenceRecord, issue
from kiosk.rules import Policy, Tender
from local_db.testing import FixedClock, Seeded, reference_records, seed_terminal

D = Decimal


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def seeded(uow, clock) -> Seeded:
    return seed_terminal(uow, clock)


def raw_counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("payments", "outbox", "audit_log")
        } | {
            "marked": conn.execute(
                "SELECT count(*) FROM reference_cache WHERE local_payment_uuid IS NOT NULL"
            ).fetchone()[0]
        }
    finally:
        conn.close()


def pay(uow, seeded, clock, ref=None, **kw):
    kw.setdefault("tender", Tender(cash=D("540.00")))
    return cashier.take_payment(
        uow,
        reference=ref or seeded.references[0].reference,
        cashier_id=seeded.cashier_id,
        clock=clock,
        **kw,
    )


def test_a_payment_writes_the_row_the_cache_mark_and_the_outbox_entry(db, uow, seeded, clock):
    p = pay(
        uow,
        seeded,
        clock,
        tender=Tender(cash=D("300.00"), card=D("240.00")),
        cash_received=D("500"),
        card_authorization="A1B2C3",
    )
    assert p.folio == 1 and p.amount == D("540.00") and p.change == D("200.00")
    assert p.paid_at.utcoffset() == timedelta(hours=-6)
    with uow.reading():
        assert uow.payments.get(p.uuid) == p
        assert uow.references.get(p.reference).local_payment_uuid == p.uuid
        [entry] = uow.outbox.pending()
        assert uow.audit.last().action == "PAGO"
    assert entry.idempotency_key == p.uuid and entry.path == "/v1/payments"
    # Central's PaymentIn as it is, written now: the store and the cashier's username included.
    assert entry.payload == {
        "reference": p.reference,
        "store_id": "F-01",
        "amount": "540.00",
        "cash": "300.00",
        "card": "240.00",
        "paid_at": "2025-03-11T10:30:00-06:00",
        "cashier": "cajero",
    }


def test_folios_run_in_sequence_per_terminal(uow, seeded, clock):
    folios = [pay(uow, seeded, clock, ref=r.reference).folio for r in seeded.references[:3]]
    assert folios == [1, 2, 3]


def test_paying_the_same_referencia_twice_is_refused_as_pagada_even_offline(db, uow, seeded, clock):
    pay(uow, seeded, clock)
    before = raw_counts(db.path)
    with pytest.raises(Refused) as exc:
        pay(uow, seeded, clock, online=False)
    assert exc.value.code == "PAGADA"
    assert raw_counts(db.path) == before


def test_the_scan_check_says_pagada_after_a_payment(uow, seeded, clock):
    ref = seeded.references[0].reference
    assert cashier.check(uow, ref, clock=clock).ok
    pay(uow, seeded, clock)
    assert cashier.check(uow, ref, clock=clock).code == "PAGADA"


def test_a_feed_page_still_saying_vigente_does_not_make_a_paid_referencia_payable(
    uow, seeded, clock
):
    p = pay(uow, seeded, clock)
    reference_cache.upsert(uow, [seeded.references[0]])
    assert reference_cache.lookup(uow, p.reference).local_payment_uuid == p.uuid
    with pytest.raises(Refused, match="ya se cobró"):
        pay(uow, seeded, clock)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"tender": Tender(cash=D("539.99"))}, "MONTO_DISTINTO"),
        ({"tender": Tender(cash=D("540.01"))}, "MONTO_DISTINTO"),
        (
            {"tender": Tender(cash=D("540.00")), "cash_received": D("500.00")},
            "EFECTIVO_INSUFICIENTE",
        ),
        ({"tender": Tender(card=D("540.00"))}, "AUTORIZACION_REQUERIDA"),
        (
            {"tender": Tender(card=D("540.00")), "card_authorization": "4111 1111 1111 1111"},
            "AUTORIZACION_INVALIDA",
        ),
        (
            {"tender": Tender(card=D("540.00")), "card_authorization": "4111111111111111"},
            "AUTORIZACION_INVALIDA",
        ),
        (
            {"tender": Tender(cash=D("540.00")), "card_authorization": "123456"},
            "AUTORIZACION_INVALIDA",
        ),
        ({"clock_skew": timedelta(minutes=10)}, "RELOJ_DESFASADO"),
    ],
)
def test_a_payment_breaking_a_tender_rule_is_refused_and_writes_nothing(
    db, uow, seeded, clock, change, code
):
    before = raw_counts(db.path)
    with pytest.raises(Refused) as exc:
        pay(uow, seeded, clock, **change)
    assert exc.value.code == code
    assert exc.value.message
    assert raw_counts(db.path) == before


def test_cash_above_the_cap_is_refused_and_a_split_with_card_is_taken(uow, seeded, clock):
    big = ReferenceRecord(
        reference=str(issue(clock().date(), 9000)), amount=D("45000.00"), issued_on=clock().date()
    )
    reference_cache.upsert(uow, [big])
    with pytest.raises(Refused) as exc:
        pay(uow, seeded, clock, ref=big.reference, tender=Tender(cash=D("45000.00")))
    assert exc.value.code == "EXCEDE_TOPE_EFECTIVO"
    p = pay(
        uow,
        seeded,
        clock,
        ref=big.reference,
        tender=Tender(cash=D("30000.00"), card=D("15000.00")),
        card_authorization="778899",
    )
    assert p.cash == D("30000.00") and p.card == D("15000.00")


def test_the_cash_cap_comes_from_the_terminals_policy(uow, seeded, clock):
    with pytest.raises(Refused) as exc:
        pay(uow, seeded, clock, policy=Policy(cash_cap=D("500.00")))
    assert exc.value.code == "EXCEDE_TOPE_EFECTIVO"


@pytest.mark.parametrize(("status", "code"), [(SUSTITUIDA, "SUSTITUIDA"), (CANCELADA, "CANCELADA")])
def test_a_referencia_that_is_not_vigente_is_refused(uow, seeded, clock, status, code):
    r = seeded.references[1]
    reference_cache.upsert(
        uow,
        [
            ReferenceRecord(
                reference=r.reference,
                amount=r.amount,
                issued_on=r.issued_on,
                status=status,
                version=1,
            )
        ],
    )
    with pytest.raises(Refused) as exc:
        pay(uow, seeded, clock, ref=r.reference)
    assert exc.value.code == code


def test_a_ficha_from_yesterday_is_refused_as_caducada(uow, seeded, clock):
    [old] = reference_records(clock().date() - timedelta(days=1), 1, start=500)
    reference_cache.upsert(uow, [old])
    with pytest.raises(Refused) as exc:
        pay(uow, seeded, clock, ref=old.reference)
    assert exc.value.code == "CADUCADA"


def test_after_the_window_closes_a_payment_is_refused(uow, seeded, clock):
    clock.now = clock.now.replace(hour=22, minute=0)
    with pytest.raises(Refused) as exc:
        pay(uow, seeded, clock)
    assert exc.value.code == "FUERA_DE_HORARIO"


def test_on_a_holiday_a_payment_is_refused(uow, seeded, clock):
    holiday = date(2025, 3, 17)  # natalicio de Benito Juárez, observed
    clock.now = clock.now.replace(month=3, day=17)
    [rec] = reference_records(holiday, 1, start=700)
    reference_cache.upsert(uow, [rec])
    with pytest.raises(Refused) as exc:
        pay(uow, seeded, clock, ref=rec.reference)
    assert exc.value.code == "DIA_INHABIL"


def test_an_unknown_or_malformed_referencia_is_refused(uow, seeded, clock):
    unknown = str(issue(clock().date(), 123456))
    with pytest.raises(Refused) as exc:
        pay(uow, seeded, clock, ref=unknown, online=False)
    assert exc.value.code == "NO_ENCONTRADA" and "Sin conexión" in exc.value.message
    with pytest.raises(Refused) as exc:
        pay(uow, seeded, clock, ref="12345")
    assert exc.value.code == "REFERENCIA_INVALIDA"


def test_without_an_open_shift_a_payment_is_refused(db, tmp_path, clock):
    uow = db.unit_of_work()
    s = seed_terminal(uow, clock, open_shift=False)
    with pytest.raises(Refused) as exc:
        pay(uow, s, clock)
    assert exc.value.code == "SIN_TURNO"


def test_after_the_day_close_no_payment_is_taken_that_day(db, uow, seeded, clock):
    shifts.close_shift(uow, pieces={"b500": 1}, closed_by=seeded.cashier_id, clock=clock)
    reports.close_day(uow, closed_by=seeded.manager_id, clock=clock)
    shifts_refused = pytest.raises(Refused)
    with shifts_refused as exc:
        shifts.open_shift(uow, cashier_id=seeded.cashier_id, opening_float=D("0"), clock=clock)
    assert exc.value.code == "DIA_CERRADO"
    with pytest.raises(Refused) as exc:
        pay(uow, seeded, clock)
    assert exc.value.code == "DIA_CERRADO"


def test_a_read_only_database_refuses_the_payment_and_changes_nothing(db, uow, seeded, clock):
    before = raw_counts(db.path)
    ro = local_db.open_database(db.path, read_only=True)
    try:
        with pytest.raises(Refused) as exc:
            pay(ro.unit_of_work(), seeded, clock)
        assert exc.value.code == "SOLO_LECTURA"
        assert "NO se registró" in exc.value.message
    finally:
        ro.close()
    assert raw_counts(db.path) == before


def test_a_full_disk_refuses_the_payment_and_leaves_nothing_half_written(tmp_path, clock):
    path = tmp_path / "lleno.sqlite"
    with local_db.open_database(path) as setup:
        s = seed_terminal(setup.unit_of_work(), clock, references=400)
    conn = sqlite3.connect(path)
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    full = local_db.open_database(path, pragmas={"max_page_count": pages})
    try:
        uow = full.unit_of_work()
        refused = None
        for rec in s.references:
            before = raw_counts(path)
            try:
                pay(uow, s, clock, ref=rec.reference)
            except Refused as exc:
                refused = exc
                break
        assert refused is not None, "the page limit never filled up"
        assert refused.code == "ALMACENAMIENTO_LLENO"
        assert "lleno" in refused.message
        after = raw_counts(path)
        assert after == before
        assert after["payments"] == after["outbox"] == after["marked"]
        assert full.integrity_check() == "ok"
    finally:
        full.close()


def test_a_terminal_not_yet_enrolled_refuses_payments_and_writes_nothing(db, uow, seeded, clock):
    # Central refuses a payment without a store: it would sit in the queue for ever.
    with uow:
        uow.meta.set("store_id", "")
        uow.commit()
    before = raw_counts(db.path)
    with pytest.raises(Refused) as err:
        pay(uow, seeded, clock)
    assert err.value.code == "CAJA_SIN_ALTA"
    assert "dada de alta" in err.value.message
    assert raw_counts(db.path) == before
