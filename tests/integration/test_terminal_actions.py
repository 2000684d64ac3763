"""Every user action of the cashier and manager screens, through the terminal service the
screens call, without Qt: real SQLite files, the real central on loopback, the file printer."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from central.db import Database
from central.models import TerminalHeartbeat
from kiosk import money, reference_cache
from kiosk.app import VoidOutcome
from kiosk.bootstrap import build
from kiosk.ports import CONFIRMED, Payment, Refused
from kiosk.references import ReferenceRecord, issue
from kiosk.rules import NO_ENCONTRADA, Tender
from kiosk.settings import Settings
from local_db.testing import CASHIER_PIN, FAST_HASHER, MANAGER_PIN, FixedClock
from tests.integration.conftest import Till

ZERO = Decimal("0.00")


def scan_and_pay(till: Till, kind: str = "LIQUIDACION") -> Payment:
    ref = till.demo_reference(kind)["reference"]
    scanned = till.terminal.scan(ref)
    assert scanned.verdict.ok and scanned.verdict.record is not None, scanned.verdict
    return pay_cached(till, scanned.verdict.record)


def cache_today(till: Till, serial: int, amount: str) -> ReferenceRecord:
    today = till.terminal.today()
    record = ReferenceRecord(
        reference=str(issue(today, serial)),
        amount=Decimal(amount),
        issued_on=today,
        member_name="María López Pérez",
    )
    reference_cache.upsert(till.terminal.uow, [record])
    return record


def void_with_pin(till: Till, paid: Payment, reason: str) -> VoidOutcome:
    """The manager voids ``paid`` with the right PIN, at the cashier's request."""
    return till.terminal.void(
        paid.uuid,
        manager="gerente",
        manager_pin=MANAGER_PIN,
        reason=reason,
        requested_by=till.cashier.id,
    )


def pay_cached(till: Till, record: ReferenceRecord) -> Payment:
    return till.terminal.pay(
        reference=record.reference,
        tender=Tender(cash=record.amount),
        cashier_id=till.cashier.id,
        cash_received=money.round_up_to_coin(record.amount),  # whole coins, as handed over
        card_authorization="",
    )


# --- identity ------------------------------------------------------------------------------


def test_a_fresh_terminal_boots_asking_for_its_first_manager_who_can_then_log_in(
    tmp_path: Path,
) -> None:
    settings = Settings().with_values({"data_dir": str(tmp_path), "printer_kind": "file"})
    clock = FixedClock()
    t = build(settings, clock=clock, hasher=FAST_HASHER, start_sync=False, defer=True)
    try:
        assert t.boot() is True
        t.create_first_manager(username="gerente", name="Gerente Uno", pin="2468")
        assert t.boot() is False
        assert t.login("gerente", "2468").name == "Gerente Uno"
    finally:
        t.close()


def test_a_cashier_logs_in_with_the_pin_and_a_wrong_pin_is_refused(till: Till) -> None:
    assert till.terminal.login("cajero", CASHIER_PIN).id == till.cashier.id
    with pytest.raises(Refused):
        till.terminal.login("cajero", "0000")


def test_the_manager_registers_a_cashier_with_the_managers_pin(till: Till) -> None:
    user = till.terminal.create_user(
        manager="gerente",
        manager_pin=MANAGER_PIN,
        username="luis",
        name="Luis Pérez",
        role="cajero",
        pin="4321",
    )
    assert till.terminal.login("luis", "4321").id == user.id
    with pytest.raises(Refused):
        till.terminal.create_user(
            manager="gerente",
            manager_pin="0000",
            username="eva",
            name="Eva",
            role="cajero",
            pin="4321",
        )


# --- the shift -----------------------------------------------------------------------------


def test_a_shift_opens_for_a_cashier_and_shows_its_float(till: Till) -> None:
    assert till.terminal.current_shift() is None
    shift = till.terminal.open_shift(
        cashier_id=till.cashier.id, opening_float=Decimal("500.00"), opened_by=till.manager.id
    )
    assert till.terminal.current_shift() == shift
    status = till.terminal.shift_status(blind=False)
    assert (status.payments, status.expected_cash) == (0, Decimal("500.00"))


def test_a_drop_and_the_count_close_the_shift_with_its_difference(open_till: Till) -> None:
    t = open_till.terminal
    paid = pay_cached(open_till, cache_today(open_till, 9_000_001, "300.00"))
    t.record_drop(amount=Decimal("100.00"), manager="gerente", manager_pin=MANAGER_PIN)
    assert t.shift_status(blind=True).expected_cash is None  # blind: revealed at the close
    # 500 float + 300 − 100 drop = 700 expected; 500 + 100 + 50 counted: $50 short.
    closed = t.close_shift(pieces={"b500": 1, "b100": 1, "b50": 1}, closed_by=open_till.manager.id)
    close = closed.close
    assert (close.expected_cash, close.over_short) == (Decimal("700.00"), Decimal("-50.00"))
    assert closed.printed.printed and b"CORTE DE TURNO" in open_till.printed()
    assert t.current_shift() is None
    assert [r.payment.uuid for r in t.payments_today()] == [paid.uuid]


# --- the scan ------------------------------------------------------------------------------


def test_a_scan_the_cache_lacks_asks_central_keeps_the_referencia_and_accepts_it(
    open_till: Till,
) -> None:
    ref = open_till.demo_reference("LIQUIDACION")["reference"]
    assert reference_cache.lookup(open_till.terminal.uow, ref) is None
    grouped = f"{ref[:6]} {ref[6:11]} {ref[11:16]} {ref[16:]}\r\n"  # as people type it
    scanned = open_till.terminal.scan(grouped)
    assert scanned.verdict.ok and scanned.verdict.record.reference == ref
    assert scanned.cash_cap == Decimal("30000.00")
    assert reference_cache.lookup(open_till.terminal.uow, ref) is not None


def test_a_referencia_central_never_issued_is_refused_as_not_found(open_till: Till) -> None:
    scanned = open_till.terminal.scan(str(issue(open_till.terminal.today(), 9_999_999)))
    assert scanned.verdict.code == NO_ENCONTRADA
    assert "no existe" in scanned.verdict.message


def test_offline_a_scan_the_cache_lacks_says_it_cannot_be_checked_now(
    offline_till: Till,
) -> None:
    ref = offline_till.demo_reference("LIQUIDACION")["reference"]
    scanned = offline_till.terminal.scan(ref)
    assert scanned.verdict.code == NO_ENCONTRADA
    assert "Sin conexión" in scanned.verdict.message


def test_a_scan_that_is_not_a_referencia_is_refused_with_its_reason(open_till: Till) -> None:
    verdict = open_till.terminal.scan("12345").verdict
    assert not verdict.ok and verdict.message


# --- the payment and its receipt -----------------------------------------------------------


def test_a_payment_online_is_confirmed_before_its_receipt_says_so_on_paper(
    open_till: Till,
) -> None:
    paid = scan_and_pay(open_till)
    outcome = open_till.terminal.deliver_receipt(paid.uuid)
    assert outcome.confirmed_online and outcome.printed.printed
    assert outcome.payment == paid
    paper = open_till.printed()
    assert b"Pago aplicado en l" in paper and b"se enviar" not in paper
    assert open_till.terminal.status().pending == 0


def test_offline_the_receipt_says_the_payment_will_be_sent_and_it_waits(
    offline_till: Till,
) -> None:
    paid = pay_cached(offline_till, cache_today(offline_till, 9_000_002, "540.00"))
    outcome = offline_till.terminal.deliver_receipt(paid.uuid)
    assert not outcome.confirmed_online and outcome.printed.printed
    assert b"se enviar" in offline_till.printed()
    status = offline_till.terminal.status()
    assert (status.pending, status.rejected) == (1, 0)
    assert status.oldest_pending_age is not None


def test_a_payment_the_rules_refuse_writes_nothing(open_till: Till) -> None:
    record = cache_today(open_till, 9_000_003, "540.00")
    with pytest.raises(Refused) as refused:
        open_till.terminal.pay(
            reference=record.reference,
            tender=Tender(cash=Decimal("500.00")),
            cashier_id=open_till.cashier.id,
            cash_received=Decimal("500.00"),
            card_authorization="",
        )
    assert refused.value.code == "MONTO_DISTINTO"
    assert open_till.terminal.payments_today() == []


def test_a_reprint_is_logged_and_printed_as_a_reprint(open_till: Till) -> None:
    paid = scan_and_pay(open_till)
    open_till.terminal.deliver_receipt(paid.uuid)
    first = open_till.printed()
    outcome = open_till.terminal.reprint(
        paid.uuid, user_id=open_till.cashier.id, manager="gerente", manager_pin=MANAGER_PIN
    )
    assert outcome.printed.printed
    assert b"REIMPRESI" in open_till.printed()[len(first) :]
    assert open_till.terminal.manager_view(blind=False).figures.reprints == 1


def test_a_receipt_the_printer_could_not_take_waits_and_prints_when_asked_again(
    open_till: Till,
) -> None:
    paper = open_till.paper
    paper.mkdir()  # a folder where the file should be: the printer cannot take the job
    paid = pay_cached(open_till, cache_today(open_till, 9_000_004, "100.00"))
    outcome = open_till.terminal.deliver_receipt(paid.uuid)
    assert not outcome.printed.printed and outcome.printed.queued
    status = open_till.terminal.status()
    assert (status.printer_ok, status.reprint_queue) == (False, 1)
    paper.rmdir()
    assert open_till.terminal.retry_prints() == 1
    assert b"Pago" in open_till.printed()
    assert open_till.terminal.status().reprint_queue == 0


# --- the manager ---------------------------------------------------------------------------


def test_the_manager_view_lists_todays_payments_voids_and_hours(open_till: Till) -> None:
    t = open_till.terminal
    kept = pay_cached(open_till, cache_today(open_till, 9_000_005, "300.00"))
    voided = pay_cached(open_till, cache_today(open_till, 9_000_006, "200.00"))
    void_with_pin(open_till, voided, "cobro duplicado")
    view = t.manager_view(blind=False)
    assert [r.payment.uuid for r in view.rows] == [kept.uuid, voided.uuid]
    assert [r.voided for r in view.rows] == [False, True]
    assert view.by_hour == ((kept.paid_at.hour, Decimal("300.00"), ZERO),)
    assert (view.figures.payments, view.figures.total) == (1, Decimal("300.00"))
    assert [u.username for u in view.cashiers] == ["cajero"]
    assert view.shift is not None and view.status is not None


def test_a_void_needs_the_managers_pin(open_till: Till) -> None:
    paid = pay_cached(open_till, cache_today(open_till, 9_000_007, "100.00"))
    with pytest.raises(Refused):
        open_till.terminal.void(
            paid.uuid, manager="gerente", manager_pin="0000", reason="x", requested_by=1
        )
    assert not any(r.voided for r in open_till.terminal.manager_view(blind=False).rows)
    outcome = void_with_pin(open_till, paid, "error de cobro")
    assert outcome.void.payment_uuid == paid.uuid and outcome.printed.printed


def test_a_managers_reprint_needs_a_managers_pin(open_till: Till) -> None:
    paid = pay_cached(open_till, cache_today(open_till, 9_000_008, "100.00"))
    with pytest.raises(Refused):
        open_till.terminal.reprint(
            paid.uuid, user_id=open_till.cashier.id, manager="cajero", manager_pin=CASHIER_PIN
        )
    outcome = open_till.terminal.reprint(
        paid.uuid, user_id=open_till.cashier.id, manager="gerente", manager_pin=MANAGER_PIN
    )
    assert outcome.printed.printed and outcome.payment.uuid == paid.uuid


def test_the_x_report_prints_and_the_z_closes_the_day_once(open_till: Till) -> None:
    t = open_till.terminal
    paid = pay_cached(open_till, cache_today(open_till, 9_000_009, "540.00"))
    x = t.print_report("X", manager=open_till.manager)
    assert x.printed.printed
    assert (x.report.kind, x.report.figures.payments, x.report.cashiers) == (
        "X",
        1,
        ("Cajero Prueba",),
    )
    assert [u.uuid for u in x.report.figures.unconfirmed] == [paid.uuid]
    with pytest.raises(Refused) as still_open:
        t.print_report("Z", manager=open_till.manager, manager_pin=MANAGER_PIN)
    assert still_open.value.code == "TURNO_ABIERTO"
    t.close_shift(pieces={"b500": 2, "b20": 2}, closed_by=open_till.manager.id)
    z = t.print_report("Z", manager=open_till.manager, manager_pin=MANAGER_PIN)
    assert z.report.figures.closed_at is not None and z.printed.printed
    assert z.report.counted_cash == Decimal("1040.00")
    assert z.report.pieces == {"b500": 2, "b20": 2}
    with pytest.raises(Refused) as twice:
        t.print_report("Z", manager=open_till.manager, manager_pin=MANAGER_PIN)
    assert twice.value.code == "DIA_CERRADO"
    paper = open_till.printed()
    assert b"REPORTE X (PARCIAL)" in paper and b"REPORTE Z (CORTE DE CAJA)" in paper
    with pytest.raises(Refused) as closed:  # the day is closed: no more payments today
        pay_cached(open_till, cache_today(open_till, 9_000_010, "100.00"))
    assert closed.value.code in ("DIA_CERRADO", "SIN_TURNO")


def test_a_void_online_reaches_central_at_once_and_the_ficha_is_payable_again_at_both(
    open_till: Till,
) -> None:
    t = open_till.terminal
    assert t.sync is not None
    paid = scan_and_pay(open_till)
    assert t.deliver_receipt(paid.uuid).confirmed_online
    t.sync.run_once()  # the background refresh: the cache now holds central's PAGADA
    before = len(open_till.printed())
    void_with_pin(open_till, paid, "error de cobro")
    with t.uow.reading() as uow:
        assert uow.outbox.status_of("void", paid.uuid) == CONFIRMED
    assert t.status().pending == 0
    assert b"Cancelaci\xa2n aplicada en l\xa1nea" in open_till.printed()[before:]
    assert t.sync.client.reference(paid.reference)["status"] == "VIGENTE"
    again = t.scan(paid.reference)
    assert again.verdict.ok, again.verdict
    assert again.verdict.record is not None
    repaid = pay_cached(open_till, again.verdict.record)
    assert t.deliver_receipt(repaid.uuid).confirmed_online


def test_a_void_central_does_not_know_is_shown_as_refused_not_retried_for_ever(
    open_till: Till,
) -> None:
    t = open_till.terminal
    assert t.sync is not None
    paid = pay_cached(open_till, cache_today(open_till, 9_000_021, "250.00"))
    with t.uow as uow:  # as if central had confirmed it and then lost it (a demo restart)
        entry = uow.outbox.latest_for("payment", paid.uuid)
        assert entry is not None
        uow.outbox.mark_confirmed(entry.id, {}, t.clock())
        uow.commit()
    void_with_pin(open_till, paid, "error de cobro")
    t.sync.run_once()
    status = t.status()
    assert (status.pending, status.rejected) == (0, 1)
    with t.uow.reading() as uow:
        assert [e.rejection_code for e in uow.outbox.rejected()] == ["PAGO_NO_ENCONTRADO"]


def test_the_shift_report_lists_the_shifts_voids_and_reprints(open_till: Till) -> None:
    t = open_till.terminal
    kept = pay_cached(open_till, cache_today(open_till, 9_000_031, "300.00"))
    voided = pay_cached(open_till, cache_today(open_till, 9_000_032, "200.00"))
    t.reprint(kept.uuid, user_id=open_till.cashier.id, manager="gerente", manager_pin=MANAGER_PIN)
    void_with_pin(open_till, voided, "cobro duplicado")
    before = len(open_till.printed())
    closed = t.close_shift(pieces={"b500": 1, "b200": 1, "b100": 1}, closed_by=open_till.cashier.id)
    assert [(v.folio, v.amount) for v in closed.figures.voids] == [(voided.folio, voided.amount)]
    assert [(r.folio, r.who) for r in closed.figures.reprints] == [
        (kept.folio, open_till.cashier.name)
    ]
    report = open_till.printed()[before:]
    assert b"CORTE DE TURNO" in report
    assert b"CANCELACIONES (1)" in report and b"cobro duplicado" in report
    assert b"REIMPRESIONES (1)" in report and b"Ninguna." not in report


def test_an_opening_float_over_ten_thousand_is_refused_and_opens_nothing(till: Till) -> None:
    t = till.terminal
    for mistyped in ("15000.00", "150000.00"):
        with pytest.raises(Refused) as refused:
            t.open_shift(cashier_id=till.cashier.id, opening_float=Decimal(mistyped))
        assert refused.value.code == "FONDO_EXCESIVO"
        assert "$10,000.00" in refused.value.message
    assert t.current_shift() is None
    shift = t.open_shift(cashier_id=till.cashier.id, opening_float=Decimal("10000.00"))
    assert shift.opening_float == Decimal("10000.00")


def test_the_heartbeat_tells_central_the_printer_state_the_status_bar_shows(
    open_till: Till,
) -> None:
    # The operator's trial: the console said "Impresora: desconocido" beside a till whose
    # status bar said "lista"; the composition root never handed the engine the printer.
    t = open_till.terminal
    scan_and_pay(open_till)
    assert t.status().printer == "lista"
    assert t.sync is not None
    t.sync.run_once(force=True)
    db = Database(open_till.central.db_url)
    try:
        with db.read() as s:
            states = [hb.printer_state for hb in s.execute(select(TerminalHeartbeat)).scalars()]
    finally:
        db.dispose()
    assert states == ["lista"]
