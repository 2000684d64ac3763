"""The tender planner (kiosk.tender): what the cashier typed, answered before Enter."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kiosk.rules import Tender
from kiosk.tender import exact_cash, looks_like_card_number, plan, rest_on_card

D = Decimal
CAP = D("30000.00")


def test_cash_over_the_importe_gives_its_change() -> None:
    p = plan(D("540.00"), "600", "", "", CAP)
    assert p.ready and p.tender == Tender(cash=D("540.00"))
    assert (p.cash_received, p.change) == (D("600.00"), D("60.00"))


def test_cash_short_of_the_importe_says_how_much_is_missing() -> None:
    p = plan(D("540.00"), "500", "", "", CAP)
    assert not p.ready and "40.00" in p.message


def test_a_split_needs_the_vouchers_authorization() -> None:
    assert not plan(D("540.00"), "40", "500", "", CAP).ready
    p = plan(D("540.00"), "40", "500", "A1B2", CAP)
    assert p.ready and p.tender == Tender(cash=D("40.00"), card=D("500.00"))


def test_cash_above_the_cap_asks_for_the_rest_by_card() -> None:
    p = plan(D("35000.00"), "35000", "", "", CAP)
    assert not p.ready and "5,000.00" in p.message
    assert plan(D("35000.00"), "30000", "5000", "X9", CAP).ready


def test_what_looks_like_a_card_number_is_never_taken_as_the_authorization() -> None:
    p = plan(D("540.00"), "", "540", "4111 1111 1111 1111", CAP)
    assert not p.ready and p.card_number_typed
    assert looks_like_card_number("4111-1111-1111-1111")
    assert not looks_like_card_number("123456")


@pytest.mark.parametrize(
    ("cash", "card", "auth"),
    [("abc", "", ""), ("", "600", "A1"), ("100", "540", "A1"), ("540", "", "A1")],
)
def test_inconsistent_fields_are_not_ready(cash: str, card: str, auth: str) -> None:
    p = plan(D("540.00"), cash, card, auth, CAP)
    assert not p.ready and p.message


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
