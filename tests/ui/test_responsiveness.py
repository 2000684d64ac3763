"""The GUI thread never waits on disk, network or printer: with central and the printer both
slow (seconds), a QTimer still fires on time while the cashier works."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from PySide6.QtCore import QTimer

from kiosk import shifts
from kiosk.references import issue
from tests.integration.sync_faults import SLOW
from tests.ui.conftest import (
    add_people,
    cache_reference,
    demo_terminal,
    enrolled,
    make_settings,
)
from tests.ui.test_cashier import login
from ui.cashier import CashierWindow


@pytest.fixture
def stalled_printer() -> Iterator[int]:
    """A 'printer' on TCP that accepts the connection and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield int(s.getsockname()[1])


class Heartbeat:
    """A 20 ms timer; records the longest gap between two ticks."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.worst = 0.0
        self.timer = QTimer()
        self.timer.timeout.connect(self.tick)
        self.timer.start(20)

    def tick(self) -> None:
        now = time.monotonic()
        self.worst = max(self.worst, now - self.last)
        self.last = now


def test_the_window_keeps_processing_events_while_central_and_printer_are_slow(
    qtbot: Any,
    tmp_path: Any,
    clock: Any,
    central: Any,
    proxy: Any,
    runner: Any,
    stalled_printer: int,
) -> None:
    settings = make_settings(
        tmp_path,
        central_url=proxy.base_url,
        terminal_token=demo_terminal(central)["token"],
        printer_kind="network",
        printer_port=stalled_printer,
        printer_timeout_seconds=2.0,
        http_timeout_seconds=2.0,
    )
    terminal = enrolled(settings, clock, demo_terminal(central))
    try:
        _, person = add_people(terminal, clock)
        shifts.open_shift(
            terminal.uow, cashier_id=person.id, opening_float=Decimal("0"), clock=clock
        )
        w = CashierWindow(terminal, runner, status_poll_ms=100)
        qtbot.addWidget(w)
        w.show()
        login(qtbot, w)
        qtbot.waitUntil(lambda: w.pages.currentWidget() is w.work, timeout=5000)
        proxy.set_weights({SLOW: 1.0})  # central answers nothing for seconds
        # A serial central never issues (its feed would overwrite the cached one).
        record = cache_reference(terminal, 9_000_005, "250.00", clock)

        beat = Heartbeat()
        started = time.monotonic()
        # A payment whose receipt goes to the stalled printer...
        w.scan.setText(record.reference)
        w.on_scan()
        qtbot.waitUntil(lambda: w.tender.isEnabled(), timeout=5000)
        w.tender.cash.setText("250")
        w.tender.submit()
        # ...and a cache miss that must ask the stalled central.
        qtbot.waitUntil(lambda: w.last_payment is not None, timeout=5000)
        w.scan.setText(str(issue(clock().date(), 9_004_242)))
        w.on_scan()
        qtbot.waitUntil(
            lambda: "impreso" in w.notice.text() or "no se imprimió" in w.notice.text(),
            timeout=15000,
        )
        qtbot.waitUntil(lambda: w.verdict is not None, timeout=15000)
        elapsed = time.monotonic() - started
        beat.timer.stop()
        assert elapsed > 1.5, "central and the printer were supposed to be slow"
        assert beat.worst < 0.1, f"the event loop stalled {beat.worst * 1000:.0f} ms"
        assert "No se imprimió" in w.notice.text()
        assert w.verdict is not None and w.verdict.code == "NO_ENCONTRADA"
        w.close()
    finally:
        runner.shutdown()
        terminal.close()
