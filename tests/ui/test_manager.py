"""The manager's screens: the count that comes up short, voids with and without the PIN."""

from __future__ import annotations

import csv
from decimal import Decimal
from typing import Any

import pytest

from kiosk import cashier, shifts
from kiosk.rules import Tender
from tests.ui.conftest import MANAGER_PIN, add_people, cache_reference
from ui.manager import ManagerWindow


@pytest.fixture
def day(offline_terminal: Any, clock: Any) -> dict[str, Any]:
    """A shift with a $500 float and one $540 cash payment (change from $600)."""
    manager, person = add_people(offline_terminal, clock)
    shifts.open_shift(
        offline_terminal.uow, cashier_id=person.id, opening_float=Decimal("500.00"), clock=clock
    )
    record = cache_reference(offline_terminal, 77, "540.00", clock)
    payment = cashier.take_payment(
        offline_terminal.uow,
        reference=record.reference,
        tender=Tender(cash=Decimal("540.00")),
        cashier_id=person.id,
        cash_received=Decimal("600.00"),
        clock=clock,
    )
    return {"manager": manager, "cashier": person, "payment": payment}


@pytest.fixture
def window(qtbot: Any, offline_terminal: Any, runner: Any, day: Any) -> ManagerWindow:
    w = ManagerWindow(offline_terminal, runner, status_poll_ms=100)
    qtbot.addWidget(w)
    w.show()
    w.login.username.setText("gerente")
    w.login.pin.setText(MANAGER_PIN)
    with qtbot.waitSignal(w.refreshed, timeout=5000):
        w.login.submit()
    return w


def test_a_shift_close_with_a_short_count_records_and_shows_the_faltante(
    qtbot: Any, window: ManagerWindow, offline_terminal: Any
) -> None:
    # Expected: 500 float + 540 cash = 1040. Counted: 2×500 + 1×20 (bill) = 1020.
    window.count_spins["b500"].setValue(2)
    window.count_spins["b20"].setValue(1)
    assert window.count_expected.text() == "Esperado: $1,040.00"
    assert window.count_difference.text() == "FALTANTE: $20.00"
    with qtbot.waitSignal(window.shift_closed, timeout=5000) as closed:
        window.close_button.click()
    result = closed.args[0]
    assert (result.counted_cash, result.over_short) == (Decimal("1020.00"), Decimal("-20.00"))
    assert offline_terminal.current_shift() is None
    qtbot.waitUntil(lambda: "FALTANTE $20.00" in window.message.text(), timeout=5000)


def select_payment(window: ManagerWindow, uuid: str) -> None:
    for row in range(window.table.rowCount()):
        if window.table.item(row, 0).data(0x0100) == uuid:
            window.table.selectRow(row)
            return
    raise AssertionError("el pago no está en la tabla")


def test_a_void_without_the_managers_pin_is_refused(
    qtbot: Any, window: ManagerWindow, offline_terminal: Any, day: Any
) -> None:
    select_payment(window, day["payment"].uuid)
    window.void_reason.setText("cobro duplicado por error")
    window.void_button.click()
    assert "NIP del gerente" in window.payments_error.text()
    window.approver_pin.setText("0000")
    window.void_button.click()
    qtbot.waitUntil(lambda: "incorrectos" in window.payments_error.text(), timeout=5000)
    assert not offline_terminal.is_voided(day["payment"].uuid)


def test_a_void_with_the_managers_pin_cancels_the_payment(
    qtbot: Any, window: ManagerWindow, offline_terminal: Any, day: Any
) -> None:
    select_payment(window, day["payment"].uuid)
    window.void_reason.setText("cobro duplicado por error")
    window.approver_pin.setText(MANAGER_PIN)
    with qtbot.waitSignal(window.voided, timeout=5000):
        window.void_button.click()
    assert offline_terminal.is_voided(day["payment"].uuid)
    qtbot.waitUntil(lambda: window.table.item(0, 7).text() == "CANCELADO", timeout=5000)


def test_todays_payments_can_be_searched_and_exported_to_csv(
    qtbot: Any, window: ManagerWindow, day: Any, tmp_path: Any
) -> None:
    window.search.setText("no-existe")
    assert window.table.rowCount() == 0
    window.search.setText(day["payment"].reference[-6:])
    assert window.table.rowCount() == 1
    path = tmp_path / "pagos.csv"
    assert window.export_csv(path) == 1
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert rows[0]["referencia"] == day["payment"].reference
    assert rows[0]["importe"] == "540.00" and rows[0]["cambio"] == "60.00"


def test_the_picture_of_the_day_has_the_payment_in_its_hour(
    qtbot: Any, window: ManagerWindow
) -> None:
    assert window.chart.rows == [(10, Decimal("540.00"), Decimal("0.00"))]
    assert not window.chart.grab().isNull()
