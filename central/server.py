"""``isseg-farmacia central``: run the central server under uvicorn."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import os
import socket
import sys

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
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="Base de datos sin contraseña (sqlite:///ruta.sqlite). Una con contraseña va en "
        "ISSEG_CENTRAL_DB o en un archivo (ISSEG_CENTRAL_DB_FILE). Por omisión, "
        "central.sqlite en la carpeta de datos.",
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import uvicorn

    from central import db as dbmod
    from central.app import create_app
    from central.clock import clock_from_env

    try:
        db_url = dbmod.configured_db_url(args.db)
    except dbmod.SecretOnCommandLine as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if bool(args.cert) != bool(args.key):
        print("Para HTTPS indique --cert y --key juntos.", file=sys.stderr)
        return 2
    if args.workers < 1:
        print("--workers debe ser al menos 1.", file=sys.stderr)
        return 2
    if dbmod.is_sqlite(db_url) and args.workers > 1:
        print("Aviso: con SQLite conviene un solo proceso; use PostgreSQL.", file=sys.stderr)
    dbmod.upgrade(db_url)  # once, before any worker starts
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
        "log_level": args.log_level,
        "date_header": False,
        "timeout_graceful_shutdown": 5,
        "http": HTTP_PROTOCOLS[args.http],
        "loop": args.loop,
        **({"ssl_certfile": args.cert, "ssl_keyfile": args.key} if args.cert else {}),
    }
    if args.workers == 1:
        uvicorn.run(create_app(db_url, clock=clock_from_env(), migrate=False), **common)
    else:
        os.environ["ISSEG_CENTRAL_DB"] = db_url
        uvicorn.run("central.app:app_from_env", factory=True, workers=args.workers, **common)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
