"""The self-service kiosk: member sessions (NIP, lockout, idle expiry), loans and fichas."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as lite_insert
from sqlalchemy.orm import Session

from central import security
from central.db import Database
from central.models import (
    KioskLoginWindow,
    KioskSession,
    LoanRow,
    LoginAttempts,
    Member,
    Payment,
    ReferenceRow,
    Store,
    Terminal,
)
from central.service.common import ApiError, SessionPrincipal, TerminalPrincipal, iso, retrying
from central.service.feed import reference_item
from central.service.loans import load_loan
from central.service.slips import issue_slip, issued_today, refuse_past_daily_limit
from kiosk import loans as loanlib
from kiosk import references as refs
from kiosk.rules import Policy, payable_today

MAX_NIP_FAILURES = 5
NIP_LOCKOUT = timedelta(minutes=15)  # the first lockout; each next one lasts twice as long
MAX_NIP_LOCKOUT = timedelta(hours=24)
SESSION_MAX_AGE = timedelta(minutes=30)


def _lockout(lockouts: int) -> timedelta:
    """How long the ``lockouts``-th lockout of a number lasts: doubling, up to a day."""
    return min(NIP_LOCKOUT * 2 ** (lockouts - 1), MAX_NIP_LOCKOUT)


def _locked_row(s: Session, model: type[Any], key: object, values: dict[str, Any]) -> Any:
    """The row of ``model`` with primary key ``key``, created if missing, locked until
    commit: concurrent attempts on it wait, so each is counted before the next is checked."""
    insert = (
        pg_insert if s.bind is not None and s.bind.dialect.name == "postgresql" else lite_insert
    )
    s.execute(insert(model).values(**values).on_conflict_do_nothing())
    return s.get(model, key, with_for_update=True, populate_existing=True)


def login(
    db: Database,
    who: TerminalPrincipal,
    number: str,
    nip: str,
    now: datetime,
    policy: Policy,
    idle: timedelta,
) -> dict[str, Any]:
    """An affiliate's session, or a refusal. The attempt is counted in the same transaction
    that checks the NIP, under the number's row lock (known numbers and unknown ones alike),
    and a kiosk's failed logins per minute are capped by the policy."""
    minute = now.replace(second=0, microsecond=0)

    def attempt() -> tuple[dict[str, Any] | None, ApiError | None]:
        with db.write() as s:
            window = _locked_row(
                s,
                KioskLoginWindow,
                who.terminal_id,
                {"terminal_id": who.terminal_id, "minute": minute, "failures": 0},
            )
            if window.minute != minute:
                window.minute, window.failures = minute, 0
            if window.failures >= policy.kiosk_login_failures_per_minute:
                return None, ApiError(
                    429,
                    "DEMASIADOS_INTENTOS",
                    "Demasiados intentos fallidos en este kiosko. Espere un minuto e intente "
                    "de nuevo.",
                )
            tries = _locked_row(
                s,
                LoginAttempts,
                number,
                {"member_number": number, "failures": 0, "lockouts": 0, "locked_until": None},
            )
            if tries.locked_until is not None and tries.locked_until > now:
                return None, ApiError(
                    423,
                    "AFILIADO_BLOQUEADO",
                    "Demasiados intentos con NIP incorrecto. Intente de nuevo después de las "
                    f"{policy.local(tries.locked_until):%H:%M}.",
                    locked_until=iso(tries.locked_until, policy),  # the kiosk says until when
                )
            member = s.get(Member, number)
            # The same work whether the number exists or not.
            right = security.verify_nip(member.nip_hash if member else _DUMMY_HASH, nip)
            if member is None or not right:
                window.failures += 1
                tries.failures += 1
                if tries.failures < MAX_NIP_FAILURES:
                    return None, ApiError(
                        401, "CREDENCIALES_INCORRECTAS", "Número de afiliado o NIP incorrecto."
                    )
                tries.failures = 0
                tries.lockouts += 1
                tries.locked_until = now + _lockout(tries.lockouts)
                return None, ApiError(
                    423,
                    "AFILIADO_BLOQUEADO",
                    "Demasiados intentos con NIP incorrecto: el acceso queda bloqueado hasta "
                    f"las {policy.local(tries.locked_until):%H:%M}.",
                    locked_until=iso(tries.locked_until, policy),
                )
            tries.failures = 0
            if security.nip_needs_rehash(member.nip_hash):
                # A hash from an older profile: its NIP is known right now, so store the
                # current profile's (one hash more, once per member).
                member.nip_hash = security.hash_nip(nip)
            token = security.new_token()
            s.add(
                KioskSession(
                    token_hash=security.token_hash(token),
                    member_number=number,
                    terminal_id=who.terminal_id,
                    created_at=now,
                    last_seen_at=now,
                    ended_at=None,
                )
            )
            return {
                "session_token": token,
                "expires_at": iso(now + idle, policy),
                "idle_timeout_seconds": int(idle.total_seconds()),
                "member": {"number": number, "name": member.name},
            }, None

    # The refusal is raised after its transaction committed: the failure must count.
    session, refusal = retrying(attempt)
    if refusal is not None:
        raise refusal
    assert session is not None
    return session


_DUMMY_HASH = security.hash_nip("0000")


def touch_session(
    db: Database, who: SessionPrincipal, now: datetime, idle: timedelta
) -> tuple[str, datetime]:
    """The session's member; extends its idle deadline, or ends it when it expired."""
    expired = False
    with db.write() as s:
        ks = s.get(KioskSession, who.token_hash, with_for_update=True)
        if ks is None or ks.ended_at is not None:
            raise ApiError(401, "SESION_TERMINADA", "La sesión terminó. Vuelva a identificarse.")
        terminal = s.get(Terminal, ks.terminal_id)
        if terminal is None or terminal.revoked_at is not None:
            raise ApiError(401, "TOKEN_REVOCADO", "El kiosko de esta sesión fue dado de baja.")
        if now - ks.last_seen_at > idle or now - ks.created_at > SESSION_MAX_AGE:
            ks.ended_at = now
            expired = True
        else:
            ks.last_seen_at = max(ks.last_seen_at, now)
        member = ks.member_number
    if expired:
        raise ApiError(401, "SESION_EXPIRADA", "La sesión expiró por inactividad.")
    return member, now + idle


def logout(db: Database, who: SessionPrincipal, now: datetime) -> None:
    with db.write() as s:
        ks = s.get(KioskSession, who.token_hash)
        if ks is not None and ks.ended_at is None:
            ks.ended_at = now


def _money_dict(item: loanlib.LoanInstallment) -> dict[str, Any]:
    return {
        "number": item.number,
        "due_date": item.due_date.isoformat(),
        "amount": str(item.amount),
        "principal": str(item.principal),
        "state": item.state,
    }


def _loan_ids(s: Session, member_number: str) -> Sequence[str]:
    return (
        s.execute(
            select(LoanRow.loan_id)
            .where(LoanRow.member_number == member_number)
            .order_by(LoanRow.loan_id)
        )
        .scalars()
        .all()
    )


def member_loans(db: Database, member_number: str, now: datetime, policy: Policy) -> dict[str, Any]:
    with db.read() as s:
        member = s.get(Member, member_number)
        assert member is not None
        loan_ids = _loan_ids(s, member_number)
        out = []
        for loan_id in loan_ids:
            loaded = load_loan(s, loan_id)
            assert loaded is not None
            row, loan = loaded
            opts = loanlib.payment_options(loan)
            current = s.execute(
                select(ReferenceRow)
                .where(ReferenceRow.loan_id == loan_id, ReferenceRow.status == refs.VIGENTE)
                .order_by(ReferenceRow.issued_at.desc())
                .limit(1)
            ).scalar_one_or_none()
            out.append(
                {
                    "loan_id": loan_id,
                    "kind": row.kind,
                    "status": row.status,
                    "principal": str(row.principal),
                    "annual_rate": str(row.annual_rate),
                    "installment": str(row.installment),
                    "prepayments": str(row.prepayments),
                    "outstanding_balance": str(opts.outstanding_balance),
                    "installments": [_money_dict(i) for i in loan.installments],
                    "options": {
                        "settled": opts.settled,
                        "pending": [_money_dict(i) for i in opts.pending],
                        "min_prepayment": str(opts.min_prepayment),
                        "max_prepayment": str(opts.max_prepayment),
                        "renewal_amount": str(opts.renewal_amount),
                        "payoff_amount": str(opts.payoff_amount),
                        "can_prepay": opts.can_prepay,
                        "can_pay_off": opts.can_pay_off,
                        "can_renew": opts.can_renew,
                    },
                    "current_reference": (
                        reference_item(current, member.name, policy) if current else None
                    ),
                }
            )
        # The review screen says how many fichas are left today before one is refused.
        left = policy.max_daily_slips - issued_today(s, member_number, policy.local(now).date())
        return {
            "member": {"number": member.number, "name": member.name},
            "loans": out,
            "slips_left_today": max(0, left),
        }


def kiosk_slip(
    db: Database,
    member_number: str,
    *,
    loan_id: str,
    kind: str,
    quincenas: Sequence[int] | None,
    amount: Decimal | None,
    now: datetime,
    policy: Policy,
) -> dict[str, Any]:
    def attempt() -> dict[str, Any]:
        with db.write() as s:
            refuse_past_daily_limit(s, member_number, policy.local(now).date(), policy)
            row, replaced = issue_slip(
                s,
                member_number=member_number,
                loan_id=loan_id,
                kind=kind,
                now=now,
                policy=policy,
                quincenas=quincenas,
                amount=amount,
            )
            member = s.get(Member, member_number)
            assert member is not None
            item = reference_item(row, member.name, policy)
        today = payable_today(now, policy)
        item["replaced"] = replaced
        item["replaced_message"] = (
            f"Esta ficha sustituye a la referencia {replaced}, que ya no podrá pagarse."
            if replaced
            else None
        )
        item["payable_today"] = today.payable
        item["warning"] = today.message
        return item

    return retrying(attempt)


HISTORY_PAYMENTS = 50  # the latest payments per loan; older ones are in the institute's portal


def kiosk_history(
    db: Database, member_number: str, policy: Policy, now: datetime
) -> dict[str, Any]:
    """Per loan, the payments made (date, store, amount, kind, status) and today's fichas."""
    today = policy.local(now).date()
    with db.read() as s:
        loan_ids = _loan_ids(s, member_number)
        out = []
        for loan_id in loan_ids:
            payments = s.execute(
                select(Payment, ReferenceRow.kind, Store.name)
                .join(ReferenceRow, ReferenceRow.reference == Payment.reference)
                .join(Store, Store.store_id == Payment.store_id)
                .where(ReferenceRow.loan_id == loan_id)
                .order_by(Payment.paid_at.desc())
                .limit(HISTORY_PAYMENTS)
            ).all()
            slips = (
                s.execute(
                    select(ReferenceRow)
                    .where(ReferenceRow.loan_id == loan_id, ReferenceRow.issued_on == today)
                    .order_by(ReferenceRow.issued_at)
                )
                .scalars()
                .all()
            )
            out.append(
                {
                    "loan_id": loan_id,
                    "payments": [
                        {
                            "paid_at": iso(p.paid_at, policy),
                            "place": store,
                            "amount": str(p.amount),
                            "kind": kind,
                            "status": p.status,
                        }
                        for p, kind, store in payments
                    ],
                    "slips_today": [
                        {
                            "reference": r.reference,
                            "amount": str(r.amount),
                            "kind": r.kind,
                            "status": r.status,
                        }
                        for r in slips
                    ],
                }
            )
    return {"loans": out}


def kiosk_profile(db: Database, member_number: str) -> dict[str, Any]:
    """What central knows of the affiliate for the simulator; null where it does not."""
    with db.read() as s:
        m = s.get(Member, member_number)
        assert m is not None
        return {
            "monthly_salary": None if m.monthly_salary is None else str(m.monthly_salary),
            "contribution_start": m.contribution_start.isoformat()
            if m.contribution_start
            else None,
            "sex": m.sex,
            "birth_date": m.birth_date.isoformat() if m.birth_date else None,
            "pensioner": m.pensioner,
            "has_debts": m.has_debts,
        }
