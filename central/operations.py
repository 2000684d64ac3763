"""Running central in a data centre: where its settings come from, liveness and readiness,
and Prometheus metrics.

Settings come from the environment, optionally loaded from an environment file (the same
``KEY=VALUE`` file systemd's ``EnvironmentFile=`` reads), so the database password never
appears on a command line. Metrics work with several uvicorn workers: each process writes
its figures to files in ``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` adds them up.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select, text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from central import db as dbmod

DB_ENV = "ISSEG_CENTRAL_DB"
DB_FILE_ENV = "ISSEG_CENTRAL_DB_FILE"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
NO_DATABASE = (
    "Falta la base de datos de central: defina ISSEG_CENTRAL_DB en el entorno o en un "
    "archivo de entorno (--env-file /etc/isseg/central.env), por ejemplo "
    "ISSEG_CENTRAL_DB=postgresql+psycopg://isseg:CLAVE@127.0.0.1:5432/isseg"
)


log = logging.getLogger(__name__)


class SettingsError(ValueError):
    """A setting is missing or wrong; ``str()`` says what to fix, in Spanish."""


def load_env_file(path: Path, environ: MutableMapping[str, str] = os.environ) -> None:
    """Read ``KEY=VALUE`` lines (``#`` comments, optional quotes) into ``environ``. A variable
    already set in the real environment wins, as it would under systemd."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SettingsError(
            f"No se pudo leer el archivo de entorno {path}: {exc.strerror}."
        ) from None
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key.isidentifier():
            raise SettingsError(f"{path}, línea {number}: se esperaba NOMBRE=valor.")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        environ.setdefault(key, value)


def database_url(environ: Mapping[str, str] = os.environ, explicit: str | None = None) -> str:
    """Central's database: given explicitly or in ISSEG_CENTRAL_DB; never a silent default
    (a new empty database would answer "ok" and refuse every terminal)."""
    url = explicit or environ.get(DB_ENV, "").strip()
    if not url and environ.get(DB_FILE_ENV):
        # A file only central's user reads: the password stays out of the environment too.
        lines = Path(environ[DB_FILE_ENV]).read_text(encoding="utf-8").splitlines()
        url = lines[0].strip() if lines else ""
    if not url:
        raise SettingsError(NO_DATABASE)
    return normalise_url(url)


def normalise_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` (what PostgreSQL's own tools and most hosting
    panels print) mean PostgreSQL through psycopg, the driver this program ships."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: show its scheme only, never a password
        return url.split(":", 1)[0] + "://…"


def database_problem(url: str, exc: BaseException) -> str:
    """One Spanish line on why central could not use its database (the detail is logged)."""
    from sqlalchemy import exc as sa_exc

    shown = _shown(url)
    detail = str(getattr(exc, "orig", None) or exc).lower()
    if isinstance(exc, (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, ImportError)):
        return (
            f"La dirección de la base de datos no es válida ({shown}): use "
            "postgresql+psycopg://usuario:clave@servidor:5432/base o sqlite:///ruta."
        )
    if any(w in detail for w in ("password authentication", "no password supplied", "role")):
        reason = "el usuario o la contraseña no son correctos"
    elif "does not exist" in detail and "database" in detail:
        reason = "esa base de datos no existe en el servidor"
    elif "unable to open database file" in detail:
        reason = "no se puede abrir el archivo (¿existe la carpeta? ¿tiene permiso?)"
    elif any(w in detail for w in ("connection refused", "could not translate", "timeout",
                                   "timed out", "no route", "name or service")):  # fmt: skip
        reason = "el servidor de la base de datos no responde (¿dirección y puerto? ¿encendido?)"
    else:
        reason = "la base de datos rechazó la conexión"
    return (
        f"No se pudo usar la base de datos de central {shown}: {reason}. Revise ISSEG_CENTRAL_DB."
    )


@contextlib.contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Turn a database failure while opening into a ``SettingsError`` with one Spanish
    line; the driver's own words go to the log for whoever fixes it, not a traceback."""
    from sqlalchemy import exc as sa_exc

    try:
        yield
    except (sa_exc.SQLAlchemyError, ImportError) as exc:
        detail = " ".join(str(getattr(exc, "orig", None) or exc).split())
        log.error("base de datos %s: %s: %s", _shown(url), type(exc).__name__, detail[:500])
        raise SettingsError(database_problem(url, exc)) from None


# --- metrics ---------------------------------------------------------------------------------


class Metrics:
    """Central's Prometheus figures. Built once per process, after PROMETHEUS_MULTIPROC_DIR
    is set (prometheus_client reads it at import)."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        self.requests = Histogram(
            "isseg_central_request_seconds",
            "Tiempo de respuesta por ruta y código HTTP.",
            ["method", "route", "status"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.payments = Counter(
            "isseg_central_payments",
            "Cobros recibidos por resultado (aplicado, repetido, rechazado…).",
            ["result"],
        )
        self.pool_in_use = Gauge(
            "isseg_central_db_pool_in_use",
            "Conexiones a la base de datos en uso (suma de los procesos).",
            multiprocess_mode="livesum",
        )
        self.pool_size = Gauge(
            "isseg_central_db_pool_size",
            "Conexiones abiertas en el pool (suma de los procesos).",
            multiprocess_mode="livesum",
        )
        self.feed_unsequenced = Gauge(
            "isseg_central_feed_lag_rows",
            "Referencias cambiadas que aún no tienen número en el feed.",
            multiprocess_mode="mostrecent",
        )


PAYMENT_RESULTS = {200: "repetido", 201: "aplicado", 409: "conflicto", 422: "rechazado"}


def payment_result(status: int) -> str:
    return PAYMENT_RESULTS.get(status, "autorizacion" if status in (401, 403) else "error")


class MetricsMiddleware:
    """Times every request by its route template (not its raw path, which would make one
    series per referencia) and counts payments by result."""

    def __init__(self, app: ASGIApp, metrics: Metrics, database: dbmod.Database) -> None:
        self.app = app
        self.metrics = metrics
        self.database = database

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route = getattr(scope.get("route"), "path", None) or scope["path"]
            if scope.get("route") is None and scope["path"] != "/v1/payments":
                route = "otra"  # unknown paths must not each make a series
            self.metrics.requests.labels(scope["method"], route, str(status)).observe(
                time.perf_counter() - started
            )
            if scope["method"] == "POST" and scope["path"] == "/v1/payments":
                self.metrics.payments.labels(payment_result(status)).inc()
            pool: Any = self.database.write_engine.pool
            if hasattr(pool, "checkedout"):
                self.metrics.pool_in_use.set(pool.checkedout())
                self.metrics.pool_size.set(pool.size())


def metrics_body(metrics: Metrics, database: dbmod.Database) -> tuple[bytes, str]:
    """The text exposition of every worker's figures (or this process's, with one worker)."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client import REGISTRY as default_registry

    from central.models import ReferenceRow

    with database.read() as s:
        pending = s.scalar(
            select(func.count()).select_from(ReferenceRow).where(ReferenceRow.change_seq.is_(None))
        )
    metrics.feed_unsequenced.set(pending or 0)
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(default_registry), CONTENT_TYPE_LATEST


_metrics: Metrics | None = None


def process_metrics() -> Metrics:
    """One set per process: prometheus_client refuses a second metric of the same name."""
    global _metrics
    if _metrics is None:
        _metrics = Metrics()
    return _metrics


def ready(database: dbmod.Database) -> tuple[bool, str]:
    """Ready to take traffic: the database answers and its schema is this code's."""
    try:
        with database.read() as s:
            s.execute(text("SELECT 1"))
    except Exception:  # any database failure means not ready; the reason is in the answer
        return False, "la base de datos no responde"
    try:
        dbmod.require_current(database.url)
    except dbmod.SchemaBehind as exc:
        return False, str(exc)
    return True, "listo"


def install(app: Any, database: dbmod.Database) -> None:
    """Liveness, readiness and /metrics on central's app, and the metrics middleware."""
    metrics = process_metrics()
    app.add_middleware(MetricsMiddleware, metrics=metrics, database=database)

    @app.get("/v1/health/live", tags=["operación"])
    def live() -> JSONResponse:
        """El proceso responde (no consulta la base de datos)."""
        return JSONResponse({"status": "ok"})

    @app.get("/v1/health/ready", tags=["operación"])
    def ready_route() -> JSONResponse:
        """Listo para recibir tráfico: la base de datos responde y su esquema es el de este
        programa (503 con el motivo si no)."""
        ok, reason = ready(database)
        return JSONResponse(
            {"status": "ok" if ok else "no-listo", "detail": reason}, status_code=200 if ok else 503
        )

    @app.get("/metrics", include_in_schema=False)
    def metrics_route() -> Response:
        body, content_type = metrics_body(metrics, database)
        return Response(body, media_type=content_type)
