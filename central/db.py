"""Engine set-up, migrations and transactions for central.

SQLite runs in WAL mode with full synchronous commits; write transactions start with
``BEGIN IMMEDIATE`` so that two writers queue on the lock instead of failing half-way when
one upgrades a read lock. PostgreSQL uses psycopg 3 at READ COMMITTED: the at-most-once
guarantee lives in unique constraints, not in the isolation level.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).with_name("migrations")


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


class SchemaBehind(RuntimeError):
    """The database's schema is not the one this code needs; ``str()`` says what to do."""


# Key of the PostgreSQL advisory lock that serializes migrations ("ISSEG" in ASCII).
MIGRATION_LOCK = 0x4953534547


@contextmanager
def _migration_lock(db_url: str) -> Iterator[None]:
    """Only one migration at a time: two at once would both try to create the same tables.
    PostgreSQL: a session advisory lock; SQLite: an OS lock on a file next to the database."""
    if not is_sqlite(db_url):
        engine = create_engine(db_url, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
                    conn.commit()
        finally:
            engine.dispose()
        return
    path = make_url(db_url).database
    if not path or path == ":memory:":
        yield
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.migrar.lock", "a+b") as handle:
        if sys.platform == "win32":
            import msvcrt

            handle.seek(0)
            # LK_LOCK retries for 10 s, then raises: loop until the other run is done.
            while True:
                try:
                    msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    continue
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield  # the lock goes with the file handle


def upgrade(db_url: str) -> tuple[str | None, str]:
    """Bring the database to the latest schema, one migration run at a time; answers the
    revisions (before, after). Only ``isseg-farmacia central migrar`` (and the embedded
    central of the demo and the tests) call it."""
    with _migration_lock(db_url):
        before, head = schema_revisions(db_url)
        command.upgrade(alembic_config(db_url), "head")
    return before, head


def schema_revisions(db_url: str) -> tuple[str | None, str]:
    """(the database's revision, or None when it has none; the code's head revision)."""
    from alembic.runtime.migration import MigrationContext

    head = _scripts(db_url).get_current_head() or ""
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    return current, head


def require_current(db_url: str) -> None:
    """Refuse a database whose schema is not this code's, saying what to run."""
    current, head = schema_revisions(db_url)
    if current == head:
        return
    if current is None:
        raise SchemaBehind(
            "La base de datos de central no tiene tablas todavía: ejecute "
            "«isseg-farmacia central migrar» antes de usarla."
        )
    known = {s.revision for s in _scripts(db_url).walk_revisions()}
    if current not in known:
        raise SchemaBehind(
            f"La base de datos está en la revisión {current}, más nueva que este programa "
            f"({head}): instale la versión del programa que la migró."
        )
    raise SchemaBehind(
        f"La base de datos está en la revisión {current} y este programa necesita {head}: "
        "ejecute «isseg-farmacia central migrar»."
    )


def _scripts(db_url: str) -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(db_url))


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
