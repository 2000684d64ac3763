"""The central reference server: FastAPI routes over :mod:`central.service` (SPEC section 4)."""

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Annotated, Any

from anyio import to_thread
from fastapi import Depends, FastAPI, Header, Path, Query, Request, Security
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from central import db as dbmod
from central import pgpay, security
from central import schemas as sc
from central import service as svc
from kiosk import money
from kiosk.rules import Policy

VERSION = "0.1.0"
DEFAULT_KIOSK_IDLE = timedelta(minutes=5)
DEFAULT_AUTH_CACHE_TTL = svc.AUTH_CACHE_TTL

_bearer = HTTPBearer(auto_error=False, description="Token de terminal o de sesión de kiosko.")

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": sc.ErrorOut, "description": "Token faltante, desconocido o revocado."},
    403: {"model": sc.ErrorOut, "description": "Fuera del alcance de esta terminal o tienda."},
}


class _DateHeader:
    """Sets the Date header from central's clock, which terminals compare with their own."""

    def __init__(self, app: ASGIApp, clock: svc.Clock) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_date(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                headers.append((b"date", _http_date(self.clock()).encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_date)


class _Asgi:
    """A coroutine (scope, receive, send) as a Route's endpoint: Starlette would take a bare
    function for a request-to-response endpoint."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _money(value: str) -> Any:
    return money.parse(value)


def create_app(
    db_url: str,
    clock: svc.Clock | None = None,
    *,
    policy: Policy | None = None,
    kiosk_idle: timedelta = DEFAULT_KIOSK_IDLE,
    migrate: bool = True,
    auth_cache_ttl: float = DEFAULT_AUTH_CACHE_TTL,
) -> FastAPI:
    """Central's ASGI app over ``db_url``. ``clock`` returns an aware datetime (tests inject a
    fixed business-day time); ``migrate`` runs the Alembic migrations first;
    ``auth_cache_ttl`` is how many seconds a terminal token stays trusted without a database
    look-up, so a revoked token stops working within that time (0: checked on every request)."""
    if migrate:
        dbmod.upgrade(db_url)
    database = dbmod.Database(db_url)
    # POST /v1/payments on PostgreSQL: payments arriving together are decided and committed
    # together (central.pgpay); the Core path answers everything else.
    fast = None if dbmod.is_sqlite(db_url) else pgpay.PgPayments(db_url)
    now: svc.Clock = clock or svc.utcnow
    pol = policy or Policy(version=1)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Endpoints run in the thread pool; no more threads than pooled connections, so a
        # burst queues here instead of opening short-lived database connections.
        to_thread.current_default_thread_limiter().total_tokens = dbmod.CONCURRENCY
        yield
        if fast is not None:
            await fast.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Caja ISSEG — servidor central",
        version=VERSION,
        description=(
            "API v1 del servidor central de referencia: políticas, referencias, pagos, "
            "anulaciones, cortes y kiosko. Importes como texto con dos decimales; horas ISO "
            "8601 con desfase; errores con `code` y `message` en español."
        ),
    )
    app.state.db = database
    app.state.policy = pol
    app.state.clock = now
    app.add_middleware(_DateHeader, clock=now)

    @app.exception_handler(svc.ApiError)
    async def _api_error(_request: Request, exc: svc.ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {
                "code": "SOLICITUD_INVALIDA",
                "message": "La solicitud no tiene el formato esperado.",
                "detail": jsonable_encoder(exc.errors(), custom_encoder={Exception: str}),
            },
            status_code=422,
        )

    tokens = svc.TokenCache(auth_cache_ttl)

    # The dependencies are coroutines so that a request with a cached token makes a single hop
    # to the thread pool (its endpoint), not one per dependency.
    async def principal(
        creds: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    ) -> svc.TerminalPrincipal | svc.SessionPrincipal:
        header = f"Bearer {creds.credentials}" if creds else None
        known = tokens.get(svc.bearer_digest(header))
        if known is not None:
            return known
        return await run_in_threadpool(svc.authenticate, database, header, tokens)

    Principal = Annotated[svc.TerminalPrincipal | svc.SessionPrincipal, Depends(principal)]

    def terminal_of(*kinds: str) -> Callable[..., Awaitable[svc.TerminalPrincipal]]:
        async def dep(who: Principal) -> svc.TerminalPrincipal:
            if not isinstance(who, svc.TerminalPrincipal):
                raise svc.ApiError(
                    403,
                    "TOKEN_DE_SESION",
                    "Un token de sesión de kiosko no sirve para este servicio.",
                )
            if who.kind not in kinds:
                raise svc.ApiError(
                    403,
                    "TIPO_DE_TERMINAL",
                    f"Este servicio es para terminales de tipo {' o '.join(kinds)}.",
                )
            return who

        return dep

    AnyTerminal = Annotated[svc.TerminalPrincipal, Depends(terminal_of("caja", "kiosko"))]
    Cashier = Annotated[svc.TerminalPrincipal, Depends(terminal_of("caja"))]
    Kiosk = Annotated[svc.TerminalPrincipal, Depends(terminal_of("kiosko"))]

    async def session_of(who: Principal) -> svc.SessionPrincipal:
        if not isinstance(who, svc.SessionPrincipal):
            raise svc.ApiError(
                403,
                "TOKEN_DE_TERMINAL",
                "Este servicio requiere una sesión de afiliado, no el token de la terminal.",
            )
        return who

    KioskSession = Annotated[svc.SessionPrincipal, Depends(session_of)]

    def reply(outcome: svc.Outcome) -> JSONResponse:
        response = JSONResponse(outcome.body, status_code=outcome.status)
        if outcome.replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return response

    @app.get("/v1/health", response_model=sc.HealthOut, tags=["general"])
    def health() -> JSONResponse:
        """Estado del servidor y su hora (también en el encabezado Date)."""
        ok = True
        try:
            with database.read() as s:
                s.execute(text("SELECT 1"))
        except Exception:  # any database failure is reported, not raised
            ok = False
        body = {
            "status": "ok" if ok else "degradado",
            "server_time": svc.iso(now(), pol),
            "database": "ok" if ok else "error",
            "version": VERSION,
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/v1/policy", response_model=sc.PolicyOut, tags=["terminal"], responses=_ERRORS)
    def get_policy(_who: AnyTerminal) -> dict[str, Any]:
        """Horario, días hábiles, inhábiles, tope de efectivo, zona horaria y versión."""
        return pol.to_dict()

    # The page is JSON text already (svc.feed_json): returning a Response skips FastAPI's
    # validation and re-encoding, which cost more than reading the rows; response_model still
    # documents the shape in the OpenAPI document.
    @app.get("/v1/references", response_model=sc.FeedOut, tags=["terminal"], responses=_ERRORS)
    def references_feed(
        _who: AnyTerminal,
        since: Annotated[int, Query(ge=0, le=2**62, description="Cursor anterior (0 = todo).")] = 0,
        limit: Annotated[
            int, Query(ge=1, le=svc.FEED_MAX_PAGE, description="Referencias por página.")
        ] = svc.FEED_DEFAULT_PAGE,
    ) -> Response:
        """Referencias nuevas y modificadas desde el cursor, en orden de cambio."""
        return Response(svc.feed_json(database, since, limit, pol), media_type="application/json")

    @app.get(
        "/v1/references/{reference}",
        response_model=sc.ReferenceOut,
        tags=["terminal"],
        responses={
            **_ERRORS,
            404: {"model": sc.ErrorOut},
            422: {"model": sc.ErrorOut, "description": "Referencia mal formada."},
        },
    )
    def one_reference(
        _who: AnyTerminal, reference: Annotated[str, Path(max_length=64)]
    ) -> dict[str, Any]:
        """Una referencia (cuando no está en la caché de la caja)."""
        return svc.get_reference(database, reference, pol)

    @app.post(
        "/v1/payments",
        status_code=201,
        response_model=sc.PaymentOut,
        tags=["terminal"],
        responses={
            **_ERRORS,
            200: {"model": sc.PaymentOut, "description": "Repetición: la respuesta original."},
            409: {"model": sc.ConflictOut, "description": "La referencia ya estaba pagada."},
            422: {"model": sc.RefusedPaymentOut, "description": "Rechazado por una regla."},
        },
    )
    async def post_payment(
        who: Cashier,
        body: sc.PaymentIn,
        idempotency_key: Annotated[
            str, Header(alias="Idempotency-Key", description="El UUID del pago.", max_length=64)
        ],
    ) -> JSONResponse:
        """Registra un pago cobrado en caja; la llave de idempotencia es el UUID del pago."""
        return await pay(who, body, _uuid(idempotency_key))

    async def pay(who: svc.TerminalPrincipal, body: sc.PaymentIn, key: str) -> JSONResponse:
        req, at = _payment_request(body), now()
        if fast is not None:
            outcome = await fast.record(key, req, svc.Received.at(who, at, pol))
            if outcome is not None:
                return reply(outcome)
        return reply(await run_in_threadpool(svc.record_payment, database, key, req, who, at, pol))

    def plain_payment(
        request: Request, raw: bytes
    ) -> tuple[svc.TerminalPrincipal, sc.PaymentIn, str] | None:
        """The caja, body and key of a POST /v1/payments with a token in the cache and a
        well-formed key and body; None for anything else."""
        authorization = request.headers.get("authorization", "")
        key = request.headers.get("idempotency-key", "")
        if not authorization.lower().startswith("bearer ") or not 0 < len(key) <= 64:
            return None
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return None
        who = tokens.get(security.token_hash(authorization[7:].strip()))
        if not isinstance(who, svc.TerminalPrincipal) or who.kind != "caja":
            return None
        try:
            return who, sc.PaymentIn.model_validate_json(raw), str(uuid.UUID(key))
        except ValueError:  # pydantic's ValidationError is a ValueError
            return None

    documented = next(
        route
        for route in app.routes
        if isinstance(route, APIRoute) and route.path == "/v1/payments"
    )

    async def payments_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        """POST /v1/payments, ahead of the documented route: FastAPI's dependency resolution
        cost a third of central's CPU per payment, so the plain case (see plain_payment) is
        answered here by the same :func:`pay`. Every other request, a malformed or refused
        one included, goes on to the documented route unchanged, so its validation and error
        answers stay FastAPI's."""
        request = Request(scope, receive)
        raw = await request.body()
        plain = plain_payment(request, raw)
        if plain is not None:
            response = await pay(*plain)
            await response(scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        await documented.handle(scope, replay, send)

    app.router.routes.insert(0, Route("/v1/payments", _Asgi(payments_endpoint), methods=["POST"]))

    @app.post(
        "/v1/payments/batch",
        response_model=sc.PaymentBatchOut,
        tags=["terminal"],
        responses={**_ERRORS, 422: {"model": sc.ErrorOut, "description": "Lote mal formado."}},
    )
    def post_payments(who: Cashier, body: sc.PaymentBatchIn) -> JSONResponse:
        """Varios pagos de una cola atrasada en una sola solicitud (hasta 100).

        Cada pago se registra exactamente como en POST /v1/payments, en su propia transacción
        y con su propia llave de idempotencia, y en `results` va el código y la respuesta que
        esa ruta habría dado; un pago rechazado no afecta a los demás.
        """
        # One request per payment costs central more in HTTP handling than the payment
        # itself; a caja draining a day offline sends its backlog this way.
        # They were all received at once: one clock reading, one write connection.
        results: list[dict[str, Any]] = []
        with svc.payment_batch(database, who, now(), pol) as record:
            for item in body.payments:
                try:
                    outcome = record(_uuid(item.idempotency_key), _payment_request(item.body))
                    status, answer = outcome.status, outcome.body
                except svc.ApiError as exc:
                    status, answer = exc.status, exc.body()
                results.append(
                    {"idempotency_key": item.idempotency_key, "status": status, "body": answer}
                )
        return JSONResponse({"results": results})

    @app.post(
        "/v1/payments/{payment_uuid}/void",
        status_code=201,
        response_model=sc.VoidOut,
        tags=["terminal"],
        responses={
            **_ERRORS,
            200: {"model": sc.VoidOut, "description": "Repetición: la respuesta original."},
            404: {"model": sc.ErrorOut},
            422: {"model": sc.ErrorOut},
        },
    )
    def void(payment_uuid: uuid.UUID, who: Cashier, body: sc.VoidIn) -> JSONResponse:
        """Anula un pago de esta tienda, el mismo día; la referencia vuelve a ser pagable."""
        req = svc.VoidRequest(
            store_id=body.store_id,
            reason=body.reason,
            voided_at=body.voided_at,
            authorized_by=body.authorized_by,
        )
        return reply(svc.void_payment(database, str(payment_uuid), req, who, now(), pol))

    @app.post(
        "/v1/closings",
        status_code=201,
        response_model=sc.ClosingOut,
        tags=["terminal"],
        responses={
            **_ERRORS,
            200: {"model": sc.ClosingOut, "description": "Repetición: la respuesta original."},
            422: {"model": sc.ErrorOut},
        },
    )
    def closing(who: Cashier, body: sc.ClosingIn) -> JSONResponse:
        """Un corte de turno o cierre del día; idempotente por closing_uuid."""
        req = svc.ClosingRequest(
            closing_uuid=_uuid(body.closing_uuid),
            store_id=body.store_id,
            kind=body.kind,
            business_date=body.business_date,
            closed_at=body.closed_at,
            report=body.report,
        )
        return reply(svc.record_closing(database, req, who, now(), pol))

    @app.post(
        "/v1/kiosk/sessions",
        status_code=201,
        response_model=sc.SessionOut,
        tags=["kiosko"],
        responses={
            **_ERRORS,
            423: {"model": sc.ErrorOut, "description": "Bloqueado por intentos fallidos."},
        },
    )
    def kiosk_login(who: Kiosk, body: sc.SessionIn) -> dict[str, Any]:
        """Inicio de sesión del afiliado (número y NIP) con el token del kiosko."""
        return svc.login(database, who, body.member_number, body.nip, now(), pol, kiosk_idle)

    @app.delete("/v1/kiosk/sessions", status_code=204, tags=["kiosko"], responses=_ERRORS)
    def kiosk_logout(who: KioskSession) -> None:
        """Cierra la sesión del afiliado."""
        svc.logout(database, who, now())

    @app.get("/v1/kiosk/loans", response_model=sc.LoansOut, tags=["kiosko"], responses=_ERRORS)
    def kiosk_loans(who: KioskSession) -> dict[str, Any]:
        """Los préstamos del afiliado con sus opciones de pago."""
        member, expires = svc.touch_session(database, who, now(), kiosk_idle)
        out = svc.member_loans(database, member, now(), pol)
        out["session_expires_at"] = svc.iso(expires, pol)
        return out

    @app.get("/v1/kiosk/history", response_model=sc.HistoryOut, tags=["kiosko"], responses=_ERRORS)
    def kiosk_history(who: KioskSession) -> dict[str, Any]:
        """Por préstamo: los pagos hechos (fecha, farmacia, importe, tipo, estado) y las
        fichas de hoy con su estado."""
        member, _ = svc.touch_session(database, who, now(), kiosk_idle)
        return svc.kiosk_history(database, member, pol, now())

    @app.get("/v1/kiosk/profile", response_model=sc.ProfileOut, tags=["kiosko"], responses=_ERRORS)
    def kiosk_profile(who: KioskSession) -> dict[str, Any]:
        """Sueldo, cotización, sexo, nacimiento, pensión y adeudos del afiliado, para el
        simulador «¿Cuánto me prestan?» (informativo)."""
        member, _ = svc.touch_session(database, who, now(), kiosk_idle)
        return svc.kiosk_profile(database, member)

    @app.post(
        "/v1/kiosk/slips",
        status_code=201,
        response_model=sc.SlipOut,
        tags=["kiosko"],
        responses={**_ERRORS, 404: {"model": sc.ErrorOut}, 422: {"model": sc.ErrorOut}},
    )
    def kiosk_slip(who: KioskSession, body: sc.SlipIn) -> dict[str, Any]:
        """Emite una ficha con fecha de hoy; la ficha vigente anterior queda SUSTITUIDA."""
        member, _ = svc.touch_session(database, who, now(), kiosk_idle)
        amount = _money(body.amount) if body.amount is not None else None
        return svc.kiosk_slip(
            database,
            member,
            loan_id=body.loan_id,
            kind=body.kind,
            quincenas=body.quincenas,
            amount=amount,
            now=now(),
            policy=pol,
        )

    return app


def _payment_request(body: sc.PaymentIn) -> svc.PaymentRequest:
    return svc.PaymentRequest(
        reference=body.reference,
        store_id=body.store_id,
        amount=_money(body.amount),
        cash=_money(body.cash),
        card=_money(body.card),
        paid_at=body.paid_at,
        cashier=body.cashier,
    )


def _uuid(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise svc.ApiError(
            422, "LLAVE_INVALIDA", "La llave de idempotencia debe ser el UUID del pago."
        ) from None


def app_from_env() -> FastAPI:
    """Factory for multi-worker uvicorn: the URL comes from ISSEG_CENTRAL_DB; the parent
    process already ran the migrations."""
    from central.clock import clock_from_env

    return create_app(os.environ["ISSEG_CENTRAL_DB"], clock=clock_from_env(), migrate=False)
