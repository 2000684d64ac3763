"""The cashier's own close (blind count), the auto-lock, and the reprint queue."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from kiosk import shifts
from tests.ui import test_cashier as base
from tests.ui.conftest import (
    add_people,
    barcodes_in,
    cache_reference,
    confirm_open_dialog,
    identified,
    make_settings,
    open_terminal,
    visible_texts,
)
from tests.ui.test_cashier import login, scan
from ui.cashier import CashierWindow

# The cashier screen's fixtures: a window logged in with a shift open.
people, window, working = base.people, base.window, base.working


@contextmanager
def unplugged_printer_till(
    qtbot: Any, tmp_path: Any, clock: Any, runner: Any, serial: int, amount: str, retry_ms: int
) -> Iterator[tuple[Any, CashierWindow, Any, Path, Path]]:
    """A logged-in till with an open shift whose printer fails at the operating system:
    the printer file's folder is a plain file, as an unplugged printer fails every attempt.
    Yields (terminal, window, cached referencia, the blocking file, the printer file)."""
    blocker = tmp_path / "papel"
    blocker.write_text("no es una carpeta")
    paper = blocker / "impresora.bin"
    t = identified(open_terminal(make_settings(tmp_path, printer_path=str(paper)), clock), clock)
    try:
        _, person = add_people(t, clock)
        shifts.open_shift(t.uow, cashier_id=person.id, opening_float=Decimal("0"), clock=clock)
        record = cache_reference(t, serial, amount, clock)
        w = CashierWindow(t, runner, status_poll_ms=100, print_retry_ms=retry_ms)
        qtbot.addWidget(w)
        w.show()
        login(qtbot, w)
        qtbot.waitUntil(lambda: w.pages.currentWidget() is w.work, timeout=5000)
        yield t, w, record, blocker, paper
        w.close()
    finally:
        runner.shutdown()
        t.close()


def pay_cash(qtbot: Any, w: CashierWindow, reference: str, cash: str) -> None:
    scan(qtbot, w, reference)
    with qtbot.waitSignal(w.payment_taken, timeout=5000):
        qtbot.keyClicks(w.tender.cash, cash)
        qtbot.keyClick(w.tender.cash, Qt.Key.Key_Return)


def test_a_cashier_closes_with_a_blind_count_that_comes_up_short(
    qtbot: Any, working: CashierWindow, offline_terminal: Any, clock: Any
) -> None:
    record = cache_reference(offline_terminal, 51, "540.00", clock)
    pay_cash(qtbot, working, record.reference, "600")
    qtbot.keyClick(working.scan, Qt.Key.Key_F9)
    qtbot.waitUntil(lambda: working.pages.currentWidget() is working.close_page, timeout=5000)
    # Expected 500 + 540 = 1040; the cashier counts 2×500 + 1×20 coin = 1020.
    # Tab from box to box (Tab selects what is there), bills first then coins.
    spins = working.count.spins
    assert spins["b1000"].hasFocus()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert spins["b500"].hasFocus()
    qtbot.keyClicks(QApplication.focusWidget(), "2")
    for _ in range(5):  # $200, $100, $50 and $20 bills, then the $20 coin
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert spins["m20"].hasFocus()
    qtbot.keyClicks(QApplication.focusWidget(), "1")
    assert working.count.total.text() == "Contado: $1,020.00"
    assert "1,040" not in visible_texts(working) and "Esperado" not in visible_texts(working)
    working.count.close_button.click()
    with qtbot.waitSignal(working.shift_closed, timeout=5000) as closed:
        confirm_open_dialog(qtbot, working)
    assert closed.args[0].close.over_short == Decimal("-20.00")
    assert "= esperado $1,040.00" in working.count.expected_label.text()
    assert working.count.difference.text() == "FALTANTE: $20.00"
    assert offline_terminal.current_shift() is None
    working.finish_close.click()
    assert working.pages.currentWidget() is working.login
    assert "Turno cerrado" in working.login.error.text()
    assert "#b3261e" not in working.login.error.styleSheet()  # good news is not red
    assert "color:" in working.login.error.styleSheet()


def test_an_idle_cashier_window_locks_itself_and_hides_the_last_affiliate(
    qtbot: Any, tmp_path: Any, clock: Any, runner: Any
) -> None:
    t = identified(
        open_terminal(make_settings(tmp_path, cashier_idle_lock_minutes=0.01), clock), clock
    )  # 0.6 s
    try:
        _, person = add_people(t, clock)
        shifts.open_shift(t.uow, cashier_id=person.id, opening_float=Decimal("0"), clock=clock)
        record = cache_reference(t, 52, "300.00", clock)
        w = CashierWindow(t, runner, status_poll_ms=100)
        qtbot.addWidget(w)
        w.show()
        login(qtbot, w)
        qtbot.waitUntil(lambda: w.pages.currentWidget() is w.work, timeout=5000)
        with qtbot.waitSignal(w.locked, timeout=5000):
            scan(qtbot, w, record.reference)
        assert w.pages.currentWidget() is w.login
        assert "bloqueada" in w.login.error.text()
        assert "María López" not in visible_texts(w)
        assert t.current_shift() is not None  # locking is not closing
        w.close()
    finally:
        runner.shutdown()
        t.close()


def test_a_receipt_the_printer_could_not_take_waits_and_prints_once_when_it_returns(
    qtbot: Any, tmp_path: Any, clock: Any, runner: Any
) -> None:
    with unplugged_printer_till(qtbot, tmp_path, clock, runner, 53, "250.00", 200) as rig:
        t, w, record, blocker, paper = rig
        with qtbot.waitSignal(w.receipt_failed, timeout=10000):
            pay_cash(qtbot, w, record.reference, "250")
        assert [r.payment.reference for r in t.payments_today()] == [record.reference]
        assert "cola de reimpresión" in w.notice.text()
        qtbot.waitUntil(
            lambda: "1 comprobante por imprimir" in w.status.printer.text(), timeout=5000
        )
        qtbot.waitUntil(lambda: w.retry_prints.isEnabled(), timeout=5000)
        assert "1" in w.retry_prints.text()
        # The timer keeps trying while the printer is away: still one job, nothing lost.
        with qtbot.waitSignal(w.print_retry.finished, timeout=5000):
            pass
        assert t.printer is not None and t.printer.pending_count() == 1

        blocker.unlink()  # the printer is back
        with qtbot.waitSignal(w.print_retry.finished, check_params_cb=lambda n: n == 1):
            pass
        qtbot.waitUntil(lambda: "por imprimir" not in w.status.printer.text(), timeout=5000)
        assert not w.retry_prints.isEnabled()
        qtbot.keyClick(w.scan, Qt.Key.Key_F7)  # nothing waits: printing again prints nothing
        qtbot.waitUntil(lambda: not w.print_retry.in_flight, timeout=5000)
        assert barcodes_in(paper.read_bytes()) == [record.reference]


def test_the_visible_button_prints_what_waits_in_the_queue(
    qtbot: Any, tmp_path: Any, clock: Any, runner: Any
) -> None:
    # print_retry_ms=0: no timer, only the button prints.
    with unplugged_printer_till(qtbot, tmp_path, clock, runner, 54, "120.00", 0) as rig:
        _t, w, record, blocker, paper = rig
        with qtbot.waitSignal(w.receipt_failed, timeout=10000):
            pay_cash(qtbot, w, record.reference, "120")
        qtbot.waitUntil(lambda: w.retry_prints.isEnabled(), timeout=5000)
        blocker.unlink()
        with qtbot.waitSignal(w.print_retry.finished, timeout=10000) as done:
            w.retry_prints.click()
        assert done.args == [1]
        assert "Se imprimió 1 comprobante pendiente" in w.notice.text()
        assert barcodes_in(paper.read_bytes()) == [record.reference]


def test_enter_in_the_count_moves_to_the_next_denomination_and_the_close_asks_to_recount(
    qtbot: Any, working: CashierWindow, offline_terminal: Any
) -> None:
    from ui.approval import Confirm

    qtbot.keyClick(working.scan, Qt.Key.Key_F9)
    qtbot.waitUntil(lambda: working.pages.currentWidget() is working.close_page, timeout=5000)
    spins = list(working.count.spins.values())
    assert spins[0].hasFocus()
    qtbot.keyClicks(spins[0], "1")
    qtbot.keyClick(spins[0], Qt.Key.Key_Return)
    assert spins[1].hasFocus()
    for spin in spins[1:]:
        qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert working.count.close_button.hasFocus()
    working.count.close_button.click()
    qtbot.waitUntil(lambda: any(d.isVisible() for d in working.findChildren(Confirm)))
    (dialog,) = [d for d in working.findChildren(Confirm) if d.isVisible()]
    assert "$1,000.00 contados" in dialog.text.text() and "vuelva a contar" in dialog.text.text()
    dialog.cancel.click()
    assert offline_terminal.current_shift() is not None
