"""The SQLite unit of work: one connection, one transaction, rolled back unless committed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Self

from sqlalchemy import Connection, CursorResult, Engine
from sqlalchemy.exc import DBAPIError

from kiosk.ports import StorageError
from local_db import repositories as r
from local_db.engine import BEGIN_OPTION


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
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: Connection | None = None
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
        if self._conn is not None:
            raise RuntimeError("la unidad de trabajo ya tiene una transacción abierta")
        conn = self._engine.connect()
        try:
            if mode != "IMMEDIATE":
                conn = conn.execution_options(**{BEGIN_OPTION: mode})
            conn.begin()
        except DBAPIError as exc:
            conn.close()
            raise storage_error(exc) from exc
        self._conn = conn

    def _end(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                conn.rollback()
        finally:
            conn.close()

    def __enter__(self) -> Self:
        self._begin("IMMEDIATE")
        return self

    def __exit__(self, *exc: object) -> None:
        self._end()

    @contextmanager
    def reading(self) -> Iterator[Self]:
        if self._conn is not None:  # already inside a transaction: read in it
            yield self
            return
        self._begin("DEFERRED")
        try:
            yield self
        finally:
            self._end()

    def commit(self) -> None:
        conn = self._require()
        try:
            conn.commit()
        except DBAPIError as exc:
            raise storage_error(exc) from exc

    def rollback(self) -> None:
        conn = self._require()
        if conn.in_transaction():
            conn.rollback()

    def _require(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("use la unidad de trabajo dentro de un bloque «with»")
        return self._conn

    def execute(self, sql: Any, params: Mapping[str, Any] | None = None) -> CursorResult[Any]:
        conn = self._require()
        if not conn.in_transaction():
            raise RuntimeError("la transacción ya terminó (commit): abra otra con «with»")
        try:
            return conn.execute(sql, dict(params) if params else None)
        except DBAPIError as exc:
            raise storage_error(exc) from exc

    def fetchone_raw(self, sql: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """One row straight from the driver, inside this unit of work's transaction.

        For the scan path only (the referencia lookup): SQLAlchemy's result machinery costs
        more than SQLite's primary-key lookup itself.
        """
        driver = self._require().connection.driver_connection
        assert driver is not None
        try:
            row: tuple[Any, ...] | None = driver.execute(sql, params).fetchone()
            return row
        except sqlite3.Error as exc:
            raise storage_error(exc) from exc

    def executemany(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        conn = self._require()
        try:
            conn.exec_driver_sql(sql, list(rows))
        except DBAPIError as exc:
            raise storage_error(exc) from exc
