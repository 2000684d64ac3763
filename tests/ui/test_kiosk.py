"""The kiosk driven by touch (qtbot clicks on its buttons), against the real central on
loopback: each action calls the kiosk service and paints its result."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QPushButton, QScroller

from kiosk import kiosk_flow as kf
from kiosk import money
from kiosk.references import parse
from kiosk.simulator import simulate
from sync.client import AuthError
from tests.ui.conftest import barcodes_in
from ui.kiosk import KioskWindow
from ui.kiosk_style import MIN_TARGET_PX

LEFT = Qt.MouseButton.LeftButton


def open_window(
    qtbot: Any, terminal: Any, runner: Any, size: tuple[int, int], **timing: float
) -> KioskWindow:
    """A shown kiosk, online; ``timing``: idle, warning and hold seconds."""
    w = KioskWindow(terminal, runner, **timing)
    qtbot.addWidget(w)
    w.resize(*size)
    w.show()
    qtbot.waitUntil(lambda: terminal.online(), timeout=10000)
    return w


@pytest.fixture
def window(qtbot: Any, kiosk_terminal: Any, runner: Any) -> KioskWindow:
    # No hold: these tests tap as soon as a page shows (the hold has its own test).
    timing = {"idle_seconds": 30, "warning_seconds": 5, "hold_seconds": 0}
    return open_window(qtbot, kiosk_terminal, runner, (1920, 1080), **timing)


def tap(qtbot: Any, b: QPushButton) -> None:
    assert b.isVisible() and b.isEnabled(), b.text()
    qtbot.mouseClick(b, LEFT)


def keys(qtbot: Any, keypad: Any, text: str) -> None:
    for k in text:
        tap(qtbot, keypad.buttons[k])


def log_in(qtbot: Any, w: KioskWindow, central: Any, member_index: int = 0) -> dict:
    member = central.demo["members"][member_index]
    tap(qtbot, w.start_button)
    keys(qtbot, w.login_page.keypad, member["number"] + member["nip"])
    tap(qtbot, w.login_page.enter)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.loans_page, timeout=10000)
    return member


def loan_with(w: KioskWindow, test: Any) -> tuple[int, kf.LoanChoice]:
    assert w.visit is not None
    return next((i, ln) for i, ln in enumerate(w.visit.loans) if test(ln))


def print_and_check(qtbot: Any, w: KioskWindow, tmp_path: Any, amount: Decimal) -> kf.Printed:
    assert w.pages.currentWidget() is w.summary_page
    assert w.summary_page.amount.text() == f"${amount:,.2f}"
    with qtbot.waitSignal(w.slip_printed, timeout=10000) as done:
        tap(qtbot, w.summary_page.print_button)
    printed: kf.Printed = done.args[0]
    assert printed.slip.amount == amount and printed.printed
    assert w.pages.currentWidget() is w.done_page
    printed_bytes = (tmp_path / "impresora.bin").read_bytes()
    assert barcodes_in(printed_bytes)[-1] == printed.slip.reference
    parse(printed.slip.reference)
    return printed


# --- 1. login -----------------------------------------------------------------------------


def test_the_keypad_moves_to_the_nip_once_the_number_is_complete_and_the_nip_stays_masked(
    qtbot: Any, window: KioskWindow, central: Any
) -> None:
    page = window.login_page
    number = central.demo["members"][0]["number"]
    tap(qtbot, window.start_button)
    keys(qtbot, page.keypad, number)
    assert page.number.text() == number
    assert page.target is page.nip and page.nip.hasFocus()
    keys(qtbot, page.keypad, "12")
    assert page.number.text() == number and page.nip.text() == "12"
    qtbot.mouseClick(page.number, LEFT)  # touching the full number: the keypad refuses more
    keys(qtbot, page.keypad, "9")
    assert page.number.text() == number
    assert page.nip.echoMode() == QLineEdit.EchoMode.Password
    assert page.nip.displayText() != "12" and "1" not in page.nip.displayText()


def test_after_a_wrong_nip_the_nip_is_cleared_and_active_and_the_number_kept(
    qtbot: Any, window: KioskWindow, central: Any
) -> None:
    page = window.login_page
    member = central.demo["members"][0]
    tap(qtbot, window.start_button)
    keys(qtbot, page.keypad, member["number"] + "0000")
    tap(qtbot, page.enter)
    qtbot.waitUntil(lambda: page.error.text() != "", timeout=10000)
    assert page.error.text().startswith("Número de afiliado o NIP incorrecto.")
    assert "intentos." in page.error.text() or page.error.text().endswith("incorrecto.")
    assert (page.number.text(), page.nip.text()) == (member["number"], "")
    assert page.target is page.nip and page.nip.hasFocus()
    keys(qtbot, page.keypad, member["nip"])
    assert page.number.text() == member["number"]
    tap(qtbot, page.enter)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.loans_page, timeout=10000)


def test_entrar_without_a_nip_asks_for_it_and_the_keypad_then_types_the_nip(
    qtbot: Any, window: KioskWindow, central: Any
) -> None:
    page = window.login_page
    tap(qtbot, window.start_button)
    keys(qtbot, page.keypad, "100")
    tap(qtbot, page.enter)
    assert "6 dígitos" in page.error.text() and page.target is page.number
    keys(qtbot, page.keypad, "003")
    page.nip.clear()
    tap(qtbot, page.enter)
    assert page.error.text() == "Escriba su NIP." and page.target is page.nip
    keys(qtbot, page.keypad, "1357")
    assert (page.number.text(), page.nip.text()) == ("100003", "1357")


def test_an_unknown_number_reads_like_a_wrong_nip(
    qtbot: Any, window: KioskWindow, central: Any
) -> None:
    page = window.login_page
    tap(qtbot, window.start_button)
    keys(qtbot, page.keypad, "999999" + "1234")
    tap(qtbot, page.enter)
    qtbot.waitUntil(lambda: page.error.text() != "", timeout=10000)
    assert page.error.text().startswith("Número de afiliado o NIP incorrecto.")


def session_ended_at_central(terminal: Any, token: str) -> bool:
    try:
        terminal.central.kiosk_loans(token)
    except AuthError:
        return True
    return False


def test_salir_ends_the_session_at_central(qtbot: Any, window: KioskWindow, central: Any) -> None:
    log_in(qtbot, window, central)
    assert window.session is not None
    token = window.session.token
    assert not session_ended_at_central(window.terminal, token)
    salir = next(b for b in window.loans_page.findChildren(QPushButton) if b.text() == "Salir")
    tap(qtbot, salir)
    assert window.pages.currentWidget() is window.welcome and window.session is None
    qtbot.waitUntil(lambda: session_ended_at_central(window.terminal, token), timeout=10000)


def test_idle_counts_down_over_the_page_and_ends_the_visit_at_central(
    qtbot: Any, kiosk_terminal: Any, runner: Any, central: Any
) -> None:
    timing = {"idle_seconds": 2.5, "warning_seconds": 2, "hold_seconds": 0}
    w = open_window(qtbot, kiosk_terminal, runner, (1080, 1920), **timing)
    log_in(qtbot, w, central)
    token = w.session.token if w.session else ""
    page_top = w.pages.geometry()
    qtbot.waitUntil(lambda: w.countdown.isVisible(), timeout=5000)
    assert w.pages.geometry() == page_top  # the banner overlays; the page does not move
    # near the hands, clear of "Ayuda" and "Letra grande" at the top (trial 14)
    assert not w.countdown.geometry().intersects(w.contrast_button.geometry())
    assert w.countdown.geometry().bottom() > w.height() * 0.8
    assert w.countdown.geometry().intersects(w.pages.geometry())
    assert "se cerrará en" in w.countdown_label.text() and "Sigue" in w.countdown_label.text()
    assert w.keep_button.isVisible() and w.keep_button.objectName() == "primary"
    with qtbot.waitSignal(w.reset_done, timeout=5000):
        pass
    assert w.pages.currentWidget() is w.welcome and w.visit is None
    assert w.welcome.ended.isVisible() and "Su sesión se cerró" in w.welcome.ended.text()
    assert w.login_page.number.text() == "" and w.login_page.nip.text() == ""
    qtbot.waitUntil(lambda: session_ended_at_central(kiosk_terminal, token), timeout=10000)


# --- 2. touch layout ---------------------------------------------------------------------


@pytest.mark.parametrize("size", [(1080, 1920), (1920, 1080), (1366, 768)])
def test_every_visible_target_is_at_least_15_mm_on_every_screen(
    qtbot: Any, window: KioskWindow, central: Any, size: tuple[int, int]
) -> None:
    window.resize(*size)
    log_in(qtbot, window, central)
    _i, loan = loan_with(window, lambda ln: ln.pending)
    window.choose_loan(loan)
    seen = 0
    for page in (window.loans_page, window.options_page, window.login_page, window.amount_page):
        window.pages.setCurrentWidget(page)
        qtbot.wait(50)
        for b in window.findChildren(QPushButton):
            if b.isVisible():
                seen += 1
                assert min(b.width(), b.height()) >= MIN_TARGET_PX, (b.text(), b.size())
    assert seen > 20


def test_quincenas_scroll_by_dragging_without_a_scrollbar(
    qtbot: Any, window: KioskWindow, central: Any
) -> None:
    area = window.quincenas_page.area
    assert QScroller.hasScroller(area.viewport())
    assert area.verticalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff


def test_the_amount_keypad_refuses_a_second_point_and_a_third_decimal(
    qtbot: Any, window: KioskWindow, central: Any
) -> None:
    log_in(qtbot, window, central, member_index=1)
    index, _loan = loan_with(window, lambda ln: ln.can_prepay)
    tap(qtbot, window.loans_page.buttons[index])
    tap(qtbot, window.options_page.kind_buttons["ABONO"])
    keys(qtbot, window.amount_page.keypad, "1400..")
    assert window.amount_page.error.text() == "El importe lleva un solo punto."  # trial 15
    keys(qtbot, window.amount_page.keypad, "555")
    assert window.amount_page.amount.text() == "1400.55"
    assert window.amount_page.error.text().startswith("Después del punto caben solo dos")


# --- 3, 4. explanations and the flow -------------------------------------------------------


def test_an_affiliate_prints_two_quincenas_and_returns_to_the_loans(
    qtbot: Any, window: KioskWindow, central: Any, tmp_path: Any
) -> None:
    log_in(qtbot, window, central)
    index, loan = loan_with(window, lambda ln: len(ln.pending) >= 2)
    tap(qtbot, window.loans_page.buttons[index])
    for kind in kf.KINDS:
        assert window.options_page.explanations[kind].text().startswith(kf.EXPLANATIONS[kind])
    tap(qtbot, window.options_page.kind_buttons["QUINCENAL"])
    tap(qtbot, window.quincenas_page.buttons[1])  # the second: the first comes along
    qtbot.waitUntil(lambda: window.quincenas_page.chosen != (), timeout=3000)
    assert window.quincenas_page.chosen == (loan.pending[0].number, loan.pending[1].number)
    expected = loan.pending[0].amount + loan.pending[1].amount
    assert f"${expected:,.2f}" in window.quincenas_page.total.text()
    assert "(2 quincenas)" in window.quincenas_page.total.text()
    tap(qtbot, window.quincenas_page.next_button)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.summary_page, timeout=10000)
    printed = print_and_check(qtbot, window, tmp_path, expected)
    assert window.done_page.heading.text() == ("Tome su ficha de la impresora y preséntela en caja")
    tap(qtbot, window.done_page.back_button)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.loans_page, timeout=10000)
    assert window.visit is not None
    again = window.visit.loan(loan.loan_id)
    assert again.current is not None and again.current.reference == printed.slip.reference
    shown = window.loans_page.buttons[index].text()  # trial 18: the pending ficha is seen
    assert f"Ficha de hoy por pagar: ${expected:,.2f}" in shown


def test_a_prepayment_below_the_minimum_is_refused_and_a_valid_one_prints(
    qtbot: Any, window: KioskWindow, central: Any, tmp_path: Any
) -> None:
    log_in(qtbot, window, central, member_index=1)
    index, loan = loan_with(window, lambda ln: ln.can_prepay)
    tap(qtbot, window.loans_page.buttons[index])
    tap(qtbot, window.options_page.kind_buttons["ABONO"])
    keys(qtbot, window.amount_page.keypad, "10")
    tap(qtbot, window.amount_page.next_button)
    qtbot.waitUntil(lambda: "al menos" in window.amount_page.error.text())
    keys(qtbot, window.amount_page.keypad, "⌫⌫")
    assert window.amount_page.error.text() == ""  # trial 15: a stale message goes
    amount = (loan.min_prepayment + 100).quantize(Decimal("1"))
    keys(qtbot, window.amount_page.keypad, str(amount))
    tap(qtbot, window.amount_page.next_button)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.summary_page, timeout=10000)
    print_and_check(qtbot, window, tmp_path, amount)


@pytest.mark.parametrize(("kind", "member"), [("LIQUIDACION", 0), ("RENOVACION", 2)])
def test_renewal_and_payoff_are_computed_and_print(
    qtbot: Any, window: KioskWindow, central: Any, tmp_path: Any, kind: str, member: int
) -> None:
    log_in(qtbot, window, central, member_index=member)
    field = "payoff_amount" if kind == "LIQUIDACION" else "renewal_amount"
    index, loan = loan_with(window, lambda ln: getattr(ln, field) > 0)
    tap(qtbot, window.loans_page.buttons[index])
    tap(qtbot, window.options_page.kind_buttons[kind])
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.summary_page, timeout=10000)
    print_and_check(qtbot, window, tmp_path, getattr(loan, field))


@pytest.mark.parametrize(
    ("when", "words"),
    [
        ({"hour": 6, "minute": 10}, "podrá pagarse hoy a partir de las 7:00"),
        ({"hour": 21, "minute": 45}, "deja de cobrar en 15 minutos"),
        ({"hour": 22, "minute": 5}, "ya no podrá pagarse hoy"),
        ({"saturday": True}, "no es día hábil"),
    ],
)
def test_the_summary_says_whether_the_ficha_can_still_be_paid_today(
    qtbot: Any, window: KioskWindow, central: Any, clock: Any, when: dict, words: str
) -> None:
    log_in(qtbot, window, central)
    index, _loan = loan_with(window, lambda ln: ln.can_pay_off)
    if when.pop("saturday", False):
        clock.now += timedelta(days=(5 - clock.now.weekday()) % 7 or 7)
    clock.now = clock.now.replace(second=0, microsecond=0, **when)
    tap(qtbot, window.loans_page.buttons[index])
    tap(qtbot, window.options_page.kind_buttons["LIQUIDACION"])
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.summary_page, timeout=10000)
    assert words in window.summary_page.warning_box.text()


def test_offline_the_kiosk_says_plainly_that_fichas_cannot_be_issued(
    qtbot: Any, window: KioskWindow, proxy: Any
) -> None:
    proxy.down()
    qtbot.waitUntil(
        lambda: "no se pueden emitir fichas" in window.welcome.offline.text(), timeout=10000
    )


def test_offline_at_login_is_said_plainly(
    qtbot: Any, window: KioskWindow, central: Any, proxy: Any
) -> None:
    tap(qtbot, window.start_button)
    keys(qtbot, window.login_page.keypad, "1000011234")
    proxy.down()
    tap(qtbot, window.login_page.enter)
    qtbot.waitUntil(lambda: window.login_page.error.text() != "", timeout=15000)
    assert window.login_page.error.text() == kf.UNREACHABLE_MESSAGE


# --- 7. accessibility ----------------------------------------------------------------------


def test_large_type_and_high_contrast_are_one_touch_away_on_every_screen(
    qtbot: Any, window: KioskWindow, central: Any
) -> None:
    before = window.styleSheet()
    for page in window.all_pages:
        window.pages.setCurrentWidget(page)
        assert window.contrast_button.isVisible() and window.help_button.isVisible()
    tap(qtbot, window.contrast_button)
    assert window.large and window.styleSheet() != before and "#000000" in window.styleSheet()
    assert window.contrast_button.text().startswith("✓ ")  # trial 20: says it is on
    tap(qtbot, window.contrast_button)
    assert window.styleSheet() == before


def test_help_gives_the_institutes_phone_and_returns_where_it_was(
    qtbot: Any, window: KioskWindow
) -> None:
    tap(qtbot, window.start_button)
    tap(qtbot, window.help_button)
    assert window.pages.currentWidget() is window.help_page
    assert "473 735 1400" in window.help_page.findChildren(type(window.welcome.offline))[1].text()
    tap(qtbot, next(b for b in window.help_page.findChildren(QPushButton) if b.text() == "Volver"))
    assert window.pages.currentWidget() is window.login_page


def test_a_clock_far_from_centrals_is_warned_on_the_kiosk(
    qtbot: Any, window: KioskWindow, monkeypatch: Any
) -> None:
    monkeypatch.setattr(window.terminal, "clock_skew", lambda: timedelta(hours=12))
    qtbot.waitUntil(lambda: window.skew_label.isVisible(), timeout=3000)
    assert "720 minutos" in window.skew_label.text()


# --- 8. ¿Cuánto me prestan? ------------------------------------------------------------------


def test_the_simulator_without_login_computes_from_a_typed_salary(
    qtbot: Any, window: KioskWindow, clock: Any
) -> None:
    tap(qtbot, next(b for b in window.welcome.findChildren(QPushButton) if "prestan" in b.text()))
    page = window.simulator_page
    keys(qtbot, page.keypad, "12000")
    tap(qtbot, page.calculate)
    qtbot.waitUntil(lambda: page.table.count() > 0)
    expected = simulate(Decimal("12000.00"), clock.now.date())
    texts = [page.table.itemAt(i).widget().text() for i in range(page.table.count())]
    for t in expected.terms:
        assert f"${t.max_credit:,.2f}" in texts
    assert any(t.startswith("Depende") for t in texts)
    assert "informativas" in page.notes.text()


def test_the_simulator_logged_in_uses_what_central_knows(
    qtbot: Any, window: KioskWindow, central: Any
) -> None:
    log_in(qtbot, window, central, member_index=2)  # a pensioner in the demo data
    tap(
        qtbot, next(b for b in window.loans_page.findChildren(QPushButton) if "prestan" in b.text())
    )
    page = window.simulator_page
    qtbot.waitUntil(lambda: page.table.count() > 0, timeout=10000)
    texts = [page.table.itemAt(i).widget().text() for i in range(page.table.count())]
    assert page.salary.text() == "12800.00"
    assert texts.count("Sí: Pensionado: hasta 72 quincenas.") == 4


# --- 5, 6. history and the daily limit --------------------------------------------------------


def test_history_shows_the_ficha_just_printed_with_its_status(
    qtbot: Any, window: KioskWindow, central: Any, tmp_path: Any
) -> None:
    log_in(qtbot, window, central)
    index, loan = loan_with(window, lambda ln: ln.can_pay_off)
    tap(qtbot, window.loans_page.buttons[index])
    tap(qtbot, window.options_page.kind_buttons["LIQUIDACION"])
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.summary_page, timeout=10000)
    printed = print_and_check(qtbot, window, tmp_path, loan.payoff_amount)
    tap(qtbot, window.done_page.back_button)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.loans_page, timeout=10000)
    tap(qtbot, next(b for b in window.loans_page.findChildren(QPushButton) if "pagos" in b.text()))
    grouped = kf.CurrentSlip(printed.slip.reference, printed.slip.amount, "VIGENTE").grouped

    def lines() -> list[str]:
        box = window.history_page.box
        return [box.itemAt(i).widget().text() for i in range(box.count()) if box.itemAt(i).widget()]

    qtbot.waitUntil(lambda: any(grouped in t for t in lines()), timeout=10000)
    mine = next(t for t in lines() if grouped in t)
    assert mine.endswith("Liquidación · vigente, por pagar hoy")


def test_the_review_counts_the_fichas_left_today_and_at_the_limit_print_is_off(
    qtbot: Any, window: KioskWindow, central: Any
) -> None:
    """Trial 9: the limit shows on the review, before "Imprimir", not after."""
    log_in(qtbot, window, central, member_index=1)
    index, loan = loan_with(window, lambda ln: ln.can_prepay)
    kind = "RENOVACION" if loan.renewal_amount else "LIQUIDACION"
    assert window.visit is not None and window.visit.slips_left  # central's count
    tap(qtbot, window.loans_page.buttons[index])
    for left in range(window.visit.slips_left, 0, -1):
        tap(qtbot, window.options_page.kind_buttons[kind])
        qtbot.waitUntil(lambda: window.pages.currentWidget() is window.summary_page, timeout=10000)
        assert f"Hoy puede generar {kf.plural(left, 'ficha más', 'fichas más')}" in (
            window.summary_page.note_box.text()
        )
        with qtbot.waitSignal(window.slip_printed, timeout=10000):
            tap(qtbot, window.summary_page.print_button)
        tap(qtbot, window.done_page.back_button)
        qtbot.waitUntil(lambda: window.pages.currentWidget() is window.loans_page, timeout=10000)
        tap(qtbot, window.loans_page.buttons[index])
    tap(qtbot, window.options_page.kind_buttons[kind])
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.summary_page, timeout=10000)
    assert window.summary_page.error.text().startswith("Ya generó las 5 fichas de hoy")
    assert not window.summary_page.print_button.isEnabled()
    assert not window.summary_page.warning_box.isVisible() or (
        "reemplaza" not in window.summary_page.warning_box.text()
    )


def test_the_loan_explains_why_liquidacion_is_less_than_the_saldo(
    qtbot: Any, window: KioskWindow, central: Any
) -> None:
    """Trial 10."""
    log_in(qtbot, window, central)
    index, loan = loan_with(window, lambda ln: ln.in_payroll and ln.can_prepay)
    tap(qtbot, window.loans_page.buttons[index])
    info = window.options_page.info.text()
    assert f"bastan {money.fmt(loan.payoff_amount)}, no su saldo de" in info
    assert "nómina" in info
    tap(qtbot, window.options_page.kind_buttons["ABONO"])
    assert loan.balance_note in window.amount_page.rules.text()


def test_history_counts_the_quincenas_paid_by_payroll(
    qtbot: Any, window: KioskWindow, central: Any
) -> None:
    """Trial 11: a loan paid by payroll does not read "no payments"."""
    log_in(qtbot, window, central)
    _i, loan = loan_with(window, lambda ln: ln.paid > 0)
    tap(qtbot, next(b for b in window.loans_page.findChildren(QPushButton) if "pagos" in b.text()))

    def lines() -> list[str]:
        box = window.history_page.box
        return [box.itemAt(i).widget().text() for i in range(box.count()) if box.itemAt(i).widget()]

    qtbot.waitUntil(lambda: len(lines()) > 1, timeout=10000)
    assert loan.quincenas_line in lines()
    assert f"pagadas (por nómina o en farmacia): {loan.paid}" in loan.quincenas_line
    assert "Aún no hay pagos registrados." not in lines()


def test_the_simulators_salary_is_replaced_by_typing_and_current_loans_count(
    qtbot: Any, window: KioskWindow, central: Any
) -> None:
    """Trial 8 and 12."""
    log_in(qtbot, window, central)
    tap(
        qtbot, next(b for b in window.loans_page.findChildren(QPushButton) if "prestan" in b.text())
    )
    page = window.simulator_page
    qtbot.waitUntil(lambda: page.table.count() > 0, timeout=10000)
    assert page.salary.text() != ""
    assert "ya le descuentan" in page.notes.text()
    qtbot.mouseClick(page.salary, LEFT)
    keys(qtbot, page.keypad, "9000")
    assert page.salary.text() == "9000"
    tap(qtbot, page.calculate)
    qtbot.waitUntil(lambda: page.salary.text() == "9000.00", timeout=10000)


@pytest.mark.parametrize("large", [False, True], ids=["normal", "letra-grande"])
def test_every_page_fits_a_1366_by_768_screen_in_both_looks(
    qtbot: Any, window: KioskWindow, central: Any, large: bool
) -> None:
    if large:
        tap(qtbot, window.contrast_button)
    log_in(qtbot, window, central)
    tap(
        qtbot, next(b for b in window.loans_page.findChildren(QPushButton) if "prestan" in b.text())
    )
    qtbot.waitUntil(lambda: window.simulator_page.table.count() > 0, timeout=10000)
    window.simulator_page.keypad.show()  # the tallest state of the tallest page
    hint = window.minimumSizeHint()
    assert (hint.width(), hint.height()) <= (1366, 768) and hint.height() <= 768, hint


# --- first-day trial findings -----------------------------------------------------------------


def test_a_double_tap_does_not_act_on_the_next_page_nor_spill_a_digit_into_the_nip(
    qtbot: Any, kiosk_terminal: Any, runner: Any, central: Any
) -> None:
    """Trial 1 and 7: a tap within a moment of a change under the finger is dropped."""
    timing = {"idle_seconds": 30, "warning_seconds": 5, "hold_seconds": 0.4}
    w = open_window(qtbot, kiosk_terminal, runner, (1080, 1920), **timing)
    member = central.demo["members"][0]
    page = w.login_page
    qtbot.wait(450)
    tap(qtbot, w.start_button)
    qtbot.wait(450)
    tap(qtbot, page.enter)  # Entrar with nothing typed: a message
    assert page.error.text()
    keys(qtbot, page.keypad, member["number"] + "7")  # a 7th digit right after the 6th
    assert page.nip.text() == "" and page.target is page.nip
    assert page.error.text() == ""  # the stale "tiene 6 dígitos" went with the first key
    qtbot.wait(450)
    keys(qtbot, page.keypad, member["nip"])
    tap(qtbot, page.enter)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.loans_page, timeout=10000)
    salir = next(b for b in w.loans_page.findChildren(QPushButton) if b.text() == "Salir")
    qtbot.mouseClick(salir, LEFT)  # the double tap's second tap lands on "Salir"
    assert w.pages.currentWidget() is w.loans_page and w.session is not None
    qtbot.wait(450)
    tap(qtbot, salir)
    assert w.pages.currentWidget() is w.welcome
    assert w.welcome.ended.text() == "Gracias por su visita: su sesión quedó cerrada."


def test_the_quincenas_open_at_the_oldest_on_every_visit(
    qtbot: Any, window: KioskWindow, central: Any
) -> None:
    """Trial 2: the list does not keep the last affiliate's scroll position."""
    window.resize(1366, 768)
    log_in(qtbot, window, central)
    index, loan = loan_with(window, lambda ln: len(ln.pending) >= 8)
    tap(qtbot, window.loans_page.buttons[index])
    tap(qtbot, window.options_page.kind_buttons["QUINCENAL"])
    bar = window.quincenas_page.area.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    assert window.quincenas_page.more.isVisible()  # trial 13: "more below" is said
    bar.setValue(bar.maximum())  # where a drag left it
    assert not window.quincenas_page.more.isVisible()
    tap(
        qtbot,
        next(b for b in window.quincenas_page.findChildren(QPushButton) if b.text() == "Volver"),
    )
    tap(qtbot, window.options_page.kind_buttons["QUINCENAL"])
    assert bar.value() == 0
    assert window.quincenas_page.more.isVisible()
    first = window.quincenas_page.buttons[0]
    assert not first.visibleRegion().isEmpty()


@pytest.mark.parametrize("size", [(1080, 1920), (1366, 768)])
def test_with_large_type_no_loan_or_kind_button_cuts_its_text(
    qtbot: Any, window: KioskWindow, central: Any, size: tuple[int, int]
) -> None:
    """Trial 3 and 4: buttons keep the height and width their lines need."""
    window.resize(*size)
    tap(qtbot, window.contrast_button)
    log_in(qtbot, window, central)
    _i, loan = loan_with(window, lambda ln: ln.in_payroll)
    tap(qtbot, window.loans_page.buttons[_i])
    qtbot.wait(50)
    for b in [*window.loans_page.buttons, *window.options_page.kind_buttons.values()]:
        metrics = b.fontMetrics()
        lines = b.text().split("\n")
        assert b.height() >= len(lines) * metrics.height(), (b.text(), b.size())
        for line in lines:
            assert metrics.horizontalAdvance(line) <= b.contentsRect().width(), (line, b.size())
    for kind, b in window.options_page.kind_buttons.items():  # nothing drawn over them
        below = window.options_page.explanations[kind].geometry()
        assert below.top() > b.geometry().bottom(), (kind, b.geometry(), below)


def test_the_keypad_keeps_its_size_after_large_type_and_is_big_in_landscape(
    qtbot: Any, window: KioskWindow
) -> None:
    """Trial 5."""
    window.resize(1080, 1920)
    tap(qtbot, window.start_button)
    key = window.login_page.keypad.buttons["5"]
    qtbot.wait(50)
    before = key.size()
    assert before.width() >= 218 and before.height() >= 128
    tap(qtbot, window.contrast_button)
    tap(qtbot, window.contrast_button)
    qtbot.wait(50)
    assert key.width() >= before.width() and key.height() >= before.height()
    window.resize(1920, 1080)
    qtbot.waitUntil(lambda: key.height() < before.height())
    assert key.width() >= 150 and key.height() >= 90


@pytest.mark.parametrize("size", [(1080, 1920), (1366, 768)])
def test_a_message_appearing_does_not_move_the_keys(
    qtbot: Any, window: KioskWindow, size: tuple[int, int]
) -> None:
    """Trial 6: the message's room is kept, so targets never move under a finger."""
    window.resize(*size)
    page = window.login_page
    tap(qtbot, window.start_button)
    key = page.keypad.buttons["1"]
    qtbot.wait(50)
    where = key.mapTo(window, key.rect().topLeft())
    keys(qtbot, page.keypad, "10")
    tap(qtbot, page.enter)
    assert "6 dígitos" in page.error.text()
    qtbot.wait(50)
    assert key.mapTo(window, key.rect().topLeft()) == where


def test_the_next_person_starts_with_the_usual_look(
    qtbot: Any, window: KioskWindow, central: Any
) -> None:
    """Trial 14: large type and high contrast end with the visit."""
    normal = window.styleSheet()
    tap(qtbot, window.contrast_button)
    log_in(qtbot, window, central)
    tap(qtbot, next(b for b in window.loans_page.findChildren(QPushButton) if b.text() == "Salir"))
    assert not window.large and window.styleSheet() == normal
    assert not window.contrast_button.isChecked()


def test_a_locked_account_says_until_what_time_and_whom_to_call(
    qtbot: Any, window: KioskWindow, central: Any, clock: Any
) -> None:
    """Trial 17: not "por unos minutos"."""
    page = window.login_page
    tap(qtbot, window.start_button)
    keys(qtbot, page.keypad, central.demo["members"][0]["number"])
    for _ in range(5):
        keys(qtbot, page.keypad, "0000")
        tap(qtbot, page.enter)
        qtbot.waitUntil(lambda: page.enter.isEnabled() and page.error.text() != "", timeout=10000)
    text = page.error.text()
    assert text.startswith("Por su seguridad el acceso está bloqueado hasta las "), text
    assert kf.INSTITUTE_PHONE in text and "unos minutos" not in text


def test_in_portrait_the_simulators_keypad_sits_under_the_salary(
    qtbot: Any, window: KioskWindow
) -> None:
    """Trial 20: the keypad near the field it types into."""
    window.resize(1080, 1920)
    tap(qtbot, next(b for b in window.welcome.findChildren(QPushButton) if "prestan" in b.text()))
    page = window.simulator_page
    qtbot.wait(50)
    key = page.keypad.buttons["1"]
    gap = (
        key.mapTo(window, key.rect().topLeft()).y()
        - page.calculate.mapTo(window, page.calculate.rect().bottomLeft()).y()
    )
    assert 0 < gap < 250, gap
    keys(qtbot, page.keypad, "9000")
    tap(qtbot, page.calculate)
    qtbot.waitUntil(lambda: page.table.count() > 0)
    assert not page.keypad.isVisible() and page.area.height() > 800  # the figures' room
