"""Engine set-up, migrations and transactions for central.

SQLite runs in WAL mode with full synchronous commits; write transactions start with
``BEGIN IMMEDIATE`` so that two writers queue on the lock instead of failing half-way when
one upgrades a read lock. PostgreSQL uses psycopg 3 at READ COMMITTED: the at-most-once
guarantee lives in unique constraints, not in the isolation level.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


def default_db_url() -> str:
    from kiosk import settings

    data = settings.load().data_path
    data.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data / 'central.sqlite'}"


DB_ENV = "ISSEG_CENTRAL_DB"
DB_FILE_ENV = "ISSEG_CENTRAL_DB_FILE"


class SecretOnCommandLine(ValueError):
    pass


def configured_db_url(given: str | None = None) -> str:
    """Central's database URL: ``ISSEG_CENTRAL_DB``, else the file named by
    ``ISSEG_CENTRAL_DB_FILE`` (its first line), else ``given`` (``--db``) when it holds no
    password, else the default SQLite file. A password on the command line is refused:
    any user of the machine reads it in /proc."""
    import os
    from pathlib import Path

    from sqlalchemy.engine import make_url

    if os.environ.get(DB_ENV):
        return os.environ[DB_ENV]
    if os.environ.get(DB_FILE_ENV):
        lines = Path(os.environ[DB_FILE_ENV]).read_text(encoding="utf-8").splitlines()
        return lines[0].strip() if lines else ""
    if given:
        if make_url(given).password:
            raise SecretOnCommandLine(
                "La contraseña de la base de datos no va en la línea de órdenes (cualquiera la "
                f"lee en /proc): póngala en {DB_ENV} o en un archivo indicado en {DB_FILE_ENV}."
            )
        return given
    return default_db_url()


def is_sqlite(db_url: str) -> bool:
    return make_url(db_url).get_backend_name() == "sqlite"


def _sqlite_engine(db_url: str, immediate: bool) -> Engine:
    engine = create_engine(
        db_url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=20,
        max_overflow=40,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN itself.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


# Database work a worker process runs at once (its thread pool is capped to this, see
# central.app): past the pool's size, every extra connection would be opened and closed per
# request, and a PostgreSQL connection costs a backend start and a SCRAM handshake.
CONCURRENCY = 20


def make_engine(db_url: str, *, immediate: bool = True) -> Engine:
    if is_sqlite(db_url):
        return _sqlite_engine(db_url, immediate)
    return create_engine(
        db_url, pool_size=CONCURRENCY, max_overflow=CONCURRENCY, pool_pre_ping=True
    )


def libpq_dsn(db_url: str) -> str:
    """A PostgreSQL SQLAlchemy URL as psycopg itself takes it (no ``+psycopg`` driver)."""
    return make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)


def alembic_config(db_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    return cfg


def upgrade(db_url: str) -> None:
    """Bring the database to the latest schema (safe to call on every start)."""
    if is_sqlite(db_url):
        path = make_url(db_url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(db_url), "head")


class Database:
    """A write engine and a read engine over one URL (the same engine on PostgreSQL)."""

    def __init__(self, db_url: str) -> None:
        self.url = db_url
        # SQLite has one writer at a time. Its busy handler makes the others poll, sleeping up
        # to 100 ms between tries, so under load the lock sits free while they sleep; queueing
        # this process's writers on a lock of our own hands it over at once. (Other processes
        # on the same file still meet the busy handler.) PostgreSQL locks rows: no lock here.
        self._writer: threading.RLock | contextlib.nullcontext[None] = (
            threading.RLock() if is_sqlite(db_url) else contextlib.nullcontext()
        )
        self.write_engine = make_engine(db_url, immediate=True)
        self.read_engine = (
            make_engine(db_url, immediate=False) if is_sqlite(db_url) else self.write_engine
        )
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on an exception."""
        with self._writer, self._write() as session, session.begin():
            yield session

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """Like :meth:`write`, on a Core connection: the hot paths skip the ORM's bookkeeping."""
        with self._writer, self.write_engine.begin() as conn:
            yield conn

    @contextmanager
    def writer(self) -> Iterator[Connection]:
        """One write connection for several :meth:`transaction` blocks: a batch pays the pool's
        checkout and reset once. Holds no lock and no transaction by itself."""
        with self.write_engine.connect() as conn:
            yield conn

    @contextmanager
    def transaction(self, conn: Connection) -> Iterator[Connection]:
        """Like :meth:`begin`, on a connection from :meth:`writer`. The writer lock covers only
        the transaction, so other writers interleave between a batch's payments."""
        with self._writer, conn.begin():
            yield conn

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """Like :meth:`read`, on a Core connection (one transaction, so one snapshot)."""
        with self.read_engine.begin() as conn:
            yield conn

    def dispose(self) -> None:
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()
