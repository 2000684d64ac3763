"""The composition root: a terminal's parts built from ``kiosk.settings`` and plugged into
the terminal service (cosmicpython's ``bootstrap.py``).

With ``kiosk.cli`` the only core module that names ``local_db``, ``sync``, ``printing`` or
``central``; everything else in ``kiosk`` speaks to the Protocols of ``kiosk.ports``. The
parts are imported when they are opened, so a window shows before SQLAlchemy, httpx and
escpos load.
"""

from __future__ import annotations

from collections.abc import Callable

from kiosk import users
from kiosk.app import Terminal
from kiosk.ports import Clock, UnitOfWork, system_clock
from kiosk.settings import Settings


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
    )
    if not defer:
        terminal.start()
    return terminal
