"""The institute's side of the API (SPEC 3.8): routes for service accounts — members, loans,
fichas for the portal and the phone line, the policy, the event feed and cases — and the two
routes through which a caja learns of and reports a refund. The work is in
:mod:`central.service`; this module is HTTP only."""

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Security
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, field_validator
from starlette.concurrency import run_in_threadpool

from central import schemas as sc
from central.app import _uuid
from central.db import Database
from central.service import accounts, cases, events, inbound, policy
from central.service.common import ApiError, Clock, Outcome, TerminalPrincipal
from kiosk import loans as loanlib
from kiosk import money
from kiosk.rules import Policy

_service_bearer = HTTPBearer(
    auto_error=False, scheme_name="CuentaDeServicio", description="Token de cuenta de servicio."
)

Text100 = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=sc.NO_NUL)]
LoanId = Annotated[str, Path(min_length=1, max_length=30, pattern=r"^[A-Za-z0-9-]+$")]
MemberNumber = Annotated[str, StringConstraints(pattern=r"^\d{1,20}$")]
Version = Annotated[int, Field(ge=1, le=2**31 - 1, description="Versión del registro.")]

_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"model": sc.ErrorOut, "description": "Token faltante, desconocido o revocado."},
    403: {"model": sc.ErrorOut, "description": "La cuenta no tiene el alcance requerido."},
}
_VERSIONED: dict[int | str, dict[str, Any]] = {
    **_AUTH,
    201: {"description": "Creado (la primera versión)."},
    409: {"model": sc.ErrorOut, "description": "Versión anterior o repetida con otro contenido."},
    422: {"model": sc.ErrorOut},
}


class MemberIn(BaseModel):
    version: Version
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=sc.NO_NUL)]
    email: Annotated[
        str,
        StringConstraints(
            max_length=254, pattern=r"^[^@\s\x00]{1,64}@[^@\s\x00]{1,189}\.[A-Za-z]{2,24}$"
        ),
    ]
    phone: Annotated[str, StringConstraints(pattern=r"^\+?\d{10,15}$")]
    nip: Annotated[str, StringConstraints(pattern=r"^\d{4,6}$")] | None = Field(
        default=None, description="NIP del kiosko (solo para asignarlo; nunca se devuelve)."
    )


class InstallmentIn(BaseModel):
    number: Annotated[int, Field(ge=1, le=1000)]
    due_date: date
    amount: sc.MoneyStr
    principal: sc.MoneyStr
    state: Literal["PENDIENTE", "EN_NOMINA", "PAGADA"] = Field(
        description="Estado en nómina según la dependencia."
    )

    _date = field_validator("due_date")(sc._sane_date)


class LoanIn(BaseModel):
    version: Version
    member_number: MemberNumber
    kind: Annotated[str, StringConstraints(min_length=1, max_length=30, pattern=r"^[A-Z_]+$")]
    principal: sc.MoneyStr
    annual_rate: Annotated[str, StringConstraints(pattern=r"^0(\.\d{1,6})?$")]
    installment: sc.MoneyStr
    prepayments: sc.MoneyStr = "0.00"
    dependencia: Annotated[str, StringConstraints(max_length=100, pattern=sc.NO_NUL)] = ""
    installments: list[InstallmentIn] = Field(min_length=1, max_length=240)


class ServiceSlipIn(sc.SlipIn):
    member_number: MemberNumber
    channel: Literal["PORTAL", "TELEFONO"] = Field(description="Quién la pidió.")


class PolicyIn(BaseModel):
    version: Version
    window_start: Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] | None = (
        None
    )
    window_end: Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] | None = (
        None
    )
    business_weekdays: list[Annotated[int, Field(ge=0, le=6)]] | None = Field(
        default=None, max_length=7
    )
    non_working_days: list[date] | None = Field(
        default=None, max_length=400, description="Días inhábiles propios del instituto."
    )
    cash_cap: sc.MoneyStr | None = None
    offline_window_hours: Annotated[int, Field(ge=1, le=720)] | None = None
    max_daily_slips: Annotated[int, Field(ge=1, le=100)] | None = None
    max_clock_skew_seconds: Annotated[int, Field(ge=10, le=3600)] | None = None

    @field_validator("non_working_days")
    @classmethod
    def _days(cls, days: list[date] | None) -> list[date] | None:
        return None if days is None else [sc._sane_date(d) for d in days]


class ResolutionIn(BaseModel):
    action: Literal["ABONO", "DEVOLUCION", "RECHAZO"]
    resolved_by: Text100 = Field(description="Quién resuelve (usuario del instituto).")
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=sc.NO_NUL)]


class RefundPaidIn(BaseModel):
    paid_at: AwareDatetime
    paid_by: Text100 = Field(description="El gerente que entregó el dinero.")

    _moment = field_validator("paid_at")(sc._sane_moment)


def _reply(outcome: Outcome) -> JSONResponse:
    response = JSONResponse(outcome.body, status_code=outcome.status)
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def institute_router(
    database: Database,
    current: Callable[[], Policy],
    clock: Clock,
    cashier: Callable[..., Awaitable[TerminalPrincipal]],
    refresh_policy: Callable[[], Policy],
) -> APIRouter:
    router = APIRouter()

    def service(scope: str) -> Callable[..., Awaitable[accounts.ServicePrincipal]]:
        async def dep(
            creds: Annotated[HTTPAuthorizationCredentials | None, Security(_service_bearer)],
        ) -> accounts.ServicePrincipal:
            header = f"Bearer {creds.credentials}" if creds else None
            return await run_in_threadpool(accounts.authenticate_service, database, header, scope)

        return dep

    Members = Annotated[accounts.ServicePrincipal, Depends(service(accounts.MEMBERS_LOANS))]
    Slips = Annotated[accounts.ServicePrincipal, Depends(service(accounts.SLIPS))]
    PolicyAdmin = Annotated[accounts.ServicePrincipal, Depends(service(accounts.POLICY))]
    Events = Annotated[accounts.ServicePrincipal, Depends(service(accounts.EVENTS))]
    Cases = Annotated[accounts.ServicePrincipal, Depends(service(accounts.CASES))]
    Cashier = Annotated[TerminalPrincipal, Depends(cashier)]

    @router.put("/v1/members/{number}", tags=["instituto"], responses=_VERSIONED)
    def put_member(
        _who: Members,
        number: Annotated[str, Path(pattern=r"^\d{1,20}$")],
        body: MemberIn,
    ) -> JSONResponse:
        """Alta o actualización de un afiliado con su correo y teléfono (versionada)."""
        upd = inbound.MemberUpdate(body.version, body.name, body.email, body.phone, body.nip)
        return _reply(inbound.put_member(database, number, upd))

    @router.put("/v1/loans/{loan_id}", tags=["instituto"], responses=_VERSIONED)
    def put_loan(_who: Members, loan_id: LoanId, body: LoanIn) -> JSONResponse:
        """Alta o actualización de un préstamo con sus quincenas y su estado en nómina."""
        try:
            items = [
                loanlib.LoanInstallment(
                    i.number,
                    i.due_date,
                    money.parse(i.amount),
                    money.parse(i.principal),
                    i.state,
                )
                for i in body.installments
            ]
            upd = inbound.LoanUpdate(
                version=body.version,
                member_number=body.member_number,
                kind=body.kind,
                principal=money.parse(body.principal),
                annual_rate=money.to_decimal(body.annual_rate),
                installment=money.parse(body.installment),
                prepayments=money.parse(body.prepayments),
                dependencia=body.dependencia,
                installments=items,
            )
        except (money.MoneyError, loanlib.LoanError) as exc:
            raise ApiError(422, "PRESTAMO_INVALIDO", str(exc)) from None
        return _reply(inbound.put_loan(database, loan_id, upd, current()))

    @router.get(
        "/v1/loans/{loan_id}",
        tags=["instituto"],
        responses={**_AUTH, 404: {"model": sc.ErrorOut}},
    )
    def get_loan(_who: Members, loan_id: LoanId) -> dict[str, Any]:
        """El préstamo como lo sabe central ahora y si ya puede renovarse (50% pagado)."""
        return inbound.loan_state(database, loan_id, current())

    @router.post(
        "/v1/slips",
        status_code=201,
        response_model=sc.SlipOut,
        tags=["instituto"],
        responses={
            **_AUTH,
            200: {"model": sc.SlipOut, "description": "Repetición: la respuesta original."},
            404: {"model": sc.ErrorOut},
            422: {"model": sc.ErrorOut},
        },
    )
    def post_slip(
        _who: Slips,
        body: ServiceSlipIn,
        idempotency_key: Annotated[
            str, Header(alias="Idempotency-Key", description="UUID de la solicitud.", max_length=64)
        ],
    ) -> JSONResponse:
        """Emite una ficha para el portal o la línea telefónica; sustituye a la anterior."""
        key = _uuid(idempotency_key)
        req = inbound.SlipRequest(
            member_number=body.member_number,
            loan_id=body.loan_id,
            kind=body.kind,
            channel=body.channel,
            quincenas=body.quincenas,
            amount=money.parse(body.amount) if body.amount is not None else None,
        )
        outcome = inbound.service_slip(database, key, req, clock(), current())
        outcome.body.setdefault("replaced_message", None)
        return _reply(outcome)

    @router.put("/v1/policy", tags=["instituto"], responses=_VERSIONED)
    def put_policy(who: PolicyAdmin, body: PolicyIn) -> JSONResponse:
        """Una nueva versión de la política; lo que no se envía conserva su valor."""
        changes = body.model_dump(exclude_none=True, mode="json")
        outcome = policy.set_policy(database, changes, who.name, clock(), current())
        refresh_policy()
        return _reply(outcome)

    @router.get("/v1/policy/history", tags=["instituto"], responses=_AUTH)
    def policy_history(_who: PolicyAdmin) -> dict[str, Any]:
        """Todas las versiones de la política, de la primera a la vigente."""
        return {"versions": policy.policy_history(database, current())}

    @router.get("/v1/events", tags=["instituto"], responses=_AUTH)
    def event_feed(
        _who: Events,
        since: Annotated[int, Query(ge=0, le=2**62, description="Cursor anterior (0 = todo).")] = 0,
        limit: Annotated[
            int, Query(ge=1, le=events.EVENTS_MAX_PAGE, description="Eventos por página.")
        ] = events.EVENTS_DEFAULT_PAGE,
    ) -> Response:
        """Eventos después del cursor, en orden: pagos, anulaciones, cortes, casos, fichas."""
        return Response(
            events.events_json(database, since, limit, current()), media_type="application/json"
        )

    @router.get("/v1/cases", tags=["instituto"], responses=_AUTH)
    def case_list(
        _who: Cases, open_only: Annotated[bool, Query(alias="abiertos")] = False
    ) -> dict[str, Any]:
        """Los casos (cobros que central rechazó después de tomar el dinero)."""
        return {"cases": cases.list_cases(database, current(), open_only=open_only)}

    @router.post(
        "/v1/cases/{case_id}/resolution",
        status_code=201,
        tags=["instituto"],
        responses={**_VERSIONED, 404: {"model": sc.ErrorOut}},
    )
    def resolve(
        _who: Cases, case_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: ResolutionIn
    ) -> JSONResponse:
        """Resuelve un caso: abono a capital, devolución en la farmacia o rechazo."""
        return _reply(
            cases.resolve_case(
                database, case_id, body.action, body.resolved_by, body.reason, clock(), current()
            )
        )

    @router.get("/v1/refunds", tags=["terminal"], responses=_AUTH)
    def refunds(who: Cashier) -> dict[str, Any]:
        """Devoluciones decididas para esta farmacia que aún no se entregan."""
        return {"refunds": cases.store_refunds(database, who.store_id, current())}

    @router.post(
        "/v1/refunds/{case_id}/paid",
        status_code=201,
        tags=["terminal"],
        responses={**_AUTH, 404: {"model": sc.ErrorOut}, 422: {"model": sc.ErrorOut}},
    )
    def refund_paid(
        who: Cashier, case_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: RefundPaidIn
    ) -> JSONResponse:
        """La farmacia entregó la devolución (idempotente por caso)."""
        return _reply(
            cases.refund_paid(
                database, case_id, who, body.paid_at, body.paid_by, clock(), current()
            )
        )

    return router
