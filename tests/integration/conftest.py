"""Shared fixtures of the integration tier: a real terminal database, and a whole terminal
built by the composition root against the real central on loopback with the file printer.

No ``clock`` fixture here: central's tests get theirs from ``central_support`` (a plugin), and
a conftest fixture of the same name would win over it; each module names its clock.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import local_db
from central.embedded import EmbeddedCentral
from kiosk import shifts, terminal_state
from kiosk.app import Terminal
from kiosk.bootstrap import build
from kiosk.ports import UnitOfWork, User
from kiosk.settings import Settings
from local_db.testing import FAST_HASHER, FixedClock, add_people
from tests.integration.sync_support import BUSINESS_START


@pytest.fixture(autouse=True)
def _terminal_log_in_tmp(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """enrolar and diagnostico write to the terminal's log file (kiosk.logfile): keep it out
    of the home folder, and take its handler off the root logger after each test."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-state"))
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[local_db.Database]:
    database = local_db.open_database(tmp_path / "caja.sqlite")
    yield database
    database.close()


@pytest.fixture
def uow(db: local_db.Database) -> UnitOfWork:
    return db.unit_of_work()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Till:
    """A terminal as the screens see it: the service, its people, its paper."""

    terminal: Terminal
    manager: User
    cashier: User
    central: EmbeddedCentral
    paper: Path

    def printed(self) -> bytes:
        return self.paper.read_bytes() if self.paper.exists() else b""

    def demo_reference(self, kind: str) -> dict[str, Any]:
        return next(r for r in self.central.demo["references"] if r["kind"] == kind)


@pytest.fixture
def till_clock() -> FixedClock:
    """The till's and central's clock: a business morning, running."""
    return FixedClock(BUSINESS_START, running=True)


def build_till(tmp_path: Path, clock: FixedClock, central: EmbeddedCentral, url: str) -> Till:
    enrollment = next(
        t for t in central.demo["terminals"] if t["kind"] == "caja" and t["store_id"] == "F001"
    )
    paper = tmp_path / "impresora.bin"
    settings = Settings().with_values(
        {
            "data_dir": str(tmp_path / "datos"),
            "central_url": url,
            "terminal_token": enrollment["token"],
            "http_timeout_seconds": 2.0,
            "sync_interval_seconds": 3600.0,  # the tests send at once; no background drain
            "printer_kind": "file",
            "printer_path": str(paper),
        }
    )
    # The sync engine is not started: each test drives the sends itself.
    terminal = build(settings, clock=clock, hasher=FAST_HASHER, start_sync=False)
    terminal_state.set_identity(
        terminal.uow,
        terminal_id=str(enrollment["terminal_id"]),
        store_id=enrollment["store_id"],
        actor="prueba",
        clock=clock,
    )
    manager, cashier = add_people(terminal.uow, clock)
    return Till(terminal, manager, cashier, central, paper)


@pytest.fixture
def till(tmp_path: Path, till_clock: FixedClock) -> Iterator[Till]:
    """An enrolled terminal with its manager and cashier, online with central; no shift."""
    with EmbeddedCentral(clock=till_clock, seed_demo=True) as central:
        t = build_till(tmp_path, till_clock, central, central.base_url)
        yield t
        t.terminal.close()


@pytest.fixture
def open_till(till: Till) -> Till:
    """The same terminal with its cashier's shift open (float $500)."""
    shifts.open_shift(
        till.terminal.uow,
        cashier_id=till.cashier.id,
        opening_float=Decimal("500.00"),
        opened_by=till.manager.id,
        clock=till.terminal.clock,
    )
    return till


@pytest.fixture
def offline_till(tmp_path: Path, till_clock: FixedClock) -> Iterator[Till]:
    """An enrolled terminal whose central does not answer (nobody listens on its port)."""
    with EmbeddedCentral(clock=till_clock, seed_demo=True) as central:
        t = build_till(tmp_path, till_clock, central, f"http://127.0.0.1:{free_port()}")
        shifts.open_shift(
            t.terminal.uow,
            cashier_id=t.cashier.id,
            opening_float=Decimal("500.00"),
            clock=till_clock,
        )
        yield t
        t.terminal.close()
