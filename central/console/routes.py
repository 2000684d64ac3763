"""The console's pages and actions. Every page needs a signed-in session (cookie); every
change needs the session's CSRF token (form field ``csrf`` or header ``X-CSRF-Token``) and
the role's permission, and is audited by :mod:`.actions`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from central.console import actions, exports, queries
from central.console.auth import Refused, Staff, csrf_ok, current_staff, sign_in, sign_out
from central.console.seams import Seams, alerts, policy_versions
from central.db import Database
from central.service import cases
from central.service.common import Clock
from kiosk.rules import MEXICO_CITY, Policy

HERE = Path(__file__).parent
SESSION_COOKIE = "consola"
LOGIN_COOKIE = "consola_entrada"  # double-submit token of the sign-in form
REFRESH_SECONDS = 5
REPORT_VIEWS = {"mensual": "Mensual (año y mes)", **queries.DIMENSIONS}
MAX_REPORT_DAYS = 366
# Pages are personal and change: never cached, never framed, scripts and styles only ours.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
}

templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["pesos"] = exports.pesos


def _hora(moment: datetime | None) -> str:
    """Every time on a page in Mexico City's: central keeps UTC, and a code's expiry shown
    in UTC read six hours late to the operator's trial."""
    if moment is None:
        return "—"
    if moment.tzinfo is not None:
        moment = moment.astimezone(ZoneInfo(MEXICO_CITY))
    return moment.strftime("%d/%m/%Y %H:%M")


templates.env.filters["hora"] = _hora
templates.env.filters["iso_hora"] = lambda text: datetime.fromisoformat(text).strftime(
    "%d/%m/%Y %H:%M"
)

NAV = (
    ("hoy", "Hoy", "ver"),
    ("terminales", "Terminales", "ver"),
    ("cierre", "Cierre del día", "ver"),
    ("casos", "Casos", "ver_casos"),
    ("reportes", "Reportes", "ver"),
    ("politica", "Política", "ver"),
    ("afiliados", "Afiliados", "afiliados"),
)


@dataclass
class Console:
    db: Database
    clock: Clock
    seams: Seams
    app: FastAPI

    @property
    def policy(self) -> Policy:
        # The running version: the institute may have stored a new one a moment ago.
        policy: Policy = self.app.state.policies()
        return policy

    def now(self) -> datetime:
        return self.clock()


class SignInNeeded(Exception):
    pass


def _console(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def _remote(request: Request) -> str:
    return request.client.host if request.client else ""


def _staff(request: Request) -> Staff:
    console = _console(request)
    staff = current_staff(console.db, request.cookies.get(SESSION_COOKIE), console.now())
    if staff is None:
        raise SignInNeeded()
    return staff


Who = Annotated[Staff, Depends(_staff)]


def _checked(
    request: Request, staff: Who, csrf: Annotated[str, Form(max_length=100)] = ""
) -> Staff:
    """A change: the session's CSRF token must come with it, in the form or the htmx header."""
    if not csrf_ok(staff.csrf_token, csrf or request.headers.get("x-csrf-token")):
        raise Refused(
            "La solicitud no trae el token de seguridad de su sesión; recargue la página.", 403
        )
    return staff


Changer = Annotated[Staff, Depends(_checked)]


def _require(staff: Staff, permission: str) -> None:
    if not staff.may(permission):
        raise Refused(f"Su rol ({staff.role}) no permite esta acción.", 403)


def _page(
    request: Request, template: str, staff: Staff | None, status: int = 200, **context: Any
) -> HTMLResponse:
    console = _console(request)
    nav = [(key, label) for key, label, perm in NAV if staff is not None and staff.may(perm)]
    response = templates.TemplateResponse(
        request,
        template,
        {
            "staff": staff,
            "nav": nav,
            "now": console.policy.local(console.now()),
            **context,
        },
        status_code=status,
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def _day(text: str | None, console: Console) -> date:
    if not text:
        return console.policy.local(console.now()).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Refused("La fecha debe ser AAAA-MM-DD.") from None


@dataclass(frozen=True)
class DayClose:
    day: date
    store_id: str | None
    stores: list[queries.StoreClose]


def _day_close(
    request: Request,
    _staff: Who,
    fecha: Annotated[str | None, Query(max_length=10)] = None,
    tienda: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{0,20}$")] = None,
) -> DayClose:
    """The day close a page or PDF asks for: a day (today by default), one store or all."""
    console = _console(request)
    day = _day(fecha, console)
    store_id = tienda or None
    return DayClose(day, store_id, queries.day_close(console.db, day, console.policy, store_id))


Close = Annotated[DayClose, Depends(_day_close)]


def _report_args(
    vista: Annotated[str, Query(max_length=20)] = "mensual",
    desde: Annotated[str | None, Query(max_length=10)] = None,
    hasta: Annotated[str | None, Query(max_length=10)] = None,
) -> dict[str, Any]:
    return {"vista": vista, "desde": desde, "hasta": hasta}


Args = Annotated[dict[str, Any], Depends(_report_args)]


def build_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    def home() -> RedirectResponse:
        return RedirectResponse("/consola/hoy", status_code=303)

    # --- signing in and out ------------------------------------------------------------

    @router.get("/entrar")
    def sign_in_form(request: Request) -> HTMLResponse:
        token = secrets.token_urlsafe(32)
        response = _page(request, "entrar.html", None, login_csrf=token)
        response.set_cookie(
            LOGIN_COOKIE, token, httponly=True, secure=True, samesite="strict", path="/consola"
        )
        return response

    @router.post("/entrar")
    def sign_in_post(
        request: Request,
        usuario: Annotated[str, Form(max_length=100)] = "",
        contrasena: Annotated[str, Form(max_length=200)] = "",
        csrf: Annotated[str, Form(max_length=100)] = "",
    ) -> Response:
        console = _console(request)
        if not csrf_ok(request.cookies.get(LOGIN_COOKIE, ""), csrf):
            raise Refused("El formulario caducó; vuelva a intentarlo.", 403)
        try:
            token, _ = sign_in(console.db, usuario, contrasena, console.now(), _remote(request))
        except Refused as refused:
            fresh = secrets.token_urlsafe(32)
            page = _page(request, "entrar.html", None, refused.status, login_csrf=fresh,
                         error=str(refused), usuario=usuario)  # fmt: skip
            page.set_cookie(LOGIN_COOKIE, fresh, httponly=True, secure=True, samesite="strict",
                            path="/consola")  # fmt: skip
            return page
        response = RedirectResponse("/consola/hoy", status_code=303)
        response.set_cookie(
            SESSION_COOKIE, token, httponly=True, secure=True, samesite="strict", path="/consola"
        )
        response.delete_cookie(LOGIN_COOKIE, path="/consola")
        return response

    @router.post("/salir")
    def sign_out_post(request: Request, staff: Changer) -> RedirectResponse:
        console = _console(request)
        sign_out(console.db, staff, console.now(), _remote(request))
        response = RedirectResponse("/consola/entrar", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/consola")
        return response

    # --- 1. today ----------------------------------------------------------------------

    @router.get("/hoy")
    def today_page(request: Request, staff: Who) -> HTMLResponse:
        console = _console(request)
        view = queries.today(console.db, console.now(), console.policy)
        return _page(request, "hoy.html", staff, hoy=view, refresh=REFRESH_SECONDS)

    @router.get("/hoy/tabla")
    def today_table(request: Request, staff: Who) -> HTMLResponse:
        console = _console(request)
        view = queries.today(console.db, console.now(), console.policy)
        return _page(request, "hoy_tabla.html", staff, hoy=view, refresh=REFRESH_SECONDS)

    # --- 2. terminals ------------------------------------------------------------------

    def terminals_page(request: Request, staff: Staff, **extra: Any) -> HTMLResponse:
        console = _console(request)
        rows = queries.terminals(console.db)
        health = console.seams.terminal_health(console.db, [r["terminal_id"] for r in rows])
        now = console.now()
        for row in rows:
            row["health"] = health.get(row["terminal_id"])
            row["alerts"] = [] if row["revoked_at"] else alerts(row["health"], now, console.policy)
        codes = queries.enrollment_codes(console.db, now)
        return _page(request, "terminales.html", staff, terminales=rows, codigos=codes, **extra)

    @router.get("/terminales")
    def terminals_get(request: Request, staff: Who) -> HTMLResponse:
        return terminals_page(request, staff)

    @router.post("/terminales/{terminal_id}/revocar")
    def revoke(request: Request, staff: Changer, terminal_id: int) -> HTMLResponse:
        _require(staff, "revocar_terminal")
        console = _console(request)
        name = actions.revoke_terminal(
            console.db, staff, terminal_id, console.now(), _remote(request)
        )
        return terminals_page(request, staff, aviso=f"Terminal {name} revocada.")

    @router.post("/terminales/codigos")
    def new_code(
        request: Request,
        staff: Changer,
        tienda: Annotated[str, Form(min_length=1, max_length=20)],
        nombre: Annotated[str, Form(min_length=1, max_length=100)],
        tipo: Annotated[str, Form(pattern="^(caja|kiosko)$")],
    ) -> HTMLResponse:
        _require(staff, "codigos_alta")
        console = _console(request)
        code = actions.issue_enrollment_code(
            console.db, staff, tienda, nombre, tipo, console.now(), _remote(request)
        )
        return terminals_page(
            request, staff, aviso=f"Código de alta para {tienda} {nombre}: {code}"
        )

    # --- 3. the store's day close ------------------------------------------------------

    @router.get("/cierre")
    def day_close_page(request: Request, staff: Who, close: Close) -> HTMLResponse:
        return _page(request, "cierre.html", staff, fecha=close.day, tienda=close.store_id,
                     tiendas=close.stores)  # fmt: skip

    @router.get("/cierre.pdf")
    def day_close_pdf(request: Request, staff: Who, close: Close) -> Response:
        console = _console(request)
        if not close.stores:
            raise Refused("No hay cajas de esa farmacia.", 404)
        printed = console.policy.local(console.now()).strftime("%d/%m/%Y %H:%M")
        one = f", farmacia {close.store_id}" if close.store_id else ""
        body = exports.day_close_pdf(close.stores, f"Cierre del día {close.day:%d/%m/%Y}{one}",
                                     f"Impreso el {printed} por {staff.name}")  # fmt: skip
        name = f"cierre-{close.day.isoformat()}{'-' + close.store_id if close.store_id else ''}"
        return Response(
            body,
            media_type="application/pdf",
            headers={**SECURITY_HEADERS, "Content-Disposition": f'inline; filename="{name}.pdf"'},
        )

    # --- 4. cases ----------------------------------------------------------------------

    def cases_page(request: Request, staff: Staff, status: int = 200, **extra: Any) -> HTMLResponse:
        console = _console(request)
        items = cases.list_cases(console.db, console.policy)
        items.sort(key=lambda c: (c["resolved"], c["case_id"]))
        return _page(request, "casos.html", staff, status, casos=items, tipos=cases.KIND_LABELS,
                     acciones=actions.CASE_ACTIONS, **extra)  # fmt: skip

    @router.get("/casos")
    def cases_get(request: Request, staff: Who) -> HTMLResponse:
        _require(staff, "ver_casos")
        return cases_page(request, staff)

    @router.post("/casos/{case_id}/resolver")
    def resolve(
        request: Request,
        staff: Changer,
        case_id: int,
        accion: Annotated[str, Form(max_length=20)],
        motivo: Annotated[str, Form(max_length=actions.MAX_REASON)] = "",
    ) -> HTMLResponse:
        _require(staff, "resolver_caso")
        console = _console(request)
        actions.resolve_case(console.db, console.policy, staff, case_id, accion, motivo,
                             console.now(), _remote(request))  # fmt: skip
        label = actions.CASE_ACTIONS[accion].lower()
        return cases_page(request, staff, aviso=f"Caso {case_id}: {label}, motivo registrado.")

    # --- 5. reports --------------------------------------------------------------------

    def report_of(console: Console, vista: str, desde: str | None, hasta: str | None) -> Any:
        if vista not in REPORT_VIEWS:
            raise Refused("Ese reporte no existe.", 404)
        if vista == "mensual":
            return queries.monthly(console.db, console.policy), None, None
        until = _day(hasta, console)
        since = _day(desde, console) if desde else until.replace(day=1)
        if since > until or (until - since) > timedelta(days=MAX_REPORT_DAYS):
            raise Refused(
                f"El periodo va de «desde» a «hasta», de a lo más {MAX_REPORT_DAYS} días."
            )
        report = queries.breakdown(
            console.db, vista, since, until, console.policy, console.seams.channel
        )
        return report, since, until

    @router.get("/reportes")
    def reports_page(request: Request, staff: Who, args: Args) -> HTMLResponse:
        console = _console(request)
        report, since, until = report_of(console, **args)
        return _page(request, "reportes.html", staff, reporte=report, vista=args["vista"],
                     vistas=REPORT_VIEWS, desde=since, hasta=until,
                     grafica=exports.bar_chart(_chart_rows(report), report.title),
                     query=request.url.query)  # fmt: skip

    @router.get("/reportes.csv")
    def report_csv(request: Request, _staff: Who, args: Args) -> Response:
        report, *_ = report_of(_console(request), **args)
        return _download(exports.report_csv(report), "text/csv; charset=utf-8", args, "csv")

    @router.get("/reportes.xlsx")
    def report_xlsx(request: Request, _staff: Who, args: Args) -> Response:
        report, *_ = report_of(_console(request), **args)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return _download(exports.report_xlsx(report), media, args, "xlsx")

    # --- 6. policy ---------------------------------------------------------------------

    def policy_page(request: Request, staff: Staff, **extra: Any) -> HTMLResponse:
        console = _console(request)
        return _page(request, "politica.html", staff, politica=console.policy,
                     historia=policy_versions(console.db, console.policy), **extra)  # fmt: skip

    @router.get("/politica")
    def policy_get(request: Request, staff: Who) -> HTMLResponse:
        return policy_page(request, staff)

    @router.post("/politica")
    async def policy_post(request: Request, staff: Changer) -> HTMLResponse:
        _require(staff, "cambiar_politica")
        console = _console(request)
        form = await request.form(max_files=0, max_fields=30)
        values = {k: str(v)[:2000] for k, v in form.items() if k != "csrf"}
        policy = actions.change_policy(console.db, staff, values, console.now(), console.policy,
                                       _remote(request))  # fmt: skip
        console.app.state.policies.refresh()
        return policy_page(request, staff, aviso=f"Política versión {policy.version} vigente.")

    # --- 7. affiliates -----------------------------------------------------------------

    @router.get("/afiliados")
    def members_page(
        request: Request, staff: Who, q: Annotated[str, Query(max_length=100)] = ""
    ) -> HTMLResponse:
        _require(staff, "afiliados")
        found = queries.search_members(_console(request).db, q)
        template = "afiliados_lista.html" if request.headers.get("hx-request") else "afiliados.html"
        return _page(request, template, staff, q=q, afiliados=found)

    def member_page(request: Request, staff: Staff, number: str, **extra: Any) -> HTMLResponse:
        console = _console(request)
        detail = queries.member_detail(console.db, number, console.policy)
        if detail is None:
            raise Refused("No existe ese afiliado.", 404)
        locked = detail["locked_until"] is not None and detail["locked_until"] > console.now()
        return _page(request, "afiliado.html", staff, a=detail, bloqueado=locked, **extra)

    @router.get("/afiliados/{number}")
    def member_get(request: Request, staff: Who, number: str) -> HTMLResponse:
        _require(staff, "afiliados")
        return member_page(request, staff, number[:20])

    @router.post("/afiliados/{number}/nip")
    def member_nip(request: Request, staff: Changer, number: str) -> HTMLResponse:
        _require(staff, "restablecer_nip")
        console = _console(request)
        to = actions.reset_nip(console.db, console.seams, staff, number[:20], console.now(),
                               _remote(request))  # fmt: skip
        return member_page(request, staff, number[:20], aviso=f"NIP nuevo enviado a {to}.")

    @router.post("/afiliados/{number}/desbloquear")
    def member_unlock(request: Request, staff: Changer, number: str) -> HTMLResponse:
        _require(staff, "desbloquear")
        console = _console(request)
        actions.unlock_member(console.db, staff, number[:20], console.now(), _remote(request))
        return member_page(request, staff, number[:20], aviso="Afiliado desbloqueado.")

    return router


def _chart_rows(report: queries.Report) -> list[queries.Row]:
    """One bar per row; in the monthly table, one per month ("ene 2019"), not per year."""
    if not report.nested:
        return report.rows
    year, bars = "", []
    for row in report.rows:
        if row.level == 0:
            year = row.label
        else:
            bars.append(queries.Row(f"{row.label[:3]} {year}", row.total, row.count))
    return bars


def _download(body: bytes, media: str, args: dict[str, Any], ext: str) -> Response:
    name = f"reporte-{args['vista']}.{ext}"
    return Response(
        body,
        media_type=media,
        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )


def install(app: FastAPI, seams: Seams | None = None) -> None:
    """Serve the console at /consola/ over the app's database, clock and policy."""
    app.state.console = Console(app.state.db, app.state.clock, seams or Seams(), app)
    app.include_router(build_router(), prefix="/consola")
    app.mount("/consola/static", StaticFiles(directory=HERE / "static"), name="consola-static")

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, _exc: SignInNeeded) -> Response:
        if request.headers.get("hx-request"):
            # htmx follows HX-Redirect with a full page load.
            return Response(status_code=401, headers={"HX-Redirect": "/consola/entrar"})
        return RedirectResponse("/consola/entrar", status_code=303)

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> Response:
        console: Console = request.app.state.console
        token = request.cookies.get(SESSION_COOKIE)
        staff = await run_in_threadpool(current_staff, console.db, token, console.now())
        return _page(request, "aviso.html", staff, exc.status, mensaje=str(exc))
