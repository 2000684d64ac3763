"""The terminal's cache of central's referencias, and the delta feed's cursor."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from kiosk.ports import UnitOfWork
from kiosk.references import ReferenceRecord

CURSOR_KEY = "references_cursor"
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


def cursor(uow: UnitOfWork) -> str | None:
    """Where the delta feed should continue (``GET /v1/references?since=…``); None at first."""
    with uow.reading():
        return uow.meta.get(CURSOR_KEY)


def set_cursor(uow: UnitOfWork, value: str) -> None:
    with uow:
        uow.meta.set(CURSOR_KEY, value)
        uow.commit()


def mark_refreshed(uow: UnitOfWork, at: datetime) -> None:
    with uow:
        uow.meta.set(REFRESHED_KEY, at.isoformat())
        uow.commit()


def last_refreshed(uow: UnitOfWork) -> datetime | None:
    with uow.reading():
        raw = uow.meta.get(REFRESHED_KEY)
    return datetime.fromisoformat(raw) if raw else None
