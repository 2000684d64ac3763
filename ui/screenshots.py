"""``python -m ui.screenshots OUTDIR``: PNGs of the main states of each screen.

Runs offscreen (or under Xvfb) on a throw-away terminal with a fixed business-day clock:
central on loopback with the demo data, a local database and the file printer.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QWidget  # noqa: E402

from kiosk import terminal_state, users  # noqa: E402
from kiosk.app import Terminal  # noqa: E402
from kiosk.bootstrap import build  # noqa: E402
from kiosk.settings import Settings  # noqa: E402
from ui.app import application  # noqa: E402
from ui.tasks import TaskRunner  # noqa: E402

MX = ZoneInfo("America/Mexico_City")
CHEAP = users.PinHasher(time_cost=1, memory_cost=8, parallelism=1)
_LOOPS: list[QEventLoop] = []


def _loop() -> QEventLoop:
    # QEventLoop.processEvents: the static QCoreApplication one leaks a reference in 6.12.0.
    if not _LOOPS:
        _LOOPS.append(QEventLoop())
    return _LOOPS[0]


def _clock() -> Callable[[], datetime]:
    start, t0 = datetime(2025, 3, 12, 10, 0, tzinfo=MX), time.monotonic()
    from datetime import timedelta

    return lambda: start + timedelta(seconds=time.monotonic() - t0)


def wait(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("la pantalla no llegó al estado esperado")
        _loop().processEvents()
        time.sleep(0.01)


def settle(ms: int = 300) -> None:
    deadline = time.monotonic() + ms / 1000
    while time.monotonic() < deadline:
        _loop().processEvents()
        time.sleep(0.01)


def shoot(widget: QWidget, out: Path, name: str) -> Path:
    settle()
    path = out / f"{name}.png"
    widget.grab().save(str(path))
    print(path)
    return path


def _terminal(central: Any, data: Path, kind: str, clock: Any) -> Terminal:
    enrollment = next(
        t for t in central.demo["terminals"] if t["kind"] == kind and t["store_id"] == "F001"
    )
    settings = Settings().with_values(
        {
            "data_dir": str(data / kind),
            "central_url": central.base_url,
            "terminal_token": enrollment["token"],
            "printer_kind": "file",
            "printer_path": str(data / kind / "impresora.bin"),
            "sync_interval_seconds": 0.5,
            "store_name": "Farmacia ISSEG Guanajuato Centro",
            "terminal_name": enrollment["name"],
        }
    )
    t = build(settings, clock=clock, hasher=CHEAP)
    terminal_state.set_identity(
        t.uow,
        terminal_id=str(enrollment["terminal_id"]),
        store_id=enrollment["store_id"],
        actor="capturas",
        clock=clock,
    )
    manager = users.create_first_manager(
        t.uow, username="gerente", name="Laura Gerente", pin="2580", hasher=CHEAP, clock=clock
    )
    users.create_user(
        t.uow,
        manager="gerente",
        manager_pin="2580",
        username="cajero",
        name="Ana Cajera",
        pin="1234",
        hasher=CHEAP,
        clock=clock,
    )
    del manager
    return t


def cashier_shots(central: Any, data: Path, out: Path, clock: Any) -> Terminal:
    from ui.cashier import CashierWindow

    t = _terminal(central, data, "caja", clock)
    runner = TaskRunner()
    refs = [(r["reference"], r["concept"]) for r in central.demo["references"]]
    w = CashierWindow(
        t,
        runner,
        demo_references=refs,
        status_poll_ms=200,
        login_note="Demostración: cajero «cajero» NIP 1234",
    )
    w.show()
    shoot(w, out, "caja-1-inicio-de-sesion")
    w.login.username.setText("cajero")
    w.login.pin.setText("1234")
    w.login.submit()
    wait(lambda: w.pages.currentWidget() is w.open_shift)
    shoot(w, out, "caja-2-abrir-turno")
    w.open_shift.float_.setText("500")
    w.open_shift.submit()
    wait(lambda: w.pages.currentWidget() is w.work)
    wait(lambda: t.online())
    ref = central.demo["references"][0]["reference"]
    wait(lambda: t.scan(ref).verdict.record is not None)
    shoot(w, out, "caja-3-lista-para-escanear")
    w.scan.setText(ref)
    w.on_scan()
    wait(lambda: w.verdict is not None)
    shoot(w, out, "caja-4-referencia-valida")
    amount = w.verdict.record.amount if w.verdict and w.verdict.record else Decimal(0)
    w.tender.cash.setText(f"{(amount // 100 + 1) * 100:.2f}")
    shoot(w, out, "caja-5-cambio")
    w.tender.submit()
    wait(lambda: w.last_payment is not None and "impreso" in w.notice.text())
    shoot(w, out, "caja-6-pago-registrado")
    w.scan.setText(ref)
    w.on_scan()
    wait(lambda: w.verdict is not None)
    shoot(w, out, "caja-7-referencia-rechazada")
    w.close()
    runner.shutdown()
    return t


KIOSK_SIZES = {"vertical": (1080, 1920), "horizontal": (1920, 1080), "1366": (1366, 768)}


def kiosk_shots(central: Any, data: Path, out: Path, clock: Any) -> None:
    """Every kiosk step in portrait and landscape, and in large type at 1366×768."""
    from ui.kiosk import KioskWindow

    t = _terminal(central, data, "kiosko", clock)
    runner = TaskRunner()
    for tag, size in KIOSK_SIZES.items():
        _kiosk_visit(KioskWindow(t, runner), central.demo["members"][0], out, tag, size)
    runner.shutdown()
    t.close()


def _kiosk_visit(
    w: Any, member: dict[str, str], out: Path, tag: str, size: tuple[int, int]
) -> None:
    t = w.terminal
    w.resize(*size)
    w.show()
    wait(lambda: t.online(), 15)
    if tag == "1366":
        w.toggle_large()
    name = f"kiosko-{tag}"
    shoot(w, out, f"{name}-1-bienvenida")
    w.start()
    for key in member["number"] + member["nip"][:2]:
        w.login_page.keypad.buttons[key].click()
    shoot(w, out, f"{name}-2-acceso")
    for key in member["nip"][2:]:
        w.login_page.keypad.buttons[key].click()
    w.login_page.enter.click()
    wait(lambda: w.pages.currentWidget() is w.loans_page)
    shoot(w, out, f"{name}-3-prestamos")
    w.loans_page.buttons[0].click()
    shoot(w, out, f"{name}-4-formas-de-pago")
    w.options_page.kind_buttons["QUINCENAL"].click()
    w.quincenas_page.buttons[0].click()
    w._last_activity -= w.idle_seconds - w.warning_seconds + 1  # show the idle banner
    wait(lambda: w.countdown.isVisible())
    shoot(w, out, f"{name}-5-quincenas-y-aviso")
    w.touch()
    w.quincenas_page.next_button.click()
    wait(lambda: w.pages.currentWidget() is w.summary_page)
    shoot(w, out, f"{name}-6-resumen")
    w.summary_page.print_button.click()
    wait(lambda: w.pages.currentWidget() is w.done_page, 15)
    shoot(w, out, f"{name}-7-ficha-impresa")
    w.back_to_loans()
    wait(lambda: w.pages.currentWidget() is w.loans_page)
    w.show_history()
    wait(lambda: w.history_page.box.count() > 1 or w.history_page.error.text() != "")
    shoot(w, out, f"{name}-8-historial")
    w.show_simulator()
    wait(lambda: w.simulator_page.table.count() > 0 or w.simulator_page.error.text() != "")
    shoot(w, out, f"{name}-9-cuanto-me-prestan")
    w.show_help()
    shoot(w, out, f"{name}-10-ayuda")
    w.reset()
    w.close()


def manager_shots(t: Terminal, out: Path) -> None:
    """On the cashier's terminal: its payments make the day worth a picture."""
    from ui.manager import ManagerWindow

    runner = TaskRunner()
    w = ManagerWindow(t, runner)
    w.show()
    w.login.username.setText("gerente")
    w.login.pin.setText("2580")
    w.login.submit()
    wait(lambda: w.pages.currentWidget() is w.main)
    for index in range(w.tabs.count()):
        w.tabs.setCurrentIndex(index)
        settle(500)
        name = w.tabs.tabText(index).lower().replace(" ", "-")
        shoot(w, out, f"gerente-{index + 1}-{name}")
    w.close()
    runner.shutdown()


def first_run_shot(central: Any, data: Path, out: Path, clock: Any) -> None:
    """A brand-new till: no token (the alta: empty, refused, done), then nobody to log in."""
    from central.enrollment import new_code
    from ui.cashier import CashierWindow

    settings = Settings().with_values(
        {"data_dir": str(data / "nueva"), "central_url": "http://127.0.0.1:9"}
    )
    t = build(settings, clock=clock, hasher=CHEAP, defer=True)
    runner = TaskRunner()
    w = CashierWindow(t, runner, status_poll_ms=200)
    w.show()
    panel = w.enrollment
    shoot(w, out, "caja-0a-alta-vacia")
    panel.central_url.setText(central.base_url)
    panel.code.setText("ZZZZZ-ZZZZZ")
    panel.submit()
    wait(lambda: bool(panel.error.text()))
    shoot(w, out, "caja-0b-alta-rechazada")
    # A kiosk's code at the till: refused before central spends it; the form stays.
    with central.app.state.db.write() as s:
        kiosk_code, _ = new_code(s, "F001", "Kiosko 7", "kiosko", clock())
    panel.code.setText(kiosk_code)
    panel.submit()
    wait(lambda: "kiosko" in panel.error.text())
    shoot(w, out, "caja-0b2-alta-codigo-de-kiosko")
    with central.app.state.db.write() as s:
        code, _ = new_code(s, "F001", "Caja 2", "caja", clock())
    panel.code.setText(code.lower().replace("-", " "))
    panel.submit()
    wait(lambda: panel.result is not None)
    wait(t.online)  # the running till already talks to central with its new token
    shoot(w, out, "caja-0c-alta-hecha")
    panel.continue_button.click()
    wait(lambda: w.pages.currentWidget() is w.first_run)
    w.first_run.name.setText("Laura García Ruiz")
    w.first_run.username.setText("lgarcia")
    shoot(w, out, "caja-0-primer-uso")
    w.close()
    runner.shutdown()
    t.close()


def kiosk_enrollment_shots(central: Any, data: Path, out: Path, clock: Any) -> None:
    """A brand-new kiosk at 1366×768 and in portrait: the alta typed on its own keyboard
    (a refusal in red on the way), then done."""
    from central.enrollment import new_code
    from ui.kiosk import KioskWindow

    settings = Settings().with_values(
        {"data_dir": str(data / "kiosko-nuevo"), "central_url": "http://127.0.0.1:9"}
    )
    t = build(settings, clock=clock, hasher=CHEAP, defer=True)
    runner = TaskRunner()
    w = KioskWindow(t, runner)
    w.resize(*KIOSK_SIZES["1366"])
    w.show()
    panel = w.enrollment
    panel.central_url.clear()
    panel.reset()
    settle()
    shoot(w, out, "kiosko-0a-alta-teclado")
    for key in central.base_url.upper():  # as a finger types it, key by key
        panel.key(key)
    panel._select(panel.code)
    for key in "7KQ2M":
        panel.key(key)
    panel.submit()
    wait(lambda: bool(panel.error.text()))
    shoot(w, out, "kiosko-0b-alta-rechazada")
    with central.app.state.db.write() as s:
        code, _ = new_code(s, "F001", "Kiosko 2", "kiosko", clock())
    panel.code.clear()
    for key in code:
        panel.key(key)
    settle()
    shoot(w, out, "kiosko-0c-alta-escrita")
    w.resize(*KIOSK_SIZES["vertical"])
    settle()
    shoot(w, out, "kiosko-0d-alta-vertical")
    w.resize(*KIOSK_SIZES["1366"])
    settle()
    w.resize(*KIOSK_SIZES["1366"])  # the first resize is bounded by the portrait layout
    panel.submit()
    wait(lambda: panel.result is not None)
    wait(t.online)
    shoot(w, out, "kiosko-0e-alta-hecha")
    panel.continue_button.click()
    shoot(w, out, "kiosko-0f-bienvenida-tras-alta")
    w.close()
    runner.shutdown()
    t.close()


def close_shots(t: Terminal, out: Path) -> None:
    """The cashier's own close: the blind count, then expected vs counted."""
    from ui.approval import Confirm
    from ui.cashier import CashierWindow

    runner = TaskRunner()
    w = CashierWindow(t, runner, status_poll_ms=200)
    w.show()
    w.login.username.setText("cajero")
    w.login.pin.setText("1234")
    w.login.submit()
    wait(lambda: w.pages.currentWidget() is w.work)
    w.start_close()
    wait(lambda: w.pages.currentWidget() is w.close_page)
    w.count.spins["b1000"].setValue(1)
    w.count.spins["b500"].setValue(1)
    w.count.spins["m20"].setValue(1)
    shoot(w, out, "caja-8-corte-conteo-ciego")
    w.count.submit()
    # The close asks to confirm the counted total (a chance to recount) before it closes.
    wait(lambda: any(d.isVisible() for d in w.findChildren(Confirm)))
    shoot(w, out, "caja-8b-confirmar-conteo")
    next(d for d in w.findChildren(Confirm) if d.isVisible()).ok.click()
    wait(lambda: w.count.result is not None)
    shoot(w, out, "caja-9-corte-resultado")
    w.close()
    runner.shutdown()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    out = Path(args[0] if args else "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    from central.embedded import EmbeddedCentral

    app = application()
    clock = _clock()
    data = Path(tempfile.mkdtemp(prefix="caja-isseg-capturas-"))
    with EmbeddedCentral(clock=clock, seed_demo=True) as central:
        first_run_shot(central, data, out, clock)
        kiosk_enrollment_shots(central, data, out, clock)
        cashier = cashier_shots(central, data, out, clock)
        try:
            kiosk_shots(central, data, out, clock)
            manager_shots(cashier, out)
            close_shots(cashier, out)
        finally:
            cashier.close()
    QTimer.singleShot(0, app.quit)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # see bench/bench_ui.py: PySide6 6.12.0 can abort at finalization
