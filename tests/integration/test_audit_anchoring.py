"""The audit chain anchored at central (issue 13): a log rewritten on the terminal (triggers
dropped, a void deleted, the chain rehashed, triggers restored) or cut short (tail deleted,
audit_head updated) passes the terminal's own check, but not central's."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from central import service as svc
from central.db import Database
from kiosk import audit, shifts
from kiosk.rules import Policy
from sync.heartbeat import Heartbeat
from sync.refresher import CacheRefresher
from tests.integration.central_support import db_url  # noqa: F401 - fixture
from tests.integration.sync_support import (
    business_clock,
    central_on_loopback,
    make_terminal,
    seed_references,
    terminal_entry,
)

TRIGGERS = ("audit_log_no_update", "audit_log_no_delete")


def _health() -> dict:
    return {"queue_depth": 0, "printer_state": "lista"}


def _cases(central_url: str) -> list[dict]:
    db = Database(central_url)
    try:
        return [c for c in svc.list_cases(db, Policy()) if c["kind"] == "AUDIT_HEAD"]
    finally:
        db.dispose()


def _tamper(path: Path, edit) -> None:
    """What the review did with the file in hand: drop the triggers, edit, restore them."""
    conn = sqlite3.connect(path)
    sql = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger'").fetchall())
    for name in TRIGGERS:
        conn.execute(f"DROP TRIGGER {name}")
    edit(conn)
    for name in TRIGGERS:
        conn.execute(sql[name])
    conn.commit()
    conn.close()


def _rehash_without(action: str):
    def edit(conn: sqlite3.Connection) -> None:
        rows = conn.execute(
            "SELECT id, at, actor, action, details FROM audit_log ORDER BY id"
        ).fetchall()
        conn.execute("DELETE FROM audit_log")
        prev, new_id = audit.GENESIS, 0
        for _, at, actor, act, details in rows:
            if act == action:
                continue
            new_id += 1
            digest = audit.entry_hash(prev, new_id, at, actor, act, json.loads(details))
            conn.execute(
                "INSERT INTO audit_log (id, at, actor, action, details, prev_hash, hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (new_id, at, actor, act, details, prev, digest),
            )
            prev = digest
        # The same number of lines as before, so the head does not visibly go back.
        for _ in range(len(rows) - new_id):
            new_id += 1
            details = "{}"
            digest = audit.entry_hash(prev, new_id, rows[-1][1], "sistema", "NOTA", {})
            conn.execute(
                "INSERT INTO audit_log (id, at, actor, action, details, prev_hash, hash) "
                "VALUES (?, ?, 'sistema', 'NOTA', ?, ?, ?)",
                (new_id, rows[-1][1], details, prev, digest),
            )
            prev = digest
        conn.execute(
            "UPDATE meta SET value = ? WHERE key = ?", (f"{new_id}:{prev}", audit.HEAD_KEY)
        )

    return edit


def _truncate(keep: int):
    def edit(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM audit_log WHERE id > ?", (keep,))
        (digest,) = conn.execute("SELECT hash FROM audit_log WHERE id = ?", (keep,)).fetchone()
        conn.execute(
            "UPDATE meta SET value = ? WHERE key = ?", (f"{keep}:{digest}", audit.HEAD_KEY)
        )

    return edit


def _verify(path: Path, central_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "admin", "verificar-bitacora", "--db", str(path),
         "--central"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "ISSEG_CENTRAL_DB": central_url},
    )  # fmt: skip


@pytest.fixture
def caja_with_a_void(tmp_path: Path, db_url: str):  # noqa: F811
    clock = business_clock()
    with central_on_loopback(clock, db_url) as central:
        caja = make_terminal(tmp_path / "caja.sqlite", clock, terminal_entry(central))
        refs = seed_references(central.db_url, 2, clock())
        client = caja.client(central.base_url)
        CacheRefresher(caja.uow, client).refresh()
        caja.pay(refs[0], Decimal("100.00"))
        voided = caja.pay(refs[1], Decimal("100.00"))
        caja.void(voided.uuid, "Error de captura")
        beat = Heartbeat(caja.uow, client, clock, _health)
        assert beat.send() and beat.send()  # the second proves the anchor the first got
        yield caja, beat, central, tmp_path / "caja.sqlite"
        client.close()
        caja.close()


def test_a_rehashed_log_without_its_void_passes_locally_but_central_flags_it(
    caja_with_a_void,
) -> None:
    caja, beat, central, path = caja_with_a_void
    _tamper(path, _rehash_without(audit.VOID))
    assert audit.verify_uow(caja.uow()) is None  # "Bitácora íntegra" on the terminal alone
    assert _verify(path, central.db_url).returncode == 1
    assert beat.send() is False
    [case] = _cases(central.db_url)
    assert "reescrita" in case["message"]


def test_a_log_cut_short_with_its_head_updated_is_caught(caja_with_a_void) -> None:
    caja, beat, central, path = caja_with_a_void
    _tamper(path, _truncate(keep=3))
    assert audit.verify_uow(caja.uow()) is None
    checked = _verify(path, central.db_url)
    assert checked.returncode == 1 and "se borraron" in checked.stdout
    assert beat.send() is False
    [case] = _cases(central.db_url)
    assert "retrocedió" in case["message"]


def test_an_intact_log_that_grew_stays_intact_at_central(caja_with_a_void) -> None:
    caja, beat, central, path = caja_with_a_void
    shifts.close_shift(caja.uow(), pieces={"b100": 7}, closed_by=caja.manager_id,
                       clock=caja.clock)  # fmt: skip
    assert beat.send() is True
    checked = _verify(path, central.db_url)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert _cases(central.db_url) == []
