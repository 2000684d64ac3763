"""The cashier screen against the real central on loopback: cache misses, offline and back."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from kiosk import reference_cache, shifts
from tests.ui.conftest import add_people
from tests.ui.test_cashier import login, scan
from ui.cashier import CashierWindow


@pytest.fixture
def working(qtbot: Any, online_terminal: Any, runner: Any, clock: Any) -> CashierWindow:
    _, cashier = add_people(online_terminal, clock)
    shifts.open_shift(
        online_terminal.uow, cashier_id=cashier.id, opening_float=Decimal("500.00"), clock=clock
    )
    w = CashierWindow(online_terminal, runner, status_poll_ms=100)
    qtbot.addWidget(w)
    w.show()
    login(qtbot, w)
    qtbot.waitUntil(lambda: w.pages.currentWidget() is w.work, timeout=5000)
    return w


def demo_reference(central: Any, kind: str) -> dict[str, Any]:
    return next(r for r in central.demo["references"] if r["kind"] == kind)


def printed(tmp_path: Path) -> bytes:
    path = tmp_path / "impresora.bin"
    return path.read_bytes() if path.exists() else b""


def test_a_payment_taken_online_is_confirmed_before_its_receipt_prints(
    qtbot: Any, working: CashierWindow, online_terminal: Any, central: Any, tmp_path: Path
) -> None:
    ref = demo_reference(central, "LIQUIDACION")
    qtbot.waitUntil(
        lambda: reference_cache.lookup(online_terminal.uow, ref["reference"]) is not None,
        timeout=10000,
    )
    assert scan(qtbot, working, ref["reference"]).ok
    with qtbot.waitSignal(working.receipt_printed, timeout=10000):
        working.tender.fill_exact()
        qtbot.keyClick(working.tender.cash, Qt.Key.Key_Return)
    with online_terminal.uow.reading() as uow:
        assert uow.outbox.status_of("payment", working.last_payment.uuid) == "confirmado"
    # The receipt tells the affiliate the truth: central already has it.
    assert b"Pago aplicado en l" in printed(tmp_path)
    assert b"se enviar" not in printed(tmp_path)


def test_a_payment_taken_offline_is_queued_and_sent_when_the_link_returns(
    qtbot: Any,
    working: CashierWindow,
    online_terminal: Any,
    central: Any,
    proxy: Any,
    tmp_path: Path,
) -> None:
    ref = demo_reference(central, "QUINCENAL")
    # The feed brings today's fichas into the cache while central is reachable.
    qtbot.waitUntil(
        lambda: reference_cache.lookup(online_terminal.uow, ref["reference"]) is not None,
        timeout=10000,
    )
    qtbot.waitUntil(lambda: "EN LÍNEA" in working.status.central.text(), timeout=10000)
    proxy.down()
    qtbot.waitUntil(lambda: "SIN CONEXIÓN" in working.status.central.text(), timeout=10000)

    verdict = scan(qtbot, working, ref["reference"])
    assert verdict.ok
    with qtbot.waitSignal(working.payment_taken, timeout=5000):
        working.tender.fill_exact()
        qtbot.keyClick(working.tender.cash, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: working.status.queue.text().startswith("Por enviar: 1"), timeout=5000)
    assert "el más antiguo hace" in working.status.queue.text()
    qtbot.waitUntil(lambda: printed(tmp_path) != b"", timeout=10000)
    assert b"se enviar" in printed(tmp_path) and b"Pago aplicado" not in printed(tmp_path)

    proxy.up()
    qtbot.waitUntil(lambda: "EN LÍNEA" in working.status.central.text(), timeout=15000)
    qtbot.waitUntil(lambda: working.status.queue.text() == "Por enviar: 0", timeout=15000)
    with online_terminal.uow.reading() as uow:
        assert uow.outbox.status_of("payment", working.last_payment.uuid) == "confirmado"
    # The policy central pushed is in force, and the status bar says which version.
    # A no-break space: the label never wraps in the status bar.
    qtbot.waitUntil(lambda: working.status.policy.text() == "Política\u00a0v1", timeout=15000)


def issue_at_central(central: Any, loan_id: str, member: str, kind: str) -> Any:
    """A ficha issued at central behind the terminal's back (as the portal would)."""
    from central import service as svc

    state = central.app.state
    with state.db.write() as s:
        row, _ = svc.issue_slip(
            s,
            member_number=member,
            loan_id=loan_id,
            kind=kind,
            now=state.clock(),
            policy=state.policy,
        )
        return row.reference, row.amount


def test_a_referencia_not_yet_in_the_cache_is_asked_of_central(
    qtbot: Any, working: CashierWindow, online_terminal: Any, central: Any
) -> None:
    qtbot.waitUntil(lambda: "EN LÍNEA" in working.status.central.text(), timeout=10000)
    online_terminal.sync.stop()  # no feed: only the on-demand lookup can find it
    reference, amount = issue_at_central(central, "P-100001-2", "100001", "LIQUIDACION")
    assert reference_cache.lookup(online_terminal.uow, reference) is None
    verdict = scan(qtbot, working, reference)
    assert verdict.ok, verdict.message
    assert verdict.record.amount == amount
    assert "✔" in working.verdict_panel.headline.text()
