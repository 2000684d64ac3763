"""``isseg-farmacia demo``: everything on one machine, for a first look.

Central runs in-process on loopback with demo data; the terminal gets its own database in a
data folder, is enrolled as a demo terminal, prints to a file (with PNG previews next to it),
and opens the chosen screen with demo users and referencias shown on screen.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from kiosk import money, terminal_state, users
from kiosk.app import Terminal
from kiosk.bootstrap import build
from kiosk.ports import Clock, system_clock
from kiosk.references import Reference
from kiosk.rules import Policy
from kiosk.settings import Settings

DEMO_MANAGER = ("gerente", "Gerente de Demostración", "2580")
DEMO_CASHIER = ("cajero", "Cajero de Demostración", "1234")


def demo_clock(real: Clock = system_clock, policy: Policy | None = None) -> tuple[Clock, str]:
    """The real clock while payments are accepted; otherwise the next business day at 10:00,
    advancing in real time, so the demo can complete a payment at any hour (said on screen)."""
    policy = policy or Policy()
    now = real()
    if policy.is_open(now):
        return real, ""
    day = now.date() if policy.local(now).time() < time(7) else now.date() + timedelta(days=1)
    if not policy.is_business_day(day):
        day = policy.next_business_day(day)
    start = datetime.combine(day, time(10, 0), tzinfo=policy.tz)
    offset = start - now

    def clock() -> datetime:
        return (real() + offset).astimezone(policy.tz)

    return clock, f"Reloj de demostración: {start:%d/%m/%Y} a partir de las 10:00 (día hábil)."


def _enrollment(demo: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(t for t in demo["terminals"] if t["kind"] == kind and t["store_id"] == "F001")


def _people(terminal: Terminal) -> None:
    if not terminal.needs_first_manager():
        return
    username, name, pin = DEMO_MANAGER
    users.create_first_manager(
        terminal.uow,
        username=username,
        name=name,
        pin=pin,
        hasher=terminal.hasher,
        clock=terminal.clock,
    )
    c_user, c_name, c_pin = DEMO_CASHIER
    users.create_user(
        terminal.uow,
        manager=username,
        manager_pin=pin,
        username=c_user,
        name=c_name,
        pin=c_pin,
        hasher=terminal.hasher,
        clock=terminal.clock,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="isseg-farmacia demo",
        description="Demostración completa en esta computadora: central local con datos de "
        "prueba, una caja con impresora a archivo y la pantalla elegida.",
    )
    parser.add_argument(
        "--pantalla",
        choices=("caja", "kiosko", "gerente"),
        default="caja",
        help="qué pantalla abrir (caja por omisión)",
    )
    parser.add_argument(
        "--datos",
        help="carpeta para la base de datos y los tickets "
        "(por omisión, una carpeta temporal nueva)",
    )
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))

    from central.embedded import EmbeddedCentral
    from ui.app import application, run

    application()
    data = Path(args.datos) if args.datos else Path(tempfile.mkdtemp(prefix="caja-isseg-demo-"))
    data.mkdir(parents=True, exist_ok=True)
    clock, clock_note = demo_clock()
    central = EmbeddedCentral(clock=clock, seed_demo=True).start()
    kind = "kiosko" if args.pantalla == "kiosko" else "caja"
    enrollment = _enrollment(central.demo, kind)
    settings = Settings().with_values(
        {
            "data_dir": str(data),
            "central_url": central.base_url,
            "terminal_token": enrollment["token"],
            "printer_kind": "file",
            "printer_path": str(data / "impresora.bin"),
            "store_name": "Farmacia ISSEG Guanajuato Centro",
            "terminal_name": enrollment["name"],
            "sync_interval_seconds": 2.0,
        }
    )
    try:
        terminal = build(settings, clock=clock)
    except BaseException:
        central.stop()
        raise
    terminal.closers.append(central.stop)
    terminal_state.set_identity(
        terminal.uow,
        terminal_id=str(enrollment["terminal_id"]),
        store_id=enrollment["store_id"],
        actor="demo",
        clock=clock,
    )
    _people(terminal)
    print(
        f"Demo: datos en {data}; la impresora escribe en {data / 'impresora.bin'} "
        "(y una imagen PNG de cada ticket junto a él)."
    )
    notes = [n for n in (clock_note, f"Tickets impresos en: {data}") if n]
    if args.pantalla == "caja":
        from ui.cashier import CashierWindow

        refs = [
            (
                Reference(r["reference"]).grouped(),
                f"{r['concept']} · {money.fmt(Decimal(r['amount']))}",
            )
            for r in central.demo["references"]
        ]
        note = (
            f"Demostración: cajero «{DEMO_CASHIER[0]}» NIP {DEMO_CASHIER[2]} · gerente "
            f"«{DEMO_MANAGER[0]}» NIP {DEMO_MANAGER[2]}. " + " ".join(notes)
        )
        return run(
            terminal, lambda t, r: CashierWindow(t, r, login_note=note, demo_references=refs)
        )
    if args.pantalla == "kiosko":
        from ui.kiosk import KioskWindow

        members = " · ".join(
            f"afiliado {m['number']} NIP {m['nip']}" for m in central.demo["members"]
        )
        return run(terminal, lambda t, r: KioskWindow(t, r, demo_note=f"Demostración: {members}"))
    from ui.manager import ManagerWindow

    note = f"Demostración: gerente «{DEMO_MANAGER[0]}» NIP {DEMO_MANAGER[2]}. " + " ".join(notes)
    return run(terminal, lambda t, r: ManagerWindow(t, r, login_note=note))
