"""Members' loans: reading and adding them, and what a payment does to a loan and how a void
undoes it."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from central.models import InstallmentRow, LoanRow
from kiosk import loans as loanlib
from kiosk.money import ZERO

LOAN_ACTIVE = "ACTIVO"
LOAN_SETTLED = "LIQUIDADO"


def to_domain(loan: LoanRow, installments: Sequence[InstallmentRow]) -> loanlib.Loan:
    return loanlib.Loan(
        loan_id=loan.loan_id,
        kind=loan.kind,
        principal=loan.principal,
        annual_rate=loan.annual_rate,
        installment=loan.installment,
        installments=tuple(
            loanlib.LoanInstallment(i.number, i.due_date, i.amount, i.principal, i.state)
            for i in installments
        ),
        prepayments=loan.prepayments,
    )


def load_loan(s: Session, loan_id: str, lock: bool = False) -> tuple[LoanRow, loanlib.Loan] | None:
    stmt = (
        select(LoanRow).where(LoanRow.loan_id == loan_id).execution_options(populate_existing=True)
    )
    if lock:
        stmt = stmt.with_for_update()
    loan = s.execute(stmt).scalar_one_or_none()
    if loan is None:
        return None
    items = (
        s.execute(
            select(InstallmentRow)
            .where(InstallmentRow.loan_id == loan_id)
            .order_by(InstallmentRow.number)
        )
        .scalars()
        .all()
    )
    return loan, to_domain(loan, items)


def add_loan(s: Session, member_number: str, loan: loanlib.Loan) -> None:
    s.add(
        LoanRow(
            loan_id=loan.loan_id,
            member_number=member_number,
            kind=loan.kind,
            principal=loan.principal,
            annual_rate=loan.annual_rate,
            installment=loan.installment,
            prepayments=loan.prepayments,
            status=LOAN_SETTLED if loanlib.is_settled(loan) else LOAN_ACTIVE,
        )
    )
    s.flush()
    for item in loan.installments:
        s.add(installment_row(loan.loan_id, item, item.state))
    s.flush()


def installment_row(loan_id: str, item: loanlib.LoanInstallment, state: str) -> InstallmentRow:
    return InstallmentRow(
        loan_id=loan_id,
        number=item.number,
        due_date=item.due_date,
        amount=item.amount,
        principal=item.principal,
        state=state,
    )


def _refresh_loan_status(s: Session, loan_id: str) -> None:
    loaded = load_loan(s, loan_id)
    if loaded is not None:
        row, loan = loaded
        row.status = LOAN_SETTLED if loanlib.is_settled(loan) else LOAN_ACTIVE


def _loan_effect(ref: Row[Any], items: Sequence[Row[Any]]) -> tuple[dict[str, Any], loanlib.Loan]:
    """What paying ``ref`` does to its loan (kept so that a void can undo exactly it), and the
    loan as it stands afterwards."""
    effect: dict[str, Any] = {}
    prepayments = ref.prepayments
    chosen: set[int] = set()
    if ref.kind == "QUINCENAL":
        chosen = set(ref.quincenas or [])
        effect["installments"] = {
            str(i.number): i.state for i in items if i.number in chosen and i.state != loanlib.PAID
        }
    else:
        # Abono, renovación and liquidación all reduce the saldo insoluto as a prepayment.
        prepayments += ref.amount
        effect["prepayment"] = str(ref.amount)
    return effect, loan_of(ref, items, prepayments, chosen)


def loan_of(
    ref: Row[Any],
    items: Sequence[Row[Any]],
    prepayments: Decimal | None = None,
    paid: set[int] | frozenset[int] = frozenset(),
) -> loanlib.Loan:
    """The loan of a payment's referencia row, with ``prepayments`` and ``paid`` instead of
    what the rows say (the loan after a payment)."""
    return loanlib.Loan(
        loan_id=ref.loan_id,
        kind=ref.loan_kind,
        principal=ref.principal,
        annual_rate=ref.annual_rate,
        installment=ref.installment,
        installments=tuple(
            loanlib.LoanInstallment(
                i.number,
                i.due_date,
                i.amount,
                i.principal,
                loanlib.PAID if i.number in paid else i.state,
            )
            for i in items
        ),
        prepayments=ref.prepayments if prepayments is None else prepayments,
    )


def renewal_state(loan: loanlib.Loan) -> dict[str, Any]:
    """Whether the loan can be renewed now (SPEC 2.2: at least 50% effectively paid) and what
    is still needed for it."""
    if loanlib.is_settled(loan):
        return {"settled": True, "renewable": False, "renewal_amount": "0.00"}
    needed = loanlib.renewal_amount(loan)
    return {"settled": False, "renewable": needed == ZERO, "renewal_amount": str(needed)}


def _undo_loan_effect(s: Session, loan_id: str | None, effect: dict[str, Any]) -> None:
    if not loan_id:
        return
    loan = s.execute(
        select(LoanRow).where(LoanRow.loan_id == loan_id).with_for_update()
    ).scalar_one()
    for number, state in (effect.get("installments") or {}).items():
        item = s.get(InstallmentRow, (loan_id, int(number)))
        if item is not None:
            item.state = state
    if "prepayment" in effect:
        loan.prepayments = max(ZERO, loan.prepayments - Decimal(effect["prepayment"]))
    s.flush()
    _refresh_loan_status(s, loan_id)
