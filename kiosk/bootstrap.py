"""The composition root: a terminal's parts built from ``kiosk.settings`` and plugged into
the terminal service (cosmicpython's ``bootstrap.py``).

With ``kiosk.cli`` the only core module that names ``local_db``, ``sync``, ``printing`` or
``central``; everything else in ``kiosk`` speaks to the Protocols of ``kiosk.ports``. The
parts are imported when they are opened, so a window shows before SQLAlchemy, httpx and
escpos load.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from kiosk import users
from kiosk.app import Terminal
from kiosk.kiosk_flow import KioskService
from kiosk.ports import Clock, Enrolled, Refused, UnitOfWork, system_clock
from kiosk.settings import Settings

log = logging.getLogger(__name__)


def _open_parts(start_sync: bool) -> Callable[[Terminal], None]:
    """What ``Terminal.start()`` runs: the database (with its migrations), central's client
    and the sync engine."""

    def open_parts(t: Terminal) -> None:
        import local_db
        from sync.client import CentralClient
        from sync.refresher import CacheRefresher
        from sync.status import SyncEngine

        settings = t.settings
        db = local_db.open_database(settings.database_file)
        uow_factory: Callable[[], UnitOfWork] = db.unit_of_work
        closers: list[Callable[[], object]] = [db.close]
        try:
            central = CentralClient(
                settings.central_url,
                settings.terminal_token,
                settings.http_timeout_seconds,
                clock=t.clock,
                ca_bundle=settings.ca_bundle,
            )
            closers.append(central.close)
            # Central serves at most 1000 referencias per page of the feed.
            refresher = CacheRefresher(uow_factory, central, page_size=1000)
            engine = SyncEngine(
                uow_factory,
                central,
                t.clock,
                refresher=refresher,
                interval=settings.sync_interval_seconds,
                # The heartbeat tells the console what the status bar shows (it said
                # "desconocido" for every terminal while this was not passed).
                printer_state=t.printer_words,
            )
            closers.append(engine.stop)
        except BaseException:
            for close in reversed(closers):
                close()
            raise
        t.central, t.sync = central, engine
        t.closers.extend(closers)
        t.uow_factory = uow_factory
        if start_sync:
            engine.start()

    return open_parts


def _kiosk_service(t: Terminal) -> KioskService:
    """The kiosk's workflow over central's kiosk endpoints and the terminal's printer."""
    from printing.kiosk_slips import KioskSlipPrinter
    from sync.client import CentralClient
    from sync.kiosk_link import KioskLink

    def client() -> CentralClient | None:
        return t.central if isinstance(t.central, CentralClient) else None

    return KioskService(
        central=KioskLink(client),
        printer=KioskSlipPrinter(t.print_document, t.settings.store_name),
        clock=t.clock,
        policy=t.policy,
    )


class CentralEnroller:
    """The ``Enroller`` port over ``sync.enrollment``, the same code as ``isseg-farmacia
    enrolar``: the token file is created 0600, config.json and the identity are written."""

    def __init__(self, terminal: Terminal) -> None:
        self._terminal = terminal

    def enroll(self, central_url: str, code: str, kind: str | None = None) -> Enrolled:
        from sync import enrollment
        from sync.client import CentralClient

        t = self._terminal
        try:
            got = enrollment.redeem(central_url, code, ca_bundle=t.settings.ca_bundle, kind=kind)
        except enrollment.EnrollmentError as exc:
            raise Refused(exc.code, exc.message) from None
        try:
            enrollment.save(t.settings, central_url, got)
        except Refused:
            raise
        except Exception:  # disk full, a folder not writable, a config.json not JSON
            log.exception(
                "alta: central respondió pero no se pudo guardar en %s", t.settings.data_path
            )
            raise Refused(
                "ALTA_SIN_GUARDAR",
                f"Central dio de alta la terminal, pero no se pudo guardar en "
                f"{t.settings.data_path}. Avise a soporte; el código ya se usó, pida uno nuevo.",
            ) from None
        # The window may be opening the terminal on its database thread right now: wait for
        # that (start() is idempotent and locked), so the client it built is the one
        # re-pointed here, not one built a moment later from the settings before the alta.
        try:
            t.start()
        except Exception:  # the window reports a database that does not open; the alta stands
            log.exception("alta: la terminal no abrió")
        if isinstance(t.central, CentralClient):
            t.central.relink(central_url, got.token)
        return got


def build(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    hasher: users.PinHasher = users.DEFAULT_HASHER,
    start_sync: bool = True,
    defer: bool = False,
) -> Terminal:
    """A terminal for ``settings``. With ``defer`` nothing is opened yet (the screens call
    ``start()`` on their database thread once the window shows); otherwise the database,
    central's client and the sync engine are open on return. The printer's service (and
    escpos) is built on its first print."""
    from printing.terminal import TerminalPrinter

    terminal = Terminal(
        settings=settings,
        clock=clock,
        hasher=hasher,
        opener=_open_parts(start_sync),
        printer=TerminalPrinter(settings),
        kiosk_factory=_kiosk_service,
    )
    terminal.enroller = CentralEnroller(terminal)
    if not defer:
        terminal.start()
    return terminal
