"""The kiosk's workflow: one method per affiliate action, typed results, no Qt, SQL or HTTP.

welcome → log in (number and NIP) → loans → a loan → a payment kind (SPEC 2.2) → quincenas
or an amount → summary → print the ficha → back to the loans; "Salir" or idle ends the
visit at central. Central issues fichas and knows the loans, so it sits behind
``KioskCentral``; whatever cannot reach it raises ``Unreachable``, whatever it refuses raises
``Refused`` (``LoginRefused`` at the login), each with its Spanish message.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from kiosk import money
from kiosk.ports import Clock, Refused
from kiosk.references import VIGENTE, InvalidReference
from kiosk.references import parse as parse_reference
from kiosk.rules import Policy, payable_today
from kiosk.simulator import Profile, Simulation, salary, simulate
from kiosk.spanish import attempts_left, counted

QUINCENAL = "QUINCENAL"
ABONO = "ABONO"
RENOVACION = "RENOVACION"
LIQUIDACION = "LIQUIDACION"
KINDS = {
    QUINCENAL: "Pago quincenal",
    ABONO: "Abono a capital",
    RENOVACION: "Renovación",
    LIQUIDACION: "Liquidación",
}
# One line under each kind: what an affiliate asks at the counter.
EXPLANATIONS = {
    QUINCENAL: "Paga una o varias quincenas pendientes, empezando por la más antigua.",
    ABONO: "Adelanta un pago a su saldo: desde su descuento quincenal y baja lo que debe.",
    RENOVACION: "Paga lo que falte para llevar pagado el 50 % de su préstamo y poder renovarlo.",
    LIQUIDACION: "Paga todo lo que queda y su préstamo termina.",
}
INSTITUTE_PHONE = "473 735 1400"
LOCKED = "AFILIADO_BLOQUEADO"
NIP_DIGITS = 6  # the longest NIP the keypad types
AMOUNT_DIGITS = 7  # whole pesos: up to $9,999,999
UNREACHABLE_MESSAGE = (
    "Sin conexión con el instituto: por ahora no se pueden emitir fichas. Intente más tarde "
    "o pregunte en caja."
)


class Unreachable(Refused):
    """Central could not be reached (or did not answer in time): nothing was decided."""

    def __init__(self, message: str = UNREACHABLE_MESSAGE) -> None:
        super().__init__("SIN_CONEXION", message)


class LoginRefused(Refused):
    """Central refused the number and NIP. ``locked_until``: when a locked account opens."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        attempts_left: int | None = None,
        locked_until: datetime | None = None,
    ) -> None:
        super().__init__(code, message)
        self.attempts_left = attempts_left
        self.locked_until = locked_until


# ``1 quincena``, ``2 quincenas``: one agreement for the till and the kiosk.
plural = counted


def login_message(refusal: LoginRefused, policy: Policy) -> str:
    """What the affiliate reads after a refused login: the same for an unknown number and a
    wrong NIP; a locked account says until when and whom to call."""
    if refusal.locked_until is not None or refusal.code == LOCKED:
        until = (
            f"hasta las {policy.local(refusal.locked_until):%H:%M}"
            if refusal.locked_until is not None
            else "por unos minutos"
        )
        return (
            f"Por su seguridad el acceso está bloqueado {until}. "
            f"Si olvidó su NIP llame al ISSEG al {INSTITUTE_PHONE}."
        )
    message = "Número de afiliado o NIP incorrecto."
    if refusal.attempts_left is not None:
        message += f" {attempts_left(refusal.attempts_left)}"
    return message


# --- records --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    member_number: str
    member_name: str


@dataclass(frozen=True, slots=True)
class Quincena:
    number: int
    due_date: date
    amount: Decimal
    state: str  # PENDIENTE | EN_NOMINA | PAGADA


@dataclass(frozen=True, slots=True)
class CurrentSlip:
    """The loan's ficha still VIGENTE today: a new one replaces it."""

    reference: str
    amount: Decimal
    status: str

    @property
    def grouped(self) -> str:
        try:
            return parse_reference(self.reference).grouped()
        except InvalidReference:
            return self.reference


@dataclass(frozen=True, slots=True)
class LoanChoice:
    """One loan as the kiosk offers it, with its computed options (central's answer)."""

    loan_id: str
    kind: str
    settled: bool
    outstanding_balance: Decimal
    installment: Decimal
    pending: tuple[Quincena, ...]
    in_payroll: tuple[Quincena, ...]
    min_prepayment: Decimal
    max_prepayment: Decimal
    renewal_amount: Decimal
    payoff_amount: Decimal
    can_prepay: bool
    can_pay_off: bool
    current: CurrentSlip | None = None
    paid: int = 0  # quincenas already PAGADA, by payroll or at a store

    @property
    def quincenas_line(self) -> str:
        """The history's count of quincenas paid and in payroll: payroll deductions are not
        payments at a store, so they are not in the payment list."""
        parts = [f"Quincenas pagadas (por nómina o en farmacia): {self.paid}"]
        if self.in_payroll:
            parts.append(f"en nómina ahora: {len(self.in_payroll)}")
        return " · ".join(parts) + "."

    @property
    def status_parts(self) -> tuple[str, ...]:
        if self.settled:
            return ("Liquidado",)
        parts = [f"{plural(len(self.pending), 'quincena pendiente', 'quincenas pendientes')}"]
        if self.in_payroll:
            parts.append(f"{plural(len(self.in_payroll), 'quincena', 'quincenas')} ya en nómina")
        if self.current is not None and self.current.status == VIGENTE:
            parts.append(f"Ficha de hoy por pagar: {money.fmt(self.current.amount)}")
        return tuple(parts)

    @property
    def status_line(self) -> str:
        return " · ".join(self.status_parts)

    @property
    def balance_note(self) -> str:
        """Why liquidación (and the largest abono) is less than the saldo: the principal of
        the quincenas in payroll, which the employer pays."""
        if self.settled or not 0 < self.payoff_amount < self.outstanding_balance:
            return ""
        which = (
            "la quincena que ya está en nómina"
            if len(self.in_payroll) == 1
            else "las quincenas que ya están en nómina"
        )
        return (
            f"Para terminar de pagar hoy bastan {money.fmt(self.payoff_amount)}, no su saldo de "
            f"{money.fmt(self.outstanding_balance)}: la diferencia "
            f"({money.fmt(self.outstanding_balance - self.payoff_amount)}) es de {which}, "
            "que su patrón descontará."
        )


@dataclass(frozen=True, slots=True)
class KindOption:
    """One of the four payment kinds for a loan: enabled, or why not."""

    kind: str
    label: str
    explanation: str
    figure: str  # "3 quincenas por pagar", "$1,234.56"
    enabled: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Loans:
    """Central's answer for the loans screen: the loans, and how many fichas the affiliate
    may still issue today (None when central did not say)."""

    loans: tuple[LoanChoice, ...]
    slips_left: int | None = None


@dataclass(frozen=True, slots=True)
class Visit:
    """A logged-in affiliate and their loans, as central answered."""

    session: Session
    loans: tuple[LoanChoice, ...]
    slips_left: int | None = None

    def loan(self, loan_id: str) -> LoanChoice:
        return next(ln for ln in self.loans if ln.loan_id == loan_id)


@dataclass(frozen=True, slots=True)
class Choice:
    """What the affiliate is building: a loan, a kind, quincenas or an amount."""

    loan: LoanChoice
    kind: str
    quincenas: tuple[int, ...] = ()
    amount: Decimal = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Summary:
    """The confirmation before printing."""

    choice: Choice
    title: str
    amount: Decimal
    words: str
    warnings: tuple[str, ...]
    notes: tuple[str, ...]
    refusal: str = ""  # why this ficha cannot be printed (the daily limit), said beforehand


@dataclass(frozen=True, slots=True)
class IssuedSlip:
    """A ficha central issued: what the printer and the last screen show."""

    reference: str
    amount: Decimal
    loan_id: str
    kind: str
    concept: str
    issued_on: date
    member_number: str
    member_name: str
    quincenas: tuple[int, ...] = ()
    replaced: str = ""
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class Printed:
    slip: IssuedSlip
    printed: bool
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HistoryPayment:
    paid_at: datetime
    place: str  # the store's name, or the channel
    amount: Decimal
    kind: str
    status: str


@dataclass(frozen=True, slots=True)
class HistorySlip:
    reference: str
    amount: Decimal
    kind: str
    status: str


@dataclass(frozen=True, slots=True)
class LoanHistory:
    loan_id: str
    payments: tuple[HistoryPayment, ...]
    slips_today: tuple[HistorySlip, ...]


# --- what the service needs --------------------------------------------------------------


class KioskCentral(Protocol):
    """Central's kiosk endpoints. Raise ``Unreachable`` when central cannot be reached,
    ``LoginRefused`` for a refused login and ``Refused`` for any other refusal."""

    def login(self, member_number: str, nip: str) -> Session: ...

    def loans(self, session: Session) -> Loans: ...

    def issue_slip(self, session: Session, choice: Choice) -> IssuedSlip: ...

    def logout(self, session: Session) -> None: ...

    def history(self, session: Session) -> tuple[LoanHistory, ...]: ...

    def profile(self, session: Session) -> Profile: ...


class SlipPrinter(Protocol):
    def print_slip(self, slip: IssuedSlip, policy: Policy) -> bool:
        """Print the ficha; True once the printer confirmed it."""
        ...


# --- pure rules of the flow ----------------------------------------------------------------


def kind_options(loan: LoanChoice) -> tuple[KindOption, ...]:
    """The four kinds, each enabled or with the reason it is not (a quincena in payroll)."""
    in_payroll = ""
    if loan.in_payroll:
        numbers = ", ".join(str(q.number) for q in loan.in_payroll)
        in_payroll = (
            f"La quincena {numbers} ya está en nómina: su patrón la descontará."
            if len(loan.in_payroll) == 1
            else f"Las quincenas {numbers} ya están en nómina: su patrón las descontará."
        )
    count = len(loan.pending)
    return (
        KindOption(
            QUINCENAL,
            KINDS[QUINCENAL],
            EXPLANATIONS[QUINCENAL],
            f"{plural(count, 'quincena', 'quincenas')} por pagar",
            bool(loan.pending),
            "" if loan.pending else in_payroll or "No hay quincenas por pagar.",
        ),
        KindOption(
            ABONO,
            KINDS[ABONO],
            EXPLANATIONS[ABONO],
            f"desde {money.fmt(loan.min_prepayment)}",
            loan.can_prepay,
            ""
            if loan.can_prepay
            else in_payroll or "Lo que debe es menos que su descuento quincenal: liquídelo.",
        ),
        KindOption(
            RENOVACION,
            KINDS[RENOVACION],
            EXPLANATIONS[RENOVACION],
            money.fmt(loan.renewal_amount) if loan.renewal_amount else "sin pago",
            loan.renewal_amount > 0,
            ""
            if loan.renewal_amount > 0
            else "No hace falta: ya lleva pagado el 50 %. Tramite su renovación en el módulo "
            f"de atención del ISSEG (cita al {INSTITUTE_PHONE} opción 4).",
        ),
        KindOption(
            LIQUIDACION,
            KINDS[LIQUIDACION],
            EXPLANATIONS[LIQUIDACION],
            money.fmt(loan.payoff_amount),
            loan.can_pay_off,
            "" if loan.can_pay_off else in_payroll or "No queda saldo por liquidar.",
        ),
    )


def toggle_quincena(loan: LoanChoice, chosen: Sequence[int], number: int) -> tuple[int, ...]:
    """Oldest first: touching one selects it and every older one; touching a chosen one
    drops it and every newer one."""
    numbers = [q.number for q in loan.pending]
    idx = numbers.index(number)
    return tuple(numbers[:idx] if number in chosen else numbers[: idx + 1])


def quincenas_total(loan: LoanChoice, chosen: Sequence[int]) -> Decimal:
    return sum((q.amount for q in loan.pending if q.number in chosen), Decimal("0.00"))


def prepayment(loan: LoanChoice, text: str) -> Decimal:
    """The typed abono, within its bounds (SPEC 2.2), or ``Refused`` saying why."""
    try:
        value = money.parse(text)
    except money.MoneyError as exc:
        raise Refused("MONTO_INVALIDO", str(exc)) from None
    if value < loan.min_prepayment:
        raise Refused(
            "ABONO_MENOR",
            f"El abono debe ser de al menos {money.fmt(loan.min_prepayment)} "
            "(su descuento quincenal).",
        )
    if value > loan.max_prepayment:
        raise Refused(
            "ABONO_MAYOR",
            f"El abono de {money.fmt(value)} es mayor que lo que debe "
            f"({money.fmt(loan.max_prepayment)}): elija Liquidación.",
        )
    return value


def keystroke(text: str, key: str, *, max_digits: int = 0, decimals: bool = False) -> str | None:
    """``text`` after a keypad key, or None when the key is refused right there: digits up to
    ``max_digits``; with ``decimals``, one point and two decimals (no "1400..555")."""
    if key == "⌫":
        return text[:-1]
    whole, point, cents = text.partition(".")
    if key == ".":
        if not decimals or point:
            return None
        return (text or "0") + "."
    if not (len(key) == 1 and key.isdigit()):
        return None
    if decimals:
        if (point and len(cents) >= 2) or (not point and len(whole) >= AMOUNT_DIGITS):
            return None
        return text + key
    return None if len(text) >= max_digits else text + key


def refused_key(text: str, key: str) -> str:
    """Why ``keystroke`` refused an amount's key: said on screen, never a silent drop."""
    if key == ".":
        return "El importe lleva un solo punto."
    if "." in text:
        return "Después del punto caben solo dos cifras (los centavos)."
    return f"El importe cabe en {AMOUNT_DIGITS} cifras antes del punto."


def choose(loan: LoanChoice, kind: str, quincenas: Sequence[int] = (), amount: str = "") -> Choice:
    """A complete choice, checked: the amount each kind takes is computed here."""
    if kind == QUINCENAL:
        if not quincenas:
            raise Refused("SIN_QUINCENAS", "Elija al menos una quincena.")
        return Choice(loan, kind, tuple(quincenas), quincenas_total(loan, quincenas))
    if kind == ABONO:
        return Choice(loan, kind, (), prepayment(loan, amount))
    if kind == RENOVACION:
        return Choice(loan, kind, (), loan.renewal_amount)
    if kind == LIQUIDACION:
        return Choice(loan, kind, (), loan.payoff_amount)
    raise Refused("TIPO_DE_PAGO_INVALIDO", "Tipo de pago desconocido.")


def summary(
    choice: Choice, now: datetime, policy: Policy, slips_left: int | None = None
) -> Summary:
    """What the affiliate confirms: amount, warnings (replaced ficha, can it be paid today),
    notes (the cash cap, the fichas left today) and, at the daily limit, why it cannot print."""
    parts = [f"Préstamo {choice.loan.loan_id}", KINDS[choice.kind]]
    if choice.quincenas:
        word = "Quincena" if len(choice.quincenas) == 1 else "Quincenas"
        parts.append(f"{word} " + ", ".join(str(n) for n in choice.quincenas))
    warnings: list[str] = []
    refusal = (
        f"Ya generó las {plural(policy.max_daily_slips, 'ficha', 'fichas')} de hoy, el máximo "
        "por afiliado al día: pague en caja la ficha vigente de su préstamo o genere otra "
        "mañana."
        if slips_left is not None and slips_left <= 0
        else ""
    )
    current = choice.loan.current
    if current is not None and current.status == VIGENTE and not refusal:
        warnings.append(
            f"Esta ficha sustituye a la que imprimió antes ({current.grouped}), por el mismo "
            "importe: pague solo la nueva."
            if current.amount == choice.amount
            else f"Esta ficha reemplaza a la ficha {current.grouped} de "
            f"{money.fmt(current.amount)}: la anterior ya no podrá pagarse."
        )
    today = payable_today(now, policy)
    if today.message:
        warnings.append(today.message)
    notes: list[str] = []
    if choice.amount > policy.cash_cap:
        notes.append(
            f"En efectivo se reciben hasta {money.fmt(policy.cash_cap)} por ficha; el resto "
            f"({money.fmt(choice.amount - policy.cash_cap)}) se paga con tarjeta."
        )
    if slips_left is not None and slips_left > 0:
        more = plural(slips_left, "ficha más", "fichas más")
        notes.append(f"Hoy puede generar {more} (el máximo es {policy.max_daily_slips} al día).")
    return Summary(
        choice,
        " · ".join(parts),
        choice.amount,
        f"Importe con letra: {money.in_words(choice.amount)}",
        tuple(warnings),
        tuple(notes),
        refusal,
    )


def printed_lines(slip: IssuedSlip, printed: bool) -> tuple[str, ...]:
    lines = [
        f"Referencia {CurrentSlip(slip.reference, slip.amount, VIGENTE).grouped}",
        f"Importe {money.fmt(slip.amount)}",
        f"Válida solo hoy, {slip.issued_on:%d/%m/%Y}, por el importe exacto.",
    ]
    if not printed:
        lines.append(
            "La impresora no respondió: anote la referencia o pida ayuda en caja; la ficha "
            "ya está registrada."
        )
    if slip.warning:
        lines.append(slip.warning)
    return tuple(lines)


# --- the service ---------------------------------------------------------------------------


@dataclass
class KioskService:
    """One method per affiliate action; each returns a typed result or raises ``Refused``."""

    central: KioskCentral
    printer: SlipPrinter
    clock: Clock
    policy: Callable[[], Policy]
    _session: Session | None = field(default=None, init=False, repr=False)

    def log_in(self, member_number: str, nip: str) -> Visit:
        """Open a session and read the loans: one action, the loans screen's content."""
        session = self.central.login(member_number, nip)
        try:
            return self.reload(session)
        except Refused:
            self._end(session)
            raise

    def reload(self, session: Session) -> Visit:
        """The loans again (after printing, the amounts and the current ficha changed)."""
        loans = self.central.loans(session)
        return Visit(session, loans.loans, loans.slips_left)

    def review(self, choice: Choice, slips_left: int | None = None) -> Summary:
        return summary(choice, self.clock(), self.policy(), slips_left)

    def simulate(self, session: Session | None, salary_text: str = "") -> Simulation:
        """¿Cuánto me prestan?: logged in, from what central knows (the typed salary when it
        has none); otherwise from the typed monthly base salary."""
        profile = self.central.profile(session) if session is not None else None
        # The 20 % cap counts what the current loans already deduct.
        current = (
            sum(
                (ln.installment for ln in self.central.loans(session).loans if not ln.settled),
                Decimal("0.00"),
            )
            if session is not None
            else Decimal("0.00")
        )
        if profile is not None and profile.monthly_salary is not None and not salary_text:
            monthly = profile.monthly_salary
        elif profile is not None and not salary_text:
            raise Refused(
                "SIN_SUELDO",
                "El instituto no tiene registrado su sueldo: escriba su sueldo o pensión mensual.",
            )
        else:
            monthly = salary(salary_text)
        return simulate(monthly, self.policy().local(self.clock()).date(), profile, current)

    def print_slip(self, session: Session, choice: Choice) -> Printed:
        """Issue the ficha at central, then print it; a printer failure leaves it issued."""
        slip = self.central.issue_slip(session, choice)
        try:
            printed = self.printer.print_slip(slip, self.policy())
        except Exception:  # the ficha stands at central; the screen shows its reference
            printed = False
        return Printed(slip, printed, printed_lines(slip, printed))

    def history(self, session: Session) -> tuple[LoanHistory, ...]:
        return self.central.history(session)

    def profile(self, session: Session) -> Profile:
        return self.central.profile(session)

    def log_out(self, session: Session | None) -> None:
        """End the session at central; offline, it expires there on its own."""
        if session is not None:
            self._end(session)

    def _end(self, session: Session) -> None:
        # Unreachable included: central's idle timeout ends the session on its own.
        with contextlib.suppress(Refused):
            self.central.logout(session)


# --- parsing central's answers (pure: the adapter hands in decoded JSON) ---------------------


def _dec(value: object) -> Decimal:
    return money.to_decimal(str(value if value is not None else "0"))


def _quincena(item: Mapping[str, object]) -> Quincena:
    return Quincena(
        number=int(str(item["number"])),
        due_date=date.fromisoformat(str(item["due_date"])),
        amount=_dec(item["amount"]),
        state=str(item.get("state", "PENDIENTE")),
    )


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _items(value: object) -> list[Mapping[str, object]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def loan_from_json(item: Mapping[str, object]) -> LoanChoice:
    options = _mapping(item.get("options"))
    current = _mapping(item.get("current_reference"))
    settled = item.get("status") == "LIQUIDADO" or bool(options.get("settled"))
    return LoanChoice(
        loan_id=str(item["loan_id"]),
        kind=str(item.get("kind", "")),
        settled=settled,
        outstanding_balance=_dec(item.get("outstanding_balance")),
        installment=_dec(item.get("installment")),
        pending=tuple(_quincena(q) for q in _items(options.get("pending"))),
        in_payroll=tuple(
            _quincena(q) for q in _items(item.get("installments")) if q.get("state") == "EN_NOMINA"
        ),
        paid=sum(1 for q in _items(item.get("installments")) if q.get("state") == "PAGADA"),
        min_prepayment=_dec(options.get("min_prepayment")),
        max_prepayment=_dec(options.get("max_prepayment")),
        renewal_amount=_dec(options.get("renewal_amount")),
        payoff_amount=_dec(options.get("payoff_amount")),
        can_prepay=bool(options.get("can_prepay")) and not settled,
        can_pay_off=bool(options.get("can_pay_off")) and not settled,
        current=(
            CurrentSlip(
                str(current["reference"]), _dec(current.get("amount")), str(current.get("status"))
            )
            if current.get("reference")
            else None
        ),
    )


def loans_from_json(body: Mapping[str, object]) -> Loans:
    left = body.get("slips_left_today")
    return Loans(
        tuple(loan_from_json(x) for x in _items(body.get("loans"))),
        left if isinstance(left, int) else None,
    )


def slip_from_json(body: Mapping[str, object], session: Session) -> IssuedSlip:
    quincenas = body.get("quincenas")
    return IssuedSlip(
        reference=str(body["reference"]),
        amount=_dec(body["amount"]),
        loan_id=str(body.get("loan_id", "")),
        kind=str(body.get("kind", "")),
        concept=str(body.get("concept", "")),
        issued_on=date.fromisoformat(str(body["issued_on"])),
        member_number=str(body.get("member_number") or session.member_number),
        member_name=str(body.get("member_name") or session.member_name),
        quincenas=tuple(int(str(n)) for n in quincenas) if isinstance(quincenas, list) else (),
        replaced=str(body.get("replaced") or ""),
        warning=str(body["warning"]) if body.get("warning") else None,
    )


def history_from_json(body: Mapping[str, object]) -> tuple[LoanHistory, ...]:
    return tuple(
        LoanHistory(
            loan_id=str(loan["loan_id"]),
            payments=tuple(
                HistoryPayment(
                    paid_at=datetime.fromisoformat(str(p["paid_at"])),
                    place=str(p.get("place", "")),
                    amount=_dec(p["amount"]),
                    kind=str(p.get("kind", "")),
                    status=str(p.get("status", "")),
                )
                for p in _items(loan.get("payments"))
            ),
            slips_today=tuple(
                HistorySlip(
                    reference=str(r["reference"]),
                    amount=_dec(r["amount"]),
                    kind=str(r.get("kind", "")),
                    status=str(r.get("status", "")),
                )
                for r in _items(loan.get("slips_today"))
            ),
        )
        for loan in _items(body.get("loans"))
    )
