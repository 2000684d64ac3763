"""Loan arithmetic: French amortization with IVA, the institute's maximum-amount table, the
lending policy limits and the four payment options an affiliate has (SPEC 2.2 and 2.3).

Pure ``Decimal`` arithmetic, no I/O. Every refusal is a :class:`LoanError` with an uppercase
Spanish ``code`` and a Spanish message for the person at the kiosk or the cashier.

Balances, as this module defines them:

* **saldo insoluto** (:func:`outstanding_balance`): the principal lent, minus the principal
  parts of the installments already paid (PAGADA), minus the prepayments (abonos a capital).
  Installments merely generated in payroll (EN_NOMINA) are still owed: the employer has not
  paid them yet.
* **liquidación** (:func:`payoff_amount`): the saldo insoluto minus the principal parts of the
  installments already in payroll, because the employer will still pay those. Only principal
  is charged: interest is part of each installment, and a loan settled early owes no interest
  for the quincenas it no longer lives through.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Context, Decimal, localcontext

from kiosk.money import CENTAVO, ZERO, fmt, round_centavo, round_up_centavo, to_decimal

IVA_RATE = Decimal("0.16")
QUINCENAS_PER_YEAR = 24
DEFAULT_ANNUAL_RATE = Decimal("0.16")
RENEWAL_ANNUAL_RATE = Decimal("0.17")

MAX_INSTALLMENT_SHARE = Decimal("0.20")
MAX_INSTALLMENT_SHARE_RENEWAL = Decimal("0.25")
SHORT_TERM = 36
LONG_TERM = 72
YEARS_FOR_LONG_TERM = 10

PAID = "PAGADA"
PENDING = "PENDIENTE"
IN_PAYROLL = "EN_NOMINA"
INSTALLMENT_STATES = frozenset({PAID, PENDING, IN_PAYROLL})

# Powers like (1 + r)^-72 need more digits than the money they end up as; 50 keeps every
# intermediate far from a rounding tie and does not depend on the caller's context.
_PRECISION = 50


class LoanError(ValueError):
    """A refused loan operation; ``str()`` is the Spanish message, ``code`` the reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _context() -> Context:
    return Context(prec=_PRECISION)


def _money(value: Decimal | int | str, what: str) -> Decimal:
    """A positive amount in whole centavos."""
    amount = to_decimal(value)
    if not amount.is_finite() or amount <= 0:
        raise LoanError("MONTO_INVALIDO", f"El {what} debe ser mayor que cero.")
    if amount != amount.quantize(CENTAVO, context=_context()):
        raise LoanError("MONTO_INVALIDO", f"El {what} no puede tener fracciones de centavo.")
    return amount.quantize(CENTAVO, context=_context())


def _rate(value: Decimal | int | str) -> Decimal:
    rate = to_decimal(value)
    if not rate.is_finite() or rate < 0:
        raise LoanError("TASA_INVALIDA", "La tasa de interés anual no puede ser negativa.")
    return rate


def _term(quincenas: int) -> int:
    if isinstance(quincenas, bool) or not isinstance(quincenas, int):
        raise TypeError("el plazo se expresa en quincenas enteras")
    if quincenas < 1:
        raise LoanError("PLAZO_INVALIDO", "El plazo debe ser de al menos una quincena.")
    return quincenas


def quincena_rate(annual_rate: Decimal) -> Decimal:
    """Effective rate per quincena, IVA included: ``annual_rate × 1.16 / 24``."""
    with localcontext(_context()):
        return _rate(annual_rate) * (1 + IVA_RATE) / QUINCENAS_PER_YEAR


def _annuity_factor(r: Decimal, quincenas: int) -> Decimal:
    """``(1 − (1 + r)^−n) / r``, the present value of 1 per quincena; ``n`` when r = 0."""
    with localcontext(_context()):
        if r == 0:
            return Decimal(quincenas)
        return (1 - (1 + r) ** -quincenas) / r


# --- amortization ------------------------------------------------------------------------


@dataclass(frozen=True)
class Installment:
    """One row of an amortization schedule. ``payment = interest + iva + principal``."""

    number: int
    payment: Decimal
    interest: Decimal
    iva: Decimal
    principal: Decimal
    balance_after: Decimal


def installment_amount(principal: Decimal, annual_rate: Decimal, quincenas: int) -> Decimal:
    """The constant descuento quincenal ``P·r / (1 − (1 + r)^−n)``, rounded half up."""
    amount = _money(principal, "monto del préstamo")
    n = _term(quincenas)
    with localcontext(_context()):
        return round_centavo(amount / _annuity_factor(quincena_rate(annual_rate), n))


def schedule(principal: Decimal, annual_rate: Decimal, quincenas: int) -> list[Installment]:
    """French amortization with IVA on the interest, one row per quincena.

    Each quincena: interest = balance × annual_rate / 24 and IVA = interest × 0.16, each
    rounded half up to the centavo; principal = installment − interest − IVA. The last row
    absorbs the rounding: its principal is the whole remaining balance (so the principal
    parts add up to the loan exactly) and its payment is that plus its interest and IVA.

    Refuses (LoanError) a principal that is not positive or has fractions of a centavo
    (MONTO_INVALIDO), a term under one quincena (PLAZO_INVALIDO), a negative rate
    (TASA_INVALIDA), and an amount so small for its term that rounding to the centavo would
    pay it off before the last quincena or leave a quincena with no principal
    (MONTO_INSUFICIENTE).
    """
    amount = _money(principal, "monto del préstamo")
    rate = _rate(annual_rate)
    n = _term(quincenas)
    payment = installment_amount(amount, rate, n)
    rows: list[Installment] = []
    balance = amount
    with localcontext(_context()):
        for number in range(1, n + 1):
            interest = round_centavo(balance * rate / QUINCENAS_PER_YEAR)
            iva = round_centavo(interest * IVA_RATE)
            if number == n:
                part = balance
                this_payment = part + interest + iva
            else:
                part = payment - interest - iva
                this_payment = payment
                if part <= 0 or part >= balance:
                    raise LoanError(
                        "MONTO_INSUFICIENTE",
                        f"El monto {fmt(amount)} es muy pequeño para un plazo de {n} "
                        "quincenas: no alcanza para amortizarse en centavos enteros.",
                    )
            balance -= part
            rows.append(Installment(number, this_payment, interest, iva, part, balance))
    return rows


def max_loan_amount(
    installment: Decimal, quincenas: int, annual_rate: Decimal = DEFAULT_ANNUAL_RATE
) -> Decimal:
    """The largest loan a descuento quincenal ``d`` pays off in ``n`` quincenas.

    ``d × (1 − (1 + r)^−n) / r`` rounded half up to the centavo, with ``r`` the effective
    rate per quincena (IVA included): the formula of the institute's published table.
    """
    d = _money(installment, "descuento quincenal")
    n = _term(quincenas)
    with localcontext(_context()):
        return round_centavo(d * _annuity_factor(quincena_rate(annual_rate), n))


# --- lending policy ----------------------------------------------------------------------


def max_installment(base_salary_quincenal: Decimal, renewal: bool = False) -> Decimal:
    """Largest descuento quincenal allowed: 20% of the quincenal base salary, 25% on renewal.

    Rounded down to the centavo: it is a ceiling, and rounding up could exceed it.
    """
    salary = to_decimal(base_salary_quincenal)
    if not salary.is_finite() or salary < 0:
        raise LoanError("SUELDO_INVALIDO", "El sueldo base quincenal no puede ser negativo.")
    share = MAX_INSTALLMENT_SHARE_RENEWAL if renewal else MAX_INSTALLMENT_SHARE
    with localcontext(_context()):
        return (salary * share).quantize(CENTAVO, rounding=ROUND_FLOOR)


def max_term(years_contributed: int | Decimal, pensioner: bool = False) -> int:
    """Longest term in quincenas: 36 with under 10 years of contributions, else 72.

    Pensioners always get 72.
    """
    if isinstance(years_contributed, bool) or not isinstance(years_contributed, int | Decimal):
        raise TypeError("los años cotizados se expresan como int o Decimal")
    years = Decimal(years_contributed)
    if not years.is_finite() or years < 0:
        raise LoanError("ANTIGUEDAD_INVALIDA", "Los años cotizados no pueden ser negativos.")
    if pensioner or years >= YEARS_FOR_LONG_TERM:
        return LONG_TERM
    return SHORT_TERM


# --- a loan and its installments ---------------------------------------------------------


@dataclass(frozen=True)
class LoanInstallment:
    """One quincena of a loan as central knows it: what it charges and where it stands."""

    number: int
    due_date: date
    amount: Decimal
    principal: Decimal
    state: str = PENDING

    def __post_init__(self) -> None:
        if self.state not in INSTALLMENT_STATES:
            raise LoanError(
                "ESTADO_INVALIDO",
                f"Estado de quincena desconocido: {self.state!r} "
                "(se espera PAGADA, PENDIENTE o EN_NOMINA).",
            )


@dataclass(frozen=True)
class Loan:
    """An active loan: its terms, its installments (oldest first) and its prepayments.

    ``installment`` is the descuento quincenal; ``prepayments`` is the total already paid as
    abono a capital.
    """

    loan_id: str
    kind: str
    principal: Decimal
    annual_rate: Decimal
    installment: Decimal
    installments: tuple[LoanInstallment, ...]
    prepayments: Decimal = ZERO

    def __post_init__(self) -> None:
        numbers = [item.number for item in self.installments]
        if numbers != sorted(set(numbers)):
            raise LoanError(
                "PRESTAMO_INVALIDO",
                f"Las quincenas del préstamo {self.loan_id} no están en orden o se repiten.",
            )
        if self.prepayments < 0:
            raise LoanError(
                "PRESTAMO_INVALIDO", "Los abonos a capital no pueden sumar menos de cero."
            )


def _sum(values: Sequence[Decimal]) -> Decimal:
    total = ZERO
    for value in values:
        total += value
    return total


def outstanding_balance(loan: Loan) -> Decimal:
    """Saldo insoluto: principal − principal of PAGADA quincenas − prepayments, never below 0.

    Quincenas EN_NOMINA still count as owed: the employer has not paid them yet.
    """
    paid = _sum([item.principal for item in loan.installments if item.state == PAID])
    return max(ZERO, loan.principal - paid - loan.prepayments)


def is_settled(loan: Loan) -> bool:
    """Settled once nothing is owed: the employer has paid every quincena it had in payroll."""
    return outstanding_balance(loan) == 0


def pending_installments(loan: Loan) -> list[LoanInstallment]:
    """The PENDIENTE quincenas, oldest first: what a pago quincenal may choose from."""
    return [item for item in loan.installments if item.state == PENDING]


def _refuse_if_settled(loan: Loan) -> None:
    if is_settled(loan):
        raise LoanError("PRESTAMO_LIQUIDADO", f"El préstamo {loan.loan_id} ya está liquidado.")


def _chosen(loan: Loan, numbers: Sequence[int]) -> list[LoanInstallment]:
    """Validates a set of chosen quincenas and returns them oldest first."""
    _refuse_if_settled(loan)
    if not numbers:
        raise LoanError("SIN_QUINCENAS", "Elija al menos una quincena para pagar.")
    if len(set(numbers)) != len(numbers):
        raise LoanError("QUINCENA_REPETIDA", "Una quincena se eligió más de una vez.")
    by_number = {item.number: item for item in loan.installments}
    for number in numbers:
        item = by_number.get(number)
        if item is None:
            raise LoanError(
                "QUINCENA_INEXISTENTE",
                f"El préstamo {loan.loan_id} no tiene la quincena {number}.",
            )
        if item.state == PAID:
            raise LoanError("QUINCENA_PAGADA", f"La quincena {number} ya está pagada.")
        if item.state == IN_PAYROLL:
            raise LoanError(
                "QUINCENA_EN_NOMINA",
                f"La quincena {number} ya se generó en nómina: la pagará su dependencia.",
            )
    pending = pending_installments(loan)
    oldest = pending[: len(numbers)]
    if {item.number for item in oldest} != set(numbers):
        first_missing = next(item.number for item in oldest if item.number not in numbers)
        raise LoanError(
            "QUINCENAS_FUERA_DE_ORDEN",
            "Las quincenas se pagan de la más antigua a la más reciente: "
            f"primero elija la quincena {first_missing}.",
        )
    principal = _sum([item.principal for item in oldest])
    if principal > payoff_amount(loan):
        raise LoanError(
            "QUINCENAS_EXCEDEN_SALDO",
            "Esas quincenas suman más capital del que queda por pagar: "
            f"elija menos quincenas o pague la liquidación de {fmt(payoff_amount(loan))}.",
        )
    return oldest


def installment_payment(loan: Loan, numbers: Sequence[int]) -> Decimal:
    """Total of a pago quincenal for the chosen quincenas (in any order of listing).

    They must be PENDIENTE and be the oldest pending ones: a later quincena cannot be chosen
    while an earlier pending one is left out.
    """
    return _sum([item.amount for item in _chosen(loan, numbers)])


def running_totals(loan: Loan, numbers: Sequence[int]) -> list[Decimal]:
    """The total after each choice, in the order the affiliate makes them.

    Every step must itself be a valid choice, so the quincenas must come oldest first.
    """
    totals: list[Decimal] = []
    for count in range(1, len(numbers) + 1):
        totals.append(installment_payment(loan, numbers[:count]))
    if not totals:
        raise LoanError("SIN_QUINCENAS", "Elija al menos una quincena para pagar.")
    return totals


def prepayment(loan: Loan, amount: Decimal) -> Decimal:
    """Validates an abono a capital typed by the affiliate and returns it.

    At least the descuento quincenal; at most the liquidación amount (the saldo insoluto net
    of the quincenas already in payroll, which the employer will pay): anything more would
    overpay the loan, so it is refused and the affiliate is pointed to liquidación.
    """
    _refuse_if_settled(loan)
    value = _money(amount, "abono a capital")
    if value < loan.installment:
        raise LoanError(
            "ABONO_MENOR_AL_DESCUENTO",
            f"El abono a capital debe ser de al menos {fmt(loan.installment)} "
            "(su descuento quincenal).",
        )
    payoff = payoff_amount(loan)
    if value > payoff:
        raise LoanError(
            "ABONO_EXCEDE_SALDO",
            f"El abono de {fmt(value)} es mayor que su saldo de {fmt(payoff)}: "
            "elija liquidación para terminar de pagar su préstamo.",
        )
    return value


def renewal_amount(loan: Loan) -> Decimal:
    """What is still needed for the loan to be 50% effectively paid, to renew it.

    Half the total to repay (the sum of all its installments) minus what has actually been
    paid (PAGADA installments and prepayments, not those merely EN_NOMINA), rounded up to the
    centavo, never below zero.
    """
    _refuse_if_settled(loan)
    total = _sum([item.amount for item in loan.installments])
    paid = _sum([item.amount for item in loan.installments if item.state == PAID])
    with localcontext(_context()):
        needed = round_up_centavo(total / 2 - paid - loan.prepayments)
    return max(ZERO, needed)


def payoff_amount(loan: Loan) -> Decimal:
    """Liquidación: the saldo insoluto minus the principal of the quincenas EN_NOMINA.

    The employer will still pay those quincenas, so they are not charged again. Only
    principal is charged: no interest for the quincenas the loan will no longer run, nor
    interest accrued since the last due date. Never negative; 0 when everything left is
    already in payroll (the loan settles once the employer pays it).
    """
    _refuse_if_settled(loan)
    in_payroll = _sum([item.principal for item in loan.installments if item.state == IN_PAYROLL])
    return max(ZERO, outstanding_balance(loan) - in_payroll)


@dataclass(frozen=True)
class PaymentOptions:
    """What the kiosk shows for one loan before the affiliate chooses how to pay."""

    loan_id: str
    settled: bool
    outstanding_balance: Decimal
    pending: tuple[LoanInstallment, ...] = field(default_factory=tuple)
    min_prepayment: Decimal = ZERO
    max_prepayment: Decimal = ZERO
    renewal_amount: Decimal = ZERO
    payoff_amount: Decimal = ZERO

    @property
    def can_prepay(self) -> bool:
        """An abono fits between the descuento quincenal and the liquidación amount."""
        return not self.settled and self.min_prepayment <= self.max_prepayment

    @property
    def can_pay_off(self) -> bool:
        return not self.settled and self.payoff_amount > 0

    @property
    def can_renew(self) -> bool:
        """Already 50% paid: renewal needs no payment (or the loan is settled)."""
        return self.settled or self.renewal_amount == 0


def payment_options(loan: Loan) -> PaymentOptions:
    """The four payment kinds for a loan, computed; nothing to pay when it is settled."""
    balance = outstanding_balance(loan)
    if balance == 0:
        return PaymentOptions(loan_id=loan.loan_id, settled=True, outstanding_balance=ZERO)
    payoff = payoff_amount(loan)
    # Only the prefix of pending quincenas whose principal still fits in the payoff can be
    # chosen; trim to that prefix so the kiosk never offers a choice it would refuse.
    choosable: list[LoanInstallment] = []
    principal = ZERO
    for item in pending_installments(loan):
        principal += item.principal
        if principal > payoff:
            break
        choosable.append(item)
    return PaymentOptions(
        loan_id=loan.loan_id,
        settled=False,
        outstanding_balance=balance,
        pending=tuple(choosable),
        min_prepayment=loan.installment,
        max_prepayment=payoff,
        renewal_amount=renewal_amount(loan),
        payoff_amount=payoff,
    )


# --- building loans from a schedule ------------------------------------------------------


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def quincena_due_dates(first_due: date, count: int) -> list[date]:
    """``count`` quincena due dates (the 15th and the last day of each month).

    A ``first_due`` that is neither is moved forward to the next one.
    """
    dates: list[date] = []
    day = first_due
    if day.day < 15:
        day = day.replace(day=15)
    elif day.day > 15:
        day = _month_end(day)
    while len(dates) < count:
        dates.append(day)
        day = _month_end(day) if day.day == 15 else (day + timedelta(days=1)).replace(day=15)
    return dates


def loan_from_schedule(
    loan_id: str,
    principal: Decimal,
    annual_rate: Decimal,
    quincenas: int,
    first_due: date,
    paid: int = 0,
    in_payroll: int = 0,
    *,
    kind: str = "PERSONAL",
    prepayments: Decimal = ZERO,
) -> Loan:
    """A Loan whose installments come from :func:`schedule`: the first ``paid`` PAGADA, the
    next ``in_payroll`` EN_NOMINA, the rest PENDIENTE; due every quincena from ``first_due``.
    """
    rows = schedule(principal, annual_rate, quincenas)
    if paid < 0 or in_payroll < 0 or paid + in_payroll > quincenas:
        raise LoanError(
            "PRESTAMO_INVALIDO",
            f"Quincenas pagadas ({paid}) y en nómina ({in_payroll}) no caben en un plazo "
            f"de {quincenas}.",
        )
    extra = to_decimal(prepayments)
    if extra < 0:
        raise LoanError("PRESTAMO_INVALIDO", "Los abonos a capital no pueden ser negativos.")
    due_dates = quincena_due_dates(first_due, quincenas)
    items = []
    for row, due in zip(rows, due_dates, strict=True):
        if row.number <= paid:
            state = PAID
        elif row.number <= paid + in_payroll:
            state = IN_PAYROLL
        else:
            state = PENDING
        items.append(LoanInstallment(row.number, due, row.payment, row.principal, state))
    return Loan(
        loan_id=loan_id,
        kind=kind,
        principal=_money(principal, "monto del préstamo"),
        annual_rate=_rate(annual_rate),
        installment=rows[0].payment,
        installments=tuple(items),
        prepayments=extra,
    )
