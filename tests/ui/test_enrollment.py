"""First run without a token: the screens ask for central's address and a one-time code,
enroll against the real central on loopback, say which store and terminal this is, go on."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from central.enrollment import new_code
from kiosk import settings as settings_module
from kiosk import terminal_state
from kiosk.app import Terminal
from kiosk.bootstrap import build
from tests.ui.conftest import CHEAP, free_port, make_settings, visible_texts
from ui.cashier import CashierWindow
from ui.kiosk import KioskWindow
from ui.manager import ManagerWindow

UNKNOWN_CODE = "ZZZZZ-ZZZZZ"  # well formed; central never issued it (50 random bits)


def issue(central: Any, clock: Any, name: str = "Caja 7", kind: str = "caja") -> str:
    """A code issued by central's own service, as ``admin codigo-de-alta`` does."""
    with central.app.state.db.write() as s:
        code, _ = new_code(s, "F001", name, kind, clock())
    return str(code)


@pytest.fixture
def fresh(tmp_path: Path, clock: Any) -> Iterator[Terminal]:
    """A terminal as installed: no token, no identity, nothing opened yet."""
    t = build(make_settings(tmp_path, terminal_token=""), clock=clock, hasher=CHEAP, defer=True)
    yield t
    t.close()


def identity(t: Terminal) -> tuple[str, str]:
    with t.uow as uow:
        state = terminal_state.current_state(uow)
    return state.terminal_id, state.store_id


def type_in(qtbot: Any, panel: Any, url: str, code: str) -> None:
    panel.central_url.setText(url)
    panel.code.clear()
    qtbot.keyClicks(panel.code, code)
    qtbot.keyClick(panel.code, Qt.Key.Key_Return)


def test_a_fresh_till_enrolls_names_store_and_terminal_and_goes_on_to_the_first_manager(
    qtbot: Any, fresh: Terminal, runner: Any, central: Any, clock: Any
) -> None:
    w = CashierWindow(fresh, runner, status_poll_ms=100)
    qtbot.addWidget(w)
    w.show()
    assert w.pages.currentWidget() is w.enrollment
    assert "dar de alta esta terminal" in visible_texts(w)
    assert w.enrollment.code.maxLength() == 20 and w.enrollment.central_url.maxLength() == 200
    data = fresh.settings.data_path

    # A code central never issued: refused in Spanish, nothing kept.
    with qtbot.waitSignal(w.enrollment.refused, timeout=10000) as refused:
        type_in(qtbot, w.enrollment, central.base_url, UNKNOWN_CODE)
    assert refused.args == ["El código de alta no existe; revíselo."]
    assert w.enrollment.error.text() == "El código de alta no existe; revíselo."
    assert w.enrollment.button.isEnabled()
    assert not (data / "token").exists() and not (data / "config.json").exists()
    assert fresh.needs_enrollment and identity(fresh) == ("", "")
    assert w.pages.currentWidget() is w.enrollment

    # The right code, typed as read over the phone: lower case, a space for the dash.
    code = issue(central, clock)
    with qtbot.waitSignal(w.enrollment.enrolled, timeout=10000) as done:
        type_in(qtbot, w.enrollment, central.base_url + "/", code.lower().replace("-", " "))
    enrolled = done.args[0]
    assert enrolled.token == ""  # the screen never holds the token
    said = w.enrollment.sentence.text()
    assert said.startswith("Esta terminal es Caja 7 de la farmacia F001")
    assert said in visible_texts(w)
    assert f"número de terminal en central: {enrolled.terminal_id}" in visible_texts(w)
    assert not w.enrollment.warning.isVisible()

    token = data / "token"
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    config = json.loads((data / "config.json").read_text(encoding="utf-8"))
    assert config["terminal_name"] == "Caja 7" and config["central_url"] == central.base_url
    assert identity(fresh) == (str(enrolled.terminal_id), "F001")
    # A restart reads the same token; this running terminal already uses it.
    assert settings_module.load({"ISSEG_DATA_DIR": str(data)}).terminal_token == (
        token.read_text().strip()
    )
    assert not fresh.needs_enrollment and fresh.settings.terminal_name == "Caja 7"
    assert fresh.central is not None
    assert fresh.central.refunds() == []  # a store-scoped call: central took the new token
    assert "Caja 7" in w.windowTitle()

    with qtbot.waitSignal(w.booted, timeout=10000) as booted:
        w.enrollment.continue_button.click()
    assert booted.args == [True]
    assert w.pages.currentWidget() is w.first_run
    w.close()


def test_a_used_code_is_refused_the_second_time_and_the_manager_screen_enrolls_too(
    qtbot: Any, fresh: Terminal, runner: Any, central: Any, clock: Any, tmp_path: Path
) -> None:
    code = issue(central, clock, "Caja 2")
    other = build(
        make_settings(tmp_path / "otra", terminal_token=""), clock=clock, hasher=CHEAP, defer=True
    )
    try:
        assert other.enroll(central.base_url, code).name == "Caja 2"
    finally:
        other.close()

    w = ManagerWindow(fresh, runner, status_poll_ms=100)
    qtbot.addWidget(w)
    w.show()
    assert w.pages.currentWidget() is w.enrollment
    with qtbot.waitSignal(w.enrollment.refused, timeout=10000) as refused:
        type_in(qtbot, w.enrollment, central.base_url, code)
    assert refused.args == ["Ese código de alta ya se usó; pida uno nuevo a sistemas."]
    assert fresh.needs_enrollment and not (fresh.settings.data_path / "token").exists()

    with qtbot.waitSignal(w.enrollment.enrolled, timeout=10000):
        type_in(qtbot, w.enrollment, central.base_url, issue(central, clock, "Caja 3"))
    with qtbot.waitSignal(w.booted, timeout=10000):
        w.enrollment.continue_button.click()
    assert w.pages.currentWidget() is w.first_run
    w.close()


@pytest.mark.parametrize(
    ("url", "code", "said"),
    [
        ("", "", "Escriba la dirección de central y el código de alta"),
        ("http://central.isseg.gob.mx", "7KQ2M-9XH4D", "debe empezar con https://"),
        ("CENTRAL", "7KQ2M-9XH4", "son 10 letras y números"),
        ("UNREACHABLE", "7KQ2M-9XH4D", "No se pudo conectar con central"),
    ],
)
def test_refusals_are_spanish_and_keep_nothing(
    qtbot: Any, fresh: Terminal, runner: Any, central: Any, url: str, code: str, said: str
) -> None:
    url = {"CENTRAL": central.base_url, "UNREACHABLE": f"http://127.0.0.1:{free_port()}"}.get(
        url, url
    )
    w = CashierWindow(fresh, runner, status_poll_ms=100)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.enrollment.refused, timeout=10000) as refused:
        type_in(qtbot, w.enrollment, url, code)
    assert said in refused.args[0]
    assert "Error" not in refused.args[0] and "Exception" not in refused.args[0]
    assert fresh.needs_enrollment and not (fresh.settings.data_path / "token").exists()
    assert w.pages.currentWidget() is w.enrollment
    w.close()


def test_the_kiosk_enrolls_and_shows_its_welcome(
    qtbot: Any, fresh: Terminal, runner: Any, central: Any, clock: Any
) -> None:
    w = KioskWindow(fresh, runner, idle_seconds=5, warning_seconds=2)
    qtbot.addWidget(w)
    w.show()
    assert w.pages.currentWidget() is w.enrollment
    assert not w.help_button.isVisible()
    with qtbot.waitSignal(w.enrollment.enrolled, timeout=10000):
        type_in(qtbot, w.enrollment, central.base_url, issue(central, clock, "Kiosko 4", "kiosko"))
    assert "Esta terminal es Kiosko 4 de la farmacia F001" in visible_texts(w)
    # Past the kiosk's idle time: the alta is not swept away like an affiliate's visit.
    w._last_activity -= 60
    w._on_tick()
    assert w.pages.currentWidget() is w.enrollment and not w.countdown.isVisible()
    w.enrollment.continue_button.click()
    assert w.pages.currentWidget() is w.welcome
    assert w.help_button.isVisible()
    w.close()
