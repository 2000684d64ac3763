"""Central's business operations, independent of HTTP: the FastAPI routes and the admin
command line both call these.

Every refusal is an :class:`ApiError` with an HTTP status, an uppercase Spanish ``code`` and a
Spanish ``message``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    Connection,
    Row,
    String,
    bindparam,
    delete,
    func,
    insert,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from central import security
from central.db import Database
from central.models import (
    Closing,
    Counter,
    InstallmentRow,
    KioskSession,
    LoanRow,
    Member,
    Payment,
    Reconciliation,
    ReferenceClaim,
    ReferenceRow,
    Store,
    Terminal,
)
from kiosk import loans as loanlib
from kiosk import references as refs
from kiosk.money import ZERO, fmt
from kiosk.rules import Policy, Tender, check_payment

Clock = Callable[[], datetime]

SLIP_KINDS = ("QUINCENAL", "ABONO", "RENOVACION", "LIQUIDACION")
TERMINAL_KINDS = ("caja", "kiosko")
APPLIED = "APLICADO"
VOIDED = "ANULADO"
REFUSED = "RECHAZADO"
LOAN_ACTIVE = "ACTIVO"
LOAN_SETTLED = "LIQUIDADO"

MAX_NIP_FAILURES = 5
NIP_LOCKOUT = timedelta(minutes=15)
SESSION_MAX_AGE = timedelta(minutes=30)

_CONCEPTS = {
    "QUINCENAL": "Pago quincenal",
    "ABONO": "Abono a capital",
    "RENOVACION": "Pago para renovación",
    "LIQUIDACION": "Liquidación",
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


@dataclass(frozen=True)
class Outcome:
    """An answer to a POST: status code, JSON body, and whether it is a stored replay."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


@dataclass(frozen=True)
class TerminalPrincipal:
    terminal_id: int
    store_id: str
    kind: str
    name: str


@dataclass(frozen=True)
class SessionPrincipal:
    token_hash: str


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime, policy: Policy) -> str:
    """ISO 8601 with the offset of the policy's zone (what a person there would read)."""
    return policy.local(moment).isoformat()


def canonical_hash(data: Any) -> str:
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


T = TypeVar("T")


def retrying(action: Callable[[], T], attempts: int = 5) -> T:
    """Retry a transaction a SQLite lock timeout or a PostgreSQL deadlock aborted."""
    for attempt in range(attempts):
        try:
            return action()
        except OperationalError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


# --- counters ------------------------------------------------------------------------------


def next_seq(s: Session) -> int:
    """The next delta-feed position (also a new referencia's serial). The counter row stays
    locked until commit, so positions become visible in order."""
    value = s.execute(
        update(Counter)
        .where(Counter.name == "feed")
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    ).scalar_one()
    return int(value)


# --- auth ----------------------------------------------------------------------------------


# Seconds a terminal token stays trusted without a database look-up (see TokenCache).
AUTH_CACHE_TTL = 5.0


class TokenCache:
    """Recently authenticated terminal tokens, so that a payment does not pay a database round
    trip to learn who sent it.

    Only good, unrevoked terminals are kept, keyed by the token's hash and for ``ttl`` seconds:
    a revocation takes effect within ``ttl`` on every worker (``ttl=0`` turns the cache off).
    Unknown and revoked tokens always go to the database.
    """

    MAX_ENTRIES = 10_000

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, TerminalPrincipal]] = {}

    def get(self, digest: str) -> TerminalPrincipal | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            self._entries.pop(digest, None)
            return None
        return entry[1]

    def put(self, digest: str, who: TerminalPrincipal) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()  # a bound, not a policy: terminals are few
        self._entries[digest] = (time.monotonic() + self.ttl, who)


def bearer_digest(authorization: str | None) -> str:
    """The hash of the bearer token in an Authorization header (401 when there is none)."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise ApiError(401, "NO_AUTENTICADO", "Falta el encabezado Authorization: Bearer <token>.")
    token = authorization[7:].strip()
    if not token:
        raise ApiError(401, "NO_AUTENTICADO", "El token está vacío.")
    return security.token_hash(token)


def authenticate(
    db: Database, authorization: str | None, cache: TokenCache | None = None
) -> TerminalPrincipal | SessionPrincipal:
    digest = bearer_digest(authorization)
    if cache is not None:
        known = cache.get(digest)
        if known is not None:
            return known
    with db.read() as s:
        terminal = s.execute(
            select(Terminal).where(Terminal.token_hash == digest)
        ).scalar_one_or_none()
        if terminal is not None:
            if terminal.revoked_at is not None:
                raise ApiError(401, "TOKEN_REVOCADO", "El token de esta terminal fue revocado.")
            who = TerminalPrincipal(
                terminal.terminal_id, terminal.store_id, terminal.kind, terminal.name
            )
            if cache is not None:
                cache.put(digest, who)
            return who
        if s.get(KioskSession, digest) is not None:
            return SessionPrincipal(digest)
    raise ApiError(401, "TOKEN_DESCONOCIDO", "Token desconocido.")


# --- referencias ---------------------------------------------------------------------------


def reference_item(row: ReferenceRow, member_name: str, policy: Policy) -> dict[str, Any]:
    return {
        "reference": row.reference,
        "amount": str(row.amount),
        "issued_on": row.issued_on.isoformat(),
        "issued_at": iso(row.issued_at, policy),
        "status": row.status,
        "member_number": row.member_number,
        "member_name": member_name,
        "loan_id": row.loan_id or "",
        "kind": row.kind,
        "concept": row.concept,
        "quincenas": list(row.quincenas or []),
        "version": row.version,
        "replaced_by": row.replaced_by,
    }


_ANY_UNSEQUENCED = select(ReferenceRow.reference).where(ReferenceRow.change_seq.is_(None)).limit(1)


def assign_pending(db: Database) -> int:
    """Give feed positions to referencias changed by committed payments and voids.

    Done under the feed counter's lock, after those transactions committed: a later commit
    can only get a later position, so a cursor never skips a change.
    """
    with db.reading() as conn:
        if conn.execute(_ANY_UNSEQUENCED).first() is None:
            return 0

    def attempt() -> int:
        with db.write() as s:
            start = s.execute(
                select(Counter.value).where(Counter.name == "feed").with_for_update()
            ).scalar_one()
            pending = (
                s.execute(
                    select(ReferenceRow.reference)
                    .where(ReferenceRow.change_seq.is_(None))
                    .order_by(ReferenceRow.reference)
                )
                .scalars()
                .all()
            )
            if not pending:
                return 0
            s.execute(
                update(ReferenceRow),
                [
                    {"reference": ref, "change_seq": start + i}
                    for i, ref in enumerate(pending, start=1)
                ],
            )
            s.execute(
                update(Counter).where(Counter.name == "feed").values(value=start + len(pending))
            )
            return len(pending)

    return retrying(attempt)


FEED_DEFAULT_PAGE = 500
FEED_MAX_PAGE = 1000

# The feed is the largest answer central gives (a new caja reads every referencia), so it is
# read with one Core statement and written as JSON text without the ORM or pydantic. Columns
# whose types would parse the database's value only for it to be formatted again come back
# raw: centavos as an integer; the date, the UTC time and the quincenas as SQLite's text or
# as PostgreSQL's date, datetime and list (the _wire_* helpers accept both).
_FEED = (
    select(
        ReferenceRow.reference,
        type_coerce(ReferenceRow.amount, BigInteger()),
        type_coerce(ReferenceRow.issued_on, String()),
        type_coerce(ReferenceRow.issued_at, String()),
        ReferenceRow.status,
        ReferenceRow.member_number,
        Member.name,
        ReferenceRow.loan_id,
        ReferenceRow.kind,
        ReferenceRow.concept,
        type_coerce(ReferenceRow.quincenas, String()),
        ReferenceRow.version,
        ReferenceRow.replaced_by,
        ReferenceRow.change_seq,
    )
    .join(Member, Member.number == ReferenceRow.member_number)
    .where(ReferenceRow.change_seq > bindparam("since"))
    .order_by(ReferenceRow.change_seq)
    .limit(bindparam("limit"))
)


def _wire_pesos(centavos: int) -> str:
    """Integer centavos as the API's money text ("540.00"), like ``str(from_centavos(c))``."""
    whole, cents = divmod(abs(centavos), 100)
    return f"{'-' if centavos < 0 else ''}{whole}.{cents:02d}"


def _wire_day(value: str | date) -> str:
    return value if isinstance(value, str) else value.isoformat()


def _wire_moment(value: str | datetime, tz: tzinfo) -> str:
    """A stored naive-UTC time as ISO 8601 in the policy's zone (what :func:`iso` gives)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC).astimezone(tz).isoformat()


def _wire_ints(value: str | list[int] | None) -> list[int]:
    if value is None or value == "[]":
        return []
    return list(json.loads(value) if isinstance(value, str) else value)


def feed_json(db: Database, since: int, limit: int, policy: Policy) -> bytes:
    """One page of the delta feed (``sc.FeedOut``) as JSON: the referencias whose change
    position is after ``since``, in that order, and the cursor to ask from next."""
    assign_pending(db)
    with db.reading() as conn:
        fetched = conn.execute(_FEED, {"since": since, "limit": limit + 1}).all()
    more = len(fetched) > limit
    rows = fetched[:limit]
    tz = policy.tz
    items = [
        {
            "reference": reference,
            "amount": _wire_pesos(amount),
            "issued_on": _wire_day(issued_on),
            "issued_at": _wire_moment(issued_at, tz),
            "status": status,
            "member_number": member_number,
            "member_name": member_name,
            "loan_id": loan_id or "",
            "kind": kind,
            "concept": concept,
            "quincenas": _wire_ints(quincenas),
            "version": version,
            "replaced_by": replaced_by,
        }
        for (
            reference,
            amount,
            issued_on,
            issued_at,
            status,
            member_number,
            member_name,
            loan_id,
            kind,
            concept,
            quincenas,
            version,
            replaced_by,
            _seq,
        ) in rows
    ]
    cursor = int(rows[-1][-1]) if rows else since
    page = {"items": items, "next_cursor": cursor, "has_more": more}
    return json.dumps(page, ensure_ascii=False, separators=(",", ":")).encode()


def get_reference(db: Database, text: str, policy: Policy) -> dict[str, Any]:
    try:
        ref = refs.parse(text)
    except refs.InvalidReference as exc:
        raise ApiError(422, exc.code, str(exc)) from None
    with db.read() as s:
        found = s.execute(
            select(ReferenceRow, Member.name)
            .join(Member, Member.number == ReferenceRow.member_number)
            .where(ReferenceRow.reference == str(ref))
        ).first()
    if found is None:
        raise ApiError(404, "NO_ENCONTRADA", "La referencia no existe en el sistema del instituto.")
    return reference_item(found[0], found[1], policy)


# --- loans ---------------------------------------------------------------------------------


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
        s.add(
            InstallmentRow(
                loan_id=loan.loan_id,
                number=item.number,
                due_date=item.due_date,
                amount=item.amount,
                principal=item.principal,
                state=item.state,
            )
        )
    s.flush()


def _refresh_loan_status(s: Session, loan_id: str) -> None:
    loaded = load_loan(s, loan_id)
    if loaded is not None:
        row, loan = loaded
        row.status = LOAN_SETTLED if loanlib.is_settled(loan) else LOAN_ACTIVE


def _apply_loan_effect(s: Session, ref: ReferenceRow) -> dict[str, Any]:
    """What a paid ficha does to its loan, returned so that a void can undo exactly it."""
    if not ref.loan_id:
        return {}
    effect: dict[str, Any] = {}
    if ref.kind == "QUINCENAL":
        numbers = list(ref.quincenas or [])
        rows = s.execute(
            select(InstallmentRow.number, InstallmentRow.state).where(
                InstallmentRow.loan_id == ref.loan_id,
                InstallmentRow.number.in_(numbers),
                InstallmentRow.state != loanlib.PAID,
            )
        ).all()
        prior = {str(number): state for number, state in rows}
        if prior:
            s.execute(
                update(InstallmentRow)
                .where(
                    InstallmentRow.loan_id == ref.loan_id,
                    InstallmentRow.number.in_([int(n) for n in prior]),
                )
                .values(state=loanlib.PAID)
            )
        effect["installments"] = prior
    else:
        # Abono, renovación and liquidación all reduce the saldo insoluto as a prepayment.
        s.execute(
            update(LoanRow)
            .where(LoanRow.loan_id == ref.loan_id)
            .values(prepayments=LoanRow.prepayments + ref.amount)
        )
        effect["prepayment"] = str(ref.amount)
    _refresh_loan_status(s, ref.loan_id)
    return effect


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


# --- slips (fichas) ------------------------------------------------------------------------


def _quincenas_text(numbers: Sequence[int]) -> str:
    ordered = sorted(numbers)
    if len(ordered) == 1:
        return f"quincena {ordered[0]}"
    return "quincenas " + ", ".join(str(n) for n in ordered[:-1]) + f" y {ordered[-1]}"


def issue_slip(
    s: Session,
    *,
    member_number: str,
    loan_id: str,
    kind: str,
    now: datetime,
    policy: Policy,
    quincenas: Sequence[int] | None = None,
    amount: Decimal | None = None,
) -> tuple[ReferenceRow, str | None]:
    """Issue a ficha dated today; the loan's previous VIGENTE ficha becomes SUSTITUIDA.

    Returns the new referencia's row and the replaced referencia (or None).
    """
    if kind not in SLIP_KINDS:
        raise ApiError(422, "TIPO_DE_PAGO_INVALIDO", "Tipo de pago desconocido.")
    loaded = load_loan(s, loan_id, lock=True)
    if loaded is None or loaded[0].member_number != member_number:
        raise ApiError(404, "PRESTAMO_NO_ENCONTRADO", "No se encontró ese préstamo del afiliado.")
    _, loan = loaded
    chosen: list[int] = []
    try:
        if kind == "QUINCENAL":
            chosen = sorted(quincenas or [])
            total = loanlib.installment_payment(loan, chosen)
            concept = f"{_CONCEPTS[kind]}, {_quincenas_text(chosen)}, préstamo {loan_id}"
        elif kind == "ABONO":
            if amount is None:
                raise ApiError(422, "FALTA_IMPORTE", "Escriba el importe del abono a capital.")
            total = loanlib.prepayment(loan, amount)
            concept = f"{_CONCEPTS[kind]}, préstamo {loan_id}"
        elif kind == "RENOVACION":
            total = loanlib.renewal_amount(loan)
            if total == 0:
                raise ApiError(
                    422,
                    "RENOVACION_SIN_PAGO",
                    "Su préstamo ya está pagado al 50%: puede renovarlo sin hacer un pago.",
                )
            concept = f"{_CONCEPTS[kind]}, préstamo {loan_id}"
        else:
            total = loanlib.payoff_amount(loan)
            if total == 0:
                raise ApiError(
                    422,
                    "SIN_SALDO_POR_LIQUIDAR",
                    "No queda saldo por liquidar: las quincenas restantes ya están en nómina.",
                )
            concept = f"{_CONCEPTS[kind]}, préstamo {loan_id}"
    except loanlib.LoanError as exc:
        raise ApiError(422, exc.code, exc.message) from None
    today = policy.local(now).date()
    serial = next_seq(s)
    old_rows = (
        s.execute(
            select(ReferenceRow)
            .where(ReferenceRow.loan_id == loan_id, ReferenceRow.status == refs.VIGENTE)
            .with_for_update()
        )
        .scalars()
        .all()
    )
    reference = str(refs.issue(today, serial))
    replaced: str | None = None
    for old in old_rows:
        old.status = refs.SUSTITUIDA
        old.replaced_by = reference
        old.version += 1
        old.change_seq = next_seq(s)
        replaced = old.reference
    s.flush()
    row = ReferenceRow(
        reference=reference,
        loan_id=loan_id,
        member_number=member_number,
        kind=kind,
        concept=concept,
        amount=total,
        quincenas=chosen,
        issued_on=today,
        issued_at=now,
        status=refs.VIGENTE,
        replaced_by=None,
        version=1,
        change_seq=next_seq(s),
    )
    s.add(row)
    s.flush()
    return row, replaced


def slip_warning(now: datetime, policy: Policy) -> tuple[bool, str | None]:
    """Whether a ficha issued now can still be paid today, and a warning when it cannot."""
    if not policy.is_business_day(policy.local(now).date()):
        return False, (
            "Hoy no es día hábil: esta ficha no podrá pagarse, porque solo vale el día en "
            "que se genera."
        )
    left = policy.closes_in(now)
    if left is None:
        return False, (
            f"Fuera de horario de cobro ({policy.window_start:%H:%M} a "
            f"{policy.window_end:%H:%M}): esta ficha solo vale hoy y ya no podrá pagarse."
        )
    if left < timedelta(minutes=30):
        minutes = int(left.total_seconds() // 60)
        return True, (
            f"Faltan {minutes} minutos para el cierre de cobro de hoy: esta ficha solo vale hoy."
        )
    return True, None


# --- payments ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRequest:
    reference: str
    store_id: str
    amount: Decimal
    cash: Decimal
    card: Decimal
    paid_at: datetime
    cashier: str = ""

    def canonical(self, terminal_id: int) -> dict[str, Any]:
        return {
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
_INSERT_PAYMENT = insert(Payment)
_INSERT_CLAIM = insert(ReferenceClaim)
_MARK_PAID = (
    update(ReferenceRow)
    .where(
        ReferenceRow.reference == bindparam("ref"),
        ReferenceRow.status == refs.VIGENTE,
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
    conn: Connection, values: dict[str, Any], status: int, code: str, message: str, **extra: Any
) -> Outcome:
    """Keep the refused payment and put it on the reconciliation list: the money was taken."""
    conn.execute(_INSERT_PAYMENT, {**values, "status": REFUSED})
    rec_id = conn.execute(
        insert(Reconciliation)
        .values(
            payment_uuid=values["payment_uuid"],
            reason_code=code,
            message=message,
            created_at=values["received_at"],
            resolved=False,
        )
        .returning(Reconciliation.reconciliation_id)
    ).scalar_one()
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
    after = loanlib.Loan(
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
                loanlib.PAID if i.number in chosen else i.state,
            )
            for i in items
        ),
        prepayments=prepayments,
    )
    return effect, after


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


def judge_payment(
    rx: Received,
    key: str,
    req: PaymentRequest,
    digest: str,
    ref: Any,
    installments: Callable[[str], Sequence[Any]],
) -> Refusal | Acceptance:
    """Whether ``ref`` (the referencia row with its loan; None if unknown) can take this
    payment, and what applying it writes. The Core path locked the loan before reading;
    :mod:`central.pgpay` writes only if the rows still carry the stamp it read. Both the Core path and the PostgreSQL path of
    :mod:`central.pgpay` decide through here, so the rules live in one place."""
    if ref is not None and ref.status == refs.PAGADA:
        raise Retry()  # the caller answers 409 naming the payment that holds the claim
    if req.paid_at > rx.latest_paid_at:
        return Refusal(
            422,
            "HORA_INVALIDA",
            "La hora del pago es posterior a la hora del instituto: revise el reloj de la caja.",
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
        record = refs.ReferenceRecord(
            reference=ref.reference, amount=ref.amount, issued_on=ref.issued_on, status=ref.status
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
        values["effect"], after = _loan_effect(ref, installments(ref.loan_id))
        accepted.paid_now = [int(n) for n in values["effect"].get("installments", {})]
        status = LOAN_SETTLED if loanlib.is_settled(after) else LOAN_ACTIVE
        if status != ref.loan_status or after.prepayments != ref.prepayments:
            accepted.loan_status, accepted.prepayments = status, after.prepayments
    return accepted


def _try_apply(batch: _Batch, key: str, req: PaymentRequest, digest: str) -> Outcome:
    with batch.db.transaction(batch.conn) as conn:
        if conn.dialect.name == "sqlite":
            ref = conn.execute(_REF_AND_LOAN_IF_ANY, {"reference": req.reference}).first()
        else:
            ref = conn.execute(_REF_AND_LOCKED_LOAN, {"reference": req.reference}).first()
            if ref is None:
                ref = conn.execute(_REF_ALONE, {"reference": req.reference}).first()
        decision = judge_payment(
            batch.rx,
            key,
            req,
            digest,
            ref,
            lambda loan_id: conn.execute(_INSTALLMENTS, {"loan_id": loan_id}).all(),
        )
        if isinstance(decision, Refusal):
            values = _payment_values(key, req, batch.rx.who, batch.rx.now, digest)
            return _refuse_payment(conn, values, decision.status, decision.code, decision.message)
        conn.execute(_INSERT_PAYMENT, decision.values)
        # The claim's primary key is the at-most-once guarantee: a second payment of the same
        # referencia fails here, whatever worker or store it came from.
        conn.execute(_INSERT_CLAIM, {"reference": decision.reference, "payment_uuid": key})
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


# --- voids ---------------------------------------------------------------------------------


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
            if payment.status == VOIDED:
                if payment.void_hash != digest or payment.void_body is None:
                    raise ApiError(
                        422,
                        "LLAVE_REUTILIZADA",
                        "Este pago ya se anuló con otros datos.",
                    )
                return Outcome(200, payment.void_body, replayed=True)
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
            return Outcome(201, body)

    return retrying(attempt)


# --- closings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClosingRequest:
    closing_uuid: str
    store_id: str
    kind: str
    business_date: date
    closed_at: datetime
    report: dict[str, Any] = field(default_factory=dict)

    def canonical(self, terminal_id: int) -> dict[str, Any]:
        return {
            "terminal_id": terminal_id,
            "closing_uuid": self.closing_uuid,
            "store_id": self.store_id,
            "kind": self.kind,
            "business_date": self.business_date.isoformat(),
            "closed_at": self.closed_at.astimezone(UTC).isoformat(),
            "report": self.report,
        }


def record_closing(
    db: Database, req: ClosingRequest, who: TerminalPrincipal, now: datetime, policy: Policy
) -> Outcome:
    if req.store_id != who.store_id:
        raise ApiError(403, "TIENDA_AJENA", "Esta terminal solo puede enviar cortes de su tienda.")
    digest = canonical_hash(req.canonical(who.terminal_id))

    def body(c: Closing) -> dict[str, Any]:
        return {
            "closing_uuid": c.closing_uuid,
            "status": "RECIBIDO",
            "store_id": c.store_id,
            "terminal_id": c.terminal_id,
            "kind": c.kind,
            "business_date": c.business_date.isoformat(),
            "closed_at": iso(c.closed_at, policy),
            "received_at": iso(c.received_at, policy),
        }

    def replay(c: Closing) -> Outcome:
        if c.request_hash != digest:
            raise ApiError(
                422, "LLAVE_REUTILIZADA", "Este UUID de corte ya se usó con otro contenido."
            )
        return Outcome(200, body(c), replayed=True)

    with db.read() as s:
        existing = s.get(Closing, req.closing_uuid)
        if existing is not None:
            return replay(existing)
    try:
        with db.write() as s:
            closing = Closing(
                closing_uuid=req.closing_uuid,
                store_id=who.store_id,
                terminal_id=who.terminal_id,
                kind=req.kind,
                business_date=req.business_date,
                closed_at=req.closed_at,
                received_at=now,
                request_hash=digest,
                report=req.report,
            )
            s.add(closing)
            s.flush()
            return Outcome(201, body(closing))
    except IntegrityError:
        with db.read() as s:
            again = s.get(Closing, req.closing_uuid)
            assert again is not None
            return replay(again)


# --- kiosk sessions ------------------------------------------------------------------------


def login(
    db: Database,
    who: TerminalPrincipal,
    number: str,
    nip: str,
    now: datetime,
    policy: Policy,
    idle: timedelta,
) -> dict[str, Any]:
    with db.read() as s:
        member = s.get(Member, number)
        nip_hash = member.nip_hash if member else None
        locked_until = member.locked_until if member else None
    wrong = ApiError(401, "CREDENCIALES_INCORRECTAS", "Número de afiliado o NIP incorrecto.")
    if nip_hash is None:
        security.verify_nip(_DUMMY_HASH, nip)  # same time as a real check
        raise wrong
    if locked_until is not None and locked_until > now:
        raise ApiError(
            423,
            "AFILIADO_BLOQUEADO",
            "Demasiados intentos con NIP incorrecto. Intente de nuevo después de las "
            f"{policy.local(locked_until):%H:%M}.",
        )
    if not security.verify_nip(nip_hash, nip):
        with db.write() as s:
            m = s.get(Member, number, with_for_update=True)
            assert m is not None
            m.failed_attempts += 1
            left = MAX_NIP_FAILURES - m.failed_attempts
            if left <= 0:
                m.failed_attempts = 0
                m.locked_until = now + NIP_LOCKOUT
        if left <= 0:
            raise ApiError(
                423,
                "AFILIADO_BLOQUEADO",
                "Demasiados intentos con NIP incorrecto: el acceso queda bloqueado "
                f"{int(NIP_LOCKOUT.total_seconds() // 60)} minutos.",
            )
        raise ApiError(
            401,
            "CREDENCIALES_INCORRECTAS",
            f"Número de afiliado o NIP incorrecto. Le quedan {left} intentos.",
            attempts_left=left,
        )
    token = security.new_token()
    with db.write() as s:
        m = s.get(Member, number)
        assert m is not None
        m.failed_attempts = 0
        m.locked_until = None
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
        name = m.name
    return {
        "session_token": token,
        "expires_at": iso(now + idle, policy),
        "idle_timeout_seconds": int(idle.total_seconds()),
        "member": {"number": number, "name": name},
    }


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


def member_loans(db: Database, member_number: str, policy: Policy) -> dict[str, Any]:
    with db.read() as s:
        member = s.get(Member, member_number)
        assert member is not None
        loan_ids = (
            s.execute(
                select(LoanRow.loan_id)
                .where(LoanRow.member_number == member_number)
                .order_by(LoanRow.loan_id)
            )
            .scalars()
            .all()
        )
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
        return {"member": {"number": member.number, "name": member.name}, "loans": out}


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
        payable, warning = slip_warning(now, policy)
        item["replaced"] = replaced
        item["replaced_message"] = (
            f"Esta ficha sustituye a la referencia {replaced}, que ya no podrá pagarse."
            if replaced
            else None
        )
        item["payable_today"] = payable
        item["warning"] = warning
        return item

    return retrying(attempt)


# --- admin ---------------------------------------------------------------------------------


def ensure_store(s: Session, store_id: str, name: str | None = None) -> Store:
    store = s.get(Store, store_id)
    if store is None:
        store = Store(store_id=store_id, name=name or f"Farmacia ISSEG {store_id}")
        s.add(store)
        s.flush()
    elif name:
        store.name = name
    return store


def enroll_terminal(
    s: Session, store_id: str, name: str, kind: str, now: datetime, store_name: str | None = None
) -> tuple[Terminal, str]:
    """A new terminal (or a fresh token for an existing one); the token is returned once."""
    if kind not in TERMINAL_KINDS:
        raise ApiError(422, "TIPO_TERMINAL_INVALIDO", "El tipo de terminal es caja o kiosko.")
    ensure_store(s, store_id, store_name)
    token = security.new_token()
    terminal = s.execute(
        select(Terminal).where(Terminal.store_id == store_id, Terminal.name == name)
    ).scalar_one_or_none()
    if terminal is None:
        terminal = Terminal(
            store_id=store_id,
            name=name,
            kind=kind,
            token_hash=security.token_hash(token),
            created_at=now,
            revoked_at=None,
        )
        s.add(terminal)
    else:
        terminal.kind = kind
        terminal.token_hash = security.token_hash(token)
        terminal.revoked_at = None
    s.flush()
    return terminal, token


def upsert_member(s: Session, number: str, name: str, nip: str | None) -> Member:
    member = s.get(Member, number)
    if member is None:
        if not nip:
            raise ApiError(422, "FALTA_NIP", "Un afiliado nuevo necesita NIP.")
        member = Member(
            number=number,
            name=name,
            nip_hash=security.hash_nip(nip),
            failed_attempts=0,
            locked_until=None,
        )
        s.add(member)
    else:
        member.name = name
        if nip:
            member.nip_hash = security.hash_nip(nip)
    s.flush()
    return member


def reconciliation_list(db: Database, policy: Policy) -> list[dict[str, Any]]:
    with db.read() as s:
        rows = s.execute(
            select(Reconciliation, Payment)
            .join(Payment, Payment.payment_uuid == Reconciliation.payment_uuid)
            .order_by(Reconciliation.reconciliation_id)
        ).all()
        return [
            {
                "reconciliation_id": rec.reconciliation_id,
                "payment_uuid": pay.payment_uuid,
                "reference": pay.reference,
                "store_id": pay.store_id,
                "terminal_id": pay.terminal_id,
                "amount": str(pay.amount),
                "cash": str(pay.cash),
                "card": str(pay.card),
                "paid_at": iso(pay.paid_at, policy),
                "reason_code": rec.reason_code,
                "message": rec.message,
                "created_at": iso(rec.created_at, policy),
                "resolved": rec.resolved,
            }
            for rec, pay in rows
        ]


def count(db: Database, model: Any) -> int:
    with db.read() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())
