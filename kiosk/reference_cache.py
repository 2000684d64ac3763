"""The terminal's cache of central's referencias, and the delta feed's cursor."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from kiosk.ports import Central, UnitOfWork
from kiosk.references import ReferenceRecord

CURSOR_KEY = "references_cursor"
# A ficha is payable on its own day only; a few days of them are kept (a day offline, a
# weekend, a reprint), never the history: a year-old till holds what a week-old one holds.
KEEP_DAYS = 7
REFRESHED_KEY = "references_refreshed_at"  # ISO 8601: the last refresh that reached the end


def upsert(uow: UnitOfWork, records: Iterable[ReferenceRecord], cursor: str | None = None) -> int:
    """Store a page of the delta feed (and, in the same transaction, its next cursor).

    Keeps this terminal's ``local_payment_uuid`` whatever the feed says, so a referencia
    paid here stays unpayable until central's own status catches up.
    """
    with uow:
        n = uow.references.upsert_many(records)
        if cursor is not None:
            uow.meta.set(CURSOR_KEY, cursor)
        uow.commit()
    return n


def lookup(uow: UnitOfWork, reference: str) -> ReferenceRecord | None:
    with uow.reading():
        return uow.references.get(reference)


def fetch_missing(uow: UnitOfWork, central: Central, reference: str) -> ReferenceRecord | None:
    """Ask central for one referencia the cache does not have and keep it (the scan's miss).

    Returns the cached record (with this terminal's own payment mark), or None when central
    does not know it. Raises ``TerminalNotAllowed`` when central refuses this terminal (not
    "unknown": the scan says so), what the client raises when central cannot be asked.
    """
    record = central.get_reference(reference)
    if record is None:
        return None
    upsert(uow, [record])
    return lookup(uow, reference)


def cursor(uow: UnitOfWork) -> str | None:
    """Where the delta feed should continue (``GET /v1/references?since=…``); None at first."""
    with uow.reading():
        return uow.meta.get(CURSOR_KEY)


def set_cursor(uow: UnitOfWork, value: str) -> None:
    with uow:
        uow.meta.set(CURSOR_KEY, value)
        uow.commit()


def prune(uow: UnitOfWork, today: date, keep_days: int = KEEP_DAYS) -> int:
    """Drop referencias issued more than ``keep_days`` before ``today``; how many."""
    with uow:
        n = uow.references.prune(today - timedelta(days=keep_days))
        uow.commit()
    return n


def mark_refreshed(uow: UnitOfWork, at: datetime) -> None:
    with uow:
        uow.meta.set(REFRESHED_KEY, at.isoformat())
        uow.commit()


def last_refreshed(uow: UnitOfWork) -> datetime | None:
    with uow.reading():
        raw = uow.meta.get(REFRESHED_KEY)
    return datetime.fromisoformat(raw) if raw else None
