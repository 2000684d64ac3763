"""Refunds at the store: a payment central refused after the cash was taken becomes a case;
when the institute resolves it as a refund (DEVOLUCION), this store's manager hands the money
back. :func:`pay_refund` records it in one transaction: the cash leaves the drawer's expected
count, the rejected payment leaves the manager's alerts, the audit log says who did it, and an
outbox entry tells central (``POST /v1/refunds/{case_id}/paid``); the voucher the affiliate
signs is printed after, like a receipt."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from kiosk import audit, money, shifts
from kiosk.ports import REFUND, REJECTED, CashDrop, Clock, NewOutboxEntry, Refused, UnitOfWork


@dataclass(frozen=True, slots=True)
class Refund:
    """A refund the institute decided for this store (one item of ``GET /v1/refunds``)."""

    case_id: int
    payment_uuid: str
    reference: str
    amount: Decimal
    paid_at: datetime
    reason: str
    resolved_by: str

    @classmethod
    def from_central(cls, item: Mapping[str, Any]) -> Refund:
        """Central's JSON, checked: a malformed item is refused, never half-used."""
        try:
            return cls(
                case_id=int(item["case_id"]),
                payment_uuid=str(item["payment_uuid"]),
                reference=str(item["reference"]),
                amount=money.parse(str(item["amount"])),
                paid_at=datetime.fromisoformat(str(item["paid_at"])),
                reason=str(item.get("resolution_reason") or ""),
                resolved_by=str(item.get("resolved_by") or ""),
            )
        except (KeyError, TypeError, ValueError, money.MoneyError):
            raise Refused(
                "DEVOLUCION_ILEGIBLE", "El instituto envió una devolución que no se pudo leer."
            ) from None


@dataclass(frozen=True, slots=True)
class RefundFacts:
    """What the voucher the affiliate signs says."""

    store_name: str
    terminal_name: str
    refund: Refund
    manager: str  # who handed the cash back
    at: datetime


def still_due(uow: UnitOfWork, items: list[Mapping[str, Any]]) -> list[Refund]:
    """Central's list less what this caja already handed back and has yet to report."""
    due = [Refund.from_central(item) for item in items]
    with uow.reading():
        return [r for r in due if uow.outbox.latest_for("refund", r.payment_uuid) is None]


def pay_refund(uow: UnitOfWork, refund: Refund, *, user_id: int, clock: Clock) -> CashDrop:
    now = clock()
    with uow:
        if uow.outbox.latest_for("refund", refund.payment_uuid) is not None:
            raise Refused("DEVOLUCION_YA_ENTREGADA", "Esta devolución ya se entregó.")
        drop, user = shifts.take_out(uow, refund.amount, user_id, now, REFUND)
        rejected = uow.outbox.latest_for("payment", refund.payment_uuid)
        if rejected is not None and rejected.status == REJECTED:
            uow.outbox.mark_resolved(
                rejected.id, f"Devuelto al afiliado (caso {refund.case_id}).", now
            )
        uow.outbox.add(
            NewOutboxEntry(
                kind="refund",
                method="POST",
                path=f"/v1/refunds/{refund.case_id}/paid",
                idempotency_key=f"refund-{refund.case_id}",
                subject=refund.payment_uuid,
                payload={"paid_at": now.isoformat(), "paid_by": user.username},
                created_at=now,
            )
        )
        audit.record(
            uow,
            audit.REFUND,
            user.username,
            {"caso": refund.case_id, "pago": refund.payment_uuid, "importe": str(refund.amount)},
            now,
        )
        uow.commit()
    return drop
