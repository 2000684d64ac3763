"""The manager's screens: the count that comes up short, voids with and without the PIN."""

from __future__ import annotations

import csv
from decimal import Decimal
from typing import Any

import pytest

from kiosk import cashier, reports, shifts
from kiosk.ports import PrintOutcome
from kiosk.rules import Tender
from printing.terminal import report_document
from tests.ui.conftest import (
    CASHIER_PIN,
    MANAGER_PIN,
    add_people,
    cache_reference,
    confirm_open_dialog,
    visible_texts,
)
from tests.ui.fit_support import LONG_ERROR, LONG_NAME, SCREENS, fits
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


def manager_logs_in(qtbot: Any, w: ManagerWindow) -> ManagerWindow:
    w.login.username.setText("gerente")
    w.login.pin.setText(MANAGER_PIN)
    with qtbot.waitSignal(w.refreshed, timeout=5000):
        w.login.submit()
    return w


def open_window(qtbot: Any, terminal: Any, runner: Any, **options: Any) -> ManagerWindow:
    w = ManagerWindow(terminal, runner, status_poll_ms=100, **options)
    qtbot.addWidget(w)
    w.show()
    return manager_logs_in(qtbot, w)


@pytest.fixture
def window(qtbot: Any, offline_terminal: Any, runner: Any, day: Any) -> ManagerWindow:
    return open_window(qtbot, offline_terminal, runner)


def test_a_blind_close_with_a_short_count_shows_the_faltante_only_after_the_count(
    qtbot: Any, window: ManagerWindow, offline_terminal: Any
) -> None:
    # Expected: 500 float + 540 cash = 1040. Counted: 2×500 + 1×20 (bill) = 1020.
    window.count.spins["b500"].setValue(2)
    window.count.spins["b20"].setValue(1)
    assert window.count.total.text() == "Contado: $1,020.00"
    assert "1,040" not in visible_texts(window)
    assert "Esperado" not in visible_texts(window)
    window.count.close_button.click()
    assert offline_terminal.current_shift() is not None  # not before it is confirmed
    with qtbot.waitSignal(window.shift_closed, timeout=5000) as closed:
        confirm_open_dialog(qtbot, window)
    result = closed.args[0].close
    assert (result.counted_cash, result.over_short) == (Decimal("1020.00"), Decimal("-20.00"))
    assert offline_terminal.current_shift() is None
    # The breakdown the shift report prints, shown once the blind count is in.
    assert window.count.expected_label.text().startswith(
        "Fondo $500.00 + efectivo recibido $600.00 − cambio $60.00 − retiros $0.00 "
        "= esperado $1,040.00\nReporte del turno: Impreso."
    )
    assert window.count.difference.text() == "FALTANTE: $20.00"
    qtbot.waitUntil(lambda: "FALTANTE: $20.00" in window.message.text(), timeout=5000)
    # Shown as recorded, never adjusted.
    with offline_terminal.uow.reading() as uow:
        shift = uow.shifts.get(result.shift.id)
    assert (shift.expected_cash, shift.counted_cash, shift.over_short) == (
        Decimal("1040.00"),
        Decimal("1020.00"),
        Decimal("-20.00"),
    )


def test_without_a_blind_count_the_expected_cash_is_shown_while_counting(
    qtbot: Any, tmp_path: Any, clock: Any, runner: Any
) -> None:
    from tests.ui.conftest import identified, make_settings, open_terminal

    t = identified(open_terminal(make_settings(tmp_path, blind_count=False), clock), clock)
    try:
        _, person = add_people(t, clock)
        shifts.open_shift(t.uow, cashier_id=person.id, opening_float=Decimal("500"), clock=clock)
        w = open_window(qtbot, t, runner)
        w.count.spins["b500"].setValue(1)
        w.count.spins["m10"].setValue(1)
        assert w.count.expected_label.text() == "Esperado: $500.00"
        assert w.count.difference.text() == "SOBRANTE: $10.00"
        w.close()
    finally:
        runner.shutdown()
        t.close()


def test_the_opening_shift_list_offers_cashiers_but_not_managers(
    qtbot: Any, window: ManagerWindow
) -> None:
    # While a shift is open, only the cash-drop form shows; once closed, only the opening one.
    qtbot.waitUntil(lambda: window.drop_box.isVisible(), timeout=5000)
    assert not window.open_box.isVisible()
    window.count.close_button.click()
    with qtbot.waitSignal(window.shift_closed, timeout=5000):
        confirm_open_dialog(qtbot, window)
    qtbot.waitUntil(lambda: window.open_button.isEnabled(), timeout=5000)
    assert window.open_box.isVisible() and not window.drop_box.isVisible()
    offered = [window.open_cashier.itemText(i) for i in range(window.open_cashier.count())]
    assert offered == ["Ana Cajera (cajero)"]


def test_a_manager_registers_a_new_cashier_with_their_own_pin(
    qtbot: Any, window: ManagerWindow, offline_terminal: Any
) -> None:
    window.new_name.setText("Beto Ruiz")
    window.new_username.setText("bruiz")
    window.new_pin.setText("4321")
    window.create_user_button.click()
    assert "NIP de gerente" in window.users_error.text()
    window.new_pin.setText("4321")
    window.users_manager_pin.setText(MANAGER_PIN)
    with qtbot.waitSignal(window.user_created, timeout=5000):
        window.create_user_button.click()
    assert offline_terminal.login("bruiz", "4321").role == "cajero"


def test_the_x_report_prints_every_figure_the_day_has(
    qtbot: Any, window: ManagerWindow, offline_terminal: Any, day: Any, clock: Any, tmp_path: Any
) -> None:
    from kiosk import cashier as cashier_service

    t = offline_terminal
    t.record_drop(amount=Decimal("100.00"), manager="gerente", manager_pin=MANAGER_PIN)
    cashier_service.record_reprint(
        t.uow,
        day["payment"].uuid,
        user_id=day["cashier"].id,
        manager="gerente",
        manager_pin=MANAGER_PIN,
        hasher=t.hasher,
        clock=clock,
    )
    second = cache_reference(t, 78, "200.00", clock)
    paid = cashier.take_payment(
        t.uow,
        reference=second.reference,
        tender=Tender(cash=Decimal("200.00")),
        cashier_id=day["cashier"].id,
        cash_received=Decimal("200.00"),
        clock=clock,
    )
    t.void(
        paid.uuid,
        manager="gerente",
        manager_pin=MANAGER_PIN,
        reason="cobro de prueba",
        requested_by=day["manager"].id,
    )
    # 500 float + 540 cash − 100 drop = 940 expected; counted 900: $40 short.
    t.close_shift(pieces={"b500": 1, "b200": 2}, closed_by=day["manager"].id)
    with qtbot.waitSignal(window.report_printed, timeout=10000) as printed:
        window.x_button.click()
    report, result = printed.args
    assert result.printed
    doc = report_document(report)  # what the printer laid out
    assert doc.kind == "X" and doc.manager == "Gerente Demo" and doc.cashier == "Ana Cajera"
    assert [(s.cashier, s.payments, s.total, s.over_short) for s in doc.shifts] == [
        ("Ana Cajera", 1, Decimal("540.00"), Decimal("-40.00"))
    ]
    assert (doc.opening_float, doc.cash_drops, doc.counted_cash) == (
        Decimal("500.00"),
        Decimal("100.00"),
        Decimal("900.00"),
    )
    assert (doc.expected_cash, doc.over_short) == (Decimal("940.00"), Decimal("-40.00"))
    assert [(d.value, d.count, d.form) for d in doc.denominations] == [
        (Decimal("500"), 1, "billete"),
        (Decimal("200"), 2, "billete"),
    ]
    assert [v.reference for v in doc.voids] == [second.reference]
    assert [r.reference for r in doc.reprints] == [day["payment"].reference]
    # Offline all day: central has confirmed neither payment (the voided one included).
    assert {u.reference for u in doc.unconfirmed} == {day["payment"].reference, second.reference}
    assert doc.opened_at is not None
    paper = (tmp_path / "impresora.bin").read_bytes()
    for words in (b"TURNOS", b"FALTANTE", b"REIMPRESIONES (1)", b"CANCELACIONES (1)"):
        assert words in paper


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
    window.approver.setText("gerente")
    window.approver_pin.setText("0000")
    window.void_button.click()
    confirm_open_dialog(qtbot, window)
    qtbot.waitUntil(lambda: "incorrectos" in window.payments_error.text(), timeout=5000)
    assert not any(r.voided for r in offline_terminal.manager_view(blind=False).rows)


def test_a_void_with_the_managers_pin_cancels_the_payment(
    qtbot: Any, window: ManagerWindow, offline_terminal: Any, day: Any
) -> None:
    from ui.approval import Confirm

    paid = day["payment"]
    select_payment(window, paid.uuid)
    assert window.approver.text() == ""  # who authorizes is typed, never assumed
    window.void_reason.setText("cobro duplicado por error")
    window.approver.setText("gerente")
    window.approver_pin.setText(MANAGER_PIN)
    window.void_button.click()
    qtbot.waitUntil(lambda: any(d.isVisible() for d in window.findChildren(Confirm)))
    (dialog,) = [d for d in window.findChildren(Confirm) if d.isVisible()]
    for said in (f"folio {paid.folio}", "María López Pérez", "$540.00", "cobro duplicado"):
        assert said in dialog.text.text()
    assert not any(r.voided for r in offline_terminal.manager_view(blind=False).rows)
    with qtbot.waitSignal(window.voided, timeout=5000):
        confirm_open_dialog(qtbot, window)
    assert [r.voided for r in offline_terminal.manager_view(blind=False).rows] == [True]
    qtbot.waitUntil(lambda: window.table.item(0, 2).text() == "CANCELADO", timeout=5000)
    qtbot.waitUntil(lambda: "Cancelación: Impreso." in window.message.text(), timeout=5000)


def test_todays_payments_can_be_searched_and_exported_to_csv(
    qtbot: Any, window: ManagerWindow, day: Any, tmp_path: Any
) -> None:
    ref = day["payment"].reference
    assert window.table.item(0, 3).text() == ref  # the whole referencia
    assert window.table.item(0, 4).text() == "María López Pérez"
    assert window.table.item(0, 5).text() == "Ana Cajera"
    for text, found in (
        ("no-existe", 0),
        (ref[-6:], 1),
        ("maria lop", 1),
        ("540.00", 1),
        ("$540.00", 1),
        ("540", 1),
        ("541", 0),
    ):
        window.search.setText(text)
        assert window.table.rowCount() == found, text
    window.search.setText(ref[-6:])  # exports what the search finds
    path = tmp_path / "pagos.csv"
    with qtbot.waitSignal(window.refreshed, timeout=5000):
        window.export_to(path)
    assert "1 pago exportado (solo los que coinciden con" in window.message.text()
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0]["Referencia"] == f'="{ref}"' and rows[0]["Afiliado"] == "María López Pérez"
    assert rows[0]["Importe"] == "540.00" and rows[0]["Cambio entregado"] == "60.00"
    assert rows[0]["Efectivo recibido"] == "600.00"  # the drawer reconciles from the CSV
    paid = day["payment"].paid_at
    assert rows[0]["Fecha"] == f"{paid.day:02d}/{paid.month:02d}/{paid.year}"  # DD/MM/AAAA


def test_the_picture_of_the_day_has_the_payment_in_its_hour(
    qtbot: Any, window: ManagerWindow
) -> None:
    assert window.chart.rows == [(10, Decimal("540.00"), Decimal("0.00"))]
    assert not window.chart.grab().isNull()


@pytest.mark.parametrize("screen", SCREENS)
def test_the_window_fits_the_screen_with_a_long_error_and_a_closed_day(
    qtbot: Any, window: Any, offline_terminal: Any, screen: tuple[int, int]
) -> None:
    offline_terminal.last_print = PrintOutcome(False, True, LONG_ERROR)
    window.status.refresh()
    window.message.setText(LONG_ERROR + LONG_NAME)
    qtbot.waitUntil(lambda: "cola de reimpresión" in window.status.printer.text(), timeout=5000)
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        fits(qtbot, window, *screen)


def test_a_drop_shows_its_amount_asks_the_pin_again_and_prints_its_slip(
    qtbot: Any, window: ManagerWindow, offline_terminal: Any, tmp_path: Any
) -> None:
    from ui.approval import Confirm

    window.drop_amount.setText("300")
    window.drop_button.click()
    (dialog,) = window.findChildren(Confirm)
    assert "$300.00" in dialog.text.text() and dialog.asks_pin
    assert dialog.manager.text() == "gerente"
    dialog.reject()
    assert offline_terminal.shift_status().cash_drops == Decimal("0.00")  # nothing on cancel
    window.drop_button.click()
    confirm_open_dialog(qtbot, window, pin=MANAGER_PIN)
    qtbot.waitUntil(lambda: "Retiro de $300.00 registrado" in window.message.text(), timeout=5000)
    assert offline_terminal.shift_status().cash_drops == Decimal("300.00")
    assert b"RETIRO DE EFECTIVO" in (tmp_path / "impresora.bin").read_bytes()


def test_the_z_is_confirmed_with_the_pin_and_after_it_only_what_can_be_done_is_offered(
    qtbot: Any, window: ManagerWindow, offline_terminal: Any, day: Any
) -> None:
    offline_terminal.close_shift(pieces={"b1000": 1, "b20": 2}, closed_by=day["manager"].id)
    window.refresh()
    qtbot.waitUntil(lambda: window.open_button.isEnabled(), timeout=5000)
    window.z_button.click()
    confirm_open_dialog(qtbot, window, pin="0000")  # a wrong PIN: nothing closes
    qtbot.waitUntil(lambda: "incorrectos" in window.message.text(), timeout=5000)
    assert reports.day_figures(offline_terminal.uow, clock=offline_terminal.clock).closed_at is None
    with qtbot.waitSignal(window.report_printed, timeout=10000):
        window.z_button.click()
        confirm_open_dialog(qtbot, window, pin=MANAGER_PIN)
    qtbot.waitUntil(lambda: not window.z_button.isEnabled(), timeout=5000)
    assert not window.open_box.isVisible() and not window.open_button.isEnabled()
    assert "Día cerrado" in window.shift_info.text()
    assert window.x_button.isEnabled()


def test_the_managers_window_locks_when_idle_and_with_its_button(
    qtbot: Any, offline_terminal: Any, runner: Any, day: Any
) -> None:
    w = open_window(qtbot, offline_terminal, runner, idle_lock_ms=400)
    with qtbot.waitSignal(w.locked, timeout=5000):
        pass  # nobody touches anything
    assert w.pages.currentWidget() is w.login and w.user is None
    assert "bloqueada" in w.login.error.text()
    manager_logs_in(qtbot, w)
    with qtbot.waitSignal(w.locked, timeout=1000):
        w.lock_button.click()
    assert w.pages.currentWidget() is w.login


def test_users_are_listed_and_unlocked_deactivated_with_the_pin(
    qtbot: Any, window: ManagerWindow, offline_terminal: Any
) -> None:
    from kiosk.ports import Refused

    for _ in range(5):
        with pytest.raises(Refused):
            offline_terminal.login("cajero", "0000")
    window.refresh()

    def states() -> dict[str, str]:
        table = window.users_table
        return {table.item(i, 1).text(): table.item(i, 3).text() for i in range(table.rowCount())}

    qtbot.waitUntil(lambda: states().get("cajero", "").startswith("bloqueado"), timeout=5000)
    rows = {
        window.users_table.item(i, 1).text(): window.users_table.item(i, 3).text() for i in range(2)
    }
    assert rows["gerente"] == "activo" and rows["cajero"].startswith("bloqueado hasta")
    window.users_table.selectRow([*rows].index("cajero"))
    window.unlock_button.click()
    confirm_open_dialog(qtbot, window, pin=MANAGER_PIN)
    qtbot.waitUntil(lambda: "cajero desbloqueado" in window.message.text(), timeout=5000)
    assert offline_terminal.login("cajero", CASHIER_PIN).username == "cajero"


def test_a_manager_hands_the_open_shift_to_another_cashier(
    qtbot: Any, window: ManagerWindow, offline_terminal: Any
) -> None:
    beto = offline_terminal.create_user(
        manager="gerente",
        manager_pin=MANAGER_PIN,
        username="beto",
        name="Beto Ruiz",
        role="cajero",
        pin="4321",
    )
    window.refresh()
    qtbot.waitUntil(lambda: window.hand_to.count() == 1, timeout=5000)
    assert window.hand_to.currentText() == "Beto Ruiz (beto)"
    window.hand_button.click()
    confirm_open_dialog(qtbot, window, pin=MANAGER_PIN)
    qtbot.waitUntil(lambda: "entregado a Beto Ruiz" in window.message.text(), timeout=5000)
    assert offline_terminal.current_shift().cashier_id == beto.id


def test_the_shift_view_refreshes_by_itself_when_the_cashier_closes_at_the_till(
    qtbot: Any, offline_terminal: Any, runner: Any, day: Any
) -> None:
    w = open_window(qtbot, offline_terminal, runner, refresh_ms=200)
    assert "abierto desde" in w.shift_info.text()
    offline_terminal.close_shift(pieces={"b1000": 1, "b20": 2}, closed_by=day["cashier"].id)
    qtbot.waitUntil(lambda: w.shift_info.text() == "No hay turno abierto.", timeout=5000)


def test_a_refresh_asks_the_service_once_and_paints_its_view(
    qtbot: Any, window: ManagerWindow, offline_terminal: Any, day: Any, monkeypatch: Any
) -> None:
    views: list[Any] = []
    action = offline_terminal.manager_view

    def recorded(**kwargs: Any) -> Any:
        views.append(action(**kwargs))
        return views[-1]

    monkeypatch.setattr(offline_terminal, "manager_view", recorded)
    with qtbot.waitSignal(window.refreshed, timeout=5000):
        window.refresh()
    [view] = views
    assert window.table.rowCount() == len(view.rows) == 1
    assert window.table.item(0, 3).text() == day["payment"].reference
    assert f"{view.figures.payments} pago" in window.figures.text()


def test_the_payments_list_shows_every_column_whole_and_the_state_in_sight_at_1024(
    qtbot: Any, window: ManagerWindow
) -> None:
    window.tabs.setCurrentIndex(window.tabs.indexOf(window.table.parentWidget()))
    fits(qtbot, window, 1024, 768)
    table, metrics = window.table, window.table.fontMetrics()
    header = table.horizontalHeader()
    for column in range(table.columnCount()):
        words = [table.horizontalHeaderItem(column).text(), table.item(0, column).text()]
        needed = max(metrics.horizontalAdvance(w) for w in words)
        assert table.columnWidth(column) >= needed, words
    assert table.horizontalHeaderItem(2).text() == "Estado"
    state_ends = header.sectionViewportPosition(2) + table.columnWidth(2)
    assert 0 <= state_ends <= table.viewport().width()


def test_the_export_dialog_speaks_spanish_and_starts_in_the_users_folder(
    qtbot: Any, window: ManagerWindow, monkeypatch: Any, tmp_path: Any
) -> None:
    from pathlib import Path

    from PySide6.QtWidgets import QFileDialog, QLabel

    monkeypatch.setenv("HOME", str(tmp_path))  # a home without a Documents folder
    window._ask_export()
    dialog = window.export_dialog
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
    labels = " ".join(label.text().replace("&", "") for label in dialog.findChildren(QLabel))
    for english in ("Look in", "Files of type", "File name"):
        assert english not in labels
    assert "Buscar en:" in labels and "Tipo de archivo:" in labels
    assert Path(dialog.directory().absolutePath()) in (tmp_path, tmp_path / "Documents")
    assert Path(dialog.directory().absolutePath()) != Path.cwd()
    dialog.reject()


def test_handing_a_shift_over_with_nobody_to_take_it_says_why(window: ManagerWindow) -> None:
    assert window.hand_to.count() == 0  # the only cashier is the one whose shift it is
    assert window.hand_to.placeholderText() == "no hay otro cajero"
    assert "dé de alta otro cajero" in window.hand_to.toolTip()
    assert not window.hand_button.isEnabled()
