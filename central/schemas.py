"""The JSON shapes of the central API (they are what the OpenAPI document shows).

Money travels as strings with two decimals ("540.00"), never as JSON numbers; times are
ISO 8601 with their UTC offset; dates are ISO (YYYY-MM-DD).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    Field,
    StrictInt,
    StringConstraints,
    field_validator,
)

MoneyStr = Annotated[
    str,
    StringConstraints(pattern=r"^\d{1,9}(\.\d{1,2})?$"),
    Field(description="Importe en pesos como texto, con hasta dos decimales.", examples=["540.00"]),
]
ReferenceStr = Annotated[
    str,
    StringConstraints(pattern=r"^\d{18}$"),
    Field(description="Referencia de 18 dígitos.", examples=["250610000000004287"]),
]
# Text that is stored or looked up: PostgreSQL text cannot hold NUL characters, so one in a
# request is a 422 here rather than a database error later.
NO_NUL = r"^[^\x00]*$"
StoreId = Annotated[str, StringConstraints(min_length=1, max_length=20, pattern=NO_NUL)]


def _sane_moment(value: datetime) -> datetime:
    # Years outside this range cannot be referencia dates and overflow time-zone arithmetic
    # (0001-01-01 with a positive offset is before the first UTC moment Python has).
    try:
        year = value.astimezone(UTC).year
    except OverflowError:
        year = 0
    if not 2000 <= year <= 2099:
        raise ValueError("fecha y hora fuera de rango (2000-2099)")
    return value


def _sane_date(value: date) -> date:
    if not 2000 <= value.year <= 2099:
        raise ValueError("fecha fuera de rango (2000-2099)")
    return value


class ErrorOut(BaseModel):
    code: str = Field(description="Código en mayúsculas, p. ej. MONTO_DISTINTO.")
    message: str = Field(description="Mensaje en español para la persona.")


class RefusedPaymentOut(ErrorOut):
    """A 422: a payment refused by a rule (kept, with its case) or a malformed request
    (nothing kept: no payment_uuid nor reconciliation_id)."""

    payment_uuid: str | None = None
    reconciliation_id: int | None = Field(
        default=None, description="Renglón de la lista de conciliación (el caso)."
    )


class ConflictOut(RefusedPaymentOut):
    first_payment_uuid: str = Field(description="El pago que ya había saldado la referencia.")
    first_store_id: str
    first_paid_at: str


class HealthOut(BaseModel):
    status: Literal["ok", "degradado"]
    server_time: str = Field(description="Hora del servidor, ISO 8601 con desfase.")
    database: Literal["ok", "error"]
    version: str


class PolicyOut(BaseModel):
    window_start: str = Field(examples=["07:00"])
    window_end: str = Field(examples=["22:00"])
    business_weekdays: list[int] = Field(description="0 = lunes … 6 = domingo.")
    official_holidays: bool
    non_working_days: list[str]
    cash_cap: MoneyStr
    timezone: str
    max_clock_skew_seconds: int
    max_daily_slips: int = Field(description="Fichas por afiliado al día, en todos los canales.")
    offline_window_seconds: int = Field(
        description="Un pago que llega más tarde que esto tras su hora queda en revisión."
    )
    kiosk_login_failures_per_minute: int = Field(
        description="Intentos fallidos de acceso por kiosko y minuto antes de responder 429."
    )
    version: int


class ReferenceOut(BaseModel):
    reference: str
    amount: MoneyStr
    issued_on: str = Field(description="Fecha local de emisión (YYYY-MM-DD).")
    issued_at: str
    status: Literal["VIGENTE", "PAGADA", "SUSTITUIDA", "CANCELADA", "CADUCADA"]
    member_number: str
    member_name: str
    loan_id: str
    kind: str = Field(description="QUINCENAL, ABONO, RENOVACION o LIQUIDACION.")
    concept: str
    quincenas: list[int]
    version: int = Field(description="Sube con cada cambio de la referencia.")
    replaced_by: str | None


class FeedOut(BaseModel):
    items: list[ReferenceOut]
    next_cursor: int = Field(description="Páselo como since= en la siguiente consulta.")
    has_more: bool


class PaymentIn(BaseModel):
    reference: ReferenceStr
    store_id: StoreId
    amount: MoneyStr
    cash: MoneyStr = "0.00"
    card: MoneyStr = "0.00"
    paid_at: AwareDatetime = Field(description="Cuándo se cobró en la caja (con desfase).")
    cashier: Annotated[str, StringConstraints(max_length=100, pattern=NO_NUL)] = ""
    folio: StrictInt | None = Field(
        default=None,
        ge=1,
        le=2**62,
        description="Folio del pago en la caja (sube con cada pago): su orden en el tiempo.",
    )

    _moment = field_validator("paid_at")(_sane_moment)


class PaymentOut(BaseModel):
    payment_uuid: str
    status: Literal["APLICADO"]
    reference: str
    amount: MoneyStr
    cash: MoneyStr
    card: MoneyStr
    paid_at: str
    received_at: str
    store_id: str
    terminal_id: int
    member_number: str
    member_name: str
    loan_id: str
    kind: str
    concept: str


PAYMENT_BATCH_MAX = 100


class PaymentBatchItem(BaseModel):
    idempotency_key: Annotated[str, StringConstraints(max_length=64)] = Field(
        description="El UUID del pago, como en el encabezado Idempotency-Key de POST /v1/payments."
    )
    body: PaymentIn = Field(description="El cuerpo exacto de POST /v1/payments.")


class PaymentBatchIn(BaseModel):
    payments: list[PaymentBatchItem] = Field(min_length=1, max_length=PAYMENT_BATCH_MAX)


class PaymentBatchResult(BaseModel):
    idempotency_key: str
    status: int = Field(
        description="El código que POST /v1/payments habría dado a este pago: 201, 200 "
        "(repetición), 403, 409, 422 o 503 (reintente)."
    )
    body: PaymentOut | ConflictOut | RefusedPaymentOut | ErrorOut


class PaymentBatchOut(BaseModel):
    results: list[PaymentBatchResult] = Field(description="Uno por pago, en el mismo orden.")


class VoidIn(BaseModel):
    store_id: StoreId
    reason: Annotated[str, StringConstraints(min_length=1, max_length=300, pattern=NO_NUL)]
    voided_at: AwareDatetime
    authorized_by: Annotated[str, StringConstraints(max_length=100, pattern=NO_NUL)] = ""

    _moment = field_validator("voided_at")(_sane_moment)


class VoidOut(BaseModel):
    payment_uuid: str
    status: Literal["ANULADO"]
    reference: str
    reference_status: str
    reason: str
    voided_at: str
    received_at: str
    store_id: str
    terminal_id: int


class AuditHeadIn(BaseModel):
    seq: StrictInt = Field(ge=0, le=2**62, description="Número del último registro de la bitácora.")
    hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] = Field(
        description="Huella SHA-256 de ese registro."
    )


REPORT_MAX_BYTES = 64 * 1024
ReportKey = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=NO_NUL)]


def _bounded_report(value: dict[str, Any]) -> dict[str, Any]:
    # A report is figures and short lists; more than this is not a report.
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    if size > REPORT_MAX_BYTES:
        raise ValueError(f"el reporte pasa de {REPORT_MAX_BYTES // 1024} KiB")
    return value


class ClosingIn(BaseModel):
    closing_uuid: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F-]{36}$")]
    store_id: StoreId
    kind: Literal["TURNO", "DIA"]
    business_date: date
    closed_at: AwareDatetime
    report: dict[ReportKey, Any] = Field(
        default_factory=dict,
        max_length=200,
        description=f"El reporte X/Z completo (hasta {REPORT_MAX_BYTES // 1024} KiB en JSON).",
    )
    audit_head: AuditHeadIn | None = Field(
        default=None, description="La bitácora de la caja al cerrar."
    )

    _moment = field_validator("closed_at")(_sane_moment)
    _date = field_validator("business_date")(_sane_date)
    _report = field_validator("report")(_bounded_report)


class HeartbeatIn(BaseModel):
    sent_at: AwareDatetime = Field(description="Hora de la terminal al enviarlo.")
    version: Annotated[str, StringConstraints(max_length=40, pattern=NO_NUL)]
    queue_depth: StrictInt = Field(ge=0, le=10**9, description="Envíos pendientes.")
    oldest_pending_seconds: StrictInt | None = Field(
        default=None, ge=0, le=10**9, description="Edad del envío pendiente más antiguo."
    )
    clock_skew_seconds: StrictInt | None = Field(
        default=None, ge=-(10**9), le=10**9, description="Reloj de la terminal menos el central."
    )
    printer_state: Annotated[str, StringConstraints(max_length=100, pattern=NO_NUL)] = ""
    cache_age_seconds: StrictInt | None = Field(
        default=None, ge=0, le=10**9, description="Tiempo desde la última actualización de fichas."
    )
    audit_head: AuditHeadIn
    anchor: AuditHeadIn | None = Field(
        default=None,
        description="El registro de la bitácora en el audit_anchor de la respuesta anterior.",
    )

    _moment = field_validator("sent_at")(_sane_moment)


class HeartbeatOut(BaseModel):
    received_at: str
    audit_ok: bool = Field(description="Falso: la bitácora no extiende lo que el instituto vio.")
    audit_anchor: AuditHeadIn | None = Field(
        description="Envíe su registro con este número como anchor en el siguiente latido."
    )


class ClosingOut(BaseModel):
    closing_uuid: str
    status: Literal["RECIBIDO"]
    store_id: str
    terminal_id: int
    kind: str
    business_date: str
    closed_at: str
    received_at: str


class SessionIn(BaseModel):
    member_number: Annotated[str, StringConstraints(min_length=1, max_length=20, pattern=NO_NUL)]
    nip: Annotated[str, StringConstraints(min_length=1, max_length=20, pattern=NO_NUL)]


class MemberOut(BaseModel):
    number: str
    name: str


class SessionOut(BaseModel):
    session_token: str = Field(description="Úselo como Bearer en /v1/kiosk/loans y slips.")
    expires_at: str
    idle_timeout_seconds: int
    member: MemberOut


class InstallmentOut(BaseModel):
    number: int
    due_date: str
    amount: MoneyStr
    principal: MoneyStr
    state: Literal["PAGADA", "PENDIENTE", "EN_NOMINA"]


class OptionsOut(BaseModel):
    settled: bool
    pending: list[InstallmentOut] = Field(description="Quincenas elegibles, más antigua primero.")
    min_prepayment: MoneyStr
    max_prepayment: MoneyStr
    renewal_amount: MoneyStr
    payoff_amount: MoneyStr
    can_prepay: bool
    can_pay_off: bool
    can_renew: bool


class LoanOut(BaseModel):
    loan_id: str
    kind: str
    status: Literal["ACTIVO", "LIQUIDADO"]
    principal: MoneyStr
    annual_rate: str
    installment: MoneyStr
    prepayments: MoneyStr
    outstanding_balance: MoneyStr
    installments: list[InstallmentOut]
    options: OptionsOut
    current_reference: ReferenceOut | None


class LoansOut(BaseModel):
    member: MemberOut
    session_expires_at: str
    loans: list[LoanOut]
    slips_left_today: int  # fichas the affiliate may still issue today (the daily limit)


class SlipIn(BaseModel):
    loan_id: Annotated[str, StringConstraints(min_length=1, max_length=30, pattern=NO_NUL)]
    kind: Literal["QUINCENAL", "ABONO", "RENOVACION", "LIQUIDACION"]
    quincenas: list[Annotated[StrictInt, Field(ge=1, le=1000)]] | None = Field(
        default=None, max_length=200, description="Solo QUINCENAL."
    )
    amount: MoneyStr | None = Field(default=None, description="Solo ABONO.")


class SlipOut(ReferenceOut):
    replaced: str | None = Field(description="La referencia que esta ficha sustituyó.")
    replaced_message: str | None
    payable_today: bool
    warning: str | None


class HistoryPaymentOut(BaseModel):
    paid_at: str = Field(description="Hora del pago en la farmacia (ISO 8601, con zona).")
    place: str = Field(description="Farmacia donde se pagó.")
    amount: MoneyStr
    kind: str = Field(description="QUINCENAL, ABONO, RENOVACION o LIQUIDACION.")
    status: str = Field(description="APLICADO, ANULADO o RECHAZADO (en revisión).")


class HistorySlipOut(BaseModel):
    reference: str
    amount: MoneyStr
    kind: str
    status: str = Field(description="VIGENTE, PAGADA, SUSTITUIDA, CADUCADA o CANCELADA.")


class LoanHistoryOut(BaseModel):
    loan_id: str
    payments: list[HistoryPaymentOut] = Field(
        description="Los 50 más recientes, el último primero."
    )
    slips_today: list[HistorySlipOut]


class HistoryOut(BaseModel):
    loans: list[LoanHistoryOut]


class ProfileOut(BaseModel):
    """Lo que el instituto sabe del afiliado para «¿Cuánto me prestan?»; null si no lo sabe."""

    monthly_salary: MoneyStr | None = Field(description="Sueldo base de cotización mensual.")
    contribution_start: str | None = Field(description="Fecha de inicio de cotización.")
    sex: Literal["H", "M"] | None = Field(description="H hombre, M mujer.")
    birth_date: str | None
    pensioner: bool
    has_debts: bool = Field(description="Adeudos con el instituto.")
