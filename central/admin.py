"""``isseg-farmacia admin``: central's administration command line.

CSV formats (UTF-8, comma-separated, first line is the header):

* afiliados: ``numero,nombre,nip`` — numero of 1–20 digits, nip of 4–6 digits. An existing
  affiliate is updated (name, and NIP when given).
* préstamos: ``prestamo,afiliado,tipo,monto,tasa_anual,quincenas,primer_vencimiento,pagadas,
  en_nomina,abonos`` — tipo (PERSONAL por omisión), monto in pesos, tasa_anual such as 0.16,
  quincenas the term, primer_vencimiento YYYY-MM-DD, pagadas/en_nomina how many quincenas are
  already paid / generated in payroll (0 por omisión), abonos the prepayments so far (0).
  The installments come from the institute's amortization (kiosk.loans). An existing loan
  id is refused.

Each row is imported in its own transaction: a bad row is reported by its line number and
skipped, and no row is ever half-imported.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from central import admin_institute
from central import db as dbmod
from central import service as svc
from central.models import LoanRow, Member, Terminal
from kiosk import loans as loanlib
from kiosk import money
from kiosk.rules import Policy

MEMBER_COLUMNS = ("numero", "nombre", "nip")
LOAN_COLUMNS = (
    "prestamo", "afiliado", "tipo", "monto", "tasa_anual", "quincenas",
    "primer_vencimiento", "pagadas", "en_nomina", "abonos",
)  # fmt: skip
REQUIRED_LOAN_COLUMNS = ("prestamo", "afiliado", "monto", "tasa_anual", "quincenas",
                         "primer_vencimiento")  # fmt: skip


class RowError(ValueError):
    """A bad CSV row; ``str()`` says why, in Spanish."""


def _open_db(url: str | None) -> dbmod.Database:
    db_url = url or dbmod.default_db_url()
    dbmod.upgrade(db_url)
    return dbmod.Database(db_url)


def _int(value: str, what: str, default: int | None = None) -> int:
    value = (value or "").strip()
    if not value and default is not None:
        return default
    if not re.fullmatch(r"\d{1,6}", value):
        raise RowError(f"{what} debe ser un número entero: «{value}»")
    return int(value)


def _money(value: str, what: str, default: Decimal | None = None) -> Decimal:
    value = (value or "").strip()
    if not value and default is not None:
        return default
    try:
        return money.parse(value)
    except money.MoneyError as exc:
        raise RowError(f"{what}: {exc}") from None


def import_rows(
    db: dbmod.Database,
    path: Path,
    required: tuple[str, ...],
    apply: Callable[[Any, dict[str, str]], None],
) -> tuple[int, list[str]]:
    """Apply ``apply(session, row)`` to each row, one transaction per row."""
    errors: list[str] = []
    done = 0
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            return 0, [f"línea 1: faltan las columnas {', '.join(missing)}"]
        for row in reader:
            line = reader.line_num
            clean = {k: (v or "").strip() for k, v in row.items() if k is not None}
            if None in row:
                errors.append(f"línea {line}: tiene más columnas que el encabezado")
                continue
            try:
                with db.write() as s:
                    apply(s, clean)
                done += 1
            except (RowError, svc.ApiError, loanlib.LoanError) as exc:
                errors.append(f"línea {line}: {exc}")
            except IntegrityError:
                errors.append(f"línea {line}: choca con un registro existente")
    return done, errors


def _member_row(s: Any, row: dict[str, str]) -> None:
    number, name, nip = row.get("numero", ""), row.get("nombre", ""), row.get("nip", "")
    if not re.fullmatch(r"\d{1,20}", number):
        raise RowError(f"número de afiliado inválido: «{number}»")
    if not name:
        raise RowError("falta el nombre")
    if nip and not re.fullmatch(r"\d{4,6}", nip):
        raise RowError("el NIP debe tener de 4 a 6 dígitos")
    svc.upsert_member(s, number, name, nip or None)


def _loan_row(s: Any, row: dict[str, str]) -> None:
    loan_id, member = row.get("prestamo", ""), row.get("afiliado", "")
    if not re.fullmatch(r"[A-Za-z0-9-]{1,30}", loan_id):
        raise RowError(f"clave de préstamo inválida: «{loan_id}»")
    if s.get(Member, member) is None:
        raise RowError(f"el afiliado {member or '(vacío)'} no existe")
    if s.get(LoanRow, loan_id) is not None:
        raise RowError(f"el préstamo {loan_id} ya existe")
    rate_text = row.get("tasa_anual", "")
    if not re.fullmatch(r"0(\.\d{1,6})?|1(\.0+)?", rate_text):
        raise RowError(f"tasa anual inválida: «{rate_text}» (use por ejemplo 0.16)")
    try:
        first_due = date.fromisoformat(row.get("primer_vencimiento", ""))
    except ValueError:
        raise RowError("primer_vencimiento debe ser una fecha AAAA-MM-DD") from None
    loan = loanlib.loan_from_schedule(
        loan_id,
        _money(row.get("monto", ""), "monto"),
        Decimal(rate_text),
        _int(row.get("quincenas", ""), "quincenas"),
        first_due,
        _int(row.get("pagadas", ""), "pagadas", 0),
        _int(row.get("en_nomina", ""), "en_nomina", 0),
        kind=(row.get("tipo") or "PERSONAL").upper(),
        prepayments=_money(row.get("abonos", ""), "abonos", Decimal("0.00")),
    )
    svc.add_loan(s, member, loan)


def _report(kind: str, done: int, errors: list[str]) -> int:
    for error in errors:
        print(error, file=sys.stderr)
    print(f"{kind}: {done} importados, {len(errors)} renglones con error.")
    return 1 if errors else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="isseg-farmacia admin", description="Administración del servidor central."
    )
    db_help = "Base de datos de central (por omisión, central.sqlite en la carpeta de datos)."
    parser.add_argument("--db", metavar="URL", help=db_help)
    # --db is accepted before or after the subcommand.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="URL", help=db_help, default=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True, metavar="SUBCOMANDO")

    p = sub.add_parser(
        "enrolar", parents=[common], help="Da de alta una terminal e imprime su token (una vez)."
    )
    p.add_argument("--tienda", required=True, help="Clave de la farmacia, p. ej. F001.")
    p.add_argument("--nombre", required=True, help="Nombre de la terminal, p. ej. «Caja 1».")
    p.add_argument("--tipo", choices=svc.TERMINAL_KINDS, default="caja")
    p.add_argument("--nombre-tienda", help="Nombre de la farmacia (si es nueva).")
    p.add_argument("--json", action="store_true", help="Salida en JSON.")

    p = sub.add_parser("revocar", parents=[common], help="Revoca el token de una terminal.")
    p.add_argument("terminal_id", type=int, help="Número de terminal.")

    sub.add_parser("terminales", parents=[common], help="Lista las terminales.")

    p = sub.add_parser("importar-afiliados", parents=[common], help="Importa afiliados de un CSV.")
    p.add_argument("csv", type=Path)
    p = sub.add_parser("importar-prestamos", parents=[common], help="Importa préstamos de un CSV.")
    p.add_argument("csv", type=Path)

    p = sub.add_parser("seed-demo", parents=[common], help="Carga datos de demostración.")
    p.add_argument("--json", action="store_true", help="Imprime todo lo creado en JSON.")

    p = sub.add_parser(
        "conciliacion", parents=[common], help="Lista los cobros rechazados por conciliar."
    )
    p.add_argument("--json", action="store_true", help="Salida en JSON.")
    admin_institute.add_parsers(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    db = _open_db(args.db)
    policy = Policy(version=1)
    now = svc.utcnow()
    try:
        return _run(args, db, policy, now)
    finally:
        db.dispose()


def _run(args: argparse.Namespace, db: dbmod.Database, policy: Policy, now: Any) -> int:
    if args.command == "enrolar":
        with db.write() as s:
            terminal, token = svc.enroll_terminal(
                s, args.tienda, args.nombre, args.tipo, now, args.nombre_tienda
            )
            terminal_id = terminal.terminal_id
        if args.json:
            print(json.dumps({"terminal_id": terminal_id, "store_id": args.tienda,
                              "name": args.nombre, "kind": args.tipo, "token": token},
                             ensure_ascii=False))  # fmt: skip
        else:
            print(f"Terminal {terminal_id} «{args.nombre}» ({args.tipo}) de la tienda "
                  f"{args.tienda} enrolada.")  # fmt: skip
            print(f"Token (se muestra una sola vez, guárdelo en la terminal): {token}")
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
            for t in s.query(Terminal).order_by(Terminal.terminal_id):
                state = "revocada" if t.revoked_at else "activa"
                print(f"{t.terminal_id}\t{t.store_id}\t{t.kind}\t{t.name}\t{state}")
        return 0
    if args.command in ("importar-afiliados", "importar-prestamos"):
        if not args.csv.is_file():
            print(f"No existe el archivo {args.csv}.", file=sys.stderr)
            return 2
        if args.command == "importar-afiliados":
            done, errors = import_rows(db, args.csv, MEMBER_COLUMNS, _member_row)
            return _report("Afiliados", done, errors)
        done, errors = import_rows(db, args.csv, REQUIRED_LOAN_COLUMNS, _loan_row)
        return _report("Préstamos", done, errors)
    if args.command == "seed-demo":
        from central.demo import seed_demo

        data = seed_demo(db, now, policy)
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
    if args.command in admin_institute.COMMANDS:
        return admin_institute.run(args, db, policy, now)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
