"""Opening the terminal's file: pragmas, migrations, BEGIN IMMEDIATE, the unit of work."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import local_db
from kiosk.ports import StorageError
from local_db.engine import head_revision


def pragma(db, name: str):
    with db.engine.connect() as conn:
        value = conn.exec_driver_sql(f"PRAGMA {name}").scalar()
        conn.rollback()
        return value


def test_a_new_file_is_created_in_wal_with_full_sync_and_foreign_keys(tmp_path):
    with local_db.open_database(tmp_path / "sub" / "caja.sqlite") as db:
        assert db.path.exists()
        assert pragma(db, "journal_mode") == "wal"
        assert pragma(db, "synchronous") == 2  # FULL
        assert pragma(db, "foreign_keys") == 1
        assert pragma(db, "busy_timeout") >= 1000


def test_the_default_path_comes_from_the_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("ISSEG_DATA_DIR", str(tmp_path / "datos"))
    monkeypatch.delenv("ISSEG_DB_PATH", raising=False)
    monkeypatch.delenv("ISSEG_CONFIG", raising=False)
    with local_db.open_database() as db:
        assert db.path == tmp_path / "datos" / "terminal.sqlite"


def test_an_older_file_is_upgraded_on_start_and_keeps_its_data(tmp_path):
    path = tmp_path / "caja.sqlite"
    local_db.open_database(path, revision="0001").close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO meta (key, value) VALUES ('terminal_id', 'T-9')")
    conn.commit()
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
    conn.close()
    with local_db.open_database(path) as db:
        uow = db.unit_of_work()
        with uow.reading():
            assert uow.meta.get("terminal_id") == "T-9"
            assert uow.voids.for_payment("x") is None  # a table of revision 0002
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head_revision()
    conn.close()


def test_a_file_from_a_newer_program_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "caja.sqlite"
    local_db.open_database(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = '9999_futuro'")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(local_db.DatabaseTooNew, match="versión más nueva"):
        local_db.open_database(path)
    assert path.read_bytes() == before


def test_a_file_that_is_not_a_database_is_refused_clearly(tmp_path):
    path = tmp_path / "caja.sqlite"
    path.write_bytes(b"esto no es sqlite" * 100)
    with pytest.raises(local_db.DatabaseError, match="no es una base de datos"):
        local_db.open_database(path)


def test_a_write_unit_of_work_holds_the_write_lock_from_its_first_statement(tmp_path):
    with local_db.open_database(tmp_path / "caja.sqlite") as db:
        uow = db.unit_of_work()
        with uow:  # BEGIN IMMEDIATE, before any statement
            other = sqlite3.connect(db.path, timeout=0, isolation_level=None)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()


def test_leaving_the_unit_of_work_without_commit_rolls_back(tmp_path):
    with local_db.open_database(tmp_path / "caja.sqlite") as db:
        uow = db.unit_of_work()
        with uow:
            uow.meta.set("k", "v")
        with uow:
            uow.meta.set("k2", "v2")
            uow.commit()
        with uow.reading():
            assert uow.meta.get("k") is None
            assert uow.meta.get("k2") == "v2"


def test_a_busy_database_is_reported_as_a_storage_refusal(tmp_path):
    path = tmp_path / "caja.sqlite"
    with local_db.open_database(path, pragmas={"busy_timeout": 50}) as db:
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StorageError) as exc, db.unit_of_work():
                pass
            assert exc.value.code == "BASE_OCUPADA"
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()


def test_only_one_shift_can_be_open_even_bypassing_the_service(tmp_path: Path):
    with local_db.open_database(tmp_path / "caja.sqlite") as db:
        conn = sqlite3.connect(db.path)
        conn.execute(
            "INSERT INTO users (username, name, role, pin_hash) VALUES ('a', 'A', 'cajero', 'x')"
        )
        insert = (
            "INSERT INTO shifts (terminal_id, cashier_id, opening_float_cents, opened_at, "
            "business_date) VALUES ('T', 1, 0, '2025-01-01', '2025-01-01')"
        )
        conn.execute(insert)
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(insert)
        conn.close()
