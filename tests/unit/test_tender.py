"""The tender planner the cashier screen paints as each key is typed."""

from __future__ import annotations

from decimal import Decimal

from kiosk.tender import exact_cash, plan, rest_on_card

D = Decimal
CAP = D("30000.00")


def test_nothing_typed_yet_is_a_prompt_not_an_error():
    first = plan(D("540.00"), "", "", "", CAP)
    assert not first.ready and first.prompt
    assert not plan(D("540.00"), "500", "", "", CAP).prompt  # now something is missing


def test_change_of_a_thousand_is_refused_and_over_five_hundred_asks_to_confirm():
    assert not plan(D("6912.04"), "8000", "", "", CAP).ready  # change 1,088.00
    assert "menor que $1,000.00" in plan(D("6912.04"), "8000", "", "", CAP).message
    big = plan(D("6912.04"), "7500", "", "", CAP)  # change 588.00
    assert big.ready and big.confirm_change and big.change == D("588.00")
    small = plan(D("6912.04"), "7000", "", "", CAP)  # change 88.00 (87.96 owed)
    assert small.ready and not small.confirm_change and small.change == D("88.00")


def test_a_scanned_code_in_the_cash_field_is_never_an_amount():
    scanned = plan(D("6912.04"), "7501055300075", "", "", CAP)
    assert not scanned.ready and "demasiado grande" in scanned.message


def test_f2_never_fills_more_cash_than_the_cap_and_fills_whole_coins():
    assert exact_cash(D("35000.00"), "", CAP) == CAP
    assert exact_cash(D("6912.04"), "", CAP) == D("6912.10")
    assert exact_cash(D("6912.04"), "912.04", CAP) == D("6000.00")


def test_the_rest_goes_on_card():
    assert rest_on_card(D("35000.00"), "30000") == D("5000.00")
    assert rest_on_card(D("540.00"), "") == D("540.00")
    assert rest_on_card(D("540.00"), "900") == D("0.00")
    assert rest_on_card(D("540.00"), "no es dinero") == D("540.00")
