"""The institute's CSV files: afiliados and préstamos, loaded all or nothing.

A file is read whole and checked line by line first; if any line is wrong, every wrong line
is reported (by its number) and nothing is loaded. Otherwise it is loaded in one
transaction. Importing the same file again updates what changed and duplicates nothing.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from central import db as dbmod
from central import security
from central.models import InstallmentRow, LoanRow, Member, fold_name
from central.service.loans import LOAN_ACTIVE, LOAN_SETTLED
from kiosk import loans as loanlib
from kiosk import money

FORMATS = """\
Formato de los archivos CSV (la primera línea es el encabezado; columnas en cualquier orden):
  codificación UTF-8 (con o sin BOM) o Windows-1252 (Excel), separadas por «,» o «;».

  afiliados: numero,nombre,nip
    numero de 1 a 20 dígitos; nombre hasta 200 caracteres; nip de 4 a 6 dígitos (obligatorio
    para un afiliado nuevo; vacío conserva el actual). Un afiliado existente se actualiza.

  préstamos: prestamo,afiliado,tipo,monto,tasa_anual,quincenas,primer_vencimiento,pagadas,
             en_nomina,abonos
    prestamo: clave de hasta 30 letras, dígitos o guiones; afiliado: su número (ya
    importado); tipo: PERSONAL si va vacío; monto en pesos (30000.00); tasa_anual como 0.16;
    quincenas: el plazo; primer_vencimiento AAAA-MM-DD; pagadas y en_nomina: quincenas ya
    descontadas / ya en nómina (0 si va vacío); abonos: abonos a capital hechos (0).
    Un préstamo existente se actualiza: sus quincenas avanzan a lo que diga el archivo
    (nunca retroceden: una pagada en farmacia sigue pagada) y sus abonos no disminuyen; sus
    condiciones (afiliado, monto, tasa, plazo, primer vencimiento) no pueden cambiar.

Todo el archivo se revisa primero: si alguna línea tiene error se informan todas y no se
carga nada. Con --validar solo se revisa.
"""

MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_FIELD = 300
MEMBER_COLUMNS = ("numero", "nombre", "nip")
LOAN_COLUMNS = (
    "prestamo", "afiliado", "tipo", "monto", "tasa_anual", "quincenas",
    "primer_vencimiento", "pagadas", "en_nomina", "abonos",
)  # fmt: skip
REQUIRED_LOAN_COLUMNS = (
    "prestamo", "afiliado", "monto", "tasa_anual", "quincenas", "primer_vencimiento",
)  # fmt: skip
CHUNK = 500  # keys per IN (...) query
# An installment only moves forward: PENDIENTE → EN_NOMINA → PAGADA.
_PROGRESS = {loanlib.PENDING: 0, loanlib.IN_PAYROLL: 1, loanlib.PAID: 2}


class RowError(ValueError):
    """A bad line; ``str()`` says why, in Spanish."""


@dataclass
class CsvFile:
    encoding: str
    delimiter: str
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def decode(raw: bytes) -> tuple[str, str]:
    """(text, encoding name): UTF-8 with or without BOM, else Windows-1252 (Excel's)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "UTF-8 con BOM"
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as exc:
        raise RowError(
            f"el archivo no está en UTF-8 ni en Windows-1252 (byte {exc.start + 1})"
        ) from None


def read(path: Path, required: Sequence[str], known: Sequence[str]) -> CsvFile:
    """Every line of the file as a dict of stripped fields, with the lines' numbers."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise RowError(f"el archivo pasa de {MAX_FILE_BYTES // 1_048_576} MB")
    text, encoding = decode(path.read_bytes())
    header = text.split("\n", 1)[0]
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    result = CsvFile(encoding, delimiter)
    try:
        names = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise RowError("el archivo está vacío") from None
    missing = [c for c in required if c not in names]
    if missing:
        raise RowError(f"línea 1: faltan las columnas {', '.join(missing)}")
    unknown = [n for n in names if n not in known]
    if unknown:
        raise RowError(f"línea 1: columnas desconocidas {', '.join(unknown)}")
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue  # blank lines, as Excel leaves at the end
        if len(values) != len(names):
            result.errors.append(
                f"línea {line}: tiene {len(values)} columnas y el encabezado {len(names)}"
            )
            continue
        row = {n: v.strip() for n, v in zip(names, values, strict=True)}
        long = [n for n, v in row.items() if len(v) > MAX_FIELD]
        if long:
            result.errors.append(f"línea {line}: {long[0]} pasa de {MAX_FIELD} caracteres")
            continue
        result.rows.append((line, row))
    return result


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _existing(s: Session, column: Any, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for part in _chunks(keys):
        found.update(s.scalars(select(column).where(column.in_(part))))
    return found


def _duplicates(rows: Iterable[tuple[int, str]], what: str) -> list[str]:
    seen: dict[str, int] = {}
    errors = []
    for line, key in rows:
        if key in seen:
            errors.append(f"línea {line}: {what} {key} ya aparece en la línea {seen[key]}")
        else:
            seen[key] = line
    return errors


# --- members ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberLine:
    line: int
    number: str
    name: str
    nip: str


def check_members(db: dbmod.Database, csv_file: CsvFile) -> tuple[list[MemberLine], list[str]]:
    errors = list(csv_file.errors)
    good: list[MemberLine] = []
    for line, row in csv_file.rows:
        number, name, nip = row.get("numero", ""), row.get("nombre", ""), row.get("nip", "")
        if not re.fullmatch(r"\d{1,20}", number):
            errors.append(f"línea {line}: número de afiliado inválido: «{number}»")
        elif not name or len(name) > 200:
            errors.append(f"línea {line}: falta el nombre o pasa de 200 caracteres")
        elif nip and not re.fullmatch(r"\d{4,6}", nip):
            errors.append(f"línea {line}: el NIP debe tener de 4 a 6 dígitos")
        else:
            good.append(MemberLine(line, number, name, nip))
    errors += _duplicates(((m.line, m.number) for m in good), "el afiliado")
    with db.read() as s:
        known = _existing(s, Member.number, [m.number for m in good])
    errors += [
        f"línea {m.line}: el afiliado {m.number} es nuevo y necesita NIP"
        for m in good
        if not m.nip and m.number not in known
    ]
    return good, sorted(errors, key=_line_number)


def _line_number(error: str) -> int:
    found = re.match(r"línea (\d+)", error)
    return int(found.group(1)) if found else 0


def hash_nips(nips: Sequence[str], workers: int | None = None) -> list[str]:
    """argon2id of each NIP, in one process per core.

    The hash is the import's whole cost: for 100,000 members reading, checking and inserting
    take 3-4 s (SQLite or PostgreSQL), hashing minutes. So the file is checked first (nothing
    is hashed for a file that will be refused), and the rows are inserted after the last hash
    in one short transaction: inserting while hashing would hold the database's write lock
    (SQLite's single writer, the payments' too) for the whole import to save those seconds.
    Chunks of at most 64 NIPs keep both cores busy to the end (the last is ~1 s, not ~4 s).
    """
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(nips) < 4 * workers:  # starting the pool costs a few hashes
        return [security.hash_nip(n) for n in nips]
    chunk = max(1, min(64, len(nips) // (4 * workers)))
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(security.hash_nip, nips, chunksize=chunk))


def load_members(
    db: dbmod.Database, members: Sequence[MemberLine], workers: int | None = None
) -> tuple[int, int]:
    """(new, updated), in one transaction."""
    with_nip = [m for m in members if m.nip]
    hashes = dict(
        zip(
            (m.number for m in with_nip), hash_nips([m.nip for m in with_nip], workers), strict=True
        )
    )
    with db.write() as s:
        known = _existing(s, Member.number, [m.number for m in members])
        new = [
            {"number": m.number, "name": m.name, "name_folded": fold_name(m.name),
             "nip_hash": hashes[m.number], "failed_attempts": 0, "locked_until": None}
            for m in members if m.number not in known
        ]  # fmt: skip
        changed = [
            {"number": m.number, "name": m.name, "name_folded": fold_name(m.name),
             **({"nip_hash": hashes[m.number]} if m.nip else {})}
            for m in members if m.number in known
        ]  # fmt: skip
        if new:
            s.execute(insert(Member), new)
        # Rows with and without a new NIP are updated apart: one statement shape per batch.
        for batch in (
            [c for c in changed if "nip_hash" in c],
            [c for c in changed if "nip_hash" not in c],
        ):
            if batch:
                s.execute(update(Member), batch)
    return len(new), len(changed)


# --- loans -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoanLine:
    line: int
    member: str
    loan: loanlib.Loan
    first_due: date


def _int(value: str, what: str, default: int | None = None) -> int:
    if not value and default is not None:
        return default
    if not re.fullmatch(r"\d{1,6}", value):
        raise RowError(f"{what} debe ser un número entero: «{value}»")
    return int(value)


def _money(value: str, what: str, default: Decimal | None = None) -> Decimal:
    if not value and default is not None:
        return default
    try:
        return money.parse(value)
    except money.MoneyError as exc:
        raise RowError(f"{what}: {exc}") from None


def _loan_line(row: dict[str, str]) -> tuple[str, loanlib.Loan, date]:
    loan_id, member = row.get("prestamo", ""), row.get("afiliado", "")
    if not re.fullmatch(r"[A-Za-z0-9-]{1,30}", loan_id):
        raise RowError(f"clave de préstamo inválida: «{loan_id}»")
    if not re.fullmatch(r"\d{1,20}", member):
        raise RowError(f"número de afiliado inválido: «{member}»")
    rate_text = row.get("tasa_anual", "")
    if not re.fullmatch(r"0(\.\d{1,6})?|1(\.0+)?", rate_text):
        raise RowError(f"tasa anual inválida: «{rate_text}» (use por ejemplo 0.16)")
    try:
        first_due = date.fromisoformat(row.get("primer_vencimiento", ""))
    except ValueError:
        raise RowError("primer_vencimiento debe ser una fecha AAAA-MM-DD") from None
    kind = (row.get("tipo") or "PERSONAL").upper()
    if not re.fullmatch(r"[A-Z_]{1,30}", kind):
        raise RowError(f"tipo de préstamo inválido: «{kind}»")
    loan = loanlib.loan_from_schedule(
        loan_id,
        _money(row.get("monto", ""), "monto"),
        Decimal(rate_text),
        _int(row.get("quincenas", ""), "quincenas"),
        first_due,
        _int(row.get("pagadas", ""), "pagadas", 0),
        _int(row.get("en_nomina", ""), "en_nomina", 0),
        kind=kind,
        prepayments=_money(row.get("abonos", ""), "abonos", Decimal("0.00")),
    )
    return member, loan, first_due


def check_loans(db: dbmod.Database, csv_file: CsvFile) -> tuple[list[LoanLine], list[str]]:
    errors = list(csv_file.errors)
    good: list[LoanLine] = []
    for line, row in csv_file.rows:
        try:
            member, loan, first_due = _loan_line(row)
        except (RowError, loanlib.LoanError) as exc:
            errors.append(f"línea {line}: {exc}")
            continue
        good.append(LoanLine(line, member, loan, first_due))
    errors += _duplicates(((x.line, x.loan.loan_id) for x in good), "el préstamo")
    with db.read() as s:
        members = _existing(s, Member.number, sorted({x.member for x in good}))
        errors += [
            f"línea {x.line}: el afiliado {x.member} no existe (importe antes los afiliados)"
            for x in good
            if x.member not in members
        ]
        current = _loans(s, [x.loan.loan_id for x in good])
    for x in good:
        old = current.get(x.loan.loan_id)
        if old is None:
            continue
        if (old.member, old.principal, old.annual_rate, len(old.states), old.states[0][2]) != (
            x.member, x.loan.principal, x.loan.annual_rate, len(x.loan.installments), x.first_due
        ):  # fmt: skip
            errors.append(
                f"línea {x.line}: el préstamo {x.loan.loan_id} ya existe con otras condiciones "
                "(afiliado, monto, tasa, plazo o primer vencimiento)"
            )
    return good, sorted(errors, key=_line_number)


@dataclass
class _Stored:
    """What an upsert needs of a stored loan (plain columns: no ORM objects, no amounts)."""

    member: str
    principal: Decimal
    annual_rate: Decimal
    prepayments: Decimal
    states: list[tuple[int, str, date]] = field(default_factory=list)  # number, state, due


def _loans(s: Session, ids: Sequence[str]) -> dict[str, _Stored]:
    found: dict[str, _Stored] = {}
    loans, items = LoanRow.__table__.c, InstallmentRow.__table__.c
    conn = s.connection()
    for part in _chunks(ids):
        query = select(loans.loan_id, loans.member_number, loans.principal, loans.annual_rate,
                       loans.prepayments).where(loans.loan_id.in_(part))  # fmt: skip
        for loan_id, member, principal, rate, prepayments in conn.execute(query):
            found[loan_id] = _Stored(member, principal, rate, prepayments)
        query = (
            select(items.loan_id, items.number, items.state, items.due_date)
            .where(items.loan_id.in_(part))
            .order_by(items.loan_id, items.number)
        )
        for loan_id, number, state, due in conn.execute(query):
            found[loan_id].states.append((number, state, due))
    return found


def load_loans(db: dbmod.Database, lines: Sequence[LoanLine]) -> tuple[int, int]:
    """(new, updated), in one transaction."""
    with db.write() as s:
        current = _loans(s, [x.loan.loan_id for x in lines])
        new_loans, new_items, states, loan_changes = [], [], [], []
        for x in lines:
            loan = x.loan
            old = current.get(loan.loan_id)
            if old is None:
                new_loans.append({
                    "loan_id": loan.loan_id, "member_number": x.member, "kind": loan.kind,
                    "principal": loan.principal, "annual_rate": loan.annual_rate,
                    "installment": loan.installment, "prepayments": loan.prepayments,
                    "status": LOAN_SETTLED if loanlib.is_settled(loan) else LOAN_ACTIVE,
                })  # fmt: skip
                new_items += [
                    {"loan_id": loan.loan_id, "number": i.number, "due_date": i.due_date,
                     "amount": i.amount, "principal": i.principal, "state": i.state}
                    for i in loan.installments
                ]  # fmt: skip
                continue
            merged = []
            for (number, had, _), given in zip(old.states, loan.installments, strict=True):
                state = max(had, given.state, key=lambda st: _PROGRESS.get(st, 0))
                if state != had:
                    states.append({"loan_id": loan.loan_id, "number": number, "state": state})
                merged.append(
                    loanlib.LoanInstallment(
                        given.number, given.due_date, given.amount, given.principal, state
                    )  # fmt: skip
                )
            prepayments = max(old.prepayments, loan.prepayments)
            settled = loanlib.is_settled(
                loanlib.Loan(
                    loan.loan_id,
                    loan.kind,
                    loan.principal,
                    loan.annual_rate,
                    loan.installment,
                    tuple(merged),
                    prepayments,
                )  # fmt: skip
            )
            loan_changes.append({
                "key": loan.loan_id, "kind": loan.kind, "prepayments": prepayments,
                "status": LOAN_SETTLED if settled else LOAN_ACTIVE,
            })  # fmt: skip
        # Core statements with executemany: the ORM's bulk paths cost more than the database.
        conn = s.connection()
        loans, items = cast(Table, LoanRow.__table__), cast(Table, InstallmentRow.__table__)
        if new_loans:
            conn.execute(insert(loans), new_loans)
            conn.execute(insert(items), new_items)
        if loan_changes:
            conn.execute(
                update(loans)
                .where(loans.c.loan_id == bindparam("key"))
                .values(
                    kind=bindparam("kind"),
                    prepayments=bindparam("prepayments"),
                    status=bindparam("status"),
                ),  # fmt: skip
                loan_changes,
            )
        if states:
            conn.execute(
                update(items)
                .where(items.c.loan_id == bindparam("key"), items.c.number == bindparam("num"))
                .values(state=bindparam("state")),
                [{"key": x["loan_id"], "num": x["number"], "state": x["state"]} for x in states],
            )
    return len(new_loans), len(loan_changes)
