"""What the institute's systems send central (SPEC 3.8): affiliates with their email and phone,
loans with their installments and payroll state, and fichas for the portal and the phone
line; and what central tells them about a loan.

Upserts are versioned and idempotent: each carries the institute's ``version`` of the record.
A lower version than central's changes nothing (409 ``VERSION_ANTERIOR``); the same version
with the same content is a replay (200); the same version with other content is a conflict
(409 ``VERSION_REPETIDA``). Fichas take an Idempotency-Key, as payments do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from central import security
from central.db import Database
from central.models import InstallmentRow, LoanRow, Member, ReferenceRow
from central.service.common import ApiError, Outcome, canonical_hash, retrying
from central.service.feed import reference_item
from central.service.loans import (
    LOAN_ACTIVE,
    LOAN_SETTLED,
    add_loan,
    installment_row,
    load_loan,
    renewal_state,
)
from central.service.slips import issue_slip, refuse_past_daily_limit
from kiosk import loans as loanlib
from kiosk.rules import Policy, payable_today

CREATED = "CREADO"
UPDATED = "ACTUALIZADO"
UNCHANGED = "SIN_CAMBIOS"


def _check_version(
    kind: str, stored: int, stored_hash: str | None, version: int, fingerprint: str
) -> bool:
    """True when this is a replay of the stored version; raises when it must change nothing."""
    if version < stored:
        raise ApiError(
            409,
            "VERSION_ANTERIOR",
            f"Central ya tiene la versión {stored} de este {kind}: una versión anterior no la "
            "reemplaza.",
            current_version=stored,
        )
    if version == stored:
        if stored_hash == fingerprint:
            return True
        raise ApiError(
            409,
            "VERSION_REPETIDA",
            f"La versión {version} de este {kind} ya se recibió con otro contenido.",
            current_version=stored,
        )
    return False


@dataclass(frozen=True)
class MemberUpdate:
    version: int
    name: str
    email: str
    phone: str
    nip: str | None = None  # only to set the kiosk NIP; never part of the fingerprint

    def fingerprint(self) -> str:
        return canonical_hash([self.version, self.name, self.email, self.phone])


def put_member(db: Database, number: str, upd: MemberUpdate) -> Outcome:
    fingerprint = upd.fingerprint()

    def attempt() -> Outcome:
        with db.write() as s:
            member = s.get(Member, number, with_for_update=True)
            status = CREATED
            if member is None:
                # Without a NIP the affiliate cannot log in at the kiosk until one is set.
                member = Member(
                    number=number,
                    name=upd.name,
                    nip_hash=security.hash_nip(upd.nip) if upd.nip else "",
                    failed_attempts=0,
                )
                s.add(member)
            else:
                if _check_version(
                    "afiliado", member.version, member.sync_hash, upd.version, fingerprint
                ):
                    return Outcome(200, _member_body(member, UNCHANGED), replayed=True)
                status = UPDATED
                if upd.nip:
                    member.nip_hash = security.hash_nip(upd.nip)
            member.name, member.email, member.phone = upd.name, upd.email, upd.phone
            member.version, member.sync_hash = upd.version, fingerprint
            s.flush()
            return Outcome(201 if status == CREATED else 200, _member_body(member, status))

    return retrying(attempt)


def _member_body(member: Member, status: str) -> dict[str, Any]:
    return {
        "member_number": member.number,
        "status": status,
        "version": member.version,
        "name": member.name,
        "email": member.email,
        "phone": member.phone,
    }


def upsert_loan(
    s: Session,
    member_number: str,
    loan: loanlib.Loan,
    *,
    version: int | None = None,
    dependencia: str = "",
    fingerprint: str | None = None,
) -> str:
    """Create or update a loan with its installments and their payroll state; CREADO,
    ACTUALIZADO or SIN_CAMBIOS. The one upsert of loans, for the API and for imports
    (``version=None``: no version check, the stored version stays).

    Central's own knowledge is never lost to a stale copy: an installment central marked
    PAGADA (a payment at a pharmacy the institute may not have processed yet) stays PAGADA,
    and prepayments never go below what central has.
    """
    if s.get(Member, member_number) is None:
        raise ApiError(422, "AFILIADO_DESCONOCIDO", f"El afiliado {member_number} no existe.")
    row = s.get(LoanRow, loan.loan_id, with_for_update=True)
    if row is None:
        add_loan(s, member_number, loan)
        row = s.get(LoanRow, loan.loan_id)
        assert row is not None
        row.dependencia, row.version, row.sync_hash = dependencia, version or 0, fingerprint
        s.flush()
        return CREATED
    if row.member_number != member_number:
        raise ApiError(
            422, "PRESTAMO_DE_OTRO_AFILIADO", f"El préstamo {loan.loan_id} es de otro afiliado."
        )
    if version is not None and fingerprint is not None:
        if _check_version("préstamo", row.version, row.sync_hash, version, fingerprint):
            return UNCHANGED
        row.version, row.sync_hash = version, fingerprint
    existing = {
        i.number: i
        for i in s.execute(select(InstallmentRow).where(InstallmentRow.loan_id == loan.loan_id))
        .scalars()
        .all()
    }
    wanted = {i.number for i in loan.installments}
    gone = [n for n in existing if n not in wanted]
    if gone:
        s.execute(
            delete(InstallmentRow).where(
                InstallmentRow.loan_id == loan.loan_id, InstallmentRow.number.in_(gone)
            )
        )
    for item in loan.installments:
        current = existing.get(item.number)
        state = (
            loanlib.PAID if current is not None and current.state == loanlib.PAID else item.state
        )
        if current is None:
            s.add(installment_row(loan.loan_id, item, state))
        else:
            current.due_date, current.amount = item.due_date, item.amount
            current.principal, current.state = item.principal, state
    row.kind, row.principal, row.annual_rate = loan.kind, loan.principal, loan.annual_rate
    row.installment, row.dependencia = loan.installment, dependencia
    row.prepayments = max(row.prepayments, loan.prepayments)
    s.flush()
    loaded = load_loan(s, loan.loan_id)
    assert loaded is not None
    row.status = LOAN_SETTLED if loanlib.is_settled(loaded[1]) else LOAN_ACTIVE
    return UPDATED


@dataclass(frozen=True)
class LoanUpdate:
    version: int
    member_number: str
    kind: str
    principal: Decimal
    annual_rate: Decimal
    installment: Decimal
    prepayments: Decimal
    dependencia: str
    installments: Sequence[loanlib.LoanInstallment]

    def fingerprint(self) -> str:
        return canonical_hash(
            [
                self.version, self.member_number, self.kind, str(self.principal),
                str(self.annual_rate), str(self.installment), str(self.prepayments),
                self.dependencia,
                [[i.number, i.due_date.isoformat(), str(i.amount), str(i.principal), i.state]
                 for i in self.installments],
            ]
        )  # fmt: skip


def put_loan(db: Database, loan_id: str, upd: LoanUpdate, policy: Policy) -> Outcome:
    try:
        loan = loanlib.Loan(
            loan_id=loan_id,
            kind=upd.kind,
            principal=upd.principal,
            annual_rate=upd.annual_rate,
            installment=upd.installment,
            installments=tuple(upd.installments),
            prepayments=upd.prepayments,
        )
    except loanlib.LoanError as exc:
        raise ApiError(422, exc.code, exc.message) from None

    def attempt() -> Outcome:
        with db.write() as s:
            status = upsert_loan(
                s,
                upd.member_number,
                loan,
                version=upd.version,
                dependencia=upd.dependencia,
                fingerprint=upd.fingerprint(),
            )
        body = {**loan_state(db, loan_id, policy), "status": status}
        if status == CREATED:
            return Outcome(201, body)
        return Outcome(200, body, replayed=status == UNCHANGED)

    return retrying(attempt)


def loan_state(db: Database, loan_id: str, policy: Policy) -> dict[str, Any]:
    """GET /v1/loans/{loan_id}: the loan as central knows it now, and whether it can be
    renewed (SPEC 2.2: at least 50% effectively paid)."""
    with db.read() as s:
        loaded = load_loan(s, loan_id)
        if loaded is None:
            raise ApiError(404, "PRESTAMO_NO_ENCONTRADO", f"No existe el préstamo {loan_id}.")
        row, loan = loaded
        return {
            "loan_id": loan_id,
            "member_number": row.member_number,
            "kind": row.kind,
            "loan_status": row.status,
            "version": row.version,
            "dependencia": row.dependencia,
            "principal": str(row.principal),
            "annual_rate": str(row.annual_rate),
            "installment": str(row.installment),
            "prepayments": str(row.prepayments),
            "outstanding_balance": str(loanlib.outstanding_balance(loan)),
            "installments": [
                {
                    "number": i.number,
                    "due_date": i.due_date.isoformat(),
                    "amount": str(i.amount),
                    "principal": str(i.principal),
                    "state": i.state,
                }
                for i in loan.installments
            ],
            **renewal_state(loan),
        }


@dataclass(frozen=True)
class SlipRequest:
    member_number: str
    loan_id: str
    kind: str
    channel: str
    quincenas: Sequence[int] | None = None
    amount: Decimal | None = None

    def fingerprint(self) -> str:
        return canonical_hash(
            [self.member_number, self.loan_id, self.kind, self.channel,
             sorted(self.quincenas or []), str(self.amount)]
        )  # fmt: skip


def service_slip(
    db: Database, key: str, req: SlipRequest, now: datetime, policy: Policy
) -> Outcome:
    """POST /v1/slips: a ficha for the portal or the phone line, issued by the same code as the
    kiosk's (:func:`central.service.slips.issue_slip`); replayed for the same key."""
    fingerprint = req.fingerprint()

    def answer(s: Session, row: ReferenceRow, replaced: str | None) -> dict[str, Any]:
        member = s.get(Member, row.member_number)
        assert member is not None
        today = payable_today(now, policy)
        return {
            **reference_item(row, member.name, policy),
            "channel": row.channel,
            "replaced": replaced,
            "payable_today": today.payable,
            "warning": today.message,
        }

    def replay(s: Session) -> Outcome | None:
        row = s.execute(
            select(ReferenceRow).where(ReferenceRow.request_key == key)
        ).scalar_one_or_none()
        if row is None:
            return None
        if row.request_hash != fingerprint:
            raise ApiError(
                422,
                "LLAVE_REUTILIZADA",
                "Esta Idempotency-Key ya se usó con otro contenido; cada ficha lleva la suya.",
            )
        replaced = s.execute(
            select(ReferenceRow.reference).where(ReferenceRow.replaced_by == row.reference)
        ).scalar_one_or_none()
        return Outcome(200, answer(s, row, replaced), replayed=True)

    def attempt() -> Outcome:
        with db.write() as s:
            again = replay(s)
            if again is not None:
                return again
            # The affiliate's own request, as at the kiosk: the daily limit counts every channel.
            refuse_past_daily_limit(s, req.member_number, policy.local(now).date(), policy)
            row, replaced = issue_slip(
                s,
                member_number=req.member_number,
                loan_id=req.loan_id,
                kind=req.kind,
                now=now,
                policy=policy,
                quincenas=req.quincenas,
                amount=req.amount,
                channel=req.channel,
                request=(key, fingerprint),
            )
            return Outcome(201, answer(s, row, replaced))

    try:
        return retrying(attempt)
    except IntegrityError:
        # Two requests with one key at once: the loser's insert fails on the unique key.
        with db.read() as s:
            again = replay(s)
        if again is None:
            raise
        return again
