"""What the cashier typed in the tender fields, checked as it is typed.

Pure: no Qt. The service checks everything again when the payment is recorded; this only
gives the cashier the answer before Enter (change, cash cap, card number typed by mistake).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, replace
from decimal import Decimal

from kiosk import money
from kiosk.cashier import CONFIRM_CHANGE_OVER, MAX_CHANGE
from kiosk.records import change_given
from kiosk.rules import Tender

ZERO = Decimal("0.00")
_AUTH = re.compile(r"[A-Za-z0-9]{1,12}")
_LOOKS_LIKE_CARD = re.compile(r"[0-9]{13,19}")


def looks_like_card_number(text: str) -> bool:
    """13 to 19 digits (spaces or dashes ignored): a PAN, which must never be stored."""
    return bool(_LOOKS_LIKE_CARD.fullmatch(re.sub(r"[\s-]", "", text)))


@dataclass(frozen=True, slots=True)
class TenderPlan:
    ready: bool  # Enter may confirm
    message: str  # what to tell the cashier (Spanish); "" when all is well
    tender: Tender | None = None
    cash_received: Decimal = ZERO
    change: Decimal = ZERO
    cash_due: Decimal = ZERO
    card_number_typed: bool = False
    confirm_change: bool = False  # change over CONFIRM_CHANGE_OVER: the cashier confirms it
    prompt: bool = False  # ``message`` asks for the first entry; nothing is wrong yet


def _amount(text: str, what: str) -> Decimal:
    if not text.strip():
        return ZERO
    try:
        return money.parse(text)
    except money.MoneyError as exc:
        raise ValueError(f"{what}: {exc}") from None


def plan(
    amount: Decimal, cash_text: str, card_text: str, auth_text: str, cash_cap: Decimal
) -> TenderPlan:
    """Turn the three fields into a Tender, or say what is missing or wrong (with nothing
    typed yet, what is missing is a ``prompt``, not a mistake)."""
    result = _plan(amount, cash_text, card_text, auth_text, cash_cap)
    if not (cash_text.strip() or card_text.strip() or auth_text.strip()):
        return replace(result, prompt=True)
    return result


def _plan(
    amount: Decimal, cash_text: str, card_text: str, auth_text: str, cash_cap: Decimal
) -> TenderPlan:
    try:
        received = _amount(cash_text, "Efectivo")
        card = _amount(card_text, "Tarjeta")
    except ValueError as exc:
        return TenderPlan(False, str(exc))
    if card > amount:
        return TenderPlan(
            False, f"Con tarjeta no puede cobrar más del importe ({money.fmt(amount)})."
        )
    cash_due = amount - card
    if cash_due > cash_cap:
        return TenderPlan(
            False,
            f"Tope de efectivo: {money.fmt(cash_cap)} por pago. Cobre al menos "
            f"{money.fmt(cash_due - cash_cap)} con tarjeta.",
            cash_due=cash_due,
        )
    auth = auth_text.strip()
    if auth and looks_like_card_number(auth):
        return TenderPlan(
            False,
            "Eso parece un número de tarjeta: NO lo escriba. Escriba solo el número de "
            "autorización del voucher.",
            cash_due=cash_due,
            card_number_typed=True,
        )
    if cash_due > 0 and received < cash_due:
        missing = cash_due - received
        text = (
            f"Falta efectivo: {money.fmt(missing)}."
            if received
            else f"Escriba el efectivo recibido (a cobrar en efectivo: {money.fmt(cash_due)})."
        )
        return TenderPlan(
            False,
            text,
            cash_received=received,
            cash_due=cash_due,
        )
    if received % money.SMALLEST_COIN:
        return TenderPlan(
            False,
            f"El efectivo se recibe en billetes y monedas: la moneda más chica es de "
            f"{money.fmt(money.SMALLEST_COIN)}.",
            cash_received=received,
            cash_due=cash_due,
        )
    if cash_due == 0 and received > 0:
        return TenderPlan(
            False, "Todo el importe va con tarjeta: deje el efectivo vacío.", cash_due=cash_due
        )
    if card > 0 and not auth:
        return TenderPlan(
            False,
            "Escriba la autorización del voucher de la terminal bancaria.",
            cash_received=received,
            change=received - cash_due,
            cash_due=cash_due,
        )
    if auth and not _AUTH.fullmatch(auth):
        return TenderPlan(
            False, "La autorización son hasta 12 letras o números.", cash_due=cash_due
        )
    if card == 0 and auth:
        return TenderPlan(
            False, "Hay autorización pero ningún importe con tarjeta.", cash_due=cash_due
        )
    change = change_given(received - cash_due) if cash_due > 0 else ZERO
    if change >= MAX_CHANGE:
        return TenderPlan(
            False,
            f"El cambio sería de {money.fmt(change)}: debe ser menor que "
            f"{money.fmt(MAX_CHANGE)}. Revise el efectivo recibido.",
            cash_received=received,
            cash_due=cash_due,
        )
    return TenderPlan(
        True,
        "",
        Tender(cash=cash_due, card=card),
        received if cash_due > 0 else ZERO,
        change,
        cash_due,
        confirm_change=change > CONFIRM_CHANGE_OVER,
    )


def exact_cash(amount: Decimal, card_text: str, cash_cap: Decimal) -> Decimal:
    """What F2 fills: the cash part in coins the drawer has, never more than the cash cap."""
    card = ZERO
    with contextlib.suppress(ValueError):
        card = _amount(card_text, "Tarjeta")
    due = max(amount - card, ZERO)
    return min(money.round_up_to_coin(due), cash_cap)


def rest_on_card(amount: Decimal, cash_text: str) -> Decimal:
    """What the "rest on card" key fills: the importe less the cash typed (all of it if the
    cash cannot be read)."""
    try:
        cash = _amount(cash_text, "Efectivo")
    except ValueError:
        cash = ZERO
    return max(amount - min(cash, amount), ZERO)
