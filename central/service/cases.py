"""Cases: payments central refused after the cash was taken (rows of ``reconciliation``: paid
elsewhere, superseded while offline, held for review, a late void...), resolved by an
authorized person (SPEC 2.6):

* ``ABONO``: the money is applied to the ficha's loan as abono a capital;
* ``DEVOLUCION``: the affiliate is refunded at the store that took the money; the store's
  caja learns of it (GET /v1/refunds), prints a voucher for the affiliate to sign, takes the
  cash out of its drawer and reports it (POST /v1/refunds/{case_id}/paid);
* ``RECHAZO``: nothing is done with the money, for a stated reason.

Who, when and why are recorded, and each step is an event. The API, the admin command line
and the web console all call :func:`resolve_case`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from central.db import Database
from central.models import Payment, Reconciliation, ReferenceRow
from central.service import events
from central.service.common import ApiError, Outcome, TerminalPrincipal, iso, retrying
from central.service.loans import LOAN_ACTIVE, LOAN_SETTLED, load_loan
from central.service.reconciliation import (
    AUDIT_HEAD,
    CLOCK_BACKWARDS,
    LATE_PAYMENT,
    LATE_VOID,
    REFUSED_PAYMENT,
)
from kiosk import loans as loanlib
from kiosk.rules import Policy

APPLY_AS_PREPAYMENT = "ABONO"
REFUND = "DEVOLUCION"
REJECT = "RECHAZO"
ACTIONS = (APPLY_AS_PREPAYMENT, REFUND, REJECT)
# What each kind of case means, for people (the console, the admin command).
KIND_LABELS = {
    REFUSED_PAYMENT: "Cobro rechazado",
    LATE_PAYMENT: "Cobro tardío retenido",
    CLOCK_BACKWARDS: "Cobro con hora regresiva",
    LATE_VOID: "Cancelación tardía",
    AUDIT_HEAD: "Bitácora alterada",
}


def case_view(rec: Reconciliation, pay: Payment | None, policy: Policy) -> dict[str, Any]:
    """A case as the API, the console and the events show it; a case about a terminal rather
    than a payment (its audit chain, say) has no payment fields."""
    return {
        "case_id": rec.reconciliation_id,
        "kind": rec.kind,
        "payment_uuid": rec.payment_uuid,
        "reference": pay.reference if pay else None,
        "store_id": pay.store_id if pay else None,
        "terminal_id": pay.terminal_id if pay else rec.terminal_id,
        "amount": str(pay.amount) if pay else None,
        "cash": str(pay.cash) if pay else None,
        "card": str(pay.card) if pay else None,
        "paid_at": iso(pay.paid_at, policy) if pay else None,
        "cashier": pay.cashier if pay else None,
        "detail": rec.detail,
        "reason_code": rec.reason_code,
        "message": rec.message,
        "created_at": iso(rec.created_at, policy),
        "resolved": rec.resolved,
        "resolution": rec.resolution,
        "resolved_by": rec.resolved_by,
        "resolved_at": iso(rec.resolved_at, policy) if rec.resolved_at else None,
        "resolution_reason": rec.resolution_reason,
        "refund_paid_at": iso(rec.refund_paid_at, policy) if rec.refund_paid_at else None,
        "refund_paid_by": rec.refund_paid_by,
    }


def _apply_as_prepayment(s: Any, pay: Payment) -> str:
    loan_id = s.execute(
        select(ReferenceRow.loan_id).where(ReferenceRow.reference == pay.reference)
    ).scalar_one_or_none()
    loaded = load_loan(s, loan_id, lock=True) if loan_id else None
    if loaded is None:
        raise ApiError(
            422, "SIN_PRESTAMO", "La referencia de este cobro no tiene un préstamo al cual abonar."
        )
    row, loan = loaded
    if loanlib.is_settled(loan) or pay.amount > loanlib.outstanding_balance(loan):
        raise ApiError(
            422,
            "ABONO_EXCEDE_SALDO",
            "El importe excede el saldo del préstamo (o ya está liquidado): resuélvalo como "
            "devolución.",
        )
    row.prepayments = row.prepayments + pay.amount
    s.flush()
    after = load_loan(s, row.loan_id)
    assert after is not None
    row.status = LOAN_SETTLED if loanlib.is_settled(after[1]) else LOAN_ACTIVE
    return str(row.loan_id)


def resolve_case(
    db: Database,
    case_id: int,
    action: str,
    by: str,
    reason: str,
    now: datetime,
    policy: Policy,
) -> Outcome:
    """Resolve a case once; the same resolution again is a replay (200), another one a 409."""
    if action not in ACTIONS:
        raise ApiError(422, "ACCION_INVALIDA", f"La resolución es {', '.join(ACTIONS)}.")
    by, reason = by.strip(), reason.strip()
    if not by or len(by) > 100:
        raise ApiError(422, "FALTA_RESPONSABLE", "Indique quién resuelve (hasta 100 caracteres).")
    if not reason or len(reason) > 500:
        raise ApiError(422, "FALTA_MOTIVO", "Indique el motivo (hasta 500 caracteres).")

    def attempt() -> Outcome:
        with db.write() as s:
            rec = s.get(Reconciliation, case_id, with_for_update=True)
            if rec is None:
                raise ApiError(404, "CASO_NO_ENCONTRADO", f"No existe el caso {case_id}.")
            pay = s.get(Payment, rec.payment_uuid) if rec.payment_uuid else None
            if pay is None and action != REJECT:
                raise ApiError(
                    422,
                    "CASO_SIN_COBRO",
                    "Este caso no trae un cobro: solo se cierra como rechazo, con su motivo.",
                )
            if rec.resolution is not None:
                same = (rec.resolution, rec.resolved_by, rec.resolution_reason) == (
                    action, by, reason
                )  # fmt: skip
                if same:
                    return Outcome(200, case_view(rec, pay, policy), replayed=True)
                raise ApiError(
                    409,
                    "CASO_YA_RESUELTO",
                    f"El caso {case_id} ya se resolvió como {rec.resolution} por "
                    f"{rec.resolved_by}.",
                )
            data: dict[str, Any] = {}
            if action == APPLY_AS_PREPAYMENT and pay is not None:
                data["loan_id"] = _apply_as_prepayment(s, pay)
            rec.resolution, rec.resolved_by, rec.resolution_reason = action, by, reason
            rec.resolved_at, rec.resolved = now, True
            s.flush()
            view = case_view(rec, pay, policy)
            events.record(s, events.CASE_RESOLVED, {**view, **data}, now)
            return Outcome(201, view)

    return retrying(attempt)


def list_cases(db: Database, policy: Policy, *, open_only: bool = False) -> list[dict[str, Any]]:
    with db.read() as s:
        stmt = select(Reconciliation, Payment).outerjoin(
            Payment, Payment.payment_uuid == Reconciliation.payment_uuid
        )
        if open_only:
            stmt = stmt.where(Reconciliation.resolution.is_(None))
        rows = s.execute(stmt.order_by(Reconciliation.reconciliation_id)).all()
        return [case_view(rec, pay, policy) for rec, pay in rows]


def store_refunds(db: Database, store_id: str, policy: Policy) -> list[dict[str, Any]]:
    """The refunds decided for this store that it has not paid out yet."""
    with db.read() as s:
        rows = s.execute(
            select(Reconciliation, Payment)
            .join(Payment, Payment.payment_uuid == Reconciliation.payment_uuid)
            .where(
                Payment.store_id == store_id,
                Reconciliation.resolution == REFUND,
                Reconciliation.refund_paid_at.is_(None),
            )
            .order_by(Reconciliation.reconciliation_id)
        ).all()
        return [case_view(rec, pay, policy) for rec, pay in rows]


def refund_paid(
    db: Database,
    case_id: int,
    who: TerminalPrincipal,
    paid_at: datetime,
    paid_by: str,
    now: datetime,
    policy: Policy,
) -> Outcome:
    """The store paid the refund out of its drawer; a second report is a replay."""

    def attempt() -> Outcome:
        with db.write() as s:
            rec = s.get(Reconciliation, case_id, with_for_update=True)
            pay = s.get(Payment, rec.payment_uuid) if rec is not None and rec.payment_uuid else None
            if rec is None or pay is None:
                raise ApiError(404, "CASO_NO_ENCONTRADO", f"No existe el caso {case_id}.")
            if pay.store_id != who.store_id:
                raise ApiError(403, "TIENDA_AJENA", "Esa devolución es de otra tienda.")
            if rec.resolution != REFUND:
                raise ApiError(422, "NO_ES_DEVOLUCION", "Ese caso no se resolvió como devolución.")
            if rec.refund_paid_at is not None:
                return Outcome(200, case_view(rec, pay, policy), replayed=True)
            rec.refund_paid_at, rec.refund_paid_by = paid_at, paid_by
            s.flush()
            view = case_view(rec, pay, policy)
            events.record(s, events.REFUND_PAID, {**view, "terminal_id": who.terminal_id}, now)
            return Outcome(201, view)

    return retrying(attempt)
