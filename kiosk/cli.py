"""The ``isseg-farmacia`` console command: one subcommand per part of the product.

Each subcommand hands its own arguments to the module that implements it, imported only
when called, so ``isseg-farmacia central`` never loads Qt and ``caja`` never loads FastAPI.
The imports are plain ``import`` statements inside small functions (not importlib), so that
PyInstaller sees every part and puts it in the bundle.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from collections.abc import Callable, Sequence


def _demo(argv: list[str]) -> int:
    from ui.demo import main as run

    return run(argv)


def _caja(argv: list[str]) -> int:
    from ui.app import main_caja

    return main_caja(argv)


def _kiosko(argv: list[str]) -> int:
    from ui.app import main_kiosko

    return main_kiosko(argv)


def _gerente(argv: list[str]) -> int:
    from ui.app import main_gerente

    return main_gerente(argv)


def _central(argv: list[str]) -> int:
    from central.server import main as run

    return run(argv)


def _enrolar(argv: list[str]) -> int:
    from sync.enrollment import main as run

    return run(argv)


def _diagnostico(argv: list[str]) -> int:
    from sync.diagnostics import main as run

    return run(argv)


def admin_main(argv: list[str]) -> int:
    # The terminal's own tools live in local_db; the rest administers central.
    if argv and argv[0] == "verificar-bitacora":
        from local_db.admin import main as local_admin

        return local_admin(argv)
    from central.admin import main as central_admin

    return central_admin(argv)


# subcommand -> (function, one-line help). Each function takes argv and returns a code.
COMMANDS: dict[str, tuple[Callable[[list[str]], int], str]] = {
    "demo": (
        _demo,
        "Demostración: central local con datos de prueba, caja e impresora a archivo.",
    ),
    "caja": (_caja, "Pantalla del cajero."),
    "kiosko": (_kiosko, "Kiosko de autoservicio para afiliados."),
    "gerente": (_gerente, "Pantallas del gerente: turnos, cortes y reportes."),
    "enrolar": (_enrolar, "Da de alta esta terminal en central con un código de un solo uso."),
    "diagnostico": (
        _diagnostico,
        "Revisa la caja: base de datos, impresora, central, token, reloj y pendientes.",
    ),
    "central": (_central, "Servidor central de referencia (API v1)."),
    "admin": (admin_main, "Administración: terminales, afiliados, demo, bitácora."),
}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="isseg-farmacia",
        description="Caja ISSEG: cobro de préstamos ISSEG en farmacias.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMANDO")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    if not args or args[0] not in COMMANDS:
        parser.parse_args(args or ["--help"])
        return 2
    return int(COMMANDS[args[0]][0](args[1:]) or 0)


if __name__ == "__main__":
    # A frozen bundle starts its worker processes by running this executable again:
    # freeze_support() turns such a start into the worker instead of a second command line.
    multiprocessing.freeze_support()
    raise SystemExit(main())
