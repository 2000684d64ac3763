"""Central's tables (SQLAlchemy 2.x). The Alembic migrations in ``central/migrations`` build
exactly these; ``metadata`` is what the migration environment compares against.

Money is stored as integer centavos and times as UTC: SQLite has neither a decimal nor a
zone-aware type, and the same columns must behave identically on PostgreSQL.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates
from sqlalchemy.types import TypeDecorator

from kiosk.money import from_centavos, to_centavos, to_decimal

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Money(TypeDecorator[Decimal]):
    """Decimal pesos stored as integer centavos."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        return None if value is None else to_centavos(to_decimal(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else from_centavos(int(value))


class DecimalText(TypeDecorator[Decimal]):
    """An exact Decimal (interest rates) kept as its text."""

    impl = String(20)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else str(to_decimal(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


def naive_utc(value: datetime) -> datetime:
    """How the UTCDateTime columns store an aware moment."""
    if value.tzinfo is None:
        raise ValueError("se requiere fecha y hora con zona horaria")
    return value.astimezone(UTC).replace(tzinfo=None)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive UTC in the database."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else naive_utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Store(Base):
    __tablename__ = "stores"
    store_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Terminal(Base):
    __tablename__ = "terminals"
    __table_args__ = (UniqueConstraint("store_id", "name"),)
    terminal_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.store_id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))  # caja | kiosko
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


def fold_name(text: str) -> str:
    """A name as the console searches it: no accents, no case, single spaces ("María  LÓPEZ"
    -> "maria lopez"). Done here in Python, so SQLite and PostgreSQL search alike without
    unaccent or collations."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())[:200]  # NFKD may lengthen ("ﬁ" -> "fi")


def _folded_from_row(context: DefaultExecutionContext) -> str:
    return fold_name(context.get_current_parameters().get("name") or "")


class Member(Base):
    __tablename__ = "members"
    number: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # fold_name(name), kept by central's own writes: the validator below for objects, the
    # default for bare inserts, central.imports for its bulk updates (migration 0008 filled it).
    name_folded: Mapped[str] = mapped_column(String(200), default=_folded_from_row)
    nip_hash: Mapped[str] = mapped_column(String(200))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # What the kiosk's "¿Cuánto me prestan?" reads (GET /v1/kiosk/profile); all optional,
    # sent by the institute (CSV import, PUT /v1/members): None / False when it has not.
    monthly_salary: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)  # sueldo base
    contribution_start: Mapped[date | None] = mapped_column(Date, nullable=True)  # cotiza desde
    sex: Mapped[str | None] = mapped_column(String(1), nullable=True)  # H (hombre) | M (mujer)
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    pensioner: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    has_debts: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Set by the institute's PUT /v1/members (central.service.inbound): its notices go here.
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sync_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)

    @validates("name")
    def _fold_name(self, _key: str, name: str) -> str:
        self.name_folded = fold_name(name)
        return name


class LoanRow(Base):
    __tablename__ = "loans"
    loan_id: Mapped[str] = mapped_column(String(30), primary_key=True)
    member_number: Mapped[str] = mapped_column(ForeignKey("members.number"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    principal: Mapped[Decimal] = mapped_column(Money())
    annual_rate: Mapped[Decimal] = mapped_column(DecimalText())
    installment: Mapped[Decimal] = mapped_column(Money())
    prepayments: Mapped[Decimal] = mapped_column(Money())
    status: Mapped[str] = mapped_column(String(20))  # ACTIVO | LIQUIDADO
    # The employer whose payroll generates its quincenas, and the institute's upsert version.
    dependencia: Mapped[str] = mapped_column(String(100), default="", server_default="")
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sync_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class InstallmentRow(Base):
    __tablename__ = "loan_installments"
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money())
    principal: Mapped[Decimal] = mapped_column(Money())
    state: Mapped[str] = mapped_column(String(20))


class ReferenceRow(Base):
    __tablename__ = "payment_references"
    reference: Mapped[str] = mapped_column(String(18), primary_key=True)
    loan_id: Mapped[str | None] = mapped_column(
        ForeignKey("loans.loan_id"), nullable=True, index=True
    )
    member_number: Mapped[str] = mapped_column(ForeignKey("members.number"))
    kind: Mapped[str] = mapped_column(String(20))  # QUINCENAL | ABONO | RENOVACION | LIQUIDACION
    concept: Mapped[str] = mapped_column(String(300))
    amount: Mapped[Decimal] = mapped_column(Money())
    quincenas: Mapped[list[int]] = mapped_column(JSON, default=list)
    issued_on: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))
    replaced_by: Mapped[str | None] = mapped_column(String(18), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Position in the delta feed, from the "feed" counter. NULL means "changed, not yet
    # sequenced": payments leave it NULL and the feed numbers such rows after they commit
    # (see central.service.feed.assign_pending), so no payment waits on the counter's lock.
    change_seq: Mapped[int | None] = mapped_column(BigInteger, unique=True, nullable=True)
    # Who asked for it: KIOSKO, PORTAL or TELEFONO; the institute's requests carry their
    # Idempotency-Key and a fingerprint of the request, as payments do.
    channel: Mapped[str] = mapped_column(String(10), default="KIOSKO", server_default="KIOSKO")
    request_key: Mapped[str | None] = mapped_column(String(36), unique=True, nullable=True)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Counter(Base):
    """Named counters. "feed" numbers referencia changes and also gives new referencias their
    serial; whoever takes it holds its row lock until commit, so numbers become visible in
    order and a reader's cursor never skips a change that commits later."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class Payment(Base):
    """Every payment a terminal reported, applied or not: money collected is never dropped."""

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_terminal_folio", "terminal_id", "folio"),)
    payment_uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(18), index=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.store_id"))
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.terminal_id"))
    amount: Mapped[Decimal] = mapped_column(Money())
    cash: Mapped[Decimal] = mapped_column(Money())
    card: Mapped[Decimal] = mapped_column(Money())
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cashier: Mapped[str] = mapped_column(String(100), default="")
    # The terminal's own payment counter (its folio): how central tells a payment taken
    # before another from one whose clock was turned back (SPEC 2.5).
    folio: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(20))  # APLICADO | ANULADO | RECHAZADO
    request_hash: Mapped[str] = mapped_column(String(64))
    response_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any]] = mapped_column(JSON)
    # What the payment did to its loan, so that a void can undo exactly that.
    effect: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    void_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    void_body: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class ReferenceClaim(Base):
    """At most one applied payment per referencia: the primary key is the guarantee."""

    __tablename__ = "reference_claims"
    reference: Mapped[str] = mapped_column(
        ForeignKey("payment_references.reference"), primary_key=True
    )
    payment_uuid: Mapped[str] = mapped_column(ForeignKey("payments.payment_uuid"), unique=True)


class Reconciliation(Base):
    """Cases for a person to decide (SPEC 2.6), one ``kind`` each (see CASE_KINDS in
    central.service.reconciliation). ``payment_uuid`` is empty for a case about a terminal
    rather than a payment (an audit chain that does not extend what central saw)."""

    __tablename__ = "reconciliation"
    __table_args__ = (Index("ix_reconciliation_terminal_kind", "terminal_id", "kind"),)
    reconciliation_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    payment_uuid: Mapped[str | None] = mapped_column(
        ForeignKey("payments.payment_uuid"), unique=True, nullable=True
    )
    kind: Mapped[str] = mapped_column(String(30), server_default="REFUSED_PAYMENT")
    terminal_id: Mapped[int | None] = mapped_column(
        ForeignKey("terminals.terminal_id"), nullable=True
    )
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    reason_code: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    # A case's resolution (central.service.cases): ABONO, DEVOLUCION or RECHAZO, who decided,
    # when and why; a DEVOLUCION is paid out at the store, which reports refund_paid_at.
    resolution: Mapped[str | None] = mapped_column(String(20), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolution_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    refund_paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    refund_paid_by: Mapped[str | None] = mapped_column(String(100), nullable=True)


class Closing(Base):
    __tablename__ = "closings"
    closing_uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.store_id"))
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.terminal_id"))
    kind: Mapped[str] = mapped_column(String(10))  # TURNO | DIA
    business_date: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    request_hash: Mapped[str] = mapped_column(String(64))
    report: Mapped[dict[str, Any]] = mapped_column(JSON)


class LoginAttempts(Base):
    """Failed kiosk logins per affiliate number, known or not, so that guessing costs the
    same whether the number exists. The row is locked while its NIP is checked."""

    __tablename__ = "login_attempts"
    member_number: Mapped[str] = mapped_column(String(20), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    lockouts: Mapped[int] = mapped_column(Integer, default=0)  # each one longer than the last
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class KioskLoginWindow(Base):
    """Failed logins of one kiosk terminal in the current minute (the policy's limit)."""

    __tablename__ = "kiosk_login_windows"
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.terminal_id"), primary_key=True)
    minute: Mapped[datetime] = mapped_column(UTCDateTime())
    failures: Mapped[int] = mapped_column(Integer, default=0)


class TerminalHeartbeat(Base):
    """The latest heartbeat of each terminal (SPEC 3.8: the console shows it)."""

    __tablename__ = "terminal_heartbeats"
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.terminal_id"), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[str] = mapped_column(String(40))
    queue_depth: Mapped[int] = mapped_column(Integer)
    oldest_pending_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    clock_skew_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    printer_state: Mapped[str] = mapped_column(String(100))
    cache_age_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    audit_seq: Mapped[int] = mapped_column(BigInteger)
    audit_hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """Every audit-chain head central saw from a terminal (heartbeats and closings): a
    terminal's chain must extend each of them."""

    __tablename__ = "audit_heads"
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.terminal_id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # HEARTBEAT or CLOSING: the terminal learns from heartbeat answers which head to prove.
    source: Mapped[str] = mapped_column(String(10))


class KioskSession(Base):
    __tablename__ = "kiosk_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_number: Mapped[str] = mapped_column(ForeignKey("members.number"))
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.terminal_id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ServiceAccount(Base):
    """An institute system's credential (not a terminal's): scopes, hashed token, revocable."""

    __tablename__ = "service_accounts"
    account_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class EventRow(Base):
    """The event log, written in the same transaction as the change it records. ``seq`` is
    its position in GET /v1/events, given after commit as the referencia feed does
    (central.service.events.assign_pending), so no writer waits on a counter."""

    __tablename__ = "events"
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True, nullable=True)
    kind: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The affiliate it is about, if any: the notices find their emails without decoding
    # every payload.
    member_number: Mapped[str | None] = mapped_column(String(20), nullable=True)


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"
    endpoint_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class WebhookDelivery(Base):
    """The delivery log: one row per event and endpoint, retried until acknowledged."""

    __tablename__ = "webhook_deliveries"
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.endpoint_id"), primary_key=True
    )
    event_id: Mapped[str] = mapped_column(ForeignKey("events.event_id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), index=True)  # PENDIENTE | ENTREGADO
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Notice(Base):
    """An email to an affiliate, queued from the event log and sent by the dispatcher."""

    __tablename__ = "notices"
    notice_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.event_id"), unique=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True)  # PENDIENTE | ENVIADO
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PolicyVersion(Base):
    """Every policy central has served; the highest version is the current one."""

    __tablename__ = "policy_versions"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(100))


class Lease(Base):
    """Who runs the dispatcher (one per deployment) until when, and how far it has read the
    event log."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    cursor: Mapped[int] = mapped_column(BigInteger)
