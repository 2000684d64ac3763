"""The cashier screen driven as a cashier would: keyboard only, scanner as a keyboard wedge."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from kiosk import shifts
from kiosk.ports import PrintOutcome
from kiosk.references import VIGENTE, Reference
from kiosk.rules import Verdict
from tests.ui.conftest import (
    CASHIER_PIN,
    MANAGER_PIN,
    add_people,
    barcodes_in,
    cache_reference,
    visible_texts,
)
from tests.ui.fit_support import LONG_ERROR, LONG_NAME, MARKUP, SCREENS, fits
from ui.cashier import CashierWindow


def scan(qtbot: Any, window: CashierWindow, text: str) -> Any:
    """Type like the wedge does (digits then Enter) and wait for the painted verdict."""
    with qtbot.waitSignal(window.verdict_shown, timeout=5000) as blocker:
        qtbot.keyClicks(window.scan, text)
        qtbot.keyClick(window.scan, Qt.Key.Key_Return)
    return blocker.args[0]


def login(
    qtbot: Any, window: CashierWindow, username: str = "cajero", pin: str = CASHIER_PIN
) -> None:
    qtbot.keyClicks(window.login.username, username)
    qtbot.keyClick(window.login.username, Qt.Key.Key_Return)
    qtbot.keyClicks(window.login.pin, pin)
    qtbot.keyClick(window.login.pin, Qt.Key.Key_Return)


@pytest.fixture
def people(offline_terminal: Any, clock: Any) -> Any:
    return add_people(offline_terminal, clock)


@pytest.fixture
def window(qtbot: Any, offline_terminal: Any, runner: Any, people: Any) -> CashierWindow:
    w = CashierWindow(offline_terminal, runner, status_poll_ms=100)
    qtbot.addWidget(w)
    w.show()
    return w


@pytest.fixture
def working(
    qtbot: Any, window: CashierWindow, offline_terminal: Any, people: Any, clock: Any
) -> CashierWindow:
    """Logged in, with a shift already open."""
    shifts.open_shift(
        offline_terminal.uow, cashier_id=people[1].id, opening_float=Decimal("500.00"), clock=clock
    )
    login(qtbot, window)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.work, timeout=5000)
    return window


def test_a_cashier_opens_a_shift_with_a_float_before_taking_payments(
    qtbot: Any, window: CashierWindow, offline_terminal: Any
) -> None:
    login(qtbot, window)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.open_shift, timeout=5000)
    qtbot.keyClicks(window.open_shift.float_, "750")
    qtbot.keyClick(window.open_shift.float_, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.work, timeout=5000)
    shift = offline_terminal.current_shift()
    assert shift is not None and shift.opening_float == Decimal("750.00")
    assert window.scan.hasFocus()


def test_a_wrong_pin_is_refused_on_screen(qtbot: Any, window: CashierWindow) -> None:
    login(qtbot, window, pin="0000")
    qtbot.waitUntil(lambda: "incorrectos" in window.login.error.text(), timeout=5000)
    assert window.pages.currentWidget() is window.login


def test_a_payment_from_scan_to_printed_receipt(
    qtbot: Any, working: CashierWindow, offline_terminal: Any, clock: Any, tmp_path: Any
) -> None:
    record = cache_reference(offline_terminal, 41, "540.00", clock)
    verdict = scan(qtbot, working, record.reference)
    assert verdict.ok
    assert "$540.00" in working.verdict_panel.amount.text()
    assert working.verdict_panel.words.text() == "QUINIENTOS CUARENTA PESOS 00/100 M.N."
    assert "María López Pérez" in working.verdict_panel.member.text()
    assert working.tender.cash.hasFocus()
    qtbot.keyClicks(working.tender.cash, "600")
    assert "$60.00" in working.tender.change.text()
    with qtbot.waitSignal(working.receipt_printed, timeout=10000):
        qtbot.keyClick(working.tender.cash, Qt.Key.Key_Return)
    payment = working.last_payment
    assert payment is not None and payment.change == Decimal("60.00")
    assert [r.payment.uuid for r in offline_terminal.payments_today()] == [payment.uuid]
    printed = (tmp_path / "impresora.bin").read_bytes()
    assert barcodes_in(printed) == [record.reference]
    assert Reference(record.reference).grouped().encode() in printed
    assert b"QUINIENTOS CUARENTA PESOS" in printed
    assert working.scan.hasFocus()
    assert "impreso" in working.notice.text()


@pytest.mark.parametrize(
    ("status", "issued_days_ago", "code", "words"),
    [
        ("PAGADA", 0, "PAGADA", "ya fue pagada"),
        ("SUSTITUIDA", 0, "SUSTITUIDA", "reemplazada"),
        ("CANCELADA", 0, "CANCELADA", "cancelada"),
        ("VIGENTE", 1, "CADUCADA", "solo era válida ese día"),
    ],
)
def test_each_refused_referencia_is_shown_in_red_with_its_reason(
    qtbot: Any,
    working: CashierWindow,
    offline_terminal: Any,
    clock: Any,
    status: str,
    issued_days_ago: int,
    code: str,
    words: str,
) -> None:
    from datetime import timedelta

    day = clock().date() - timedelta(days=issued_days_ago)
    record = cache_reference(offline_terminal, 7, "100.00", clock, status=status, issued_on=day)
    verdict = scan(qtbot, working, record.reference)
    assert not verdict.ok and verdict.code == code
    assert working.verdict_panel.headline.text() == "✘ NO SE PUEDE COBRAR"
    assert code not in visible_texts(working)  # codes are for programs, not people
    assert words in working.verdict_panel.reason.text()
    # What was scanned stays in view beside the refusal.
    assert f"Leído: {record.reference}" in working.verdict_panel.concept.text()
    assert not working.tender.isEnabled()
    assert working.scan.hasFocus()


@pytest.mark.parametrize(
    ("when", "code"),
    [
        ((2025, 3, 12, 22, 30), "FUERA_DE_HORARIO"),
        ((2025, 3, 15, 10, 0), "DIA_INHABIL"),  # a Saturday
    ],
)
def test_a_payment_outside_the_window_or_on_a_non_business_day_is_refused(
    qtbot: Any,
    working: CashierWindow,
    offline_terminal: Any,
    clock: Any,
    when: tuple[int, ...],
    code: str,
) -> None:
    from datetime import datetime

    from tests.ui.conftest import MX

    clock.now = datetime(*when, tzinfo=MX)
    record = cache_reference(offline_terminal, 8, "100.00", clock)
    verdict = scan(qtbot, working, record.reference)
    assert verdict.code == code
    assert working.verdict_panel.headline.text() == "✘ NO SE PUEDE COBRAR"
    assert code not in visible_texts(working)


def test_a_mistyped_referencia_is_refused_without_asking_anyone(
    qtbot: Any, working: CashierWindow
) -> None:
    verdict = scan(qtbot, working, "25031200000000419")
    assert verdict.code == "REFERENCIA_INVALIDA"
    assert "18 dígitos" in working.verdict_panel.reason.text()


def test_an_unknown_referencia_while_offline_says_why_it_cannot_be_checked(
    qtbot: Any, working: CashierWindow, clock: Any
) -> None:
    from kiosk.references import issue

    verdict = scan(qtbot, working, str(issue(clock().date(), 999)))
    assert verdict.code == "NO_ENCONTRADA"
    assert "Sin conexión" in working.verdict_panel.reason.text()


def test_a_referencia_already_paid_here_is_refused_the_second_time(
    qtbot: Any, working: CashierWindow, offline_terminal: Any, clock: Any
) -> None:
    record = cache_reference(offline_terminal, 9, "200.00", clock)
    scan(qtbot, working, record.reference)
    with qtbot.waitSignal(working.payment_taken, timeout=5000):
        qtbot.keyClicks(working.tender.cash, "200")
        qtbot.keyClick(working.tender.cash, Qt.Key.Key_Return)
    verdict = scan(qtbot, working, record.reference)
    assert verdict.code == "PAGADA"
    assert "ya se cobró en esta farmacia" in working.verdict_panel.reason.text()


def test_the_cash_cap_is_enforced_as_the_cashier_types(
    qtbot: Any, working: CashierWindow, offline_terminal: Any, clock: Any
) -> None:
    record = cache_reference(offline_terminal, 10, "35000.00", clock)
    scan(qtbot, working, record.reference)
    assert "Tope de efectivo" in working.tender.message.text()
    assert "$5,000.00" in working.tender.message.text()
    qtbot.keyClicks(working.tender.cash, "35000")
    assert not working.tender.confirm.isEnabled()
    qtbot.keyClick(working.tender.cash, Qt.Key.Key_Return)
    assert working.last_payment is None
    # Split: $5,000.00 by card with its authorization, the rest in cash.
    qtbot.keyClicks(working.tender.card, "5000")
    working.tender.cash.clear()
    qtbot.keyClicks(working.tender.cash, "30000")
    qtbot.keyClicks(working.tender.auth, "A1B2C3")
    assert working.tender.confirm.isEnabled()
    with qtbot.waitSignal(working.payment_taken, timeout=5000) as paid:
        qtbot.keyClick(working.tender.auth, Qt.Key.Key_Return)
    payment = paid.args[0]
    assert (payment.cash, payment.card, payment.card_authorization) == (
        Decimal("30000.00"),
        Decimal("5000.00"),
        "A1B2C3",
    )


def test_a_card_number_typed_as_authorization_is_refused_and_wiped(
    qtbot: Any, working: CashierWindow, offline_terminal: Any, clock: Any
) -> None:
    record = cache_reference(offline_terminal, 11, "300.00", clock)
    scan(qtbot, working, record.reference)
    working.tender.fill_card()
    qtbot.keyClicks(working.tender.auth, "4111111111111111")
    assert "número de tarjeta" in working.tender.message.text()
    assert working.tender.auth.echoMode() == working.tender.auth.EchoMode.Password
    assert not working.tender.confirm.isEnabled()
    qtbot.keyClick(working.tender.auth, Qt.Key.Key_Return)
    assert working.tender.auth.text() == ""
    assert "Se borró" in working.tender.message.text()
    assert working.last_payment is None
    assert offline_terminal.payments_today() == []


def test_f2_takes_exact_cash_and_f3_puts_it_all_on_card_from_the_keyboard(
    qtbot: Any, working: CashierWindow, offline_terminal: Any, clock: Any
) -> None:
    record = cache_reference(offline_terminal, 43, "540.00", clock)
    assert scan(qtbot, working, record.reference).ok
    qtbot.keyClick(working.tender.cash, Qt.Key.Key_F2)
    assert working.tender.cash.text().replace(",", "") in ("540.00", "540")
    qtbot.keyClick(working.tender.cash, Qt.Key.Key_F3)
    assert working.tender.cash.text() in ("", "0.00", "0")
    assert working.tender.card.text().replace(",", "") in ("540.00", "540")


def test_a_barcode_scanned_into_the_cash_field_is_a_scan_never_an_amount(
    qtbot: Any, working: CashierWindow, offline_terminal: Any, clock: Any
) -> None:
    record = cache_reference(offline_terminal, 44, "6912.04", clock)
    other = cache_reference(offline_terminal, 45, "540.00", clock)
    assert scan(qtbot, working, record.reference).ok
    assert working.tender.cash.hasFocus()
    # A medicine's EAN-13 at scanner speed, Enter included: checked as a scan and refused.
    with qtbot.waitSignal(working.verdict_shown, timeout=5000) as shown:
        qtbot.keyClicks(working.tender.cash, "7501055300075")
        qtbot.keyClick(working.tender.cash, Qt.Key.Key_Return)
    assert not shown.args[0].ok
    assert "Leído: 7501055300075" in working.verdict_panel.concept.text()
    assert offline_terminal.payments_today() == []
    # A ficha scanned into the cash field is the next ficha's verdict, never cash.
    assert scan(qtbot, working, record.reference).ok
    with qtbot.waitSignal(working.verdict_shown, timeout=5000) as shown:
        qtbot.keyClicks(working.tender.cash, other.reference)
        qtbot.keyClick(working.tender.cash, Qt.Key.Key_Return)
    assert shown.args[0].ok and shown.args[0].record.reference == other.reference
    assert offline_terminal.payments_today() == []


def test_change_over_five_hundred_is_confirmed_and_a_thousand_is_refused_on_screen(
    qtbot: Any, working: CashierWindow, offline_terminal: Any, clock: Any
) -> None:
    from tests.ui.conftest import confirm_open_dialog

    record = cache_reference(offline_terminal, 46, "6912.04", clock)
    assert scan(qtbot, working, record.reference).ok
    working.tender.cash.setText("8000")  # change $1,088.00
    assert not working.tender.confirm.isEnabled()
    assert "menor que $1,000.00" in working.tender.message.text()
    working.tender.cash.setText("7500")  # change $588.00
    qtbot.keyClick(working.tender.cash, Qt.Key.Key_Return)
    assert offline_terminal.payments_today() == []  # not before the cashier confirms
    with qtbot.waitSignal(working.payment_taken, timeout=5000) as taken:
        confirm_open_dialog(qtbot, working)
    assert taken.args[0].change_given == Decimal("588.00")


def test_what_a_cashier_notices_f2_cap_f4_rest_on_card_tab_order_and_a_calm_prompt(
    qtbot: Any, working: CashierWindow, offline_terminal: Any, clock: Any
) -> None:
    from PySide6.QtWidgets import QApplication

    record = cache_reference(offline_terminal, 47, "35000.00", clock)
    assert scan(qtbot, working, record.reference).ok
    assert "Cobre al menos $5,000.00 con tarjeta" in working.tender.message.text()
    assert "#b3261e" not in working.tender.message.styleSheet()  # not red before any key
    qtbot.keyClick(working.tender.cash, Qt.Key.Key_F2)
    assert working.tender.cash.text() == "30000.00"  # never more than the cash cap
    qtbot.keyClick(working.tender.cash, Qt.Key.Key_F4)
    assert working.tender.card.text() == "5000.00"  # the rest, on card
    assert working.tender.auth.hasFocus()
    working.tender.cash.setFocus()
    qtbot.keyClick(working.tender.cash, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is working.tender.card
    qtbot.keyClick(working.tender.card, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is working.tender.auth


def test_another_cashier_cannot_carry_on_in_the_first_cashiers_shift(
    qtbot: Any, window: CashierWindow, offline_terminal: Any, people: Any, clock: Any
) -> None:
    offline_terminal.create_user(
        manager="gerente",
        manager_pin=MANAGER_PIN,
        username="beto",
        name="Beto Ruiz",
        role="cajero",
        pin="4321",
    )
    shifts.open_shift(
        offline_terminal.uow, cashier_id=people[1].id, opening_float=Decimal("500"), clock=clock
    )
    login(qtbot, window, username="beto", pin="4321")
    qtbot.waitUntil(lambda: "solo esa persona cobra" in window.login.error.text(), timeout=5000)
    assert window.pages.currentWidget() is window.login
    assert people[1].name in window.login.error.text()


@pytest.mark.parametrize("screen", SCREENS)
def test_the_cashier_window_fits_the_screen_with_long_and_huge_data(
    qtbot: Any, working: Any, offline_terminal: Any, clock: Any, screen: tuple[int, int]
) -> None:
    offline_terminal.last_print = PrintOutcome(False, True, LONG_ERROR)
    working.status.refresh()
    qtbot.waitUntil(lambda: "cola de reimpresión" in working.status.printer.text(), timeout=5000)
    record = cache_reference(
        offline_terminal, 90, "999999999.99", clock, member_name=LONG_NAME, status=VIGENTE
    )
    working.verdict_panel.show_verdict(Verdict(True, "ACEPTADA", "Pago válido.", record))
    working.notice.setText(LONG_ERROR)
    fits(qtbot, working, *screen)
    refused = cache_reference(offline_terminal, 91, "100.00", clock, member_name=MARKUP)
    working.verdict_panel.show_verdict(
        Verdict(False, "PAGADA", "Ya pagada.", refused), "7501055300075" * 5
    )
    fits(qtbot, working, *screen)
    # A name that looks like markup is shown as the characters it is.
    assert working.verdict_panel.member.text().startswith(MARKUP)
    data = [working.notice, working.tender.message, *working.status.findChildren(QLabel)]
    for label in [*working.verdict_panel.findChildren(QLabel), *data]:
        assert label.textFormat() == Qt.TextFormat.PlainText, label.text()


def spy(monkeypatch: Any, terminal: Any, name: str) -> list[Any]:
    """Record each call of one terminal action (and its result), letting it run."""
    calls: list[Any] = []
    action = getattr(terminal, name)

    def recorded(*args: Any, **kwargs: Any) -> Any:
        result = action(*args, **kwargs)
        calls.append((args, kwargs, result))
        return result

    monkeypatch.setattr(terminal, name, recorded)
    return calls


def test_enter_asks_the_service_once_and_paints_its_verdict(
    qtbot: Any, working: CashierWindow, offline_terminal: Any, clock: Any, monkeypatch: Any
) -> None:
    record = cache_reference(offline_terminal, 61, "250.00", clock)
    scans = spy(monkeypatch, offline_terminal, "scan")
    verdict = scan(qtbot, working, record.reference)
    [(args, _, scanned)] = scans
    assert args == (record.reference,)
    assert verdict is scanned.verdict and verdict.ok
    assert "$250.00" in working.verdict_panel.amount.text()
    assert working.tender.isEnabled() and working.tender.cap == scanned.cash_cap


def test_confirming_pays_then_delivers_the_receipt_and_paints_both(
    qtbot: Any, working: CashierWindow, offline_terminal: Any, clock: Any, monkeypatch: Any
) -> None:
    record = cache_reference(offline_terminal, 62, "250.00", clock)
    pays = spy(monkeypatch, offline_terminal, "pay")
    receipts = spy(monkeypatch, offline_terminal, "deliver_receipt")
    scan(qtbot, working, record.reference)
    with qtbot.waitSignal(working.receipt_printed, timeout=10000) as printed:
        working.tender.fill_exact()
        qtbot.keyClick(working.tender.cash, Qt.Key.Key_Return)
    [(_, paid_with, payment)] = pays
    assert paid_with["reference"] == record.reference
    assert paid_with["tender"].cash == Decimal("250.00")
    [(args, _, outcome)] = receipts
    assert args == (payment.uuid,) and printed.args[0] is outcome
    assert f"folio {payment.folio}" in working.verdict_panel.headline.text()
    assert "Comprobante impreso" in working.notice.text()


def test_a_second_enter_does_not_confirm_a_large_change(
    qtbot: Any, working: CashierWindow, offline_terminal: Any, clock: Any
) -> None:
    from ui.approval import Confirm

    record = cache_reference(offline_terminal, 48, "1374.40", clock)
    assert scan(qtbot, working, record.reference).ok
    working.tender.cash.setText("2000")  # change $625.60
    qtbot.keyClick(working.tender.cash, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: any(d.isVisible() for d in working.findChildren(Confirm)))
    (dialog,) = [d for d in working.findChildren(Confirm) if d.isVisible()]
    assert dialog.focusWidget() is dialog.cancel
    qtbot.keyClick(dialog.cancel, Qt.Key.Key_Return)
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert offline_terminal.payments_today() == []


def test_esc_after_a_payment_keeps_the_change_in_sight_and_cancels_nothing(
    qtbot: Any, working: CashierWindow, offline_terminal: Any, clock: Any
) -> None:
    record = cache_reference(offline_terminal, 49, "540.00", clock)
    assert scan(qtbot, working, record.reference).ok
    assert working.cancel.isEnabled()  # a ficha on screen, not paid: Esc drops it
    qtbot.keyClicks(working.tender.cash, "600")
    with qtbot.waitSignal(working.payment_taken, timeout=5000):
        qtbot.keyClick(working.tender.cash, Qt.Key.Key_Return)
    assert "CAMBIO: $60.00" in visible_texts(working)
    assert not working.cancel.isEnabled()
    qtbot.keyClick(working.scan, Qt.Key.Key_Escape)
    working.on_escape()  # what the Esc shortcut calls, whether or not the key reached it
    assert "CAMBIO: $60.00" in visible_texts(working)
    assert len(offline_terminal.payments_today()) == 1


def test_the_amount_to_collect_is_shown_whole_at_1024_with_the_demo_list(
    qtbot: Any, offline_terminal: Any, runner: Any, people: Any, clock: Any
) -> None:
    demo = [("261201 00000 00003 22", "Liquidación, préstamo P-100001-2 · $1,731.56")] * 4
    w = CashierWindow(offline_terminal, runner, status_poll_ms=100, demo_references=demo)
    qtbot.addWidget(w)
    w.show()
    shifts.open_shift(
        offline_terminal.uow, cashier_id=people[1].id, opening_float=Decimal("500.00"), clock=clock
    )
    login(qtbot, w)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.work, timeout=5000)
    record = cache_reference(offline_terminal, 50, "61731.56", clock)
    assert scan(qtbot, w, record.reference).ok
    fits(qtbot, w, 1024, 768)
    label = w.tender.change
    label.ensurePolished()
    width = label.contentsRect().width()
    for line in label.text().splitlines():  # "A cobrar", "$61,731.56": each on one line
        assert label.fontMetrics().horizontalAdvance(line) <= width, (line, width)


def test_a_reprint_refused_for_a_cashiers_pin_says_only_that_a_manager_is_needed(
    qtbot: Any, working: CashierWindow, offline_terminal: Any, clock: Any
) -> None:
    from tests.ui.conftest import confirm_open_dialog

    record = cache_reference(offline_terminal, 51, "540.00", clock)
    assert scan(qtbot, working, record.reference).ok
    qtbot.keyClicks(working.tender.cash, "540")
    with qtbot.waitSignal(working.receipt_printed, timeout=10000):
        qtbot.keyClick(working.tender.cash, Qt.Key.Key_Return)
    working.on_reprint_last()
    confirm_open_dialog(qtbot, working, pin=CASHIER_PIN, manager="cajero")
    qtbot.waitUntil(lambda: "No se reimprimió" in working.notice.text(), timeout=5000)
    assert "gerente" in working.notice.text()
    assert "quedó registrado" not in working.notice.text()


def test_the_shift_header_shows_the_opening_float(working: CashierWindow) -> None:
    assert "fondo $500.00" in working.status.shift


def test_a_person_on_the_open_shift_screen_can_leave_without_opening_one(
    qtbot: Any, window: CashierWindow, offline_terminal: Any
) -> None:
    login(qtbot, window)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.open_shift, timeout=5000)
    window.open_shift.leave.click()
    assert window.pages.currentWidget() is window.login
    assert offline_terminal.current_shift() is None


def test_a_ficha_scanned_into_the_authorization_is_a_scan_and_a_payment_shows_it_spaced(
    qtbot: Any, working: CashierWindow, offline_terminal: Any, clock: Any
) -> None:
    record = cache_reference(offline_terminal, 52, "540.00", clock)
    other = cache_reference(offline_terminal, 53, "300.00", clock)
    assert scan(qtbot, working, record.reference).ok
    with qtbot.waitSignal(working.verdict_shown, timeout=5000) as shown:
        qtbot.keyClicks(working.tender.auth, other.reference)
        qtbot.keyClick(working.tender.auth, Qt.Key.Key_Return)
    assert shown.args[0].ok and shown.args[0].record.reference == other.reference
    assert "número de tarjeta" not in working.tender.message.text()
    qtbot.keyClicks(working.tender.cash, "300")
    with qtbot.waitSignal(working.payment_taken, timeout=5000):
        qtbot.keyClick(working.tender.cash, Qt.Key.Key_Return)
    assert Reference(other.reference).grouped() in visible_texts(working)
