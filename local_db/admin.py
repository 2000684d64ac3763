"""``isseg-farmacia admin verificar-bitacora [--db PATH]``: check the audit log's hash chain.

Exit 0 when the chain is intact, 1 at the first broken link (reported), 2 when the database
cannot be opened.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kiosk import audit
from local_db import DatabaseError, open_database


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="isseg-farmacia admin", description="Herramientas de la base de datos de la caja."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser(
        "verificar-bitacora",
        help="verifica la cadena de huellas de la bitácora y reporta el primer eslabón roto",
    )
    check.add_argument("--db", help="archivo de la base de datos (por omisión, el de la caja)")
    return parser


def verify_audit(db_path: str | None) -> int:
    try:
        db = open_database(db_path, read_only=db_path is not None)
    except DatabaseError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        uow = db.unit_of_work()
        with uow.reading():
            entries = uow.audit.all()
            head = uow.meta.get(audit.HEAD_KEY)
        broken = audit.verify(entries, head)
    finally:
        db.close()
    if broken is None:
        print(f"Bitácora íntegra: {len(entries)} registros verificados ({db.path}).")
        return 0
    print(f"Bitácora ALTERADA en el registro {broken.entry_id}: {broken.message}")
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "verificar-bitacora":
        return verify_audit(args.db)
    return 2  # pragma: no cover - argparse refuses unknown commands


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
