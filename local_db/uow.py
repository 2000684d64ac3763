"""The SQLite unit of work: one connection, one transaction, rolled back unless committed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Self, cast

from sqlalchemy import Engine
from sqlalchemy.pool import PoolProxiedConnection

from kiosk.ports import StorageError
from local_db import repositories as r


def storage_error(exc: BaseException) -> StorageError:
    """A driver error as the Spanish refusal a cashier or manager can act on."""
    text = str(getattr(exc, "orig", exc)).lower()
    if "full" in text:
        return StorageError(
            "ALMACENAMIENTO_LLENO",
            "El disco de la caja está lleno: la operación NO se registró y nada quedó a "
            "medias. Libere espacio o avise a soporte técnico.",
        )
    if "readonly" in text or "read-only" in text or "read only" in text:
        return StorageError(
            "SOLO_LECTURA",
            "La base de datos de la caja está en solo lectura: la operación NO se registró. "
            "Avise a soporte técnico.",
        )
    if "locked" in text or "busy" in text:
        return StorageError(
            "BASE_OCUPADA",
            "La base de datos de la caja está ocupada: la operación NO se registró. "
            "Intente de nuevo en unos segundos.",
        )
    return StorageError(
        "ERROR_ALMACENAMIENTO",
        f"No se pudo guardar en la base de datos de la caja ({exc.__class__.__name__}): "
        "la operación NO se registró. Avise a soporte técnico.",
    )


class SqlUnitOfWork:
    """``with uow: …; uow.commit()`` — a BEGIN IMMEDIATE write transaction.

    ``with uow.reading(): …`` — a BEGIN DEFERRED snapshot for reads (no write lock).
    Reusable: each ``with`` is a fresh transaction on a pooled connection.

    The transaction and its statements run straight on the pooled driver connection (which
    has pysqlite's own transaction handling switched off, see ``local_db.engine``): the
    repositories' statements are plain SQL strings, prepared once per pooled connection by
    sqlite3's statement cache, so a payment costs what SQLite costs and not SQLAlchemy's
    compile, result and event machinery around each statement (measured at 5–7× a bare
    insert-and-commit before; under 3× now, ``bench/bench_terminal_age.py``).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._pooled: PoolProxiedConnection | None = None
        self._driver: sqlite3.Connection | None = None
        self.references = r.SqlReferences(self)
        self.meta = r.SqlMeta(self)
        self.payments = r.SqlPayments(self)
        self.outbox = r.SqlOutbox(self)
        self.shifts = r.SqlShifts(self)
        self.drops = r.SqlDrops(self)
        self.counts = r.SqlCounts(self)
        self.voids = r.SqlVoids(self)
        self.reprints = r.SqlReprints(self)
        self.users = r.SqlUsers(self)
        self.audit = r.SqlAudit(self)
        self.day_closes = r.SqlDayCloses(self)

    def _begin(self, mode: str) -> None:
        if self._pooled is not None:
            raise RuntimeError("la unidad de trabajo ya tiene una transacción abierta")
        try:
            pooled = self._engine.raw_connection()
        except Exception as exc:
            raise storage_error(exc) from exc
        driver = cast("sqlite3.Connection", pooled.driver_connection)
        try:
            driver.execute(f"BEGIN {mode}")
        except sqlite3.Error as exc:
            pooled.close()
            raise storage_error(exc) from exc
        self._pooled, self._driver = pooled, driver

    def _end(self) -> None:
        pooled, driver = self._pooled, self._driver
        self._pooled = self._driver = None
        if pooled is None or driver is None:
            return
        try:
            if driver.in_transaction:
                driver.execute("ROLLBACK")
        finally:
            pooled.close()

    def __enter__(self) -> Self:
        self._begin("IMMEDIATE")
        return self

    def __exit__(self, *exc: object) -> None:
        self._end()

    @contextmanager
    def reading(self) -> Iterator[Self]:
        if self._pooled is not None:  # already inside a transaction: read in it
            yield self
            return
        self._begin("DEFERRED")
        try:
            yield self
        finally:
            self._end()

    def commit(self) -> None:
        driver = self._require()
        try:
            driver.execute("COMMIT")
        except sqlite3.Error as exc:
            raise storage_error(exc) from exc

    def rollback(self) -> None:
        driver = self._require()
        if driver.in_transaction:
            driver.execute("ROLLBACK")

    def _require(self) -> sqlite3.Connection:
        if self._driver is None:
            raise RuntimeError("use la unidad de trabajo dentro de un bloque «with»")
        return self._driver

    def run(
        self, sql: str, params: Mapping[str, Any] | Sequence[Any] | None = None
    ) -> sqlite3.Cursor:
        """One statement inside this unit of work's transaction."""
        driver = self._require()
        if not driver.in_transaction:
            raise RuntimeError("la transacción ya terminó (commit): abra otra con «with»")
        try:
            return driver.execute(sql, params or ())
        except sqlite3.Error as exc:
            raise storage_error(exc) from exc

    def executemany(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        driver = self._require()
        try:
            driver.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise storage_error(exc) from exc
