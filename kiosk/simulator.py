"""¿Cuánto me prestan? The crédito complementario simulator, from the institute's sheet.

Informative only: it issues nothing. The sheet's rules, as applied here:

* Descuento quincenal at most 20% of the quincenal base salary (half the monthly one).
* Maximum credit for a term: ``kiosk.loans.max_loan_amount`` (16% a year plus IVA).
* Term: 36 quincenas with under 10 years of contributions; 72 with 10 or more, and for
  pensioners. Where the sheet is silent: exactly 10 completed years counts as 10 (72
  quincenas), as ``kiosk.loans.max_term`` has it.
* At least one completed year of contributions (pensioners exempt) and no debts with the
  institute.
* Insured (not pensioners): contribution time at the loan's end must be under 29 years,
  6 months, 1 day for men and 27 years, 6 months, 1 day for women. Where the sheet is silent:
  the loan ends ``n / 2`` months after today (24 quincenas = 12 months), and "under" is
  strict, so ending on the day the limit is reached is not allowed; the day before is.
  The birth date is kept by central but the sheet's rule counts contribution time, not age.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from kiosk import money
from kiosk.loans import (
    DEFAULT_ANNUAL_RATE,
    installment_amount,
    max_installment,
    max_loan_amount,
    max_term,
)
from kiosk.ports import Refused

TERMS = (24, 36, 48, 72)
MAX_MONTHLY_SALARY = Decimal("1000000.00")
MEN, WOMEN = "H", "M"
# (years, months, days) of contribution time the loan must end before.
CONTRIBUTION_LIMIT = {MEN: (29, 6, 1), WOMEN: (27, 6, 1)}
MIN_YEARS = 1
INFORMATIVE = (
    "Cifras informativas: no son una autorización de crédito. El crédito se tramita en "
    "Oficinas Centrales del ISSEG y Módulos de Plaza Pozuelos, de lunes a viernes de 8:30 a "
    "15:30, con cita en servicios.isseg.gob.mx o al 473 735 1400 opción 4."
)


@dataclass(frozen=True, slots=True)
class Profile:
    """What central knows of an affiliate for the simulator; ``None`` where it does not."""

    monthly_salary: Decimal | None = None
    contribution_start: date | None = None
    sex: str | None = None  # H (hombre) | M (mujer)
    birth_date: date | None = None
    pensioner: bool = False
    has_debts: bool = False


@dataclass(frozen=True, slots=True)
class TermFigures:
    quincenas: int
    max_credit: Decimal
    installment: Decimal
    annual_rate: Decimal
    eligible: bool | None  # None: depends on what the simulator does not know
    reason: str


@dataclass(frozen=True, slots=True)
class Simulation:
    monthly_salary: Decimal
    max_installment: Decimal
    years_contributed: int | None
    terms: tuple[TermFigures, ...]
    notes: tuple[str, ...]


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, the day clamped to the month's end (31 Jan + 1 = 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def completed_years(start: date, today: date) -> int:
    """Whole years from ``start`` to ``today``: the anniversary counts (exactly 10 is 10)."""
    years = today.year - start.year
    return years - 1 if add_months(start, 12 * years) > today else years


def contribution_limit(start: date, sex: str) -> date:
    """The first day contribution time reaches the sheet's limit for ``sex``."""
    years, months, days = CONTRIBUTION_LIMIT[sex]
    return date.fromordinal(add_months(start, 12 * years + months).toordinal() + days)


def loan_end(today: date, quincenas: int) -> date:
    return (
        add_months(today, quincenas // 2)
        if quincenas % 2 == 0
        else date.fromordinal(add_months(today, quincenas // 2).toordinal() + 15)
    )


def salary(text: str) -> Decimal:
    """The typed monthly base salary, bounded, or ``Refused``."""
    if not text.strip():
        raise Refused("SUELDO_INVALIDO", "Escriba su sueldo o pensión mensual con las teclas.")
    try:
        value = money.parse(text)
    except money.MoneyError as exc:
        raise Refused("SUELDO_INVALIDO", str(exc)) from None
    if not 0 < value <= MAX_MONTHLY_SALARY:
        raise Refused(
            "SUELDO_INVALIDO",
            f"Escriba su sueldo o pensión mensual, mayor que cero y hasta {money.fmt(MAX_MONTHLY_SALARY)}.",
        )
    return value


def _eligibility(quincenas: int, today: date, profile: Profile | None) -> tuple[bool | None, str]:
    if profile is None:
        if quincenas <= 36:
            return None, "Con 1 año o más de cotización y sin adeudos con el instituto."
        return None, "Solo con 10 años o más de cotización, o si es pensionado."
    if profile.has_debts:
        return False, "Tiene adeudos con el instituto: primero debe cubrirlos."
    if profile.pensioner:
        return True, "Pensionado: hasta 72 quincenas."
    if profile.contribution_start is None:
        return None, "El instituto no tiene su fecha de inicio de cotización."
    years = completed_years(profile.contribution_start, today)
    if years < MIN_YEARS:
        return False, "Se requiere al menos 1 año de cotización."
    if quincenas > max_term(years):
        return False, "Con menos de 10 años de cotización el plazo máximo es de 36 quincenas."
    if profile.sex not in CONTRIBUTION_LIMIT:
        return (
            None,
            "El instituto no tiene registrado su sexo para revisar el límite de cotización.",
        )
    limit = contribution_limit(profile.contribution_start, profile.sex)
    if loan_end(today, quincenas) >= limit:
        y, m, d = CONTRIBUTION_LIMIT[profile.sex]
        who = "varones" if profile.sex == MEN else "mujeres"
        return False, (
            f"Su cotización más este plazo llegaría a {y} años, {m} meses y {d} día "
            f"(límite para {who}, el {limit:%d/%m/%Y})."
        )
    return True, f"Cumple los requisitos para {quincenas} quincenas."


def simulate(
    monthly_salary: Decimal,
    today: date,
    profile: Profile | None = None,
    current_installments: Decimal = Decimal("0.00"),
) -> Simulation:
    """Maximum credit, descuento and eligibility for each term of the sheet.

    ``current_installments``: what the affiliate's current loans already deduct each
    quincena; the 20 % cap is on all of them together, so it comes off the new descuento.
    """
    full_cap = max_installment(monthly_salary / 2)
    cap = max(Decimal("0.00"), full_cap - current_installments)
    terms = []
    for n in TERMS:
        credit = max_loan_amount(cap, n, DEFAULT_ANNUAL_RATE) if cap > 0 else Decimal("0.00")
        eligible, reason = _eligibility(n, today, profile)
        if cap == 0 and eligible is not False:
            eligible, reason = (
                False,
                (
                    "Sus descuentos actuales ya llegan al 20 % de su sueldo; para renovar, "
                    "pregunte en el módulo."
                ),
            )
        terms.append(
            TermFigures(
                quincenas=n,
                max_credit=credit,
                installment=installment_amount(credit, DEFAULT_ANNUAL_RATE, n)
                if credit
                else credit,
                annual_rate=DEFAULT_ANNUAL_RATE,
                eligible=eligible,
                reason=reason,
            )
        )
    years = (
        completed_years(profile.contribution_start, today)
        if profile is not None and profile.contribution_start is not None
        else None
    )
    notes = [
        "Tasa: 16 % anual más IVA; descuento quincenal de hasta el 20 % de su sueldo base: "
        "el mismo en cada plazo, un plazo más largo presta más."
    ]
    if current_installments > 0:
        notes.append(
            f"Sus préstamos actuales ya le descuentan {money.fmt(current_installments)} por "
            f"quincena: se restan del 20 % ({money.fmt(full_cap)}), y quedan "
            f"{money.fmt(cap)} para un préstamo nuevo."
        )
    if years == 10:  # the sheet says "menos de 10" and "más de 10": 10 exactly counts as more
        notes.append(
            "Con exactamente 10 años de cotización se cuentan 10 años: hasta 72 quincenas."
        )
    notes.append(INFORMATIVE)
    return Simulation(monthly_salary, cap, years, tuple(terms), tuple(notes))
