"""The kiosk's workflow without Qt: typed loans, the four kinds, bounds, summary, one rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from kiosk import kiosk_flow as kf
from kiosk.ports import Refused
from kiosk.rules import Policy, payable_today
from kiosk.simulator import Profile

MX = ZoneInfo("America/Mexico_City")
POLICY = Policy()
TUESDAY = datetime(2026, 12, 1, 12, 0, tzinfo=MX)


def q(n: int, state: str = "PENDIENTE", amount: str = "500.00") -> kf.Quincena:
    return kf.Quincena(n, date(2026, 12, 15), Decimal(amount), state)


LOAN = kf.LoanChoice(
    loan_id="P-1",
    kind="COMPLEMENTARIO",
    settled=False,
    outstanding_balance=Decimal("40000.00"),
    installment=Decimal("500.00"),
    pending=(q(3), q(4), q(5)),
    in_payroll=(q(2, "EN_NOMINA"),),
    min_prepayment=Decimal("500.00"),
    max_prepayment=Decimal("35000.00"),
    renewal_amount=Decimal("1200.00"),
    payoff_amount=Decimal("35000.00"),
    can_prepay=True,
    can_pay_off=True,
)


def test_quincenas_are_chosen_oldest_first() -> None:
    assert kf.toggle_quincena(LOAN, (), 4) == (3, 4)
    assert kf.toggle_quincena(LOAN, (3, 4), 3) == ()
    assert kf.toggle_quincena(LOAN, (3, 4), 5) == (3, 4, 5)
    assert kf.choose(LOAN, kf.QUINCENAL, (3, 4)).amount == Decimal("1000.00")


def test_prepayment_bounds_live_in_the_core() -> None:
    assert kf.choose(LOAN, kf.ABONO, amount="500").amount == Decimal("500.00")
    with pytest.raises(Refused, match="al menos"):
        kf.prepayment(LOAN, "499.99")
    with pytest.raises(Refused, match="Liquidación"):
        kf.prepayment(LOAN, "35000.01")
    with pytest.raises(Refused):
        kf.prepayment(LOAN, "1400..555")


def test_each_kind_has_an_explanation_and_a_loan_in_payroll_says_why_options_are_closed() -> None:
    options = kf.kind_options(LOAN)
    assert [o.kind for o in options] == list(kf.KINDS)
    assert all(o.explanation and o.enabled for o in options)
    after_payoff = replace(
        LOAN, pending=(), can_prepay=False, can_pay_off=False, renewal_amount=Decimal("0.00")
    )
    closed = {o.kind: o for o in kf.kind_options(after_payoff)}
    for kind in (kf.QUINCENAL, kf.ABONO, kf.LIQUIDACION):
        assert not closed[kind].enabled
        assert closed[kind].reason == "La quincena 2 ya está en nómina: su patrón la descontará."
    assert "1 quincena ya en nómina" in after_payoff.status_line
    assert after_payoff.status_line.startswith("0 quincenas pendientes")


def test_plural_agreement_in_the_login_message() -> None:
    assert kf.login_message(kf.LoginRefused("X", "", attempts_left=1), POLICY).endswith(
        "Le queda 1 intento."
    )
    assert kf.login_message(kf.LoginRefused("X", "", attempts_left=3), POLICY).endswith(
        "Le quedan 3 intentos."
    )


def test_a_locked_account_says_until_when_and_whom_to_call() -> None:
    until = datetime(2026, 12, 1, 18, 40, tzinfo=ZoneInfo("UTC"))
    text = kf.login_message(kf.LoginRefused("AFILIADO_BLOQUEADO", "", locked_until=until), POLICY)
    assert "hasta las 12:40" in text and "473 735 1400" in text


def test_an_unknown_number_and_a_wrong_nip_read_the_same() -> None:
    unknown = kf.login_message(kf.LoginRefused("CREDENCIALES_INCORRECTAS", "x"), POLICY)
    wrong = kf.login_message(kf.LoginRefused("CREDENCIALES_INCORRECTAS", "y"), POLICY)
    assert unknown == wrong == "Número de afiliado o NIP incorrecto."


def test_the_summary_notes_the_cash_cap_above_30000() -> None:
    big = kf.summary(kf.choose(LOAN, kf.LIQUIDACION), TUESDAY, POLICY)
    assert big.notes == (
        "En efectivo se reciben hasta $30,000.00 por ficha; el resto ($5,000.00) se paga "
        "con tarjeta.",
    )
    assert kf.summary(kf.choose(LOAN, kf.RENOVACION), TUESDAY, POLICY).notes == ()


@pytest.mark.parametrize(
    ("when", "payable", "words"),
    [
        (TUESDAY.replace(hour=6, minute=10), True, "podrá pagarse hoy a partir de las 7:00"),
        (TUESDAY.replace(hour=7), True, None),
        (TUESDAY.replace(hour=21, minute=45, second=30), True, "en 15 minutos"),
        (TUESDAY.replace(hour=21, minute=59), True, "en 1 minuto:"),
        (TUESDAY.replace(hour=22), False, "ya no podrá pagarse hoy"),
        (TUESDAY + timedelta(days=4), False, "no es día hábil"),  # Saturday
    ],
)
def test_one_rule_says_whether_a_ficha_can_still_be_paid_today(
    when: datetime, payable: bool, words: str | None
) -> None:
    verdict = payable_today(when, POLICY)
    assert verdict.payable is payable
    if words is None:
        assert verdict.message is None
    else:
        assert verdict.message is not None and words in verdict.message
        assert words in kf.summary(kf.choose(LOAN, kf.RENOVACION), when, POLICY).warnings[-1]


class FakeCentral:
    """Pure-logic double of central's kiosk endpoints."""

    def __init__(self, fail: Refused | None = None) -> None:
        self.fail = fail
        self.logged_out: list[str] = []

    def login(self, member_number: str, nip: str) -> kf.Session:
        return kf.Session("t", member_number, "ANA")

    def loans(self, session: kf.Session) -> kf.Loans:
        if self.fail:
            raise self.fail
        return kf.Loans((LOAN,), 5)

    def issue_slip(self, session: kf.Session, choice: kf.Choice) -> kf.IssuedSlip:
        return kf.IssuedSlip(
            "261201000000000195", choice.amount, "P-1", choice.kind, "", date(2026, 12, 1), "1", "A"
        )

    def logout(self, session: kf.Session) -> None:
        if self.fail:
            raise self.fail
        self.logged_out.append(session.token)

    def history(self, session: kf.Session) -> tuple[kf.LoanHistory, ...]:
        return ()

    def profile(self, session: kf.Session) -> Profile:
        return Profile()


class BrokenPrinter:
    def print_slip(self, slip: kf.IssuedSlip, policy: Policy) -> bool:
        raise OSError("sin papel")


def service(central: FakeCentral) -> kf.KioskService:
    return kf.KioskService(central, BrokenPrinter(), lambda: TUESDAY, lambda: POLICY)


def test_a_printer_failure_leaves_the_ficha_issued_and_says_so() -> None:
    done = service(FakeCentral()).print_slip(
        kf.Session("t", "1", "A"), kf.choose(LOAN, kf.RENOVACION)
    )
    assert not done.printed
    assert any("anote la referencia" in line for line in done.lines)


def test_logging_in_ends_the_session_if_the_loans_cannot_be_read() -> None:
    central = FakeCentral(fail=kf.Unreachable())
    with pytest.raises(kf.Unreachable):
        service(central).log_in("100001", "1234")
    central.fail = None
    svc = service(central)
    svc.log_out(svc.log_in("100001", "1234").session)
    assert central.logged_out == ["t"]


def test_loans_parse_from_centrals_answer_with_the_quincenas_in_payroll() -> None:
    loan = kf.loan_from_json(
        {
            "loan_id": "P-9",
            "status": "VIGENTE",
            "outstanding_balance": "1000.00",
            "installment": "500.00",
            "installments": [
                {"number": 1, "due_date": "2026-11-15", "amount": "500.00", "state": "PAGADA"},
                {"number": 2, "due_date": "2026-11-30", "amount": "500.00", "state": "EN_NOMINA"},
            ],
            "options": {"settled": False, "pending": [], "can_prepay": False},
        }
    )
    assert [x.number for x in loan.in_payroll] == [2]
    assert not loan.can_prepay and loan.current is None


@pytest.mark.parametrize(
    ("keys", "typed"),
    [("1400..555", "1400.55"), (".5", "0.5"), ("12345678", "1234567"), ("12⌫3", "13")],
)
def test_the_amount_keypad_refuses_a_bad_key_where_it_is_pressed(keys: str, typed: str) -> None:
    text = ""
    for key in keys:
        text = kf.keystroke(text, key, decimals=True) or text
    assert text == typed


def test_the_number_keypad_stops_at_its_length_and_has_no_point() -> None:
    assert kf.keystroke("123456", "7", max_digits=6) is None
    assert kf.keystroke("12", ".", max_digits=6) is None
    assert kf.keystroke("12", "3", max_digits=6) == "123"


def test_the_simulator_logged_in_uses_centrals_salary_or_asks_for_one() -> None:
    svc = service(FakeCentral())
    with pytest.raises(Refused, match="no tiene registrado su sueldo"):
        svc.simulate(kf.Session("t", "1", "A"))
    assert svc.simulate(kf.Session("t", "1", "A"), "10000").monthly_salary == Decimal("10000.00")
    assert svc.simulate(None, "8000").terms[0].eligible is None


def test_a_lock_without_its_end_still_says_whom_to_call() -> None:
    text = kf.login_message(kf.LoginRefused(kf.LOCKED, "x"), POLICY)
    assert text == (
        "Por su seguridad el acceso está bloqueado por unos minutos. Si olvidó su NIP llame "
        "al ISSEG al 473 735 1400."
    )


def test_the_difference_between_saldo_and_liquidacion_is_explained() -> None:
    """Trial 10: liquidación is the saldo less the quincena in payroll, said in one line."""
    note = LOAN.balance_note
    assert "$35,000.00" in note and "$40,000.00" in note and "($5,000.00)" in note
    assert "la quincena que ya está en nómina" in note
    assert replace(LOAN, payoff_amount=LOAN.outstanding_balance).balance_note == ""
    assert replace(LOAN, settled=True).balance_note == ""


def test_the_summary_says_the_fichas_left_today_and_at_the_limit_refuses_beforehand() -> None:
    """Trial 9: the limit shows on the review, before "Imprimir"; nothing is "replaced"."""
    current = kf.CurrentSlip("261201000000000195", Decimal("999.00"), "VIGENTE")
    choice = kf.choose(replace(LOAN, current=current), kf.RENOVACION)
    two = kf.summary(choice, TUESDAY, POLICY, 2)
    assert "Hoy puede generar 2 fichas más (el máximo es 5 al día)." in two.notes
    assert two.refusal == "" and any("reemplaza" in w for w in two.warnings)
    one = kf.summary(choice, TUESDAY, POLICY, 1)
    assert "Hoy puede generar 1 ficha más (el máximo es 5 al día)." in one.notes
    none = kf.summary(choice, TUESDAY, POLICY, 0)
    assert none.refusal.startswith("Ya generó las 5 fichas de hoy")
    assert not any("reemplaza" in w for w in none.warnings)
    assert not any("Hoy puede" in n for n in none.notes)
    assert kf.summary(choice, TUESDAY, POLICY).refusal == ""


def test_loans_answer_carries_the_fichas_left_and_paid_quincenas() -> None:
    item = {
        "loan_id": "P-1",
        "installments": [
            {"number": 1, "due_date": "2026-11-15", "amount": "500.00", "state": "PAGADA"},
            {"number": 2, "due_date": "2026-11-30", "amount": "500.00", "state": "EN_NOMINA"},
        ],
    }
    loans = kf.loans_from_json({"loans": [item], "slips_left_today": 3})
    assert loans.slips_left == 3 and loans.loans[0].paid == 1
    assert loans.loans[0].quincenas_line == (
        "Quincenas pagadas (por nómina o en farmacia): 1 · en nómina ahora: 1."
    )
    assert kf.loans_from_json({"loans": []}).slips_left is None


def test_the_simulator_logged_in_counts_the_current_loans() -> None:
    sim = service(FakeCentral()).simulate(kf.Session("t", "1", "A"), "10000")
    assert any("ya le descuentan $500.00" in n for n in sim.notes)


def test_a_reprint_for_the_same_amount_is_not_alarming() -> None:
    """Trial 19."""
    same = kf.CurrentSlip("261201000000000195", Decimal("1200.00"), "VIGENTE")
    choice = kf.choose(replace(LOAN, current=same), kf.RENOVACION)
    warning = kf.summary(choice, TUESDAY, POLICY).warnings[0]
    assert "por el mismo importe: pague solo la nueva" in warning
    other = replace(same, amount=Decimal("999.00"))
    choice = kf.choose(replace(LOAN, current=other), kf.RENOVACION)
    assert "ya no podrá pagarse" in kf.summary(choice, TUESDAY, POLICY).warnings[0]


def test_renewal_without_payment_says_where_to_renew() -> None:
    """Trial 16: no contradiction, and the next step."""
    option = kf.kind_options(replace(LOAN, renewal_amount=Decimal("0.00")))[2]
    assert not option.enabled
    assert option.reason.startswith("No hace falta: ya lleva pagado el 50 %.")
    assert "módulo" in option.reason and kf.INSTITUTE_PHONE in option.reason


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [("1400.", ".", "un solo punto"), ("1400.55", "5", "dos cifras"), ("9999999", "9", "7 cifras")],
)
def test_a_refused_key_says_why(text: str, key: str, words: str) -> None:
    """Trial 15: never a silent drop."""
    assert kf.keystroke(text, key, decimals=True) is None
    assert words in kf.refused_key(text, key)
