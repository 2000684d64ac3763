"""The four payment options of a loan (SPEC 2.2).

Loans here are built by hand with round numbers, so each expectation is plain arithmetic,
or from ``loan_from_schedule`` with expectations taken from the defining rules.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kiosk.loans import (
    IN_PAYROLL,
    PAID,
    PENDING,
    Loan,
    LoanError,
    LoanInstallment,
    installment_payment,
    is_settled,
    loan_from_schedule,
    outstanding_balance,
    payment_options,
    payoff_amount,
    prepayment,
    quincena_due_dates,
    renewal_amount,
    running_totals,
    schedule,
)

D = Decimal


def hand_loan(states: str, prepayments: str = "0.00") -> Loan:
    """A 1000.00 loan in 4 quincenas of 300.00 (250.00 principal + 50.00 interest and IVA).

    ``states`` has one letter per quincena: P = PAGADA, N = EN_NOMINA, - = PENDIENTE.
    """
    state_of = {"P": PAID, "N": IN_PAYROLL, "-": PENDING}
    dues = [date(2024, 1, 15), date(2024, 1, 31), date(2024, 2, 15), date(2024, 2, 29)]
    items = tuple(
        LoanInstallment(i + 1, dues[i], D("300.00"), D("250.00"), state_of[s])
        for i, s in enumerate(states)
    )
    return Loan("L-1", "PERSONAL", D("1000.00"), D("0.16"), D("300.00"), items, D(prepayments))


def code_of(fn: Callable[..., object], *args: object) -> str:
    with pytest.raises(LoanError) as info:
        fn(*args)
    assert str(info.value).strip()
    return info.value.code


# --- outstanding balance -----------------------------------------------------------------


def test_the_outstanding_balance_subtracts_paid_principal_and_prepayments_not_payroll() -> None:
    assert outstanding_balance(hand_loan("----")) == D("1000.00")
    assert outstanding_balance(hand_loan("P---")) == D("750.00")
    assert outstanding_balance(hand_loan("PN--")) == D("750.00")
    assert outstanding_balance(hand_loan("PN--", prepayments="300.00")) == D("450.00")


def test_a_loan_is_settled_only_once_payroll_quincenas_are_paid_too() -> None:
    assert not is_settled(hand_loan("PPPN"))
    assert is_settled(hand_loan("PPPP"))
    assert is_settled(hand_loan("PP--", prepayments="500.00"))


# --- installment payment -----------------------------------------------------------------


def test_the_oldest_pending_quincenas_can_be_paid_together() -> None:
    assert installment_payment(hand_loan("PN--"), [3]) == D("300.00")
    assert installment_payment(hand_loan("PN--"), [3, 4]) == D("600.00")


def test_the_order_in_which_the_numbers_are_listed_does_not_change_the_total() -> None:
    assert installment_payment(hand_loan("----"), [2, 1, 3]) == D("900.00")


def test_a_later_quincena_cannot_be_paid_before_an_earlier_pending_one() -> None:
    assert code_of(installment_payment, hand_loan("P---"), [3]) == "QUINCENAS_FUERA_DE_ORDEN"
    assert code_of(installment_payment, hand_loan("----"), [1, 3]) == "QUINCENAS_FUERA_DE_ORDEN"


def test_the_refusal_names_the_quincena_to_choose_first() -> None:
    with pytest.raises(LoanError) as info:
        installment_payment(hand_loan("P---"), [3, 4])
    assert "quincena 2" in str(info.value)


def test_a_paid_quincena_cannot_be_paid_again() -> None:
    assert code_of(installment_payment, hand_loan("P---"), [1, 2]) == "QUINCENA_PAGADA"


def test_a_quincena_in_payroll_is_left_to_the_employer() -> None:
    assert code_of(installment_payment, hand_loan("PN--"), [2]) == "QUINCENA_EN_NOMINA"


def test_choosing_nothing_is_refused() -> None:
    assert code_of(installment_payment, hand_loan("----"), []) == "SIN_QUINCENAS"
    assert code_of(running_totals, hand_loan("----"), []) == "SIN_QUINCENAS"


def test_choosing_a_quincena_twice_or_one_that_does_not_exist_is_refused() -> None:
    assert code_of(installment_payment, hand_loan("----"), [1, 1]) == "QUINCENA_REPETIDA"
    assert code_of(installment_payment, hand_loan("----"), [5]) == "QUINCENA_INEXISTENTE"


def test_nothing_can_be_paid_on_a_settled_loan() -> None:
    loan = hand_loan("PPPP")
    assert code_of(installment_payment, loan, [4]) == "PRESTAMO_LIQUIDADO"
    assert code_of(prepayment, loan, D("300.00")) == "PRESTAMO_LIQUIDADO"
    assert code_of(payoff_amount, loan) == "PRESTAMO_LIQUIDADO"
    assert code_of(renewal_amount, loan) == "PRESTAMO_LIQUIDADO"


def test_the_running_total_grows_with_each_quincena_chosen() -> None:
    assert running_totals(hand_loan("P---"), [2, 3, 4]) == [D("300.00"), D("600.00"), D("900.00")]


def test_the_running_total_refuses_a_choice_made_out_of_order() -> None:
    assert code_of(running_totals, hand_loan("----"), [2, 1]) == "QUINCENAS_FUERA_DE_ORDEN"


def test_quincenas_whose_principal_was_already_prepaid_cannot_be_paid_again() -> None:
    # 250 of principal left after a 500 prepayment: a single 250 quincena still fits.
    loan = hand_loan("P---", prepayments="500.00")
    assert installment_payment(loan, [2]) == D("300.00")
    assert code_of(installment_payment, loan, [2, 3]) == "QUINCENAS_EXCEDEN_SALDO"


# --- prepayment --------------------------------------------------------------------------


def test_a_prepayment_of_exactly_the_installment_is_accepted() -> None:
    assert prepayment(hand_loan("P---"), D("300.00")) == D("300.00")


def test_a_prepayment_one_centavo_short_of_the_installment_is_refused() -> None:
    assert code_of(prepayment, hand_loan("P---"), D("299.99")) == "ABONO_MENOR_AL_DESCUENTO"


def test_a_prepayment_of_exactly_the_outstanding_balance_is_accepted() -> None:
    assert prepayment(hand_loan("P---"), D("750.00")) == D("750.00")


def test_a_prepayment_one_centavo_over_the_balance_is_refused_and_points_to_payoff() -> None:
    with pytest.raises(LoanError) as info:
        prepayment(hand_loan("P---"), D("750.01"))
    assert info.value.code == "ABONO_EXCEDE_SALDO"
    assert "liquidación" in str(info.value)


def test_a_prepayment_may_not_cover_what_the_employer_will_pay_from_payroll() -> None:
    # Outstanding 750.00, but 250.00 of it is a quincena already in payroll.
    loan = hand_loan("PN--")
    assert prepayment(loan, D("500.00")) == D("500.00")
    assert code_of(prepayment, loan, D("500.01")) == "ABONO_EXCEDE_SALDO"


@pytest.mark.parametrize("amount", [D("0"), D("-300"), D("300.001")])
def test_a_prepayment_that_is_not_a_positive_centavo_amount_is_refused(amount: Decimal) -> None:
    assert code_of(prepayment, hand_loan("----"), amount) == "MONTO_INVALIDO"


# --- renewal -----------------------------------------------------------------------------


def test_renewal_needs_half_the_total_to_repay_minus_what_was_paid() -> None:
    # total 1200.00; half 600.00; paid 300.00 → 300.00
    assert renewal_amount(hand_loan("P---")) == D("300.00")


def test_quincenas_in_payroll_do_not_count_as_paid_for_renewal() -> None:
    assert renewal_amount(hand_loan("PN--")) == D("300.00")


def test_prepayments_count_as_paid_for_renewal() -> None:
    assert renewal_amount(hand_loan("P---", prepayments="100.00")) == D("200.00")


def test_renewal_is_zero_once_half_is_paid() -> None:
    assert renewal_amount(hand_loan("PP--")) == D("0.00")
    assert renewal_amount(hand_loan("PPP-")) == D("0.00")


def test_renewal_rounds_a_half_centavo_up() -> None:
    # total 300.01 → half 150.005 → 150.01
    items = (
        LoanInstallment(1, date(2024, 1, 15), D("100.00"), D("90.00")),
        LoanInstallment(2, date(2024, 1, 31), D("100.00"), D("90.00")),
        LoanInstallment(3, date(2024, 2, 15), D("100.01"), D("120.00")),
    )
    loan = Loan("L-2", "PERSONAL", D("300.00"), D("0.16"), D("100.00"), items)
    assert renewal_amount(loan) == D("150.01")


# --- payoff ------------------------------------------------------------------------------


def test_payoff_is_the_outstanding_principal_without_future_interest() -> None:
    assert payoff_amount(hand_loan("P---")) == D("750.00")


def test_payoff_leaves_out_the_quincenas_in_payroll() -> None:
    assert payoff_amount(hand_loan("PN--")) == D("500.00")
    assert payoff_amount(hand_loan("PN--", prepayments="300.00")) == D("200.00")


def test_payoff_is_zero_when_everything_left_is_in_payroll() -> None:
    assert payoff_amount(hand_loan("PPNN")) == D("0.00")


# --- payment options ---------------------------------------------------------------------


def test_the_options_summarise_the_four_payment_kinds() -> None:
    options = payment_options(hand_loan("PN--"))
    assert not options.settled
    assert [item.number for item in options.pending] == [3, 4]
    assert options.min_prepayment == D("300.00")
    assert options.max_prepayment == D("500.00")
    assert options.outstanding_balance == D("750.00")
    assert options.renewal_amount == D("300.00")
    assert options.payoff_amount == D("500.00")
    assert options.can_prepay and options.can_pay_off and not options.can_renew


def test_a_settled_loan_offers_nothing_to_pay() -> None:
    options = payment_options(hand_loan("PPPP"))
    assert options.settled
    assert options.pending == ()
    assert not options.can_prepay and not options.can_pay_off


def test_no_prepayment_is_offered_when_the_balance_is_below_one_installment() -> None:
    options = payment_options(hand_loan("PP--", prepayments="250.00"))
    assert options.payoff_amount == D("250.00")
    assert not options.can_prepay
    assert options.can_pay_off


def test_the_options_offer_only_quincenas_that_fit_in_the_balance() -> None:
    options = payment_options(hand_loan("P---", prepayments="500.00"))
    assert [item.number for item in options.pending] == [2]


# --- loans built from a schedule ---------------------------------------------------------


def test_a_loan_from_a_schedule_marks_paid_then_payroll_then_pending() -> None:
    loan = loan_from_schedule("L-9", D("10000.00"), D("0.16"), 24, date(2024, 1, 15), 5, 2)
    states = [item.state for item in loan.installments]
    assert states == [PAID] * 5 + [IN_PAYROLL] * 2 + [PENDING] * 17
    rows = schedule(D("10000.00"), D("0.16"), 24)
    assert [i.amount for i in loan.installments] == [r.payment for r in rows]
    assert [i.principal for i in loan.installments] == [r.principal for r in rows]
    assert loan.installment == rows[0].payment
    assert loan.kind == "PERSONAL"


def test_a_loan_from_a_schedule_refuses_more_quincenas_than_its_term() -> None:
    with pytest.raises(LoanError) as info:
        loan_from_schedule("L-9", D("1000"), D("0.16"), 24, date(2024, 1, 15), 20, 5)
    assert info.value.code == "PRESTAMO_INVALIDO"


def test_quincenas_fall_due_on_the_15th_and_the_last_day_of_the_month() -> None:
    assert quincena_due_dates(date(2024, 1, 15), 5) == [
        date(2024, 1, 15),
        date(2024, 1, 31),
        date(2024, 2, 15),
        date(2024, 2, 29),
        date(2024, 3, 15),
    ]


def test_a_first_due_date_between_quincenas_moves_forward_to_the_next_one() -> None:
    assert quincena_due_dates(date(2023, 2, 3), 1) == [date(2023, 2, 15)]
    assert quincena_due_dates(date(2023, 2, 16), 2) == [date(2023, 2, 28), date(2023, 3, 15)]
    assert quincena_due_dates(date(2023, 12, 20), 2) == [date(2023, 12, 31), date(2024, 1, 15)]


def test_an_unknown_installment_state_is_refused() -> None:
    with pytest.raises(LoanError) as info:
        LoanInstallment(1, date(2024, 1, 15), D("1"), D("1"), "VENCIDA")
    assert info.value.code == "ESTADO_INVALIDO"


# --- properties --------------------------------------------------------------------------


@st.composite
def loans(draw: st.DrawFn) -> Loan:
    n = draw(st.integers(min_value=1, max_value=72))
    principal = (
        D(draw(st.integers(min_value=10 * n, max_value=500_000)))
        + D(draw(st.integers(min_value=0, max_value=99))) / 100
    )
    rate = draw(st.sampled_from([D("0"), D("0.16"), D("0.17"), D("0.30")]))
    paid = draw(st.integers(min_value=0, max_value=n))
    in_payroll = draw(st.integers(min_value=0, max_value=n - paid))
    prepaid = D(draw(st.integers(min_value=0, max_value=int(principal * 100)))) / 100
    prepayments = draw(st.sampled_from([D("0.00"), prepaid]))
    first = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)))
    return loan_from_schedule(
        "L", principal, rate, n, first, paid, in_payroll, prepayments=prepayments
    )


@given(loans(), st.data())
def test_any_oldest_first_choice_is_accepted_and_any_other_refused(
    loan: Loan, data: st.DataObject
) -> None:
    pending = [item for item in loan.installments if item.state == PENDING]
    assume(pending and not loan.prepayments and not is_settled(loan))
    chosen = data.draw(st.lists(st.sampled_from(pending), min_size=1, unique=True))
    numbers = [item.number for item in chosen]
    is_prefix = sorted(numbers) == [item.number for item in pending[: len(numbers)]]
    if is_prefix:
        assert installment_payment(loan, numbers) == sum(item.amount for item in chosen)
    else:
        assert code_of(installment_payment, loan, numbers) == "QUINCENAS_FUERA_DE_ORDEN"


@given(loans())
def test_payoff_is_never_negative_nor_above_the_principal(loan: Loan) -> None:
    assume(not is_settled(loan))
    payoff = payoff_amount(loan)
    assert D("0") <= payoff <= loan.principal
    assert payoff <= outstanding_balance(loan)


@given(loans())
def test_renewal_is_never_negative_and_is_rounded_up_to_the_centavo(loan: Loan) -> None:
    assume(not is_settled(loan))
    renewal = renewal_amount(loan)
    assert renewal >= 0
    total = sum(Fraction(i.amount) for i in loan.installments)
    paid = sum(Fraction(i.amount) for i in loan.installments if i.state == PAID)
    needed = total / 2 - paid - Fraction(loan.prepayments)
    assert Fraction(renewal) == max(Fraction(0), Fraction(math.ceil(needed * 100), 100))


@given(loans())
def test_the_options_never_offer_a_payment_that_would_then_be_refused(loan: Loan) -> None:
    options = payment_options(loan)
    assume(not options.settled)
    if options.pending:
        numbers = [item.number for item in options.pending]
        assert installment_payment(loan, numbers) == sum(i.amount for i in options.pending)
    if options.can_prepay:
        assert prepayment(loan, options.min_prepayment) == options.min_prepayment
        assert prepayment(loan, options.max_prepayment) == options.max_prepayment


@given(loans())
def test_paying_off_then_payroll_settles_the_loan_exactly(loan: Loan) -> None:
    assume(not is_settled(loan))
    payoff = payoff_amount(loan)
    # The payoff is applied as principal; then the employer pays the payroll quincenas.
    after = Loan(
        loan.loan_id,
        loan.kind,
        loan.principal,
        loan.annual_rate,
        loan.installment,
        tuple(
            LoanInstallment(i.number, i.due_date, i.amount, i.principal, PAID)
            if i.state == IN_PAYROLL
            else i
            for i in loan.installments
        ),
        loan.prepayments + payoff,
    )
    assert is_settled(after)
    paid_principal = sum(i.principal for i in after.installments if i.state == PAID)
    assert paid_principal + after.prepayments >= loan.principal
    if not loan.prepayments:
        assert paid_principal + after.prepayments == loan.principal
