"""The terminal's cache of central's referencias, and the delta feed's cursor."""

from __future__ import annotations

from collections.abc import Iterable

from kiosk.ports import Central, UnitOfWork
from kiosk.references import ReferenceRecord

CURSOR_KEY = "references_cursor"


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
    does not know it. Raises what the client raises when central cannot be asked.
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
