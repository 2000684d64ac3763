"""Fixtures for the screens: a real terminal (SQLite on tmp_path, file printer, central on
loopback when a test asks for it), a fixed business-day clock and the task runner."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import gc
import socket
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kiosk import reference_cache, terminal_state, users
from kiosk.app import Terminal
from kiosk.bootstrap import build
from kiosk.ports import User
from kiosk.references import ReferenceRecord, issue
from kiosk.settings import Settings
from local_db.testing import FixedClock

MX = ZoneInfo("America/Mexico_City")
CHEAP = users.PinHasher(time_cost=1, memory_cost=8, parallelism=1)
MANAGER_PIN = "9876"
CASHIER_PIN = "1234"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(autouse=True)
def cycles_freed_on_the_gui_thread() -> Iterator[None]:
    """As the app does (ui/collector.py): no automatic collection while a test runs, so the
    embedded central's or a worker's thread never frees a Qt object (a deadlock CI hit); the
    test's cycles are freed here, on the GUI thread, once its windows are gone."""
    gc.disable()
    yield
    gc.collect()
    gc.enable()


@pytest.fixture
def clock() -> FixedClock:
    """A business day (Wednesday 12 March 2025) from 10:00 in Mexico City, running."""
    return FixedClock(datetime(2025, 3, 12, 10, 0, tzinfo=MX), running=True)


def make_settings(tmp_path: Path, **values: Any) -> Settings:
    base: dict[str, Any] = {
        "data_dir": str(tmp_path / "datos"),
        "central_url": f"http://127.0.0.1:{free_port()}",  # nobody listens: offline
        "terminal_token": "sin-token",
        "http_timeout_seconds": 1.0,
        "sync_interval_seconds": 0.2,
        "printer_kind": "file",
        "printer_path": str(tmp_path / "impresora.bin"),
    }
    base.update(values)
    return Settings().with_values(base)


@pytest.fixture
def runner(qtbot: Any) -> Iterator[Any]:
    from ui.tasks import TaskRunner

    r = TaskRunner()
    yield r
    r.shutdown()


def open_terminal(settings: Settings, clock: FixedClock) -> Terminal:
    return build(settings, clock=clock, hasher=CHEAP)


def identified(t: Terminal, clock: FixedClock) -> Terminal:
    """A terminal given its identity as enrollment would (it refuses payments without a
    store), for tests that never reach central."""
    terminal_state.set_identity(
        t.uow, terminal_id="99", store_id="F001", actor="prueba", clock=clock
    )
    return t


@pytest.fixture
def offline_terminal(tmp_path: Path, clock: FixedClock) -> Iterator[Terminal]:
    t = identified(open_terminal(make_settings(tmp_path), clock), clock)
    yield t
    t.close()


def add_people(t: Terminal, clock: FixedClock) -> tuple[User, User]:
    """The first manager (gerente/9876) and a cashier (cajero/1234)."""
    manager = users.create_first_manager(
        t.uow,
        username="gerente",
        name="Gerente Demo",
        pin=MANAGER_PIN,
        hasher=CHEAP,
        clock=clock,
    )
    cashier = users.create_user(
        t.uow,
        manager="gerente",
        manager_pin=MANAGER_PIN,
        username="cajero",
        name="Ana Cajera",
        role="cajero",
        pin=CASHIER_PIN,
        hasher=CHEAP,
        clock=clock,
    )
    return manager, cashier


def cache_reference(
    t: Terminal, serial: int, amount: str, clock: FixedClock, **extra: Any
) -> ReferenceRecord:
    record = ReferenceRecord(
        reference=str(issue(clock().date(), serial)),
        amount=Decimal(amount),
        issued_on=extra.pop("issued_on", clock().date()),
        member_number=extra.pop("member_number", "123456"),
        member_name=extra.pop("member_name", "María López Pérez"),
        loan_id=extra.pop("loan_id", "PP-1"),
        kind=extra.pop("kind", "installment"),
        concept=extra.pop("concept", "Pago quincenal 5"),
        **extra,
    )
    reference_cache.upsert(t.uow, [record])
    return record


def barcodes_in(printed: bytes) -> list[str]:
    """Every Code 128 barcode (ESC/POS ``GS k 73 n data``) in a byte stream, decoded."""
    from printing.preview import decode_code128

    found, start = [], 0
    while (i := printed.find(b"\x1dkI", start)) >= 0:
        n = printed[i + 3]
        found.append(decode_code128(printed[i + 4 : i + 4 + n]))
        start = i + 4 + n
    return found


@pytest.fixture
def central(clock: FixedClock) -> Iterator[Any]:
    """The real central server on loopback, with the demo data, on the same fixed clock."""
    from central.embedded import EmbeddedCentral

    c = EmbeddedCentral(clock=clock, seed_demo=True).start()
    yield c
    c.stop()


@pytest.fixture
def proxy(central: Any) -> Iterator[Any]:
    """Between the terminal and central: ``down()`` cuts the link, ``up()`` restores it."""
    from tests.integration.sync_faults import fault_proxy

    port = int(central.base_url.rsplit(":", 1)[1])
    with fault_proxy("127.0.0.1", port, hang_seconds=3.0) as p:
        yield p


def demo_terminal(central: Any, kind: str = "caja", store: str = "F001") -> dict[str, Any]:
    for t in central.demo["terminals"]:
        if t["kind"] == kind and t["store_id"] == store:
            return dict(t)
    raise LookupError(kind)


def enrolled(settings: Settings, clock: FixedClock, enrollment: dict[str, Any]) -> Terminal:
    t = open_terminal(settings, clock)
    terminal_state.set_identity(
        t.uow,
        terminal_id=str(enrollment["terminal_id"]),
        store_id=enrollment["store_id"],
        actor="prueba",
        clock=clock,
    )
    return t


@pytest.fixture
def online_terminal(
    tmp_path: Path, clock: FixedClock, central: Any, proxy: Any
) -> Iterator[Terminal]:
    enrollment = demo_terminal(central)
    settings = make_settings(
        tmp_path, central_url=proxy.base_url, terminal_token=enrollment["token"]
    )
    t = enrolled(settings, clock, enrollment)
    yield t
    t.close()


@pytest.fixture
def kiosk_terminal(
    tmp_path: Path, clock: FixedClock, central: Any, proxy: Any
) -> Iterator[Terminal]:
    enrollment = demo_terminal(central, "kiosko")
    settings = make_settings(
        tmp_path,
        central_url=proxy.base_url,
        terminal_token=enrollment["token"],
        terminal_name="Kiosko 1",
    )
    t = enrolled(settings, clock, enrollment)
    yield t
    t.close()


def confirm_open_dialog(qtbot: Any, window: Any, pin: str | None = None, manager: str = "") -> None:
    """Answer the confirmation a window has open (``ui.approval.Confirm``): the PIN (and the
    manager) typed when it asks for them, then its confirm button."""
    from ui.approval import Confirm

    qtbot.waitUntil(lambda: bool(window.findChildren(Confirm)), timeout=5000)
    (dialog,) = [d for d in window.findChildren(Confirm) if d.isVisible()]
    if manager:
        dialog.manager.setText(manager)
    if pin is not None:
        dialog.pin.setText(pin)
    dialog.ok.click()


def visible_texts(window: Any) -> str:
    """Every label a person can see in the window, joined."""
    from PySide6.QtWidgets import QLabel

    return " | ".join(w.text() for w in window.findChildren(QLabel) if w.isVisible())
