"""Opening the terminal's SQLite file: pragmas, BEGIN IMMEDIATE, and Alembic migrations.

pysqlite's legacy transaction handling (it issues its own BEGIN lazily, before DML only) is
switched off as SQLAlchemy's documentation for pysqlite describes ("Serializable isolation /
Savepoints / Transactional DDL"): the DBAPI connection runs with ``isolation_level=None`` and
SQLAlchemy's "begin" event emits the BEGIN itself, IMMEDIATE for writes so the write lock is
taken up front (no upgrade deadlock between a reader turning writer and the sync thread).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import QueuePool

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 5000
BEGIN_OPTION = "isseg_begin"


class DatabaseError(Exception):
    """The terminal's database cannot be used; ``str()`` is a Spanish message."""


class DatabaseTooNew(DatabaseError):
    pass


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def make_engine(
    path: Path, *, read_only: bool = False, pragmas: Mapping[str, Any] | None = None
) -> Engine:
    uri = path.resolve().as_uri() + ("?mode=ro" if read_only else "")
    extra = dict(pragmas or {})

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(
            uri,
            uri=True,
            isolation_level=None,
            check_same_thread=False,
            timeout=BUSY_TIMEOUT_MS / 1000,
        )
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        for name, value in extra.items():
            conn.execute(f"PRAGMA {name}={int(value) if isinstance(value, int) else value}")
        return conn

    # reset_on_return=None: every unit of work ends its own transaction (commit or
    # rollback) before giving the connection back, so the pool's extra ROLLBACK is waste on
    # the scan path.
    engine = create_engine(
        "sqlite+pysqlite://",
        creator=connect,
        poolclass=QueuePool,
        pool_size=4,
        max_overflow=4,
        pool_reset_on_return=None,
        # The connection used last goes out first: one thread's run of transactions keeps
        # one connection and its page cache warm (in rotation, every other connection's
        # cache is stale after each write and its pages are read again).
        pool_use_lifo=True,
    )

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        conn = conn.execution_options(**{BEGIN_OPTION: "DEFERRED"})
        rev = MigrationContext.configure(conn).get_current_revision()
        conn.rollback()
        return rev


def migrate(engine: Engine, path: Path, revision: str = "head", *, read_only: bool = False) -> str:
    """Bring the file to ``revision``; refuse a file newer than this program."""
    try:
        current = _current_revision(engine)
    except Exception as exc:
        raise DatabaseError(
            f"No se pudo leer la base de datos de la caja ({path}): {exc}. "
            "El archivo está dañado o no es una base de datos de Caja ISSEG."
        ) from exc
    cfg = _alembic_config()
    script = ScriptDirectory.from_config(cfg)
    known = {r.revision for r in script.walk_revisions()}
    if current is not None and current not in known:
        raise DatabaseTooNew(
            f"La base de datos de la caja ({path}) es de una versión más nueva del programa "
            f"(esquema {current}; este programa conoce hasta {script.get_current_head()}). "
            "Actualice Caja ISSEG; el archivo no se modificó."
        )
    target = script.get_current_head() if revision == "head" else revision
    if current == target:
        return current or ""
    if read_only:
        raise DatabaseError(
            f"La base de datos de la caja ({path}) necesita actualizarse y está abierta "
            "en solo lectura."
        )
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return target or ""
