"""Entry points of the three screens: ``isseg-farmacia caja | kiosko | gerente``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox

from kiosk import settings as settings_module
from kiosk.app import Terminal
from kiosk.bootstrap import build
from kiosk.logfile import log_to_file
from ui.collector import GarbageCollector
from ui.tasks import TaskRunner

log = logging.getLogger(__name__)

WindowFactory = Callable[[Terminal, TaskRunner], QMainWindow]


def install_spanish(app: QApplication) -> bool:
    """Qt's own Spanish (standard buttons, file dialogs, context menus) from the translations
    PySide6 ships. True when they loaded; without them Qt's texts stay in English."""
    QLocale.setDefault(QLocale(QLocale.Language.Spanish, QLocale.Country.Mexico))
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    loaded = False
    for name in ("qtbase_es", "qt_es"):
        translator = QTranslator(app)  # parented: it lives as long as the application
        if translator.load(name, folder):
            loaded = app.installTranslator(translator) or loaded
    return loaded


def application() -> QApplication:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    app = QApplication(sys.argv[:1])
    app.setApplicationName("Caja ISSEG")
    app.setOrganizationName("ISSEG")
    # Cycles are freed on this thread only, from the start (the demo's central and the sync
    # engine run in threads of this process): see ui/collector.py.
    GarbageCollector(app)
    if not install_spanish(app):
        log.warning("no se encontraron las traducciones de Qt al español")
    return app


def run(terminal: Terminal, factory: WindowFactory, *, full_screen: bool = False) -> int:
    """Show the window and run the event loop; stop every thread on the way out."""
    app = application()
    runner = TaskRunner()
    window = factory(terminal, runner)
    if full_screen:
        window.showFullScreen()
    else:
        # A till or a manager's desk uses the whole screen; sizing to it first also holds
        # where no window manager honours "maximized".
        window.setGeometry(app.primaryScreen().availableGeometry())
        window.showMaximized()
    # The database and the link to central open on the database thread once the window is
    # up (a window may already have asked; start() runs once).
    runner.db(terminal.start, None, lambda exc: log.error("no se pudo abrir la caja", exc_info=exc))
    try:
        return int(app.exec())
    finally:
        runner.shutdown()
        terminal.close()


def _parse(prog: str, description: str, argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"isseg-farmacia {prog}", description=description)
    parser.add_argument("--config", help="archivo de configuración JSON (ISSEG_CONFIG)")
    parser.add_argument("--datos", help="carpeta de datos de la caja (ISSEG_DATA_DIR)")
    if prog == "kiosko":
        parser.add_argument(
            "--ventana", action="store_true", help="en una ventana en lugar de pantalla completa"
        )
    return parser.parse_args(list(argv))


def _start(
    prog: str, description: str, argv: Sequence[str]
) -> tuple[argparse.Namespace, Terminal | None]:
    args = _parse(prog, description, argv)
    env = settings_module.environment(args.datos, args.config)
    application()
    try:
        log_file = log_to_file()
    except OSError:  # a read-only home must not keep the till from starting
        log_file = None
    try:
        settings = settings_module.load(env)
    except (OSError, ValueError) as exc:
        data = env.get("ISSEG_DATA_DIR") or str(settings_module.default_data_dir())
        where = env.get("ISSEG_CONFIG") or str(Path(data) / "config.json")
        log.error("configuración inválida (%s): %s", where, exc)
        QMessageBox.critical(
            None,
            "Caja ISSEG: configuración con error",
            f"La configuración de la caja tiene un error y no puede iniciar.\n\n"
            f"Archivo: {where}\nProblema: {_plain(exc)}\n\n{_how_to_fix(exc)}"
            + (f"\n\nBitácora: {log_file}" if log_file else ""),
        )
        return args, None
    try:
        return args, build(settings, defer=True)
    except Exception as exc:  # the person at the screen needs a reason, not a traceback
        log.exception("no se pudo iniciar")
        QMessageBox.critical(None, "Caja ISSEG", f"No se pudo iniciar la caja:\n\n{exc}")
        return args, None


def _how_to_fix(exc: BaseException) -> str:
    """Fix the one line or value, never delete the file: after the alta it holds central's
    address and the store's and terminal's names, and without them the till stops working."""
    if isinstance(exc, json.JSONDecodeError):
        fix = "Corrija esa línea del archivo y reinicie."
    elif isinstance(exc, OSError):
        fix = "Revise que el archivo exista y que el usuario de la caja pueda leerlo, y reinicie."
    else:
        fix = (
            "Corrija ese valor en el archivo (o quite solo esa línea para usar el valor de "
            "fábrica) y reinicie."
        )
    return (
        fix
        + "\nNo borre el archivo: guarda la dirección de central y los nombres de esta terminal."
    )


def _plain(exc: BaseException) -> str:
    """A settings error in words: JSON's own messages are English."""
    if isinstance(exc, json.JSONDecodeError):
        return f"el JSON no es válido en la línea {exc.lineno}, columna {exc.colno}"
    if isinstance(exc, OSError):
        return f"no se pudo leer ({exc.strerror})"
    return str(exc)


def main_caja(argv: Sequence[str]) -> int:
    from ui.cashier import CashierWindow

    _, terminal = _start("caja", "Pantalla del cajero: cobro de fichas ISSEG.", argv)
    if terminal is None:
        return 1
    return run(terminal, lambda t, r: CashierWindow(t, r))


def main_kiosko(argv: Sequence[str]) -> int:
    from ui.kiosk import KioskWindow

    args, terminal = _start("kiosko", "Kiosko de autoservicio para afiliados.", argv)
    if terminal is None:
        return 1
    return run(terminal, lambda t, r: KioskWindow(t, r), full_screen=not args.ventana)


def main_gerente(argv: Sequence[str]) -> int:
    from ui.manager import ManagerWindow

    _, terminal = _start("gerente", "Pantallas del gerente: turnos, cortes y reportes.", argv)
    if terminal is None:
        return 1
    return run(terminal, lambda t, r: ManagerWindow(t, r))
