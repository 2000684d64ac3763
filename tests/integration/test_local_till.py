"""The till on a real SQLite file as a first day tries it: scans typed into the cash field,
input that is not money, change in the coins a drawer has, and a shift that adds up."""

from __future__ import annotations

import re
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from kiosk import cashier, money, reference_cache, reports, shifts
from kiosk.ports import Refused
from kiosk.rules import Tender
from local_db.testing import MANAGER_PIN, FixedClock, Seeded, reference_records, seed_terminal

D = Decimal


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def seeded(uow, clock) -> Seeded:
    return seed_terminal(uow, clock)


def rows(path: Path) -> tuple[int, ...]:
    conn = sqlite3.connect(path)
    try:
        return tuple(
            conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("payments", "outbox", "audit_log")
        )
    finally:
        conn.close()


def pay(uow, seeded, clock, received, *, ref=0, confirm=False):
    return cashier.take_payment(
        uow,
        reference=seeded.references[ref].reference,
        tender=Tender(cash=D("540.00")),
        cash_received=received,
        confirm_large_change=confirm,
        cashier_id=seeded.cashier_id,
        clock=clock,
    )


# --- item 1: scans never become money ---------------------------------------------------


@pytest.mark.parametrize(
    "received",
    [
        D("7501055300075"),  # a medicine's EAN-13 scanned into the cash field
        D("261201000000000943"),  # a ficha's referencia scanned into it
        D("1" * 27),  # past Decimal's 28 digits once quantized
        D("1E+30"),
        D("NaN"),
        D("sNaN"),
        D("Infinity"),
        D("-540"),
        D("540.001"),
    ],
)
def test_cash_received_that_is_not_money_is_refused_in_words_and_writes_nothing(
    db, uow, seeded, clock, received
):
    before = rows(db.path)
    with pytest.raises(Refused) as exc:
        pay(uow, seeded, clock, received)
    assert exc.value.code == "IMPORTE_INVALIDO"
    assert "efectivo recibido" in exc.value.message
    assert rows(db.path) == before


def test_change_that_would_reach_the_largest_bill_is_refused_and_writes_nothing(
    db, uow, seeded, clock
):
    before = rows(db.path)
    for received in (D("1540.00"), D("75010553"), D("35000.00")):  # change ≥ $1,000
        with pytest.raises(Refused) as exc:
            pay(uow, seeded, clock, received, confirm=True)
        assert exc.value.code == "CAMBIO_EXCESIVO"
        assert "$1,000.00" in exc.value.message
    assert rows(db.path) == before


def test_change_over_five_hundred_pesos_needs_the_cashiers_confirmation(db, uow, seeded, clock):
    before = rows(db.path)
    with pytest.raises(Refused) as exc:
        pay(uow, seeded, clock, D("1539.90"))
    assert exc.value.code == "CONFIRMAR_CAMBIO" and "$999.90" in exc.value.message
    assert rows(db.path) == before
    payment = pay(uow, seeded, clock, D("1539.90"), confirm=True)
    assert payment.change_given == D("999.90")
    # At $500.00 exactly no confirmation is asked.
    assert pay(uow, seeded, clock, D("1040.00"), ref=1).change_given == D("500.00")


def test_a_typed_amount_too_long_to_be_money_is_a_message_not_a_traceback():
    for text in ("1" * 27, "7501055300075", "261201000000000943"):
        with pytest.raises(money.MoneyError) as exc:
            money.parse(text)
        assert "demasiado grande" in str(exc.value)
    assert money.parse("999,999,999.99") == money.MAX_AMOUNT


# --- item 5: change in coins the drawer has; a day of exact change counts to $0.00 --------


def pieces_for(amount: Decimal) -> dict[str, int]:
    """The drawer's content as bills and coins, largest first; fails if coins cannot make it."""
    left, pieces = amount, {}
    for key, value in shifts.DENOMINATIONS.items():
        if key == "m20":  # the $20 bill was taken already: one form of each face value
            continue
        n = int(left // value)
        if n:
            pieces[key] = n
            left -= value * n
    assert left == 0, f"{amount} cannot be counted in bills and coins ({left} left)"
    return pieces


def test_change_is_rounded_up_to_the_ten_centavo_coin_and_the_rounding_is_the_affiliates(
    uow, seeded, clock
):
    reference_cache.upsert(uow, reference_records(clock().date(), 1, 50, D("6912.04")))
    record = reference_records(clock().date(), 1, 50, D("6912.04"))[0]
    p = cashier.take_payment(
        uow,
        reference=record.reference,
        tender=Tender(cash=D("6912.04")),
        cash_received=D("7000.00"),
        cashier_id=seeded.cashier_id,
        clock=clock,
    )
    assert p.change == D("87.96")  # owed, exact
    assert p.change_given == D("88.00")  # handed over: there is no 1-centavo coin
    assert p.rounding == D("0.04") and p.drawer_cash == D("6912.00")
    with pytest.raises(Refused) as exc:  # nobody can hand over 4 centavos
        cashier.take_payment(
            uow,
            reference=seeded.references[0].reference,
            tender=Tender(cash=D("540.00")),
            cash_received=D("540.04"),
            cashier_id=seeded.cashier_id,
            clock=clock,
        )
    assert exc.value.code == "EFECTIVO_INVALIDO"


def test_a_drawer_counted_exactly_after_a_day_of_exact_change_shows_no_difference(
    uow, seeded, clock
):
    amounts = [D("6912.04"), D("1731.56"), D("540.33"), D("99.99"), D("1080.51"), D("12.07")]
    records = [
        reference_records(clock().date(), 1, 100 + i, amount)[0] for i, amount in enumerate(amounts)
    ]
    reference_cache.upsert(uow, records)
    drawer = D("500.00")  # the float
    for record in records:
        # The affiliate pays with the next $100 up; the cashier hands back what the screen says.
        received = (record.amount // 100 + 1) * 100
        p = cashier.take_payment(
            uow,
            reference=record.reference,
            tender=Tender(cash=record.amount),
            cash_received=received,
            confirm_large_change=True,
            cashier_id=seeded.cashier_id,
            clock=clock,
        )
        pieces_for(p.change_given)  # the change exists in coins
        drawer += received - p.change_given
    close = shifts.close_shift(
        uow, pieces=pieces_for(drawer), closed_by=seeded.cashier_id, clock=clock
    )
    assert close.over_short == D("0.00") and close.label == "CUADRA"
    assert close.counted_cash == close.expected_cash == drawer


# --- item 2: a void prints its cancelación ticket ------------------------------------------


@pytest.fixture
def terminal(tmp_path: Path, clock: FixedClock):
    from kiosk.bootstrap import build
    from kiosk.settings import Settings
    from local_db.testing import FAST_HASHER

    settings = Settings().with_values(
        {
            "data_dir": str(tmp_path / "datos"),
            "central_url": "http://127.0.0.1:9",  # never reached: sync is not started
            "printer_kind": "file",
            "printer_path": str(tmp_path / "impresora.bin"),
        }
    )
    t = build(settings, clock=clock, hasher=FAST_HASHER, start_sync=False)
    yield t
    t.close()


def test_a_void_prints_a_cancelacion_with_the_referencia_barcode_words_who_and_why(
    terminal, clock, tmp_path
):
    from tests.integration.printing_support import decode_code128, read_job

    s = seed_terminal(terminal.uow, clock)
    p = pay(terminal.uow, s, clock, D("600.00"))
    outcome = terminal.void(
        p.uuid,
        manager="gerente",
        manager_pin=MANAGER_PIN,
        reason="Se cobró la ficha equivocada",
        requested_by=s.cashier_id,
    )
    assert outcome.printed.printed and outcome.void.payment_uuid == p.uuid
    job = read_job((tmp_path / "impresora.bin").read_bytes())
    text = job.text.replace("\n", " ")
    assert [decode_code128(data) for _, data in job.barcodes] == [p.reference]
    assert "CANCELACIÓN DE PAGO" in text
    assert re.search(rf"Folio del pago: +{p.folio} ", text)
    assert "QUINIENTOS CUARENTA PESOS 00/100 M.N." in text
    assert "Autorizó:" in text and "Gerente Prueba" in text
    assert "Solicitó:" in text and "Cajero Prueba" in text
    assert "Motivo: Se cobró la ficha equivocada" in text
    assert "Efectivo devuelto:" in text and "$540.00" in text
    assert job.cuts == 1


def test_a_payment_that_was_not_voided_has_no_cancelacion_to_print(terminal, clock):
    from kiosk import voids

    s = seed_terminal(terminal.uow, clock)
    p = pay(terminal.uow, s, clock, D("540.00"))
    with pytest.raises(Refused) as exc:
        voids.void_facts(terminal.uow, p.uuid, store_name="F", terminal_name="C")
    assert exc.value.code == "SIN_CANCELACION"


# --- item 5: the shift report and the drop slip, printed -----------------------------------


def printed_text(tmp_path: Path) -> str:
    from tests.integration.printing_support import read_job

    return read_job((tmp_path / "impresora.bin").read_bytes()).text


def test_closing_a_shift_prints_float_cash_change_drops_expected_counted_and_difference(
    terminal, clock, tmp_path
):
    uow = terminal.uow
    s = seed_terminal(uow, clock)  # float $500.00
    record = reference_records(clock().date(), 1, 50, D("6912.04"))[0]
    reference_cache.upsert(uow, [record])
    cashier.take_payment(
        uow,
        reference=record.reference,
        tender=Tender(cash=record.amount),
        cash_received=D("7000.00"),
        cashier_id=s.cashier_id,
        clock=clock,
    )  # change 88.00 given, 0.04 of it rounding
    pay(uow, s, clock, D("600.00"))  # change 60.00
    dropped = terminal.record_drop(amount=D("300.00"), manager="gerente", manager_pin=MANAGER_PIN)
    assert dropped.printed.printed
    assert [d.id for d in shifts.day_drops(uow, clock().date())] == [dropped.drop.id]
    # expected = 500 + 7,600 − 148 − 300 = 7,652.00; the cashier counts 50 centavos short.
    pieces = pieces_for(D("7651.50"))
    closed = terminal.close_shift(pieces=pieces, closed_by=s.cashier_id)
    close = closed.close
    assert close.expected_cash == D("7652.00") and close.over_short == D("-0.50")
    figures = closed.figures
    assert (figures.cash_received, figures.change_given, figures.cash_drops) == (
        D("7600.00"),
        D("148.00"),
        D("300.00"),
    )
    assert figures.rounding == D("0.04") and figures.over_short == D("-0.50")

    assert closed.printed.printed
    text = printed_text(tmp_path)
    for line in (
        "CORTE DE TURNO",
        "Fondo de caja:",
        "$500.00",
        "Efectivo recibido:",
        "$7,600.00",
        "Cambio entregado:",
        "-$148.00",
        "Retiros:",
        "-$300.00",
        "Efectivo esperado:",
        "$7,652.00",
        "Redondeo a favor de afiliados:",
        "$0.04",
        "Efectivo contado:",
        "$7,651.50",
        "FALTANTE:",
        "$0.50",
        "RETIROS A CAJA FUERTE (1)",
        "Retiró: Gerente Prueba",
        "Billete $1,000.00 x 7",
        "Moneda $0.50 x 1",
        "Firma del cajero:",
    ):
        assert line in text, line


def test_a_cash_drop_prints_a_slip_for_the_safe(terminal, clock, tmp_path):
    s = seed_terminal(terminal.uow, clock)
    pay(terminal.uow, s, clock, D("600.00"))
    dropped = terminal.record_drop(amount=D("540.00"), manager="gerente", manager_pin=MANAGER_PIN)
    assert dropped.printed.printed
    text = printed_text(tmp_path)
    assert "RETIRO DE EFECTIVO" in text and "$540.00" in text
    assert "QUINIENTOS CUARENTA PESOS 00/100 M.N." in text
    assert "Gerente Prueba" in text and "Cajero Prueba" in text


# --- item 4: a shift belongs to its cashier ----------------------------------------------


def another_cashier(uow, clock):
    from kiosk import users
    from local_db.testing import FAST_HASHER

    return users.create_user(
        uow,
        manager="gerente",
        manager_pin=MANAGER_PIN,
        username="beto",
        name="Beto Ruiz",
        pin="4321",
        hasher=FAST_HASHER,
        clock=clock,
    )


def test_nobody_but_its_cashier_takes_payments_in_a_shift(db, uow, seeded, clock):
    beto = another_cashier(uow, clock)
    before = rows(db.path)
    with pytest.raises(Refused) as exc:
        cashier.take_payment(
            uow,
            reference=seeded.references[0].reference,
            tender=Tender(cash=D("540.00")),
            cashier_id=beto.id,
            clock=clock,
        )
    assert exc.value.code == "TURNO_DE_OTRO" and "Cajero Prueba" in exc.value.message
    assert rows(db.path) == before
    with pytest.raises(Refused):
        shifts.shift_for(uow, beto.id)
    assert shifts.shift_for(uow, seeded.cashier_id).cashier_id == seeded.cashier_id


def test_a_manager_hands_the_shift_over_with_the_pin_and_the_log_says_so(uow, seeded, clock):
    from kiosk import audit
    from local_db.testing import FAST_HASHER

    beto = another_cashier(uow, clock)
    first = pay(uow, seeded, clock, D("540.00"))
    with pytest.raises(Refused):
        shifts.hand_over(
            uow, to_cashier_id=beto.id, manager="gerente", manager_pin="0000", hasher=FAST_HASHER
        )
    shift = shifts.hand_over(
        uow,
        to_cashier_id=beto.id,
        manager="gerente",
        manager_pin=MANAGER_PIN,
        hasher=FAST_HASHER,
        clock=clock,
    )
    assert shift.cashier_id == beto.id
    second = cashier.take_payment(
        uow,
        reference=seeded.references[1].reference,
        tender=Tender(cash=D("540.00")),
        cashier_id=beto.id,
        clock=clock,
    )
    assert second.shift_id == first.shift_id == shift.id
    with pytest.raises(Refused) as exc:  # the first cashier no longer takes payments in it
        pay(uow, seeded, clock, D("540.00"), ref=2)
    assert exc.value.code == "TURNO_DE_OTRO"
    with uow.reading():
        (line,) = [e for e in uow.audit.all() if e.action == audit.SHIFT_HANDOVER]
    assert line.actor == "gerente"
    assert dict(line.details) == {"turno": shift.id, "de": "cajero", "a": "beto"}


# --- item 8: users, each change with the manager's PIN and audited -----------------------


def test_users_are_listed_with_role_and_state_and_managed_with_the_pin(uow, seeded, clock):
    from kiosk import audit, users
    from local_db.testing import FAST_HASHER

    def act(fn, pin=MANAGER_PIN, **kw):
        return fn(uow, manager="gerente", manager_pin=pin, hasher=FAST_HASHER, clock=clock, **kw)

    for _ in range(5):
        with pytest.raises(Refused):
            users.login(uow, "cajero", "0000", hasher=FAST_HASHER, clock=clock)
    states = {s.user.username: (s.role_label, s.state) for s in users.list_users(uow, clock=clock)}
    assert states["gerente"] == ("Gerente", "activo")
    assert states["cajero"][0] == "Cajero" and states["cajero"][1].startswith("bloqueado hasta")
    with pytest.raises(Refused):
        act(users.unlock, pin="0000", username="cajero")
    act(users.unlock, username="cajero")
    assert users.login(uow, "cajero", "1357", hasher=FAST_HASHER, clock=clock).username == "cajero"
    act(users.reset_pin, username="cajero", new_pin="8642")
    assert users.login(uow, "cajero", "8642", hasher=FAST_HASHER, clock=clock)
    with pytest.raises(Refused) as exc:
        act(users.deactivate, username="gerente")
    assert exc.value.code == "NO_A_SI_MISMO"
    act(users.deactivate, username="cajero")
    with pytest.raises(Refused):
        users.login(uow, "cajero", "8642", hasher=FAST_HASHER, clock=clock)
    assert {s.user.username: s.state for s in users.list_users(uow, clock=clock)}["cajero"] == (
        "dado de baja"
    )
    with uow.reading():
        actions = [e.action for e in uow.audit.all() if e.actor == "gerente"]
    for action in (audit.USER_UNLOCKED, audit.PIN_RESET, audit.USER_DEACTIVATED):
        assert action in actions


# --- items 3 and 9 at the service: the PIN again for drops and the Z; the drawer opens ------


def test_a_drop_and_the_z_need_the_managers_pin_again(terminal, clock):
    s = seed_terminal(terminal.uow, clock)
    pay(terminal.uow, s, clock, D("600.00"))
    manager = terminal.login("gerente", MANAGER_PIN)
    with pytest.raises(Refused):
        terminal.record_drop(amount=D("100.00"), manager="gerente", manager_pin="0000")
    assert shifts.day_drops(terminal.uow, clock().date()) == []
    terminal.close_shift(pieces=pieces_for(D("1040.00")), closed_by=s.cashier_id)
    with pytest.raises(Refused):
        terminal.print_report("Z", manager=manager, manager_pin="0000")
    assert reports.day_figures(terminal.uow, clock=clock).closed_at is None
    assert terminal.print_report("Z", manager=manager, manager_pin=MANAGER_PIN).printed.printed
    assert reports.day_figures(terminal.uow, clock=clock).closed_at is not None


def test_a_cash_payment_opens_the_drawer_before_its_receipt_when_one_is_wired(tmp_path, clock):
    from kiosk.bootstrap import build
    from kiosk.settings import Settings
    from local_db.testing import FAST_HASHER
    from tests.integration.printing_support import TcpPrinter, read_job

    printer = TcpPrinter()
    settings = Settings().with_values(
        {
            "data_dir": str(tmp_path / "datos"),
            "central_url": "http://127.0.0.1:9",
            "printer_kind": "network",
            "printer_port": printer.port,
            "cash_drawer": True,
        }
    )
    t = build(settings, clock=clock, hasher=FAST_HASHER, start_sync=False)
    try:
        s = seed_terminal(t.uow, clock)
        cash = pay(t.uow, s, clock, D("600.00"))
        assert t.deliver_receipt(cash.uuid).printed.printed
        card = cashier.take_payment(
            t.uow,
            reference=s.references[1].reference,
            tender=Tender(card=D("540.00")),
            card_authorization="A1",
            cashier_id=s.cashier_id,
            clock=clock,
        )
        assert t.deliver_receipt(card.uuid).printed.printed
        jobs = printer.wait_for_jobs(3)
        assert [len(read_job(j).drawer_pulses) for j in jobs] == [1, 0, 0]
        assert [read_job(j).cuts for j in jobs] == [0, 1, 1]  # pulse, cash receipt, card receipt
    finally:
        t.close()
        printer.close()
