"""Voiding a payment the same day: the referencia is payable again and the loan restored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from central.db import Database
from central.models import Closing, LoanRow, Payment, ReferenceClaim, ReferenceRow
from central.service import events
from central.service.common import (
    APPLIED,
    VOIDED,
    ApiError,
    Outcome,
    TerminalPrincipal,
    canonical_hash,
    iso,
    retrying,
)
from central.service.loans import _undo_loan_effect
from central.service.reconciliation import LATE_VOID, open_case
from kiosk import references as refs
from kiosk.rules import Policy


@dataclass(frozen=True)
class VoidRequest:
    store_id: str
    reason: str
    voided_at: datetime
    authorized_by: str = ""

    def canonical(self, terminal_id: int) -> dict[str, Any]:
        return {
            "terminal_id": terminal_id,
            "store_id": self.store_id,
            "reason": self.reason,
            "voided_at": self.voided_at.astimezone(UTC).isoformat(),
            "authorized_by": self.authorized_by,
        }


def _late_void(s: Session, payment: Payment, now: datetime, policy: Policy) -> str | None:
    """Why central's clock says it is too late to void ``payment`` (SPEC 2.5), or None."""
    day = policy.local(payment.paid_at).date()
    if policy.local(now).date() != day:
        return (
            f"La anulación llegó al instituto el {policy.local(now):%d/%m/%Y}, después del día "
            f"del pago ({day:%d/%m/%Y}): queda como caso para revisión."
        )
    closed = s.execute(
        select(Closing.closing_uuid).where(
            Closing.store_id == payment.store_id,
            Closing.kind == "DIA",
            Closing.business_date == day,
        )
    ).first()
    if closed is not None:
        return (
            "La anulación llegó después del cierre del día de la tienda: queda como caso "
            "para revisión."
        )
    return None


def void_payment(
    db: Database,
    key: str,
    req: VoidRequest,
    who: TerminalPrincipal,
    now: datetime,
    policy: Policy,
) -> Outcome:
    if req.store_id != who.store_id:
        raise ApiError(403, "TIENDA_AJENA", "Esta terminal solo puede anular pagos de su tienda.")
    digest = canonical_hash(req.canonical(who.terminal_id))

    def attempt() -> Outcome:
        with db.write() as s:
            payment = s.get(Payment, key, with_for_update=True)
            if payment is None:
                raise ApiError(404, "PAGO_NO_ENCONTRADO", "El instituto no tiene ese pago.")
            if payment.store_id != who.store_id:
                raise ApiError(403, "TIENDA_AJENA", "Ese pago es de otra tienda.")
            if payment.void_hash is not None:
                # Voided, or its late void became a case: the same request gets the same
                # answer.
                if payment.void_hash != digest or payment.void_body is None:
                    raise ApiError(
                        422,
                        "LLAVE_REUTILIZADA",
                        "Este pago ya se anuló con otros datos.",
                    )
                replayed = 200 if payment.status == VOIDED else 422
                return Outcome(replayed, payment.void_body, replayed=True)
            if payment.status != APPLIED:
                raise ApiError(
                    422, "PAGO_NO_APLICADO", "Ese pago fue rechazado: no hay nada que anular."
                )
            if policy.local(req.voided_at).date() != policy.local(payment.paid_at).date():
                raise ApiError(
                    422,
                    "ANULACION_FUERA_DE_PLAZO",
                    "Un pago solo puede anularse el mismo día en que se cobró.",
                )
            late = _late_void(s, payment, now, policy)
            if late is not None:
                case = open_case(
                    s,
                    kind=LATE_VOID,
                    code="ANULACION_EN_REVISION",
                    message=late,
                    now=now,
                    terminal_id=who.terminal_id,
                    payment_uuid=key,
                    detail={"void": req.canonical(who.terminal_id)},
                )
                payment.void_hash = digest
                payment.void_body = {
                    "code": "ANULACION_EN_REVISION",
                    "message": late + " El pago sigue aplicado y la referencia, pagada.",
                    "payment_uuid": key,
                    "reconciliation_id": case,
                }
                return Outcome(422, payment.void_body)
            loan_id = s.execute(
                select(ReferenceRow.loan_id).where(ReferenceRow.reference == payment.reference)
            ).scalar_one()
            if loan_id:
                s.execute(
                    select(LoanRow.loan_id).where(LoanRow.loan_id == loan_id).with_for_update()
                )
            ref = s.get(ReferenceRow, payment.reference, with_for_update=True)
            assert ref is not None
            s.execute(delete(ReferenceClaim).where(ReferenceClaim.reference == ref.reference))
            _undo_loan_effect(s, ref.loan_id, payment.effect or {})
            # Payable again, unless a newer ficha for the loan was issued since. Serials come
            # from the global feed counter, so a larger serial is a later ficha.
            newer = None
            if ref.loan_id:
                serial = func.substr(ReferenceRow.reference, 7, 10)
                newer = s.execute(
                    select(ReferenceRow.reference)
                    .where(ReferenceRow.loan_id == ref.loan_id, serial > ref.reference[6:16])
                    .order_by(serial.desc())
                    .limit(1)
                ).scalar_one_or_none()
            ref.status = refs.SUSTITUIDA if newer else refs.VIGENTE
            ref.replaced_by = newer
            ref.version += 1
            body = {
                "payment_uuid": key,
                "status": VOIDED,
                "reference": ref.reference,
                "reference_status": ref.status,
                "reason": req.reason,
                "voided_at": iso(req.voided_at, policy),
                "received_at": iso(now, policy),
                "store_id": who.store_id,
                "terminal_id": who.terminal_id,
            }
            payment.status = VOIDED
            payment.void_hash = digest
            payment.void_body = body
            ref.change_seq = None  # sequenced by the feed after commit
            s.flush()
            events.record(s, events.PAYMENT_VOIDED, body, now)
            return Outcome(201, body)

    return retrying(attempt)
