"""The tender planner (kiosk.tender): what the cashier typed, answered before Enter."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kiosk.rules import Tender
from kiosk.tender import looks_like_card_number, plan

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
