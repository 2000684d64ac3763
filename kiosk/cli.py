"""The ``isseg-farmacia`` console command: one subcommand per part of the product.

Each subcommand hands its own arguments to the module that implements it, imported only
when called, so ``isseg-farmacia central`` never loads Qt and ``caja`` never loads FastAPI.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# subcommand -> ("module:function", one-line help). Each function takes argv, returns a code.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "ui.demo:main",
        "Demostración: central local con datos de prueba, caja e impresora a archivo.",
    ),
    "caja": ("ui.app:main_caja", "Pantalla del cajero."),
    "kiosko": ("ui.app:main_kiosko", "Kiosko de autoservicio para afiliados."),
    "gerente": ("ui.app:main_gerente", "Pantallas del gerente: turnos, cortes y reportes."),
    "central": ("central.server:main", "Servidor central de referencia (API v1)."),
    "admin": ("kiosk.cli:admin_main", "Administración: terminales, afiliados, demo, bitácora."),
}

# admin subcommand -> "module:function"; the terminal's own tools live in local_db, the rest
# administers central.
ADMIN_LOCAL = {"verificar-bitacora": "local_db.admin:main"}
ADMIN_CENTRAL = "central.admin:main"


def _load(target: str):  # type: ignore[no-untyped-def]
    module_name, _, func = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (exc.name == module_name or module_name.startswith(exc.name + ".")):
            return None
        raise
    return getattr(module, func, None)


def _run(target: str, name: str, argv: list[str]) -> int:
    func = _load(target)
    if func is None:
        print(f"isseg-farmacia {name}: esta parte aún no está construida.", file=sys.stderr)
        return 2
    return int(func(argv) or 0)


def admin_main(argv: list[str]) -> int:
    if argv and argv[0] in ADMIN_LOCAL:
        return _run(ADMIN_LOCAL[argv[0]], "admin " + argv[0], argv)
    return _run(ADMIN_CENTRAL, "admin", argv)


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
    name, rest = args[0], args[1:]
    target = COMMANDS[name][0]
    if name == "admin":
        return admin_main(rest)
    return _run(target, name, rest)


if __name__ == "__main__":
    raise SystemExit(main())
