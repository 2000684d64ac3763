"""Voids (cancelaciones): same day, before the payment's shift closes, with a manager's PIN.

The referencia becomes payable again here, and the void is queued for central
(``POST /v1/payments/{uuid}/void``) behind the payment itself (the outbox is sent oldest
first).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from kiosk import audit
from kiosk.cashier import business_date
from kiosk.ports import (
    CONFIRMED,
    MANAGER,
    Clock,
    NewOutboxEntry,
    Payment,
    Refused,
    UnitOfWork,
    Void,
    system_clock,
)
from kiosk.references import ReferenceRecord
from kiosk.terminal_state import store_id
from kiosk.users import DEFAULT_HASHER, PinHasher, display_name, verify_pin

MIN_REASON = 5


def void_payload(void: Void, *, store_id: str, authorized_by: str) -> dict[str, Any]:
    """Central's ``VoidIn``, exactly: the body of ``POST /v1/payments/{uuid}/void`` (the
    payment is named by the path)."""
    return {
        "store_id": store_id,
        "reason": void.reason,
        "voided_at": void.at.isoformat(),
        "authorized_by": authorized_by,
    }


def void_payment(
    uow: UnitOfWork,
    payment_uuid: str,
    *,
    manager: str,
    manager_pin: str,
    reason: str,
    requested_by: int,
    hasher: PinHasher = DEFAULT_HASHER,
    clock: Clock = system_clock,
) -> Void:
    """Void a payment. A wrong manager PIN is refused but still counts towards the lockout."""
    now = clock()
    reason = " ".join(reason.split())
    if len(reason) < MIN_REASON:
        raise Refused("MOTIVO_REQUERIDO", "Escriba el motivo de la cancelación.")
    with uow:
        payment = uow.payments.get(payment_uuid)
        if payment is None:
            raise Refused("PAGO_DESCONOCIDO", "No existe ese pago en esta caja.")
        if uow.voids.for_payment(payment_uuid) is not None:
            raise Refused("YA_CANCELADO", f"El pago con folio {payment.folio} ya fue cancelado.")
        if payment.business_date != business_date(now):
            raise Refused(
                "FUERA_DE_PLAZO", "Solo se cancelan pagos del mismo día en que se cobraron."
            )
        shift = uow.shifts.get(payment.shift_id)
        if shift is None or not shift.is_open:
            raise Refused(
                "TURNO_CERRADO", "El turno de ese pago ya se cerró: ya no se puede cancelar."
            )
        if uow.users.get(requested_by) is None:
            raise Refused("USUARIO_DESCONOCIDO", "El usuario no está registrado en esta caja.")
        approver = verify_pin(
            uow, manager, manager_pin, hasher=hasher, clock=clock, required_role=MANAGER
        )
        void = Void(payment_uuid, reason, approver.id, requested_by, now, business_date(now))
        void = replace(void, id=uow.voids.add(void))
        uow.references.clear_paid(payment.reference, payment_uuid)
        uow.outbox.add(
            NewOutboxEntry(
                kind="void",
                method="POST",
                path=f"/v1/payments/{payment_uuid}/void",
                idempotency_key=f"void-{payment_uuid}",
                subject=payment_uuid,
                payload=void_payload(void, store_id=store_id(uow), authorized_by=approver.username),
                created_at=now,
            )
        )
        audit.record(
            uow,
            audit.VOID,
            approver.username,
            {
                "uuid": payment_uuid,
                "folio": payment.folio,
                "referencia": payment.reference,
                "importe": str(payment.amount),
                "motivo": reason,
                "solicito": requested_by,
            },
            now,
        )
        uow.commit()
    return void


@dataclass(frozen=True, slots=True)
class VoidFacts:
    """What the cancelación ticket says: the payment, the void, who asked and who authorized,
    the affiliate (from the cache) and whether central has the void yet."""

    store_name: str
    terminal_name: str
    payment: Payment
    void: Void
    requested_by: str  # names, as printed
    authorized_by: str
    cashier: str
    record: ReferenceRecord | None
    confirmed: bool


def void_facts(
    uow: UnitOfWork, payment_uuid: str, *, store_name: str, terminal_name: str
) -> VoidFacts:
    with uow.reading():
        payment = uow.payments.get(payment_uuid)
        void = uow.voids.for_payment(payment_uuid)
        if payment is None or void is None:
            raise Refused("SIN_CANCELACION", "Ese pago no tiene cancelación en esta caja.")
        return VoidFacts(
            store_name,
            terminal_name,
            payment,
            void,
            display_name(uow, void.requested_by),
            display_name(uow, void.manager_id),
            display_name(uow, payment.cashier_id),
            uow.references.get(payment.reference),
            uow.outbox.status_of("void", payment_uuid) == CONFIRMED,
        )
