"""The central reference server: FastAPI routes over :mod:`central.service` (SPEC section 4)."""

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from anyio import to_thread
from fastapi import Depends, FastAPI, Header, Path, Query, Request, Security
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from central import console, enrollment, operations, pgpay, security
from central import db as dbmod
from central import schemas as sc
from central import service as svc
from central.dispatcher import Dispatcher
from central.limits import MAX_BODY_BYTES, TERMINAL_PATHS, RequestLimits, replaying
from central.service.notices import SmtpSettings
from central.service.policy import PolicyCache
from kiosk import money
from kiosk.rules import Policy

VERSION = "0.1.0"
EXPIRY_SWEEP_SECONDS = 60.0
log = logging.getLogger(__name__)
DEFAULT_KIOSK_IDLE = timedelta(minutes=5)
DEFAULT_AUTH_CACHE_TTL = svc.AUTH_CACHE_TTL

_bearer = HTTPBearer(auto_error=False, description="Token de terminal o de sesión de kiosko.")

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": sc.ErrorOut, "description": "Token faltante, desconocido o revocado."},
    403: {"model": sc.ErrorOut, "description": "Fuera del alcance de esta terminal o tienda."},
}


_HTTP_ERRORS = {
    400: ("SOLICITUD_INVALIDA", "La solicitud no tiene el formato esperado."),
    404: ("RUTA_DESCONOCIDA", "Esa ruta no existe en la API del instituto."),
    405: ("METODO_NO_PERMITIDO", "Esa ruta no admite este método."),
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


async def _known_query(request: Request) -> None:
    """A query parameter the route does not take is a mistake to report, not to ignore."""
    route = request.scope.get("route")
    pairs = parse_qsl(request.scope["query_string"].decode("latin-1"), keep_blank_values=True)
    given = {k for k, _ in pairs}
    if not isinstance(route, APIRoute) or not given:
        return
    if len(given) != len(pairs):
        raise svc.ApiError(422, "PARAMETRO_REPETIDO", "Cada parámetro va una sola vez.")
    known = {p.alias for p in route.dependant.query_params}
    for dep in route.dependant.dependencies:
        known.update(p.alias for p in dep.query_params)
    unknown = sorted(given - known)
    if unknown:
        raise svc.ApiError(
            422, "PARAMETRO_DESCONOCIDO", f"Parámetro desconocido: {', '.join(unknown)[:100]}."
        )


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
    auth_cache_ttl: float = DEFAULT_AUTH_CACHE_TTL,
    max_body: int = MAX_BODY_BYTES,
    dispatch: bool = True,
    smtp: SmtpSettings | None = None,
) -> FastAPI:
    """Central's ASGI app over ``db_url``. ``clock`` returns an aware datetime (tests inject a
    fixed business-day time); the schema must be migrated already
    (``isseg-farmacia central migrar``); ``auth_cache_ttl`` is how many seconds a terminal
    token stays trusted without a database look-up, so a revoked token stops working within
    that time (0: checked on every request); ``max_body`` is the largest request body
    accepted (413 beyond, unread); ``dispatch`` runs the dispatcher of webhooks and notices
    (central.dispatcher) while the app runs, with ``smtp`` (by default from the environment)
    for the notices."""
    database = dbmod.Database(db_url)
    # POST /v1/payments on PostgreSQL: payments arriving together are decided and committed
    # together (central.pgpay); the Core path answers everything else.
    fast = None if dbmod.is_sqlite(db_url) else pgpay.PgPayments(db_url)
    now: svc.Clock = clock or svc.utcnow
    # The policy in force: the latest version the institute set (central.service.policy),
    # or this one until it sets any.
    pol = PolicyCache(database, policy or Policy(version=1))
    dispatcher = Dispatcher(database, pol, smtp or SmtpSettings.from_env()) if dispatch else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Endpoints run in the thread pool; no more threads than pooled connections, so a
        # burst queues here instead of opening short-lived database connections.
        to_thread.current_default_thread_limiter().total_tokens = dbmod.CONCURRENCY
        sweeper = asyncio.create_task(_expire_slips_every(EXPIRY_SWEEP_SECONDS))
        if dispatcher is not None:
            dispatcher.start()
        yield
        sweeper.cancel()
        if dispatcher is not None:
            await run_in_threadpool(dispatcher.stop)
        if fast is not None:
            await fast.close()

    async def _expire_slips_every(seconds: float) -> None:
        """Unpaid fichas of past days become CADUCADA by central's clock (SPEC 2.5)."""
        while True:
            try:
                await run_in_threadpool(svc.expire_slips, database, now(), pol())
            except Exception:  # the next sweep retries; the feed filters by date anyway
                log.exception("caducidad de fichas: se reintentará")
            await asyncio.sleep(seconds)

    app = FastAPI(
        lifespan=lifespan,
        dependencies=[Depends(_known_query)],
        title="Caja ISSEG — servidor central",
        version=VERSION,
        description=(
            "API v1 del servidor central de referencia: políticas, referencias, pagos, "
            "anulaciones, cortes y kiosko. Importes como texto con dos decimales; horas ISO "
            "8601 con desfase; errores con `code` y `message` en español."
        ),
    )
    app.state.db = database
    app.state.policy = pol()
    app.state.policies = pol
    app.state.clock = now
    tokens = svc.TokenCache(auth_cache_ttl)

    async def authorize(header: str | None) -> object:
        known = tokens.get(svc.bearer_digest(header))
        if known is not None:
            return known
        return await run_in_threadpool(svc.authenticate, database, header, tokens)

    app.add_middleware(RequestLimits, authorize=authorize, max_body=max_body)
    app.add_middleware(_DateHeader, clock=now)
    operations.install(app, database)
    enrollment.install(app, database, now)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message = _HTTP_ERRORS.get(exc.status_code, ("ERROR_HTTP", "Solicitud rechazada."))
        return JSONResponse(
            {"code": code, "message": message}, status_code=exc.status_code, headers=exc.headers
        )
    console.install(app)  # the institute's web console at /consola/ (cookies, not bearer tokens)

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
            "server_time": svc.iso(now(), pol()),
            "database": "ok" if ok else "error",
            "version": VERSION,
        }
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/v1/policy", response_model=sc.PolicyOut, tags=["terminal"], responses=_ERRORS)
    def get_policy(_who: AnyTerminal) -> dict[str, Any]:
        """Horario, días hábiles, inhábiles, tope de efectivo, zona horaria y versión."""
        return pol().to_dict()

    # The page is JSON text already (svc.feed_json): returning a Response skips FastAPI's
    # validation and re-encoding, which cost more than reading the rows; response_model still
    # documents the shape in the OpenAPI document.
    @app.get("/v1/references", response_model=sc.FeedOut, tags=["terminal"], responses=_ERRORS)
    def references_feed(
        _who: Cashier,
        since: Annotated[int, Query(ge=0, le=2**62, description="Cursor anterior (0 = todo).")] = 0,
        limit: Annotated[
            int, Query(ge=1, le=svc.FEED_MAX_PAGE, description="Referencias por página.")
        ] = svc.FEED_DEFAULT_PAGE,
    ) -> Response:
        """Referencias nuevas y modificadas desde el cursor, en orden de cambio."""
        return Response(
            svc.feed_json(database, since, limit, pol(), now()), media_type="application/json"
        )

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
        _who: Cashier, reference: Annotated[str, Path(max_length=64)]
    ) -> dict[str, Any]:
        """Una referencia (cuando no está en la caché de la caja)."""
        return svc.get_reference(database, reference, pol())

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
            outcome = await fast.record(key, req, svc.Received.at(who, at, pol()))
            if outcome is not None:
                return reply(outcome)
        return reply(
            await run_in_threadpool(svc.record_payment, database, key, req, who, at, pol())
        )

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
        await documented.handle(scope, replaying(raw, receive), send)

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
        with svc.payment_batch(database, who, now(), pol()) as record:
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
        return reply(svc.void_payment(database, str(payment_uuid), req, who, now(), pol()))

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
            audit_head=_head(body.audit_head),
        )
        return reply(svc.record_closing(database, req, who, now(), pol()))

    @app.post(
        "/v1/heartbeat",
        response_model=sc.HeartbeatOut,
        tags=["terminal"],
        responses={**_ERRORS, 422: {"model": sc.ErrorOut}},
    )
    def heartbeat(who: AnyTerminal, body: sc.HeartbeatIn) -> dict[str, Any]:
        """El latido de la terminal: versión, cola, reloj, impresora, caché y bitácora.

        El instituto guarda el último de cada terminal y las cabezas de su bitácora; una
        cabeza que retrocede o una bitácora que no pasa por la que ya vio abre un caso."""
        beat = svc.Heartbeat(
            sent_at=body.sent_at,
            version=body.version,
            queue_depth=body.queue_depth,
            oldest_pending_seconds=body.oldest_pending_seconds,
            clock_skew_seconds=body.clock_skew_seconds,
            printer_state=body.printer_state,
            cache_age_seconds=body.cache_age_seconds,
            audit_head=svc.Head(body.audit_head.seq, body.audit_head.hash),
            anchor=_head(body.anchor),
        )
        return svc.record_heartbeat(database, beat, who, now(), pol())

    @app.post(
        "/v1/kiosk/sessions",
        status_code=201,
        response_model=sc.SessionOut,
        tags=["kiosko"],
        responses={
            **_ERRORS,
            423: {"model": sc.ErrorOut, "description": "Bloqueado por intentos fallidos."},
            429: {"model": sc.ErrorOut, "description": "Demasiados intentos en este kiosko."},
        },
    )
    def kiosk_login(who: Kiosk, body: sc.SessionIn) -> dict[str, Any]:
        """Inicio de sesión del afiliado (número y NIP) con el token del kiosko."""
        return svc.login(database, who, body.member_number, body.nip, now(), pol(), kiosk_idle)

    @app.delete("/v1/kiosk/sessions", status_code=204, tags=["kiosko"], responses=_ERRORS)
    def kiosk_logout(who: KioskSession) -> None:
        """Cierra la sesión del afiliado."""
        svc.logout(database, who, now())

    @app.get("/v1/kiosk/loans", response_model=sc.LoansOut, tags=["kiosko"], responses=_ERRORS)
    def kiosk_loans(who: KioskSession) -> dict[str, Any]:
        """Los préstamos del afiliado con sus opciones de pago."""
        member, expires = svc.touch_session(database, who, now(), kiosk_idle)
        out = svc.member_loans(database, member, now(), pol())
        out["session_expires_at"] = svc.iso(expires, pol())
        return out

    @app.get("/v1/kiosk/history", response_model=sc.HistoryOut, tags=["kiosko"], responses=_ERRORS)
    def kiosk_history(who: KioskSession) -> dict[str, Any]:
        """Por préstamo: los pagos hechos (fecha, farmacia, importe, tipo, estado) y las
        fichas de hoy con su estado."""
        member, _ = svc.touch_session(database, who, now(), kiosk_idle)
        return svc.kiosk_history(database, member, pol(), now())

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
            policy=pol(),
        )

    from central.institute_api import institute_router

    app.include_router(institute_router(database, pol, now, terminal_of("caja"), pol.refresh))

    _document_every_answer(app)
    return app


def _document_every_answer(app: FastAPI) -> None:
    """The OpenAPI document lists every status a path answers (SPEC 4.4): besides each
    route's own, the 413 and 422 of :class:`RequestLimits` on every body, and the 401 of any
    route that takes a token."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        doc = build()
        error = {"$ref": "#/components/schemas/ErrorOut"}
        for path, methods in doc.get("paths", {}).items():
            for operation in methods.values():
                answers = operation.setdefault("responses", {})

                wanted = []
                if "requestBody" in operation:
                    wanted.append(("413", "El cuerpo pasa del límite de tamaño."))
                if "requestBody" in operation or operation.get("parameters"):
                    wanted.append(("422", "Solicitud mal formada."))
                if operation.get("security") or path.startswith(TERMINAL_PATHS):
                    wanted.append(("401", "Token faltante, desconocido o revocado."))
                for status, description in wanted:
                    answers.setdefault(
                        status,
                        {
                            "description": description,
                            "content": {"application/json": {"schema": error}},
                        },
                    )
        app.openapi_schema = doc
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


def _payment_request(body: sc.PaymentIn) -> svc.PaymentRequest:
    return svc.PaymentRequest(
        reference=body.reference,
        store_id=body.store_id,
        amount=_money(body.amount),
        cash=_money(body.cash),
        card=_money(body.card),
        paid_at=body.paid_at,
        cashier=body.cashier,
        folio=body.folio,
    )


def _head(head: sc.AuditHeadIn | None) -> svc.Head | None:
    return None if head is None else svc.Head(head.seq, head.hash)


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

    return create_app(os.environ["ISSEG_CENTRAL_DB"], clock=clock_from_env())
