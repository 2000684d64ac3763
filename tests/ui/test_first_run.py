"""First run: on an empty database both screens offer to create the first manager."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from kiosk.bootstrap import build
from tests.ui import test_cashier as base
from tests.ui.conftest import CHEAP, make_settings
from tests.ui.test_cashier import login
from ui.cashier import CashierWindow
from ui.manager import ManagerWindow

people, window = base.people, base.window


def fill_first_manager(qtbot: Any, panel: Any, pin_again: str = "2580") -> None:
    # QTest types ASCII only (a non-ASCII key click aborts the process): paste the accent.
    panel.name.setText("Laura García")
    qtbot.keyClick(panel.name, Qt.Key.Key_Return)
    qtbot.keyClicks(panel.username, "lgarcia")
    qtbot.keyClick(panel.username, Qt.Key.Key_Return)
    qtbot.keyClicks(panel.pin, "2580")
    qtbot.keyClick(panel.pin, Qt.Key.Key_Return)
    qtbot.keyClicks(panel.pin_again, pin_again)
    qtbot.keyClick(panel.pin_again, Qt.Key.Key_Return)


def test_the_cashier_screen_on_an_empty_database_creates_the_first_manager(
    qtbot: Any, tmp_path: Any, clock: Any, runner: Any
) -> None:
    # As `isseg-farmacia caja` builds it: nothing opened until the window is up.
    t = build(make_settings(tmp_path), clock=clock, hasher=CHEAP, defer=True)
    try:
        assert not t.started
        w = CashierWindow(t, runner, status_poll_ms=100)
        qtbot.addWidget(w)
        with qtbot.waitSignal(w.booted, timeout=10000) as booted:
            w.show()
        assert booted.args == [True]
        assert w.pages.currentWidget() is w.first_run
        fill_first_manager(qtbot, w.first_run, pin_again="2581")
        assert "no coinciden" in w.first_run.error.text()
        assert t.needs_first_manager()
        assert w.first_run.pin.hasFocus()  # only the two PINs are typed again
        # A NIP the service refuses: the cursor goes back to the first NIP field too.
        qtbot.keyClicks(w.first_run.pin, "12")
        qtbot.keyClicks(w.first_run.pin_again, "12")
        w.first_run.name.setFocus()  # the cursor elsewhere when the refusal comes
        w.first_run.submit()
        qtbot.waitUntil(lambda: "4 a 8 dígitos" in w.first_run.error.text(), timeout=5000)
        qtbot.waitUntil(w.first_run.pin.hasFocus, timeout=5000)
        assert w.first_run.pin.text() == "" and w.first_run.pin_again.text() == ""
        # Where the cashiers are registered: a separate window, and how it is opened here.
        # (a non-breaking hyphen: the label never splits the command as "isseg-" / "farmacia")
        assert (
            "isseg\u2011farmacia gerente"
            in w.first_run.findChild(type(w.first_run.error), "hint").text()
        )
        qtbot.keyClicks(w.first_run.pin, "2580")
        qtbot.keyClick(w.first_run.pin, Qt.Key.Key_Return)
        qtbot.keyClicks(w.first_run.pin_again, "2580")
        qtbot.keyClick(w.first_run.pin_again, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: w.pages.currentWidget() is w.login, timeout=5000)
        assert w.login.username.text() == "lgarcia"
        assert "creado" in w.login.error.text()
        qtbot.keyClicks(w.login.pin, "2580")
        qtbot.keyClick(w.login.pin, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: w.pages.currentWidget() is w.open_shift, timeout=5000)
        assert t.login("lgarcia", "2580").role == "gerente"
        # The manager at the till is not called "Cajero".
        qtbot.waitUntil(lambda: w.status.who.text().startswith("Gerente: Laura"), timeout=5000)
        w.close()
    finally:
        runner.shutdown()
        t.close()


def test_the_manager_screen_on_an_empty_database_creates_and_enters_as_the_first_manager(
    qtbot: Any, tmp_path: Any, clock: Any, runner: Any
) -> None:
    t = build(make_settings(tmp_path), clock=clock, hasher=CHEAP, defer=True)
    try:
        w = ManagerWindow(t, runner, status_poll_ms=100)
        qtbot.addWidget(w)
        with qtbot.waitSignal(w.booted, timeout=10000):
            w.show()
        assert w.pages.currentWidget() is w.first_run
        with qtbot.waitSignal(w.refreshed, timeout=5000):
            fill_first_manager(qtbot, w.first_run)
        assert w.pages.currentWidget() is w.main
        qtbot.waitUntil(lambda: "Laura García" in w.status.who.text(), timeout=5000)
        w.close()
    finally:
        runner.shutdown()
        t.close()


def test_a_database_with_users_goes_straight_to_the_login(
    qtbot: Any, window: CashierWindow
) -> None:
    qtbot.waitUntil(lambda: window.terminal.started, timeout=5000)
    login(qtbot, window)
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.open_shift, timeout=5000)
