"""``isseg-farmacia central``: run the central server under uvicorn."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import importlib.util
import os
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from uvicorn.protocols.http.h11_impl import H11Protocol


class NoDelay:
    """Sets TCP_NODELAY on every connection of a uvicorn HTTP protocol it is mixed into.

    asyncio only sets it on sockets whose ``proto`` is IPPROTO_TCP, and the listening
    sockets uvicorn binds for several workers have proto 0: without it each keep-alive
    response waits ~40 ms (Nagle against the client's delayed ACK).
    """

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):  # not TCP (a Unix socket): nothing to tune
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)  # type: ignore[misc]


class NoDelayH11Protocol(NoDelay, H11Protocol):
    """uvicorn's HTTP/1.1 protocol (pure Python h11) with TCP_NODELAY."""


# --http: h11 is pure Python; httptools (a C parser) is a dependency, but where it cannot be
# installed h11 still works. Measured with bench/bench_central.py: 898 payments/s with h11 and
# asyncio, 1,147/s with httptools and uvloop.
HTTP_PROTOCOLS = {
    "h11": "central.server:NoDelayH11Protocol",
    "httptools": "central.server_httptools:NoDelayHttpToolsProtocol",
}


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="isseg-farmacia central",
        description="Servidor central de referencia de Caja ISSEG (API v1).",
        epilog="Antes del primer inicio y después de cada actualización: «isseg-farmacia "
        "central migrar [--env-file ARCHIVO]» lleva la base de datos a la versión de este "
        "programa (central no la migra al iniciar).",
    )
    parser.add_argument(
        "--env-file",
        metavar="ARCHIVO",
        type=Path,
        help="Archivo NOMBRE=valor con la configuración (ISSEG_CENTRAL_DB…); lo que ya esté "
        "en el entorno tiene precedencia.",
    )
    parser.add_argument("--cert", metavar="PEM", help="Certificado TLS: sirve HTTPS.")
    parser.add_argument("--key", metavar="PEM", help="Llave privada del certificado TLS.")
    parser.add_argument("--host", default="127.0.0.1", help="Dirección de escucha.")
    parser.add_argument("--port", type=int, default=8765, help="Puerto (8765).")
    parser.add_argument("--workers", type=int, default=1, help="Procesos de trabajo (1).")
    parser.add_argument(
        "--http",
        default="httptools" if _installed("httptools") else "h11",
        choices=sorted(HTTP_PROTOCOLS),
        help="Intérprete HTTP (httptools si está instalado; si no, h11).",
    )
    parser.add_argument(
        "--loop",
        default="uvloop" if _installed("uvloop") else "asyncio",
        choices=["asyncio", "uvloop"],
        help="Ciclo de eventos (uvloop si está instalado; no existe en Windows).",
    )
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug"],
        help="Detalle de la bitácora.",
    )
    parser.add_argument(
        "--sin-bitacora-de-accesos",
        dest="access_log",
        action="store_false",
        help="No registrar cada solicitud (la bitácora de accesos está activa por omisión).",
    )
    return parser


def migrate_main(argv: list[str]) -> int:
    """``isseg-farmacia central migrar``: the one command that changes central's schema."""
    parser = argparse.ArgumentParser(
        prog="isseg-farmacia central migrar",
        description="Lleva la base de datos de central a la versión de este programa "
        "(una sola migración a la vez; las demás esperan).",
    )
    parser.add_argument("--env-file", metavar="ARCHIVO", type=Path)
    args = parser.parse_args(argv)
    from central import db as dbmod
    from central import operations

    try:
        if args.env_file:
            operations.load_env_file(args.env_file)
        db_url = operations.database_url()
        with operations.database_errors(db_url):
            before, head = dbmod.upgrade(db_url)
    except operations.SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    shown = make_url(db_url).render_as_string(hide_password=True)
    if before == head:
        print(f"La base de datos {shown} ya estaba en la revisión {head}.")
    else:
        print(f"Base de datos {shown} migrada de {before or 'vacía'} a {head}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    if argv and argv[0] == "migrar":
        return migrate_main(argv[1:])
    args = build_parser().parse_args(argv)
    import uvicorn

    from central import db as dbmod
    from central import operations
    from central.app import create_app
    from central.clock import clock_from_env

    if bool(args.cert) != bool(args.key):
        print("Para HTTPS indique --cert y --key juntos.", file=sys.stderr)
        return 2
    if args.workers < 1:
        print("--workers debe ser al menos 1.", file=sys.stderr)
        return 2
    try:
        if args.env_file:
            operations.load_env_file(args.env_file)
        db_url = operations.database_url()
        with operations.database_errors(db_url):
            dbmod.require_current(db_url)
    except (operations.SettingsError, dbmod.SchemaBehind) as exc:
        print(exc, file=sys.stderr)
        return 2
    if dbmod.is_sqlite(db_url) and args.workers > 1:
        print("Aviso: con SQLite conviene un solo proceso; use PostgreSQL.", file=sys.stderr)
    shown = make_url(db_url).render_as_string(hide_password=True)
    print(
        f"Servidor central en {'https' if args.cert else 'http'}://{args.host}:{args.port} "
        f"({args.workers} proceso(s); base de datos {shown})",
        file=sys.stderr,
        flush=True,
    )
    common = {
        "host": args.host,
        "port": args.port,
        # Levels come from log_config: uvicorn's log_level would also silence the access log.
        "log_level": None,
        "log_config": _log_config(args.log_level),
        "date_header": False,
        "timeout_graceful_shutdown": 5,
        "http": HTTP_PROTOCOLS[args.http],
        "loop": args.loop,
        **({"ssl_certfile": args.cert, "ssl_keyfile": args.key} if args.cert else {}),
        "access_log": args.access_log,
    }
    if args.workers == 1:
        uvicorn.run(create_app(db_url, clock=clock_from_env()), **common)
    else:
        os.environ["ISSEG_CENTRAL_DB"] = db_url
        # Each worker writes its metrics into this folder, new for each run (a previous
        # run's files would count again); /metrics adds them up.
        metrics_dir = tempfile.mkdtemp(prefix="isseg-central-metricas-")
        os.environ[operations.MULTIPROC_ENV] = metrics_dir
        uvicorn.run("central.app:app_from_env", factory=True, workers=args.workers, **common)
    return 0


def _log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging at ``level``, with its access log (one line per request, at INFO)
    always let through when it is on."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    for name in ("uvicorn", "uvicorn.error"):
        config["loggers"][name]["level"] = level.upper()
    config["loggers"]["uvicorn.access"]["level"] = "INFO"
    return config


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
