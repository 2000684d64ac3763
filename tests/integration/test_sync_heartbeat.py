"""The sync engine's heartbeat and what a kiosk reads (issue 13)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from central.db import Database
from central.models import TerminalHeartbeat
from sync.status import SyncEngine
from tests.integration.sync_support import (
    business_clock,
    central_on_loopback,
    make_terminal,
    terminal_entry,
)


def _heartbeats(url: str) -> list[TerminalHeartbeat]:
    db = Database(url)
    try:
        with db.read() as s:
            rows = list(s.execute(select(TerminalHeartbeat)).scalars())
            for r in rows:
                s.expunge(r)
            return rows
    finally:
        db.dispose()


def test_the_engine_sends_a_heartbeat_central_keeps_per_terminal(tmp_path: Path) -> None:
    clock = business_clock()
    with central_on_loopback(clock) as central:
        entry = terminal_entry(central)
        caja = make_terminal(tmp_path / "caja.sqlite", clock, entry)
        client = caja.client(central.base_url)
        engine = SyncEngine(caja.uow, client, clock, printer_state=lambda: "lista")
        try:
            result = engine.run_once(force=True)
            assert not [e for e in result.errors if e.startswith("latido")], result.errors
            [beat] = _heartbeats(central.db_url)
            assert beat.terminal_id == entry["terminal_id"]
            assert (beat.queue_depth, beat.printer_state) == (0, "lista")
            assert beat.audit_seq > 0 and len(beat.audit_hash) == 64
            assert beat.clock_skew_seconds is not None and abs(beat.clock_skew_seconds) <= 2
        finally:
            engine.stop()
            client.close()
            caja.close()


def test_a_kiosk_engine_stops_asking_for_referencias_it_may_not_read(tmp_path: Path) -> None:
    clock = business_clock()
    with central_on_loopback(clock) as central:
        kiosk = make_terminal(
            tmp_path / "kiosko.sqlite", clock, terminal_entry(central, kind="kiosko")
        )
        client = kiosk.client(central.base_url)
        engine = SyncEngine(kiosk.uow, client, clock)
        try:
            first = engine.run_once(force=True)
            again = engine.run_once(force=True)
            assert any(e.startswith("referencias") for e in first.errors)
            assert not any(e.startswith("referencias") for e in again.errors)
            assert client.link.snapshot().online is True
            assert "token" not in client.link.snapshot().last_error
            assert len(_heartbeats(central.db_url)) == 1
        finally:
            engine.stop()
            client.close()
            kiosk.close()
