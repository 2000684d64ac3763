"""``isseg-farmacia admin verificar-bitacora [--db PATH]``: check the audit log's hash chain.

Exit 0 when the chain is intact, 1 at the first broken link (reported), 2 when the database
cannot be opened. With ``--central`` the file is also held against the heads central received
from this caja (its database URL in ``ISSEG_CENTRAL_DB``, never on the command line): a chain
rehashed from scratch is consistent with itself, but no longer with them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from kiosk import audit
from kiosk.ports import AuditEntry
from kiosk.terminal_state import TERMINAL_ID_KEY
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
    check.add_argument(
        "--central",
        action="store_true",
        help="compara además con las cabezas de la bitácora que el instituto recibió de esta "
        "caja (base de datos central en ISSEG_CENTRAL_DB)",
    )
    return parser


def _against_central(
    entries: Sequence[AuditEntry], terminal: str, central_url: str
) -> audit.BrokenLink | None:
    """The first head central holds for this terminal that the file does not pass through."""
    from central import service as svc
    from central.db import Database

    if not terminal.isdigit():
        return audit.BrokenLink(0, "La caja no está dada de alta: no hay copia en el instituto.")
    central = Database(central_url)
    try:
        heads = svc.audit_heads(central, int(terminal))
    finally:
        central.dispose()
    hashes = {e.id: e.hash for e in entries}
    for head in heads:
        if head.seq not in hashes:
            return audit.BrokenLink(
                head.seq,
                f"El instituto recibió el registro {head.seq} de esta caja y el archivo ya no "
                "lo tiene: se borraron registros.",
            )
        if hashes[head.seq] != head.hash:
            return audit.BrokenLink(
                head.seq,
                f"El registro {head.seq} no es el que el instituto recibió: la bitácora fue "
                "reescrita.",
            )
    return None


def verify_audit(db_path: str | None, central_url: str | None = None) -> int:
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
            terminal = uow.meta.get(TERMINAL_ID_KEY) or ""
        broken = audit.verify(entries, head)
    finally:
        db.close()
    if broken is None and central_url:
        broken = _against_central(entries, terminal, central_url)
    if broken is None:
        print(f"Bitácora íntegra: {len(entries)} registros verificados ({db.path}).")
        return 0
    print(f"Bitácora ALTERADA en el registro {broken.entry_id}: {broken.message}")
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "verificar-bitacora":
        central = None
        if args.central:
            central = os.environ.get("ISSEG_CENTRAL_DB", "")
            if not central:
                print(
                    "Defina ISSEG_CENTRAL_DB con la base de datos del instituto.", file=sys.stderr
                )
                return 2
        return verify_audit(args.db, central)
    return 2  # pragma: no cover - argparse refuses unknown commands


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
