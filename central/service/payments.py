"""Payments: the rules, the Core path of record_payment, and batches of one request."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from central.db import Database
from central.models import (
    InstallmentRow,
    LoanRow,
    Member,
    Payment,
    ReferenceClaim,
    ReferenceRow,
)
from central.service import events
from central.service.common import (
    APPLIED,
    REFUSED,
    ApiError,
    Outcome,
    TerminalPrincipal,
    canonical_hash,
    iso,
    retrying,
)
from central.service.loans import LOAN_ACTIVE, LOAN_SETTLED, _loan_effect, loan_of, renewal_state
from central.service.reconciliation import (
    CLOCK_BACKWARDS,
    LATE_PAYMENT,
    REFUSED_PAYMENT,
    open_case,
)
from kiosk import loans as loanlib
from kiosk import references as refs
from kiosk.money import ZERO, fmt
from kiosk.rules import Policy, Tender, check_payment


@dataclass(frozen=True)
class PaymentRequest:
    reference: str
    store_id: str
    amount: Decimal
    cash: Decimal
    card: Decimal
    paid_at: datetime
    cashier: str = ""
    folio: int | None = None

    def canonical(self, terminal_id: int) -> dict[str, Any]:
        # The folio joins the fingerprint only when sent, so older bodies keep their hash.
        folio = {} if self.folio is None else {"folio": self.folio}
        return {
            **folio,
            "terminal_id": terminal_id,
            "reference": self.reference,
            "store_id": self.store_id,
            "amount": str(self.amount),
            "cash": str(self.cash),
            "card": str(self.card),
            "paid_at": self.paid_at.astimezone(UTC).isoformat(),
            "cashier": self.cashier,
        }


def payment_digest(req: PaymentRequest, who: TerminalPrincipal) -> str:
    """The request's fingerprint for Idempotency-Key checks; refuses another store's payment."""
    if req.store_id != who.store_id:
        raise ApiError(
            403, "TIENDA_AJENA", "Esta terminal solo puede registrar pagos de su propia tienda."
        )
    return canonical_hash(req.canonical(who.terminal_id))


class Retry(Exception):
    """The referencia changed under us between the rule check and the claim."""


def _replay(payment: Payment, request_hash: str) -> Outcome:
    if payment.request_hash != request_hash:
        raise ApiError(
            422,
            "LLAVE_REUTILIZADA",
            "Esta Idempotency-Key ya se usó con otro contenido; cada pago lleva su propio UUID.",
        )
    status = 200 if payment.response_code == 201 else payment.response_code
    return Outcome(status, payment.response_body, replayed=True)


def _payment_values(
    key: str, req: PaymentRequest, who: TerminalPrincipal, now: datetime, digest: str
) -> dict[str, Any]:
    return {
        "payment_uuid": key,
        "reference": req.reference,
        "store_id": who.store_id,
        "terminal_id": who.terminal_id,
        "amount": req.amount,
        "cash": req.cash,
        "card": req.card,
        "paid_at": req.paid_at,
        "received_at": now,
        "cashier": req.cashier,
        "folio": req.folio,
        "request_hash": digest,
        "effect": {},
        "status": REFUSED,
        "response_code": 0,
        "response_body": {},
    }


# The payment path runs on Core statements built once: it is the hot path of central, and the
# ORM's unit of work and per-call statement building cost more than the SQL itself.
_REF_COLUMNS = (
    ReferenceRow.reference,
    ReferenceRow.loan_id,
    ReferenceRow.member_number,
    ReferenceRow.kind,
    ReferenceRow.concept,
    ReferenceRow.amount,
    ReferenceRow.quincenas,
    ReferenceRow.issued_on,
    ReferenceRow.status,
    Member.name.label("member_name"),
)
# The referencia with its loan, the loan row locked: lock order everywhere is loan, then
# referencias, then the feed counter. Only the loan is locked, so a row read here may be stale
# in everything but the loan; the guarded UPDATE of the referencia and the claim catch that.
_REF_AND_LOCKED_LOAN = (
    select(
        *_REF_COLUMNS,
        LoanRow.kind.label("loan_kind"),
        LoanRow.principal,
        LoanRow.annual_rate,
        LoanRow.installment,
        LoanRow.prepayments,
        LoanRow.status.label("loan_status"),
    )
    .join(Member, Member.number == ReferenceRow.member_number)
    .join(LoanRow, LoanRow.loan_id == ReferenceRow.loan_id)
    .where(ReferenceRow.reference == bindparam("reference"))
    .with_for_update(of=LoanRow.__table__)
)
# SQLite ignores FOR UPDATE (BEGIN IMMEDIATE already gave this transaction the only write
# lock), so there one outer join reads a referencia with or without a loan; PostgreSQL cannot
# lock the nullable side of an outer join, so a referencia without a loan takes _REF_ALONE.
_REF_AND_LOAN_IF_ANY = (
    select(*_REF_AND_LOCKED_LOAN.selected_columns)
    .join(Member, Member.number == ReferenceRow.member_number)
    .outerjoin(LoanRow, LoanRow.loan_id == ReferenceRow.loan_id)
    .where(ReferenceRow.reference == bindparam("reference"))
)
# Unknown referencias and those without a loan.
_REF_ALONE = (
    select(*_REF_COLUMNS)
    .join(Member, Member.number == ReferenceRow.member_number)
    .where(ReferenceRow.reference == bindparam("reference"))
)
_INSTALLMENTS = (
    select(
        InstallmentRow.number,
        InstallmentRow.due_date,
        InstallmentRow.amount,
        InstallmentRow.principal,
        InstallmentRow.state,
    )
    .where(InstallmentRow.loan_id == bindparam("loan_id"))
    .order_by(InstallmentRow.number)
)
# The time of the payment a terminal took just before a given folio.
_PREVIOUS_PAID_AT = (
    select(Payment.paid_at)
    .where(Payment.terminal_id == bindparam("terminal"), Payment.folio < bindparam("folio"))
    .order_by(Payment.folio.desc())
    .limit(1)
)
_INSERT_PAYMENT = insert(Payment)
_INSERT_CLAIM = insert(ReferenceClaim)
_MARK_PAID = (
    update(ReferenceRow)
    .where(
        ReferenceRow.reference == bindparam("ref"),
        ReferenceRow.status.in_((refs.VIGENTE, refs.CADUCADA)),
    )
    .values(status=refs.PAGADA, version=ReferenceRow.version + 1, change_seq=None)
)
_PAY_INSTALLMENTS = (
    update(InstallmentRow)
    .where(
        InstallmentRow.loan_id == bindparam("loan"),
        InstallmentRow.number.in_(bindparam("numbers", expanding=True)),
    )
    .values(state=loanlib.PAID)
)
_SET_LOAN = (
    update(LoanRow)
    .where(LoanRow.loan_id == bindparam("loan"))
    .values(prepayments=bindparam("new_prepayments"), status=bindparam("new_status"))
)


def _refuse_payment(
    conn: Connection,
    values: dict[str, Any],
    status: int,
    code: str,
    message: str,
    kind: str = REFUSED_PAYMENT,
    **extra: Any,
) -> Outcome:
    """Keep the refused payment and put it on the reconciliation list: the money was taken."""
    conn.execute(_INSERT_PAYMENT, {**values, "status": REFUSED})
    rec_id = open_case(
        conn,
        kind=kind,
        code=code,
        message=message,
        now=values["received_at"],
        terminal_id=values["terminal_id"],
        payment_uuid=values["payment_uuid"],
        event=_case_data(values),
    )
    if kind != REFUSED_PAYMENT:  # held for review by central's clock, not refused by a rule
        events.record(
            conn,
            events.PAYMENT_HELD,
            {"payment_uuid": values["payment_uuid"], "case_id": rec_id, "reason_code": code,
             **_case_data(values)},  # fmt: skip
            values["received_at"],
        )
    body = {
        "code": code,
        "message": message,
        "payment_uuid": values["payment_uuid"],
        "reconciliation_id": rec_id,
        **extra,
    }
    conn.execute(
        update(Payment)
        .where(Payment.payment_uuid == values["payment_uuid"])
        .values(response_code=status, response_body=body)
    )
    return Outcome(status, body)


def _case_data(values: dict[str, Any]) -> dict[str, Any]:
    """What a case's event says of the payment it is about."""
    return {
        "reference": values["reference"],
        "store_id": values["store_id"],
        "amount": str(values["amount"]),
        "cash": str(values["cash"]),
        "card": str(values["card"]),
        "paid_at": values["paid_at"].isoformat(),
    }


@dataclass(frozen=True)
class Received:
    """Who sent a payment request and when central received it, with what follows from that,
    worked out once per request."""

    who: TerminalPrincipal
    now: datetime
    policy: Policy
    received_at: str  # ``now`` as the answers show it
    latest_paid_at: datetime  # later than this, the caja's clock is wrong

    @classmethod
    def at(cls, who: TerminalPrincipal, now: datetime, policy: Policy) -> Received:
        return cls(who, now, policy, iso(now, policy), now + policy.max_clock_skew)


@dataclass(frozen=True)
class _Batch:
    """What the payments of one request share: the request and a write connection."""

    rx: Received
    db: Database
    conn: Connection


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str
    kind: str = REFUSED_PAYMENT  # the case it opens on the reconciliation list


@dataclass
class Acceptance:
    """What applying a payment writes: the payment row (``values``, with the answer and the
    loan effect in it) and what changes in the loan."""

    values: dict[str, Any]
    body: dict[str, Any]
    reference: str
    loan_id: str | None
    paid_now: list[int]  # installments this payment marks paid
    loan_status: str | None  # the loan's new status, or None when the loan row is unchanged
    prepayments: Decimal
    event: dict[str, Any] = field(default_factory=dict)  # its PAGO_APLICADO event's row


def judge_payment(
    rx: Received,
    key: str,
    req: PaymentRequest,
    digest: str,
    ref: Any,
    installments: Callable[[str], Sequence[Any]],
    previous_paid_at: datetime | None = None,
) -> Refusal | Acceptance:
    """Whether ``ref`` (the referencia row with its loan; None if unknown) can take this
    payment, and what applying it writes. The Core path locked the loan before reading;
    :mod:`central.pgpay` writes only if the rows still carry the stamp it read. Both the Core path and the PostgreSQL path of
    :mod:`central.pgpay` decide through here, so the rules live in one place.

    ``previous_paid_at`` is the time of the payment this terminal took just before this one
    (the next lower folio), when central has it: a payment claiming to be earlier than that
    came from a clock turned back."""
    if ref is not None and ref.status == refs.PAGADA:
        raise Retry()  # the caller answers 409 naming the payment that holds the claim
    if req.paid_at > rx.latest_paid_at:
        return Refusal(
            422,
            "HORA_INVALIDA",
            "La hora del pago es posterior a la hora del instituto: revise el reloj de la caja.",
        )
    policy = rx.policy
    if req.paid_at < rx.now - policy.offline_window:
        hours = int(policy.offline_window.total_seconds() // 3600)
        return Refusal(
            422,
            "PAGO_EN_REVISION",
            f"El pago llegó al instituto más de {hours} horas después de su hora de cobro: "
            "queda en revisión y no se aplica hasta que una persona lo resuelva.",
            LATE_PAYMENT,
        )
    if previous_paid_at is not None and req.paid_at < previous_paid_at - policy.max_clock_skew:
        return Refusal(
            422,
            "HORA_REGRESIVA",
            "La hora de este pago es anterior a la de un pago previo de la misma caja: el "
            "reloj de la caja retrocedió. El pago queda en revisión.",
            CLOCK_BACKWARDS,
        )
    if req.amount != req.cash + req.card:
        return Refusal(
            422,
            "MONTO_INVALIDO",
            f"El importe {fmt(req.amount)} no es la suma de efectivo y tarjeta "
            f"({fmt(req.cash + req.card)}).",
        )
    record = None
    if ref is not None:
        # A ficha expires at central after its day; a payment taken on that day and sent
        # later (within the offline window, checked above) still applies to it.
        status = ref.status
        if status == refs.CADUCADA and policy.local(req.paid_at).date() == ref.issued_on:
            status = refs.VIGENTE
        record = refs.ReferenceRecord(
            reference=ref.reference, amount=ref.amount, issued_on=ref.issued_on, status=status
        )
    verdict = check_payment(
        record, tender=Tender(cash=req.cash, card=req.card), now=req.paid_at, policy=rx.policy
    )
    if not verdict.ok or ref is None:
        return Refusal(422, verdict.code, verdict.message)
    who = rx.who
    values = _payment_values(key, req, who, rx.now, digest)
    body = {
        "payment_uuid": key,
        "status": APPLIED,
        "reference": ref.reference,
        "amount": str(req.amount),
        "cash": str(req.cash),
        "card": str(req.card),
        "paid_at": iso(req.paid_at, rx.policy),
        "received_at": rx.received_at,
        "store_id": who.store_id,
        "terminal_id": who.terminal_id,
        "member_number": ref.member_number,
        "member_name": ref.member_name,
        "loan_id": ref.loan_id or "",
        "kind": ref.kind,
        "concept": ref.concept,
    }
    values.update(status=APPLIED, response_code=201, response_body=body)
    accepted = Acceptance(values, body, ref.reference, ref.loan_id, [], None, ZERO)
    if ref.loan_id:
        items = installments(ref.loan_id)
        values["effect"], after = _loan_effect(ref, items)
        accepted.paid_now = [int(n) for n in values["effect"].get("installments", {})]
        status = LOAN_SETTLED if loanlib.is_settled(after) else LOAN_ACTIVE
        if status != ref.loan_status or after.prepayments != ref.prepayments:
            accepted.loan_status, accepted.prepayments = status, after.prepayments
        # Renewal at once: the event says whether the loan can be renewed after this payment,
        # and whether this payment is the one that made it renewable.
        renewal = renewal_state(after)
        before = renewal_state(loan_of(ref, items))
        renewal["became_renewable"] = renewal["renewable"] and not before["renewable"]
        accepted.event = events.new_event(events.PAYMENT_APPLIED, {**body, **renewal}, rx.now)
    else:
        accepted.event = events.new_event(events.PAYMENT_APPLIED, body, rx.now)
    return accepted


def _try_apply(batch: _Batch, key: str, req: PaymentRequest, digest: str) -> Outcome:
    with batch.db.transaction(batch.conn) as conn:
        if conn.dialect.name == "sqlite":
            ref = conn.execute(_REF_AND_LOAN_IF_ANY, {"reference": req.reference}).first()
        else:
            ref = conn.execute(_REF_AND_LOCKED_LOAN, {"reference": req.reference}).first()
            if ref is None:
                ref = conn.execute(_REF_ALONE, {"reference": req.reference}).first()
        previous = None
        if req.folio is not None:
            previous = conn.execute(
                _PREVIOUS_PAID_AT, {"terminal": batch.rx.who.terminal_id, "folio": req.folio}
            ).scalar_one_or_none()
        decision = judge_payment(
            batch.rx,
            key,
            req,
            digest,
            ref,
            lambda loan_id: conn.execute(_INSTALLMENTS, {"loan_id": loan_id}).all(),
            previous,
        )
        if isinstance(decision, Refusal):
            values = _payment_values(key, req, batch.rx.who, batch.rx.now, digest)
            return _refuse_payment(
                conn, values, decision.status, decision.code, decision.message, decision.kind
            )
        conn.execute(_INSERT_PAYMENT, decision.values)
        # The claim's primary key is the at-most-once guarantee: a second payment of the same
        # referencia fails here, whatever worker or store it came from.
        conn.execute(_INSERT_CLAIM, {"reference": decision.reference, "payment_uuid": key})
        conn.execute(events.INSERT, decision.event)
        if conn.execute(_MARK_PAID, {"ref": decision.reference}).rowcount != 1:
            raise Retry()
        if decision.paid_now:
            conn.execute(
                _PAY_INSTALLMENTS, {"loan": decision.loan_id, "numbers": decision.paid_now}
            )
        if decision.loan_status is not None:
            conn.execute(
                _SET_LOAN,
                {
                    "loan": decision.loan_id,
                    "new_prepayments": decision.prepayments,
                    "new_status": decision.loan_status,
                },
            )
        return Outcome(201, decision.body)


def _conflict(
    db: Database,
    key: str,
    req: PaymentRequest,
    who: TerminalPrincipal,
    now: datetime,
    policy: Policy,
    digest: str,
) -> Outcome | None:
    """After a failed claim: a 409 naming the payment that holds the referencia."""
    with db.write() as s:
        existing = s.get(Payment, key)
        if existing is not None:
            return _replay(existing, digest)
        claim = s.get(ReferenceClaim, req.reference)
        if claim is None:
            return None  # voided meanwhile: try again
        first = s.get(Payment, claim.payment_uuid)
        assert first is not None
        message = (
            f"La referencia {req.reference} ya fue pagada en la farmacia {first.store_id} el "
            f"{policy.local(first.paid_at):%d/%m/%Y a las %H:%M} (pago {first.payment_uuid}). "
            "Este cobro queda en conciliación para su devolución."
        )
        return _refuse_payment(
            s.connection(),
            _payment_values(key, req, who, now, digest),
            409,
            refs.PAGADA,
            message,
            first_payment_uuid=first.payment_uuid,
            first_store_id=first.store_id,
            first_paid_at=iso(first.paid_at, policy),
        )


def _record(batch: _Batch, key: str, req: PaymentRequest) -> Outcome:
    rx = batch.rx
    digest = payment_digest(req, rx.who)
    # No read-before-write for a replay: inserting the same key fails on the primary key and
    # the conflict path answers with the stored response.
    for _ in range(5):
        try:
            return retrying(lambda: _try_apply(batch, key, req, digest))
        except (IntegrityError, Retry):
            pass
        outcome = retrying(lambda: _conflict(batch.db, key, req, rx.who, rx.now, rx.policy, digest))
        if outcome is not None:
            return outcome
    raise ApiError(503, "REINTENTE", "La referencia está cambiando; reintente el envío.")


@contextmanager
def payment_batch(
    db: Database, who: TerminalPrincipal, now: datetime, policy: Policy
) -> Iterator[Callable[[str, PaymentRequest], Outcome]]:
    """A function that records one payment like :func:`record_payment`, for the payments of
    one request: they share a write connection and ``now``, but each is still its own
    transaction under its own key, so one refused or failed payment leaves the others."""
    with db.writer() as conn:
        batch = _Batch(Received.at(who, now, policy), db, conn)
        yield lambda key, req: _record(batch, key, req)


def record_payment(
    db: Database,
    key: str,
    req: PaymentRequest,
    who: TerminalPrincipal,
    now: datetime,
    policy: Policy,
) -> Outcome:
    with payment_batch(db, who, now, policy) as record:
        return record(key, req)
