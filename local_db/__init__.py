"""The terminal's local store: SQLite (WAL, synchronous=FULL), Alembic migrations, and the
unit of work that ``kiosk`` services use.

    db = local_db.open_database()            # or open_database(path)
    uow = db.unit_of_work()
    kiosk.cashier.take_payment(uow, ...)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from local_db.engine import DatabaseError, DatabaseTooNew, make_engine, migrate
from local_db.uow import SqlUnitOfWork

__all__ = ["Database", "DatabaseError", "DatabaseTooNew", "open_database", "SqlUnitOfWork"]


@dataclass
class Database:
    path: Path
    engine: Engine
    read_only: bool = False

    def unit_of_work(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)

    def integrity_check(self) -> str:
        with self.engine.connect() as conn:
            conn = conn.execution_options(isseg_begin="DEFERRED")
            result = "\n".join(str(r[0]) for r in conn.exec_driver_sql("PRAGMA integrity_check"))
            conn.rollback()
            return result

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _private(path: Path, data_folder: Path | None) -> None:
    """The database file readable by its owner only (0600; SQLite gives its -wal and -shm
    files the same mode), in a folder of its own (0700) when this creates it or when it is
    the terminal's data folder: it holds names, member numbers and amounts."""
    if not path.parent.exists() or data_folder is not None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.name == "posix":
            path.parent.chmod(0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    if os.name == "posix":
        path.chmod(0o600)


def open_database(
    path: str | Path | None = None,
    *,
    read_only: bool = False,
    pragmas: dict[str, Any] | None = None,
    revision: str = "head",
) -> Database:
    """Open (creating if needed) the terminal's database and bring it up to date.

    ``path`` defaults to ``kiosk.settings.load().database_file``. A file written by a newer
    program raises DatabaseTooNew (Spanish message) and is left untouched. ``pragmas`` are
    extra per-connection PRAGMAs (tests use ``max_page_count`` to simulate a full disk).
    """
    data_folder = None
    if path is None:
        from kiosk.settings import load

        path = load().database_file
        data_folder = Path(path).parent
    path = Path(path)
    if read_only:
        if not path.exists():
            raise DatabaseError(f"No existe la base de datos de la caja: {path}")
    else:
        _private(path, data_folder)
    engine = make_engine(path, read_only=read_only, pragmas=pragmas)
    try:
        if not read_only:
            try:
                with engine.connect() as conn:
                    # Persistent in the file; must run outside a transaction.
                    conn.connection.driver_connection.execute(  # type: ignore[union-attr]
                        "PRAGMA journal_mode=WAL"
                    )
            except DBAPIError as exc:
                raise DatabaseError(
                    f"No se pudo abrir la base de datos de la caja ({path}): {exc.orig}. "
                    "El archivo está dañado o no es una base de datos de Caja ISSEG."
                ) from exc
        migrate(engine, path, revision, read_only=read_only)
    except BaseException:
        engine.dispose()
        raise
    return Database(path, engine, read_only)
