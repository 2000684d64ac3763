"""The kiosk driven by touch, against the real central on loopback."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from kiosk.references import parse
from tests.ui.conftest import barcodes_in
from ui.kiosk import KioskWindow


@pytest.fixture
def window(qtbot: Any, kiosk_terminal: Any, runner: Any) -> KioskWindow:
    w = KioskWindow(kiosk_terminal, runner, idle_seconds=30, warning_seconds=5)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: kiosk_terminal.online(), timeout=10000)
    return w


def type_on_keypad(qtbot: Any, keypad: Any, digits: str) -> None:
    for d in digits:
        keypad.press(d)


def log_in(qtbot: Any, w: KioskWindow, central: Any, member_index: int = 0) -> None:
    member = central.demo["members"][member_index]
    qtbot.mouseClick(w.start_button, __import__("PySide6.QtCore").QtCore.Qt.MouseButton.LeftButton)
    assert w.pages.currentWidget() is w.login_page
    w.login_page.keypad.target = w.login_page.number
    type_on_keypad(qtbot, w.login_page.keypad, member["number"])
    w.login_page.keypad.target = w.login_page.nip
    type_on_keypad(qtbot, w.login_page.keypad, member["nip"])
    w.login_page.enter.click()
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.loans_page, timeout=10000)


def print_and_check(qtbot: Any, w: KioskWindow, tmp_path: Any, amount: Decimal) -> dict:
    assert w.pages.currentWidget() is w.summary_page
    assert w.summary_page.amount.text().startswith(f"${amount:,.2f}")
    with qtbot.waitSignal(w.slip_printed, timeout=10000) as done:
        w.summary_page.print_button.click()
    slip = done.args[0]
    assert Decimal(slip["amount"]) == amount
    assert w.pages.currentWidget() is w.done_page
    assert w.done_page.heading.text() == "Presenta tu ficha en caja"
    printed = (tmp_path / "impresora.bin").read_bytes()
    assert barcodes_in(printed)[-1] == slip["reference"]
    parse(slip["reference"])
    return slip


def test_an_affiliate_prints_a_ficha_for_the_two_oldest_quincenas(
    qtbot: Any, window: KioskWindow, central: Any, tmp_path: Any
) -> None:
    log_in(qtbot, window, central)
    loan = window.loans[0]
    window.choose_loan(loan)
    window.options_page.kind_buttons["QUINCENAL"].click()
    pending = loan["options"]["pending"]
    second = int(pending[1]["number"])
    window.quincenas_page.buttons[1].click()  # the second: the first comes along
    assert window.choice.quincenas == [int(pending[0]["number"]), second]
    expected = Decimal(pending[0]["amount"]) + Decimal(pending[1]["amount"])
    assert f"${expected:,.2f}" in window.quincenas_page.total.text()
    window.quincenas_page.buttons[0].click()  # dropping the oldest drops the newer too
    assert window.choice.quincenas == []
    window.quincenas_page.buttons[1].click()
    window.quincenas_page.next_button.click()
    # Demo data already holds today's ficha for this loan: the kiosk says it is replaced.
    assert "reemplaza" in window.summary_page.warning_box.text()
    slip = print_and_check(qtbot, window, tmp_path, expected)
    assert slip["replaced"]


def test_a_prepayment_below_the_minimum_is_refused_and_a_valid_one_prints(
    qtbot: Any, window: KioskWindow, central: Any, tmp_path: Any
) -> None:
    log_in(qtbot, window, central, member_index=1)
    loan = window.loans[0]
    window.choose_loan(loan)
    window.options_page.kind_buttons["ABONO"].click()
    minimum = Decimal(loan["options"]["min_prepayment"])
    type_on_keypad(qtbot, window.amount_page.keypad, "10")
    window.amount_page.next_button.click()
    assert "al menos" in window.amount_page.error.text()
    window.amount_page.amount.clear()
    amount = (minimum + 100).quantize(Decimal("1"))
    type_on_keypad(qtbot, window.amount_page.keypad, str(amount))
    window.amount_page.next_button.click()
    print_and_check(qtbot, window, tmp_path, amount)


@pytest.mark.parametrize(
    ("kind", "key", "member"),
    [
        ("LIQUIDACION", "payoff_amount", 0),
        ("RENOVACION", "renewal_amount", 2),
    ],
)
def test_renewal_and_payoff_are_computed_and_print(
    qtbot: Any,
    window: KioskWindow,
    central: Any,
    tmp_path: Any,
    kind: str,
    key: str,
    member: int,
) -> None:
    log_in(qtbot, window, central, member_index=member)
    loan = next(ln for ln in window.loans if Decimal(ln["options"][key]) > 0)
    window.choose_loan(loan)
    window.options_page.kind_buttons[kind].click()
    print_and_check(qtbot, window, tmp_path, Decimal(loan["options"][key]))


def test_a_wrong_nip_is_refused_on_screen(qtbot: Any, window: KioskWindow, central: Any) -> None:
    window.start()
    window.login_page.number.setText(central.demo["members"][0]["number"])
    window.login_page.nip.setText("0000")
    window.login_page.enter.click()
    qtbot.waitUntil(lambda: window.login_page.error.text() != "", timeout=10000)
    assert window.pages.currentWidget() is window.login_page


def test_offline_the_kiosk_says_plainly_that_fichas_cannot_be_issued(
    qtbot: Any, window: KioskWindow, proxy: Any
) -> None:
    proxy.down()
    qtbot.waitUntil(
        lambda: "no se pueden emitir fichas" in window.offline_banner.text(), timeout=10000
    )


def test_idle_timeout_counts_down_and_forgets_the_affiliate(
    qtbot: Any, kiosk_terminal: Any, runner: Any, central: Any
) -> None:
    w = KioskWindow(kiosk_terminal, runner, idle_seconds=2.5, warning_seconds=2)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: kiosk_terminal.online(), timeout=10000)
    log_in(qtbot, w, central)
    assert w.member_name
    qtbot.waitUntil(lambda: w.countdown.isVisible(), timeout=5000)
    assert "se cerrará en" in w.countdown_label.text()
    with qtbot.waitSignal(w.reset_done, timeout=5000):
        pass
    assert w.pages.currentWidget() is w.welcome
    assert (w.session, w.member_name, w.loans) == (None, "", [])
    assert w.login_page.number.text() == "" and w.login_page.nip.text() == ""


@pytest.mark.parametrize(
    ("when", "words"),
    [
        ({"hour": 21, "minute": 45}, "deja de cobrar en 15 minutos"),
        ({"hour": 22, "minute": 5}, "ya no podrá pagarse"),
        ({"saturday": True}, "no es día hábil"),
    ],
)
def test_the_summary_warns_when_the_ficha_could_not_be_paid_today(
    qtbot: Any, window: KioskWindow, central: Any, clock: Any, when: dict, words: str
) -> None:
    log_in(qtbot, window, central)
    loan = window.loans[0]
    window.choose_loan(loan)
    window.options_page.kind_buttons["LIQUIDACION"].click()
    assert not any("hoy" in w and "pagarse" in w for w in window.warnings()[1:])
    if when.pop("saturday", False):
        clock.now += timedelta(days=(5 - clock.now.weekday()) % 7 or 7)
    clock.now = clock.now.replace(second=0, microsecond=0, **when)
    window.show_summary()
    assert words in window.summary_page.warning_box.text()
