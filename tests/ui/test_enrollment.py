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
    # Not "Farmacia ISSEG · Caja 1" (defaults) nor a red "SIN CONEXIÓN": not enrolled yet.
    assert w.windowTitle() == "Caja ISSEG · sin dar de alta"
    qtbot.waitUntil(lambda: w.status.central.text() == "● Central: sin dar de alta")
    assert "Pida al área de sistemas del ISSEG un código de alta de tipo «caja»" in (
        visible_texts(w)
    )
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
    assert f"identificador en central: {enrolled.terminal_id}" in visible_texts(w)

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
    qtbot.waitUntil(lambda: "sin dar de alta" not in w.status.central.text())

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
    assert refused.args == [
        "Ese código de alta ya se usó; pida al área de sistemas del ISSEG uno nuevo."
    ]
    assert w.windowTitle() == "Gerente · sin dar de alta"
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


def test_after_an_address_error_the_address_is_selected_after_a_code_error_the_code(
    qtbot: Any, fresh: Terminal, runner: Any, central: Any
) -> None:
    w = CashierWindow(fresh, runner, status_poll_ms=100)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    panel = w.enrollment
    button_at = panel.button.mapTo(w, panel.button.rect().topLeft())
    unreachable = f"http://127.0.0.1:{free_port()}"
    with qtbot.waitSignal(panel.refused, timeout=10000) as refused:
        type_in(qtbot, panel, unreachable, "7KQ2M-9XH4D")
    assert "No se pudo conectar con central" in refused.args[0]
    qtbot.waitUntil(panel.central_url.hasFocus)
    assert panel.central_url.selectedText() == unreachable
    assert panel.target is panel.central_url and panel.central_url.property("active")
    # The message took its reserved room: nothing under the finger or the eye moved.
    assert panel.button.mapTo(w, panel.button.rect().topLeft()) == button_at
    # Editing a field makes the old message go at once.
    qtbot.keyClicks(panel.central_url, "x")
    assert panel.error.text() == ""
    # Enter in the corrected address sends at once when the code is there (a trial pressed
    # it twice and saw only the focus move to the code).
    panel.central_url.setText(f"http://127.0.0.1:{free_port()}")
    with qtbot.waitSignal(panel.refused, timeout=10000) as again:
        qtbot.keyClick(panel.central_url, Qt.Key.Key_Return)
    assert "No se pudo conectar con central" in again.args[0]

    with qtbot.waitSignal(panel.refused, timeout=10000) as refused:
        type_in(qtbot, panel, central.base_url, UNKNOWN_CODE)
    assert refused.args == ["El código de alta no existe; revíselo."]
    qtbot.waitUntil(panel.code.hasFocus)
    assert panel.code.selectedText() == UNKNOWN_CODE
    assert panel.button.mapTo(w, panel.button.rect().topLeft()) == button_at
    qtbot.keyClick(panel.code, Qt.Key.Key_Backspace)
    assert panel.error.text() == ""
    w.close()


WRONG_KIND_AT_THE_TILL = (
    "Este código es para un kiosko de autoservicio y esta terminal es una caja: pida al área "
    "de sistemas del ISSEG un código de tipo caja. El código sigue valiendo."
)


def tap(qtbot: Any, widget: Any) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def touch_type(qtbot: Any, panel: Any, field: Any, text: str) -> None:
    """Only what a finger can do: tap the field, ⌫ what is there, tap the keys."""
    assert panel.keyboard is not None
    tap(qtbot, field)
    assert panel.target is field and field.property("active")
    for _ in range(len(field.text())):
        tap(qtbot, panel.keyboard.buttons["⌫"])
    for char in text:
        tap(qtbot, panel.keyboard.buttons[char.upper()])


def test_a_kiosk_code_at_the_till_is_refused_unspent_and_then_enrolls_the_kiosk_by_touch(
    qtbot: Any, fresh: Terminal, runner: Any, central: Any, clock: Any, tmp_path: Path
) -> None:
    from ui.kiosk_style import MIN_TARGET_PX

    code = issue(central, clock, "Kiosko 7", "kiosko")
    till = CashierWindow(fresh, runner, status_poll_ms=100)
    qtbot.addWidget(till)
    till.show()
    with qtbot.waitSignal(till.enrollment.refused, timeout=10000) as refused:
        type_in(qtbot, till.enrollment, central.base_url, code)
    assert refused.args == [WRONG_KIND_AT_THE_TILL]
    # Still the form, the message in it; nothing kept, no "Continuar".
    assert till.pages.currentWidget() is till.enrollment
    assert till.enrollment.form_box.isVisible() and not till.enrollment.done_box.isVisible()
    assert WRONG_KIND_AT_THE_TILL in visible_texts(till)
    assert till.enrollment.target is till.enrollment.code
    assert fresh.needs_enrollment and not (fresh.settings.data_path / "token").exists()
    till.close()

    # The kiosk it was meant for, enrolled with the same code by its on-screen keys alone.
    kiosk_terminal = build(
        make_settings(tmp_path / "kiosko", terminal_token=""), clock=clock, hasher=CHEAP, defer=True
    )
    try:
        w = KioskWindow(kiosk_terminal, runner, idle_seconds=5, warning_seconds=2, hold_seconds=0)
        qtbot.addWidget(w)
        w.resize(1366, 768)
        w.show()
        qtbot.waitExposed(w)
        panel = w.enrollment
        assert panel.keyboard is not None
        keys = panel.keyboard.buttons
        assert set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:/-⌫") <= set(keys)
        assert "código de alta de tipo «kiosko»" in visible_texts(w)
        for b in [*keys.values(), panel.button]:
            assert b.width() >= MIN_TARGET_PX and b.height() >= MIN_TARGET_PX, b.text()
        # The kiosk's large type, and the address's example is not cut.
        assert panel.heading.property("role") == "heading"
        assert panel.heading.font().pixelSize() >= 40
        field = panel.central_url
        placeholder = field.fontMetrics().horizontalAdvance(field.placeholderText())
        assert placeholder < field.width() - 30

        touch_type(qtbot, panel, panel.central_url, central.base_url)
        assert panel.central_url.text() == central.base_url
        touch_type(qtbot, panel, panel.code, code)
        assert panel.code.text() == code
        with qtbot.waitSignal(panel.enrolled, timeout=10000) as done:
            tap(qtbot, panel.button)
        assert done.args[0].kind == "kiosko" and done.args[0].name == "Kiosko 7"
        assert "Esta terminal es Kiosko 7 de la farmacia F001" in visible_texts(w)
        assert not kiosk_terminal.needs_enrollment
        tap(qtbot, panel.continue_button)
        assert w.pages.currentWidget() is w.welcome
        w.close()
    finally:
        kiosk_terminal.close()


def test_the_kiosk_error_is_in_its_red_and_the_keyboard_only_exists_on_the_kiosk(
    qtbot: Any, fresh: Terminal, runner: Any, central: Any
) -> None:
    till = CashierWindow(fresh, runner, status_poll_ms=100)
    qtbot.addWidget(till)
    assert till.enrollment.keyboard is None
    till.close()
    w = KioskWindow(fresh, runner, idle_seconds=5, warning_seconds=2, hold_seconds=0)
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    panel = w.enrollment
    with qtbot.waitSignal(panel.refused, timeout=10000):
        touch_type(qtbot, panel, panel.code, "7KQ2M")
        tap(qtbot, panel.button)
    assert panel.error.property("role") == "error"
    assert panel.error.palette().color(panel.error.foregroundRole()).name() == "#b3261e"
    assert "son 10 letras y números" in panel.error.text()
    # The refused code was selected: a key replaces it, as on a physical keyboard, and the
    # stale message goes.
    assert panel.target is panel.code and panel.code.selectedText() == "7KQ2M"
    tap(qtbot, panel.keyboard.buttons["9"])  # type: ignore[union-attr]
    assert panel.error.text() == "" and panel.code.text() == "9"
    w.close()
