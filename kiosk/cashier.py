"""Taking a payment: re-check the rules against the cache, then one durable transaction.

The payment row, the cache mark (``local_payment_uuid``), its outbox entry and its audit line
are written in the same transaction: after a crash either all of them are there or none.
"""

from __future__ import annotations

import re
import uuid as uuid_module
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from kiosk import audit, failpoints, money
from kiosk.ports import (
    MANAGER,
    MEXICO_CITY,
    Clock,
    NewOutboxEntry,
    Payment,
    ReceiptFacts,
    Refused,
    Reprint,
    Shift,
    UnitOfWork,
    system_clock,
)
from kiosk.records import change_given
from kiosk.references import InvalidReference
from kiosk.references import parse as parse_reference
from kiosk.rules import Policy, Tender, Verdict, check_payment, check_reference
from kiosk.terminal_state import current_state, load_policy
from kiosk.users import DEFAULT_HASHER, PinHasher, display_name, verify_pin

_AUTHORIZATION = re.compile(r"[A-Za-z0-9]{1,12}")


def business_date(now: datetime) -> date:
    return now.astimezone(MEXICO_CITY).date()


def payment_payload(p: Payment, *, store_id: str, cashier: str) -> dict[str, Any]:
    """Central's ``PaymentIn``, exactly: the body of ``POST /v1/payments`` (Idempotency-Key:
    the payment uuid), sent as written on every attempt.

    Only central's fields: it ignores any others and stores nothing of them, and its replay
    check hashes its own fields only. The uuid, folio, shift and card authorization stay in
    the local payment row (the entry's ``subject`` is the uuid).
    """
    return {
        "reference": p.reference,
        "store_id": store_id,
        "amount": str(p.amount),
        "cash": str(p.cash),
        "card": str(p.card),
        "paid_at": p.paid_at.isoformat(),
        "cashier": cashier,
        # The folio orders this caja's payments: central holds one whose time goes back.
        "folio": p.folio,
    }


def not_your_shift(uow: UnitOfWork, shift: Shift) -> Refused:
    """A shift belongs to its cashier (SPEC 2.4): nobody else takes payments in it."""
    return Refused(
        "TURNO_DE_OTRO",
        f"El turno abierto es de {display_name(uow, shift.cashier_id)}: solo esa persona cobra "
        "en él. Debe cerrarlo, o un gerente se lo entrega a usted.",
    )


def check(
    uow: UnitOfWork,
    text: str,
    *,
    clock: Clock = system_clock,
    policy: Policy | None = None,
    online: bool = True,
    clock_skew: timedelta | None = None,
) -> Verdict:
    """The scan step: rules 1–5 and 8 against the cache, before any money is counted."""
    now = clock()
    try:
        ref = parse_reference(text)
    except InvalidReference as exc:
        return Verdict(False, InvalidReference.code, str(exc))
    with uow.reading():
        record = uow.references.get(ref)
        pol = policy or load_policy(uow)
    return check_reference(record, now=now, policy=pol, online=online, clock_skew=clock_skew)


# Change must stay below the largest bill (SPEC 2.4): more is a mistake, such as a barcode
# scanned into the cash field. Above CONFIRM_CHANGE_OVER the cashier confirms the amount.
MAX_CHANGE = Decimal("1000.00")
CONFIRM_CHANGE_OVER = Decimal("500.00")


def _money_in(value: object, what: str) -> Decimal:
    try:
        return money.checked(value, what)
    except money.MoneyError as exc:
        raise Refused("IMPORTE_INVALIDO", str(exc)) from None


def _check_cash(tender: Tender, received: Decimal, *, confirm_large_change: bool) -> None:
    """Refuses cash the drawer cannot hold, or so much that the change gives a mistake away."""
    if received < tender.cash:
        raise Refused(
            "EFECTIVO_INSUFICIENTE",
            f"El efectivo recibido ({money.fmt(received)}) no cubre la parte en efectivo "
            f"({money.fmt(tender.cash)}).",
        )
    if received % money.SMALLEST_COIN:
        raise Refused(
            "EFECTIVO_INVALIDO",
            f"El efectivo recibido ({money.fmt(received)}) no se puede entregar en billetes y "
            f"monedas: la moneda más chica es de {money.fmt(money.SMALLEST_COIN)}.",
        )
    change = change_given(received - tender.cash)
    if change >= MAX_CHANGE:
        raise Refused(
            "CAMBIO_EXCESIVO",
            f"El cambio sería de {money.fmt(change)}: debe ser menor que "
            f"{money.fmt(MAX_CHANGE)}. Revise el efectivo recibido "
            "(¿se escaneó un código en ese campo?).",
        )
    if change > CONFIRM_CHANGE_OVER and not confirm_large_change:
        raise Refused(
            "CONFIRMAR_CAMBIO",
            f"El cambio es de {money.fmt(change)}: confirme que recibió "
            f"{money.fmt(received)} en efectivo.",
        )


def _check_authorization(tender: Tender, card_authorization: str) -> None:
    if tender.card > 0 and not card_authorization:
        raise Refused(
            "AUTORIZACION_REQUERIDA",
            "Escriba el número de autorización que imprimió la terminal bancaria.",
        )
    if card_authorization and not _AUTHORIZATION.fullmatch(card_authorization):
        raise Refused(
            "AUTORIZACION_INVALIDA",
            "La autorización son hasta 12 letras o números del voucher; "
            "nunca escriba el número de la tarjeta.",
        )
    if tender.card == 0 and card_authorization:
        raise Refused(
            "AUTORIZACION_INVALIDA", "Hay autorización bancaria pero ningún importe con tarjeta."
        )


def take_payment(
    uow: UnitOfWork,
    *,
    reference: str,
    tender: Tender,
    cashier_id: int,
    cash_received: Decimal | None = None,
    card_authorization: str = "",
    confirm_large_change: bool = False,
    clock: Clock = system_clock,
    policy: Policy | None = None,
    online: bool = True,
    clock_skew: timedelta | None = None,
) -> Payment:
    """Record a payment. Raises ``Refused`` (nothing written) when any rule says no.

    ``tender`` is what is applied to the importe by method (``cash`` excludes change);
    ``cash_received`` is what the affiliate handed over (default: the cash part rounded up to
    the smallest coin). Change of ``MAX_CHANGE`` or more is refused; over
    ``CONFIRM_CHANGE_OVER`` it needs ``confirm_large_change``. ``policy`` defaults to
    central's cached policy.
    """
    now = clock()
    try:
        ref = parse_reference(reference)
    except InvalidReference as exc:
        raise Refused(InvalidReference.code, str(exc)) from None
    tender = Tender(
        cash=_money_in(tender.cash, "El efectivo a aplicar"),
        card=_money_in(tender.card, "El importe con tarjeta"),
    )
    received = (
        money.round_up_to_coin(tender.cash)
        if cash_received is None
        else _money_in(cash_received, "El efectivo recibido")
    )
    day = business_date(now)
    with uow:
        if uow.day_closes.get(day) is not None:
            raise Refused(
                "DIA_CERRADO",
                "El día ya se cerró en esta caja (corte Z): no se reciben más pagos hoy.",
            )
        state = current_state(uow)
        store = state.store_id
        if not store:
            # Central refuses a body without its store: the money would be stuck in the queue.
            raise Refused(
                "CAJA_SIN_ALTA",
                "Esta caja aún no está dada de alta ante el instituto: no puede cobrar.",
            )
        shift = uow.shifts.open_shift()
        if shift is None:
            raise Refused("SIN_TURNO", "No hay turno abierto: un gerente debe abrir el turno.")
        cashier = uow.users.get(cashier_id)
        if cashier is None:
            raise Refused("USUARIO_DESCONOCIDO", "El cajero no está registrado en esta caja.")
        if shift.cashier_id != cashier_id:
            raise not_your_shift(uow, shift)
        record = uow.references.get(ref)
        pol = policy or state.policy
        if state.behind_central(now, pol):
            raise Refused(
                "RELOJ_ATRASADO",
                "El reloj de esta caja está atrasado respecto a la última hora vista del "
                "instituto: corrija la fecha y hora del equipo antes de cobrar.",
            )
        verdict = check_payment(
            record, tender=tender, now=now, policy=pol, online=online, clock_skew=clock_skew
        )
        if not verdict.ok or record is None:
            raise Refused(verdict.code, verdict.message)
        _check_cash(tender, received, confirm_large_change=confirm_large_change)
        _check_authorization(tender, card_authorization)
        payment = Payment(
            uuid=str(uuid_module.uuid4()),
            folio=uow.payments.next_folio(),
            reference=str(ref),
            amount=record.amount,
            cash=tender.cash,
            card=tender.card,
            card_authorization=card_authorization,
            cash_received=received,
            change=received - tender.cash,
            cashier_id=cashier_id,
            shift_id=shift.id,
            terminal_id=state.terminal_id,
            paid_at=now.astimezone(MEXICO_CITY),
            business_date=day,
        )
        uow.payments.add(payment)
        failpoints.hit("after_payment_insert")
        uow.outbox.add(
            NewOutboxEntry(
                kind="payment",
                method="POST",
                path="/v1/payments",
                idempotency_key=payment.uuid,
                subject=payment.uuid,
                payload=payment_payload(payment, store_id=store, cashier=cashier.username),
                created_at=now,
            )
        )
        failpoints.hit("after_outbox_insert")
        audit.record(
            uow,
            audit.PAYMENT,
            cashier.username,
            {
                "uuid": payment.uuid,
                "referencia": payment.reference,
                "folio": payment.folio,
                "importe": str(payment.amount),
                "efectivo": str(payment.cash),
                "tarjeta": str(payment.card),
            },
            now,
        )
        failpoints.hit("before_mark_cache")
        uow.references.mark_paid(payment.reference, payment.uuid)
        failpoints.hit("after_mark_cache")
        uow.commit()
    failpoints.hit("after_commit")
    return payment


@dataclass(frozen=True, slots=True)
class ReceiptInfo:
    payment: Payment
    confirmed: bool  # central has it (receipt says so) or it will be sent later
    voided: bool
    reprints: int


def receipt_info(uow: UnitOfWork, payment_uuid: str) -> ReceiptInfo:
    with uow.reading():
        payment = uow.payments.get(payment_uuid)
        if payment is None:
            raise Refused("PAGO_DESCONOCIDO", "No existe ese pago en esta caja.")
        status = uow.outbox.status_of("payment", payment_uuid)
        return ReceiptInfo(
            payment,
            status == "confirmado",
            uow.voids.for_payment(payment_uuid) is not None,
            uow.reprints.count_for(payment_uuid),
        )


def record_reprint(
    uow: UnitOfWork,
    payment_uuid: str,
    *,
    user_id: int,
    manager: str,
    manager_pin: str,
    hasher: PinHasher = DEFAULT_HASHER,
    clock: Clock = system_clock,
) -> int:
    """Log a reprint of a payment's receipt (the receipt says REIMPRESIÓN), approved with a
    manager's PIN wherever it is asked for (a reprint is a second proof of payment); returns
    how many times it has now been reprinted. A wrong PIN counts towards the lockout."""
    now = clock()
    with uow:
        payment = uow.payments.get(payment_uuid)
        if payment is None:
            raise Refused("PAGO_DESCONOCIDO", "No existe ese pago en esta caja.")
        user = uow.users.get(user_id)
        if user is None:
            raise Refused("USUARIO_DESCONOCIDO", "El usuario no está registrado en esta caja.")
        approver = verify_pin(
            uow, manager, manager_pin, hasher=hasher, clock=clock, required_role=MANAGER
        )
        uow.reprints.add(Reprint(payment_uuid, user_id, now, business_date(now)))
        count = uow.reprints.count_for(payment_uuid)
        audit.record(
            uow,
            audit.REPRINT,
            user.username,
            {
                "uuid": payment_uuid,
                "folio": payment.folio,
                "numero": count,
                "autorizo": approver.username,
            },
            now,
        )
        uow.commit()
    return count


def receipt_facts(
    uow: UnitOfWork, payment_uuid: str, *, store_name: str, terminal_name: str
) -> ReceiptFacts:
    """What a payment's receipt says, read in one transaction."""
    with uow.reading():
        info = receipt_info(uow, payment_uuid)
        p = info.payment
        record = uow.references.get(p.reference)
        person = uow.users.get(p.cashier_id)
        return ReceiptFacts(
            store_name=store_name,
            terminal_name=terminal_name,
            payment=p,
            record=record,
            cashier_name=person.name if person else str(p.cashier_id),
            confirmed_online=info.confirmed,
            reprints=info.reprints,
        )
