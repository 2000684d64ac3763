"""¿Cuánto me prestan?: the sheet's figures against exact fractions, its rules at their edges."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest

from kiosk.ports import Refused
from kiosk.simulator import (
    MEN,
    TERMS,
    WOMEN,
    Profile,
    add_months,
    contribution_limit,
    salary,
    simulate,
)

TODAY = date(2026, 12, 1)


def centavos(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def exact_figures(monthly: Fraction, n: int) -> tuple[Decimal, Decimal, Decimal]:
    """Descuento, maximum credit and its installment, with exact rational arithmetic."""
    d_exact = monthly / 2 * Fraction(20, 100)
    d = Decimal(int(d_exact * 100)) / 100  # a ceiling: rounded down to the centavo
    r = Fraction(16, 100) * Fraction(116, 100) / 24
    factor = (1 - (1 + r) ** -n) / r
    credit = centavos(Fraction(d) * factor)
    return d, credit, centavos(Fraction(credit) / factor)


@pytest.mark.parametrize("monthly", ["8000.00", "12345.67", "23999.99", "61000.01"])
def test_each_terms_figures_match_an_exact_fraction_computation(monthly: str) -> None:
    sim = simulate(Decimal(monthly), TODAY)
    assert [t.quincenas for t in sim.terms] == list(TERMS)
    for t in sim.terms:
        d, credit, installment = exact_figures(Fraction(monthly), t.quincenas)
        assert sim.max_installment == d
        assert (t.max_credit, t.installment) == (credit, installment)
        assert t.installment <= d  # the descuento of the largest loan fits the 20% cap
        assert t.annual_rate == Decimal("0.16")


def test_without_login_eligibility_is_conditional_and_said_so() -> None:
    sim = simulate(Decimal("10000"), TODAY)
    assert {t.eligible for t in sim.terms} == {None}
    assert "10 años" in sim.terms[-1].reason
    assert any("informativas" in n for n in sim.notes)


def insured(start: date, sex: str = MEN, **kw: object) -> Profile:
    return Profile(Decimal("20000"), start, sex, date(1970, 1, 1), **kw)  # type: ignore[arg-type]


def eligible(profile: Profile, today: date = TODAY) -> dict[int, bool | None]:
    return {t.quincenas: t.eligible for t in simulate(Decimal("20000"), today, profile).terms}


def test_exactly_ten_years_counts_as_ten_and_opens_72_quincenas() -> None:
    assert eligible(insured(add_months(TODAY, -120))) == {24: True, 36: True, 48: True, 72: True}
    day_short = date.fromordinal(add_months(TODAY, -120).toordinal() + 1)
    assert eligible(insured(day_short)) == {24: True, 36: True, 48: False, 72: False}


def test_one_year_of_contributions_is_required_to_the_day() -> None:
    assert eligible(insured(add_months(TODAY, -12)))[24] is True
    day_short = date.fromordinal(add_months(TODAY, -12).toordinal() + 1)
    assert set(eligible(insured(day_short)).values()) == {False}


@pytest.mark.parametrize(("sex", "years"), [(MEN, 29), (WOMEN, 27)])
@pytest.mark.parametrize("n", [24, 72])
def test_contribution_plus_term_limit_the_day_before_and_the_day_of(
    sex: str, years: int, n: int
) -> None:
    # Find the start date whose limit falls exactly on the loan's last day.
    end = add_months(TODAY, n // 2)
    start = add_months(TODAY, -(12 * years + 6) + n // 2)
    start = date.fromordinal(start.toordinal() - 1)
    while contribution_limit(start, sex) > end:
        start = date.fromordinal(start.toordinal() + 1)
    while contribution_limit(start, sex) < end:
        start = date.fromordinal(start.toordinal() - 1)
    assert contribution_limit(start, sex) == end
    assert eligible(insured(start, sex))[n] is False  # reaches the limit: not "menor a"
    later_start = date.fromordinal(start.toordinal() + 1)  # limit one day after the end
    assert contribution_limit(later_start, sex) > end
    assert eligible(insured(later_start, sex))[n] is True


def test_women_reach_the_limit_two_years_before_men() -> None:
    start = add_months(TODAY, -12 * 27)
    assert eligible(insured(start, MEN))[24] is True
    assert eligible(insured(start, WOMEN))[24] is False


def test_a_pensioner_gets_72_quincenas_whatever_the_contribution_time() -> None:
    pensioner = Profile(Decimal("9000"), date(1980, 1, 1), WOMEN, date(1950, 1, 1), pensioner=True)
    assert eligible(pensioner) == {24: True, 36: True, 48: True, 72: True}
    assert eligible(insured(date(1980, 1, 1), WOMEN))[24] is False


def test_debts_with_the_institute_close_every_term() -> None:
    assert set(eligible(insured(date(2010, 1, 1), has_debts=True)).values()) == {False}


def test_a_typed_salary_is_bounded() -> None:
    assert salary("12,000.50") == Decimal("12000.50")
    for bad in ("0", "", "1400..5", "2000000"):
        with pytest.raises(Refused):
            salary(bad)


def test_current_loans_installments_come_off_the_20_percent_cap() -> None:
    """Trial 12: an affiliate already paying two loans is not told the full figure."""
    free = simulate(Decimal("12345.67"), TODAY)
    d, _credit, _i = exact_figures(Fraction("12345.67"), 24)
    taken = simulate(Decimal("12345.67"), TODAY, None, Decimal("500.00"))
    assert taken.max_installment == d - Decimal("500.00")
    assert all(t.max_credit < f.max_credit for t, f in zip(taken.terms, free.terms, strict=True))
    assert any("ya le descuentan $500.00" in n for n in taken.notes)
    assert not any("ya le descuentan" in n for n in free.notes)
    full = simulate(Decimal("10000"), TODAY, insured(date(2010, 1, 1)), Decimal("1000.00"))
    assert {t.eligible for t in full.terms} == {False}
    assert {t.max_credit for t in full.terms} == {Decimal("0.00")}
    assert "ya llegan al 20 %" in full.terms[0].reason


def test_the_ten_years_note_shows_only_at_exactly_ten_years() -> None:
    ten = simulate(Decimal("20000"), TODAY, insured(add_months(TODAY, -120)))
    eleven = simulate(Decimal("20000"), TODAY, insured(add_months(TODAY, -132)))
    assert any("exactamente 10 años" in n for n in ten.notes)
    assert not any("exactamente 10 años" in n for n in eleven.notes)
    assert not any("exactamente 10 años" in n for n in simulate(Decimal("9000"), TODAY).notes)


def test_an_empty_salary_asks_for_the_salary_or_pension() -> None:
    with pytest.raises(Refused, match="sueldo o pensión"):
        salary("")
