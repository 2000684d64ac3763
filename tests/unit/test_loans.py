"""Amortization, maximum amounts and lending policy (SPEC 2.3).

Expectations come from hand arithmetic or from an independent exact computation with
``fractions.Fraction`` (never from the code under test).
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kiosk.loans import (
    LoanError,
    installment_amount,
    max_installment,
    max_loan_amount,
    max_term,
    quincena_rate,
    schedule,
)

D = Decimal
HALF = Fraction(1, 2)


def exact_round(x: Fraction) -> Decimal:
    """Half up to the centavo, on an exact rational (positive or negative)."""
    cents = math.floor(x * 100 + HALF)
    return D(cents) / 100


def exact_annuity(rate: Decimal, n: int) -> Fraction:
    r = Fraction(rate) * Fraction(116, 100) / 24
    if r == 0:
        return Fraction(n)
    return (1 - (1 + r) ** -n) / r


centavo_amounts = st.integers(min_value=1, max_value=50_000_000).map(lambda c: D(c) / 100)
rates = st.one_of(
    st.sampled_from([D("0"), D("0.16"), D("0.17")]),
    st.integers(min_value=0, max_value=5000).map(lambda bp: D(bp) / 10_000),
)
terms = st.integers(min_value=1, max_value=96)


# --- schedule: hand-worked cases --------------------------------------------------------


def test_a_one_quincena_loan_pays_principal_plus_interest_plus_iva() -> None:
    # 1000 at 24% a year: interest 1000 * 0.24 / 24 = 10.00, IVA 1.60.
    (row,) = schedule(D("1000.00"), D("0.24"), 1)
    assert row.interest == D("10.00")
    assert row.iva == D("1.60")
    assert row.principal == D("1000.00")
    assert row.payment == D("1011.60")
    assert row.balance_after == D("0.00")


def test_interest_exactly_half_a_centavo_is_rounded_up() -> None:
    # 100.50 at 24%: interest 100.50 * 0.01 = 1.005 → 1.01; IVA 0.1616 → 0.16.
    (row,) = schedule(D("100.50"), D("0.24"), 1)
    assert row.interest == D("1.01")
    assert row.iva == D("0.16")
    assert row.payment == D("101.67")


def test_an_interest_free_loan_splits_evenly_and_the_last_quincena_takes_the_odd_centavo() -> None:
    rows = schedule(D("100.00"), D("0"), 3)
    assert [r.payment for r in rows] == [D("33.33"), D("33.33"), D("33.34")]
    assert [r.balance_after for r in rows] == [D("66.67"), D("33.34"), D("0.00")]
    assert all(r.interest == 0 and r.iva == 0 for r in rows)


def test_the_effective_quincena_rate_includes_iva() -> None:
    # 16% * 1.16 / 24 = 0.0077333...
    assert quincena_rate(D("0.16")) * 24 == pytest.approx(D("0.1856"), abs=D("1e-40"))


# --- schedule: rules against an exact independent computation ---------------------------


@given(centavo_amounts, rates, terms)
def test_a_schedule_follows_the_french_rules_row_by_row(
    principal: Decimal, rate: Decimal, n: int
) -> None:
    try:
        rows = schedule(principal, rate, n)
    except LoanError as exc:
        assert exc.code == "MONTO_INSUFICIENTE"
        return
    d = exact_round(Fraction(principal) / exact_annuity(rate, n))
    balance = principal
    assert [r.number for r in rows] == list(range(1, n + 1))
    for row in rows:
        interest = exact_round(Fraction(balance) * Fraction(rate) / 24)
        assert row.interest == interest
        assert row.iva == exact_round(Fraction(interest) * Fraction(16, 100))
        assert row.payment == row.interest + row.iva + row.principal
        if row.number < n:
            assert row.payment == d
        balance -= row.principal
        assert row.balance_after == balance
        assert row.principal > 0
    assert balance == 0


@given(centavo_amounts, rates, terms)
def test_the_principal_parts_add_up_exactly_to_the_loan(
    principal: Decimal, rate: Decimal, n: int
) -> None:
    try:
        rows = schedule(principal, rate, n)
    except LoanError as exc:
        assert exc.code == "MONTO_INSUFICIENTE"
        return
    assert sum(r.principal for r in rows) == principal
    assert all(r.payment.as_tuple().exponent == -2 for r in rows)


@given(
    st.integers(min_value=10, max_value=5_000).map(D),
    st.integers(min_value=0, max_value=5000).map(lambda bp: D(bp) / 10_000),
    st.integers(min_value=1, max_value=96),
)
def test_a_loan_of_at_least_ten_pesos_per_quincena_is_never_too_small(
    per_quincena: Decimal, rate: Decimal, n: int
) -> None:
    rows = schedule(per_quincena * n, rate, n)
    assert len(rows) == n


@given(st.integers(min_value=100_000, max_value=50_000_000).map(lambda c: D(c) / 100), terms)
def test_the_last_installment_differs_from_the_others_only_by_rounding(
    principal: Decimal, n: int
) -> None:
    rows = schedule(principal, D("0.16"), n)
    # Each quincena's rounding of d is at most half a centavo, compounded by (1 + r)^k,
    # plus the centavo rounding of interest and IVA: a few centavos per year of term.
    assert abs(rows[-1].payment - rows[0].payment) <= D("0.02") * n


@pytest.mark.parametrize(
    ("principal", "rate", "n", "code"),
    [
        (D("0"), D("0.16"), 24, "MONTO_INVALIDO"),
        (D("-100"), D("0.16"), 24, "MONTO_INVALIDO"),
        (D("100.001"), D("0.16"), 24, "MONTO_INVALIDO"),
        (D("1000"), D("0.16"), 0, "PLAZO_INVALIDO"),
        (D("1000"), D("0.16"), -3, "PLAZO_INVALIDO"),
        (D("1000"), D("-0.01"), 24, "TASA_INVALIDA"),
        (D("0.01"), D("0.16"), 2, "MONTO_INSUFICIENTE"),
        (D("1.00"), D("0.16"), 72, "MONTO_INSUFICIENTE"),
    ],
)
def test_a_schedule_with_bad_input_is_refused_with_a_spanish_reason(
    principal: Decimal, rate: Decimal, n: int, code: str
) -> None:
    with pytest.raises(LoanError) as info:
        schedule(principal, rate, n)
    assert info.value.code == code
    assert isinstance(info.value, ValueError)
    assert str(info.value).strip() and str(info.value) != code


def test_a_float_principal_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        schedule(1000.0, D("0.16"), 24)  # type: ignore[arg-type]


def test_the_smallest_loan_that_fits_one_quincena_is_a_centavo() -> None:
    (row,) = schedule(D("0.01"), D("0.16"), 1)
    assert row.payment == D("0.01")


# --- maximum loan amount -----------------------------------------------------------------


@pytest.mark.parametrize("n", [24, 36, 48, 72])
@pytest.mark.parametrize("rate", [D("0.16"), D("0.17")])
@pytest.mark.parametrize("d", [D("250.00"), D("1000.00"), D("1234.56"), D("4999.99")])
def test_the_published_table_formula_matches_an_exact_rational_computation(
    d: Decimal, n: int, rate: Decimal
) -> None:
    assert max_loan_amount(d, n, rate) == exact_round(Fraction(d) * exact_annuity(rate, n))


@given(centavo_amounts, terms, rates)
def test_the_maximum_amount_is_the_rounded_present_value_for_any_input(
    d: Decimal, n: int, rate: Decimal
) -> None:
    assert max_loan_amount(d, n, rate) == exact_round(Fraction(d) * exact_annuity(rate, n))


def test_an_interest_free_maximum_is_the_installment_times_the_term() -> None:
    assert max_loan_amount(D("100.00"), 24, D("0")) == D("2400.00")


def test_the_default_rate_is_sixteen_percent() -> None:
    assert max_loan_amount(D("1000.00"), 36) == max_loan_amount(D("1000.00"), 36, D("0.16"))


def test_a_higher_rate_lends_less_for_the_same_installment() -> None:
    assert max_loan_amount(D("1000"), 72, D("0.17")) < max_loan_amount(D("1000"), 72, D("0.16"))


@given(
    st.integers(min_value=20_00, max_value=20_000_00).map(lambda c: D(c) / 100),
    st.sampled_from([24, 36, 48, 72]),
    st.sampled_from([D("0.16"), D("0.17")]),
)
def test_lending_the_maximum_amount_gives_back_the_same_installment(
    d: Decimal, n: int, rate: Decimal
) -> None:
    principal = max_loan_amount(d, n, rate)
    assume(principal >= n * D("10"))
    rows = schedule(principal, rate, n)
    assert abs(rows[0].payment - d) <= D("0.01")
    # With more than one quincena the annuity factor exceeds 1, so the round trip is exact.
    assert rows[0].payment == d


@given(
    st.integers(min_value=1_000_00, max_value=2_000_000_00).map(lambda c: D(c) / 100),
    st.sampled_from([24, 36, 48, 72]),
    st.sampled_from([D("0.16"), D("0.17")]),
)
def test_the_installment_of_a_loan_buys_back_that_loan_within_rounding(
    principal: Decimal, n: int, rate: Decimal
) -> None:
    d = installment_amount(principal, rate, n)
    back = max_loan_amount(d, n, rate)
    a = exact_annuity(rate, n)
    # d is off by at most half a centavo, which the annuity factor scales, plus one rounding.
    assert abs(Fraction(back) - Fraction(principal)) <= a / 200 + Fraction(1, 200)


@pytest.mark.parametrize(
    ("d", "n", "code"),
    [
        (D("0"), 24, "MONTO_INVALIDO"),
        (D("-1"), 24, "MONTO_INVALIDO"),
        (D("100"), 0, "PLAZO_INVALIDO"),
    ],
)
def test_a_maximum_amount_with_bad_input_is_refused(d: Decimal, n: int, code: str) -> None:
    with pytest.raises(LoanError) as info:
        max_loan_amount(d, n)
    assert info.value.code == code


def test_a_maximum_amount_with_a_negative_rate_is_refused() -> None:
    with pytest.raises(LoanError) as info:
        max_loan_amount(D("100"), 24, D("-0.16"))
    assert info.value.code == "TASA_INVALIDA"


# --- policy ------------------------------------------------------------------------------


def test_the_maximum_installment_is_twenty_percent_of_the_quincenal_salary() -> None:
    assert max_installment(D("10000.00")) == D("2000.00")


def test_on_renewal_the_maximum_installment_is_twenty_five_percent() -> None:
    assert max_installment(D("10000.00"), renewal=True) == D("2500.00")


def test_the_maximum_installment_never_exceeds_the_share_even_by_a_fraction_of_a_centavo() -> None:
    # 20% of 1000.03 is 200.006: half up would give 200.01, over the legal ceiling.
    assert max_installment(D("1000.03")) == D("200.00")


@given(centavo_amounts, st.booleans())
def test_the_maximum_installment_is_the_largest_centavo_amount_within_the_share(
    salary: Decimal, renewal: bool
) -> None:
    share = Fraction(25 if renewal else 20, 100)
    got = Fraction(max_installment(salary, renewal=renewal))
    assert got <= Fraction(salary) * share < got + Fraction(1, 100)


def test_a_negative_salary_is_refused() -> None:
    with pytest.raises(LoanError) as info:
        max_installment(D("-1"))
    assert info.value.code == "SUELDO_INVALIDO"


@pytest.mark.parametrize(
    ("years", "pensioner", "expected"),
    [
        (0, False, 36),
        (9, False, 36),
        (D("9.99"), False, 36),
        (10, False, 72),
        (D("10.0"), False, 72),
        (35, False, 72),
        (0, True, 72),
        (3, True, 72),
    ],
)
def test_the_maximum_term_depends_on_years_contributed_and_pension(
    years: int | Decimal, pensioner: bool, expected: int
) -> None:
    assert max_term(years, pensioner) == expected


def test_negative_years_contributed_are_refused() -> None:
    with pytest.raises(LoanError) as info:
        max_term(-1, False)
    assert info.value.code == "ANTIGUEDAD_INVALIDA"
