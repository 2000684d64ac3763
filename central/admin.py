"""``isseg-farmacia admin``: central's administration command line.

The CSV formats of ``importar-afiliados`` and ``importar-prestamos`` are in
:data:`central.imports.FORMATS` (shown by ``--help``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from central import admin_institute, imports, operations
from central import db as dbmod
from central import service as svc
from central.models import Terminal
from kiosk.rules import Policy


def _open_db(url: str | None) -> dbmod.Database:
    """Central's database, migrated already: administration never changes the schema."""
    db_url = operations.database_url(explicit=url)
    with operations.database_errors(db_url):
        dbmod.require_current(db_url)
        return dbmod.Database(db_url)


def _import(args: argparse.Namespace, db: dbmod.Database) -> int:
    members = args.command == "importar-afiliados"
    what = "Afiliados" if members else "Préstamos"
    try:
        if members:
            csv_file = imports.read(args.csv, imports.MEMBER_COLUMNS, imports.MEMBER_COLUMNS)
            member_lines, errors = imports.check_members(db, csv_file)
            count = len(member_lines)
        else:
            csv_file = imports.read(args.csv, imports.REQUIRED_LOAN_COLUMNS, imports.LOAN_COLUMNS)
            loan_lines, errors = imports.check_loans(db, csv_file)
            count = len(loan_lines)
    except imports.RowError as exc:
        print(f"{args.csv}: {exc}. No se cargó nada.", file=sys.stderr)
        return 1
    shape = f"{csv_file.encoding}, separado por «{csv_file.delimiter}»"
    if errors:
        for error in errors:
            print(error, file=sys.stderr)
        print(f"{what}: {len(errors)} línea(s) con error ({shape}). No se cargó nada.")
        return 1
    if args.validar:
        print(f"{what}: {count} línea(s) correctas ({shape}); no se cargó nada (--validar).")
        return 0
    new, updated = (
        imports.load_members(db, member_lines) if members else imports.load_loans(db, loan_lines)
    )
    print(f"{what}: {new} nuevos, {updated} actualizados ({shape}).")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="isseg-farmacia admin", description="Administración del servidor central."
    )
    db_help = (
        "Base de datos de central; mejor en ISSEG_CENTRAL_DB (o --env-file), para que la "
        "clave no quede en la lista de procesos."
    )
    parser.add_argument("--db", metavar="URL", help=db_help)
    parser.add_argument(
        "--env-file",
        metavar="ARCHIVO",
        type=Path,
        help="Archivo NOMBRE=valor con ISSEG_CENTRAL_DB.",
    )
    # --db and --env-file are accepted before or after the subcommand (as central migrar
    # takes --env-file after "migrar"): SUPPRESS keeps the subcommand from resetting a value
    # given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="URL", help=db_help, default=argparse.SUPPRESS)
    common.add_argument(
        "--env-file",
        metavar="ARCHIVO",
        type=Path,
        default=argparse.SUPPRESS,
        help="Archivo NOMBRE=valor con ISSEG_CENTRAL_DB.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="SUBCOMANDO")

    p = sub.add_parser(
        "enrolar", parents=[common], help="Da de alta una terminal e imprime su token (una vez)."
    )
    p.add_argument("--tienda", required=True, help="Clave de la farmacia, p. ej. F001.")
    p.add_argument("--nombre", required=True, help="Nombre de la terminal, p. ej. «Caja 1».")
    p.add_argument("--tipo", choices=svc.TERMINAL_KINDS, default="caja")
    p.add_argument("--nombre-tienda", help="Nombre de la farmacia (si es nueva).")
    p.add_argument("--json", action="store_true", help="Salida en JSON.")
    p.add_argument(
        "--reactivar",
        action="store_true",
        help="vuelve a dar de alta una terminal revocada (con un token nuevo)",
    )

    p = sub.add_parser(
        "codigo-de-alta",
        parents=[common],
        help="Código de un solo uso (24 h) para dar de alta una terminal con «enrolar».",
    )
    p.add_argument("--tienda", required=True, help="Clave de la farmacia, p. ej. F001.")
    p.add_argument("--nombre", required=True, help="Nombre de la terminal, p. ej. «Caja 1».")
    p.add_argument("--tipo", choices=svc.TERMINAL_KINDS, default="caja")
    p.add_argument("--nombre-tienda", help="Nombre de la farmacia (si es nueva).")

    p = sub.add_parser("revocar", parents=[common], help="Revoca el token de una terminal.")
    p.add_argument("terminal_id", type=int, help="Número de terminal.")

    sub.add_parser("terminales", parents=[common], help="Lista las terminales.")

    for name, what in (("importar-afiliados", "afiliados"), ("importar-prestamos", "préstamos")):
        p = sub.add_parser(
            name,
            parents=[common],
            help=f"Importa {what} de un CSV (todo o nada).",
            epilog=imports.FORMATS,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("csv", type=Path)
        p.add_argument("--validar", action="store_true", help="Solo revisa el archivo.")

    p = sub.add_parser("seed-demo", parents=[common], help="Carga datos de demostración.")
    p.add_argument("--json", action="store_true", help="Imprime todo lo creado en JSON.")

    p = sub.add_parser(
        "conciliacion", parents=[common], help="Lista los cobros rechazados por conciliar."
    )
    p.add_argument("--json", action="store_true", help="Salida en JSON.")

    p = sub.add_parser(
        "usuario-consola",
        parents=[common],
        help="Da de alta a una persona del instituto en la consola web (/consola/).",
        description="La contraseña se pide sin eco, o se lee de la entrada estándar con "
        "--contrasena-stdin (nunca en la línea de órdenes).",
    )
    p.add_argument("--usuario", required=True, help="Nombre de usuario, p. ej. mlopez.")
    p.add_argument("--nombre", required=True, help="Nombre de la persona.")
    p.add_argument("--rol", required=True, choices=("operador", "finanzas", "soporte"))
    p.add_argument("--contrasena-stdin", action="store_true", help="Lee la contraseña de stdin.")
    admin_institute.add_parsers(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "usuario-consola" and not args.contrasena_stdin and not _interactive():
        # getpass would fail with EOFError (a traceback) or read the password with echo.
        print(
            "La contraseña no se puede pedir sin una terminal interactiva: para leerla de la "
            "entrada estándar (una tubería o un archivo) agregue --contrasena-stdin.",
            file=sys.stderr,
        )
        return 2
    try:
        if args.env_file:
            operations.load_env_file(args.env_file)
        db = _open_db(args.db)
    except (operations.SettingsError, dbmod.SchemaBehind) as exc:
        print(exc, file=sys.stderr)
        return 2
    policy = Policy(version=1)
    now = svc.utcnow()
    try:
        return _run(args, db, policy, now)
    finally:
        db.dispose()


def _run(args: argparse.Namespace, db: dbmod.Database, policy: Policy, now: Any) -> int:
    if args.command == "enrolar":
        try:
            with db.write() as s:
                terminal, token = svc.enroll_terminal(
                    s,
                    args.tienda,
                    args.nombre,
                    args.tipo,
                    now,
                    args.nombre_tienda,
                    reactivate=args.reactivar,
                )
                terminal_id = terminal.terminal_id
        except svc.ApiError as exc:
            print(exc.message, file=sys.stderr)
            return 1
        if args.json:
            print(json.dumps({"terminal_id": terminal_id, "store_id": args.tienda,
                              "name": args.nombre, "kind": args.tipo, "token": token},
                             ensure_ascii=False))  # fmt: skip
        else:
            print(f"Terminal {terminal_id} «{args.nombre}» ({args.tipo}) de la tienda "
                  f"{args.tienda} enrolada.")  # fmt: skip
            print(f"Token (se muestra una sola vez, guárdelo en la terminal): {token}")
        return 0
    if args.command == "codigo-de-alta":
        from central.enrollment import new_code

        try:
            with db.write() as s:
                code, expires = new_code(
                    s, args.tienda, args.nombre, args.tipo, now, args.nombre_tienda
                )
        except svc.ApiError as exc:
            print(_store_hint(exc, args.tienda), file=sys.stderr)
            return 1
        print(
            f"Código de alta para «{args.nombre}» ({args.tipo}) de la tienda {args.tienda}: {code}"
        )
        print(
            f"Vence el {policy.local(expires):%d/%m/%Y a las %H:%M}; sirve una sola vez. En la "
            f"terminal: isseg-farmacia enrolar --central https://… --codigo {code}"
        )
        return 0
    if args.command == "revocar":
        with db.write() as s:
            found = s.get(Terminal, args.terminal_id)
            if found is None:
                print(f"No existe la terminal {args.terminal_id}.", file=sys.stderr)
                return 1
            found.revoked_at = now
        print(
            f"Token de la terminal {args.terminal_id} revocado; el servidor lo rechaza a más "
            f"tardar en {svc.AUTH_CACHE_TTL:g} s (caché de tokens)."
        )
        return 0
    if args.command == "terminales":
        with db.read() as s:
            rows = list(s.query(Terminal).order_by(Terminal.terminal_id))
            if not rows:
                print("No hay terminales dadas de alta (isseg-farmacia admin codigo-de-alta).")
                return 0
            print("Número\tTienda\tTipo\tNombre\tEstado")
            for t in rows:
                state = "revocada" if t.revoked_at else "activa"
                print(f"{t.terminal_id}\t{t.store_id}\t{t.kind}\t{t.name}\t{state}")
        return 0
    if args.command in ("importar-afiliados", "importar-prestamos"):
        if not args.csv.is_file():
            print(f"No existe el archivo {args.csv}.", file=sys.stderr)
            return 2
        return _import(args, db)
    if args.command == "seed-demo":
        from central.demo import NotADemoDatabase, seed_demo

        try:
            data = seed_demo(db, now, policy)
        except NotADemoDatabase as exc:
            print(str(exc), file=sys.stderr)
            return 1
        data["db_url"] = make_url(db.url).render_as_string(hide_password=True)
        if args.json:
            print(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            print("Datos de demostración cargados.")
            for t in data["terminals"]:
                print(f"  {t['store_id']} {t['name']} ({t['kind']}): token {t['token']}")
            for m in data["members"]:
                print(f"  Afiliado {m['number']} {m['name']}: NIP {m['nip']}")
            for r in data["references"]:
                print(f"  Referencia {r['reference']} por ${r['amount']} ({r['concept']})")
        return 0
    if args.command == "conciliacion":
        items = svc.list_cases(db, policy)
        if args.json:
            print(json.dumps(items, ensure_ascii=False, indent=2))
        elif not items:
            print("No hay cobros por conciliar.")
        else:
            for i in items:
                print(f"{i['case_id']}\t{i['paid_at']}\t{i['store_id']}\t"
                      f"{i['reference']}\t${i['amount']}\t{i['reason_code']}\t{i['message']}")  # fmt: skip
        return 0
    if args.command == "usuario-consola":
        return _console_user(args, db, now)
    if args.command in admin_institute.COMMANDS:
        return admin_institute.run(args, db, policy, now)
    raise AssertionError(args.command)


def _interactive() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):  # stdin closed or replaced by something without it
        return False


def _store_hint(exc: svc.ApiError, store_id: str) -> str:
    """On the command line, a new store is created by naming it: say so with the flag."""
    if exc.code != "TIENDA_DESCONOCIDA":
        return exc.message
    return (
        f"La tienda {store_id} no existe. Para crearla con esta terminal, agregue su nombre: "
        f'--nombre-tienda "Farmacia ISSEG …"'
    )


def _console_user(args: argparse.Namespace, db: dbmod.Database, now: Any) -> int:
    from central.console.auth import Refused, create_user

    if args.contrasena_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        import getpass

        try:
            password = getpass.getpass("Contraseña: ")
            again = getpass.getpass("Repita la contraseña: ")
        except (EOFError, KeyboardInterrupt):
            print("\nNo se dio de alta a nadie.", file=sys.stderr)
            return 1
        if again != password:
            print("Las contraseñas no coinciden.", file=sys.stderr)
            return 1
    try:
        user_id = create_user(db, args.usuario, args.nombre, args.rol, password, now)
    except Refused as refused:
        print(refused, file=sys.stderr)
        return 1
    print(f"Usuario {args.usuario} ({args.rol}) dado de alta con el número {user_id}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
