"""Stores, terminals and members, as the admin command line and the demo set them up."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central import security
from central.db import Database
from central.models import Member, Store, Terminal
from central.service.common import ApiError

TERMINAL_KINDS = ("caja", "kiosko")


def ensure_store(s: Session, store_id: str, name: str | None = None) -> Store:
    store = s.get(Store, store_id)
    if store is None:
        store = Store(store_id=store_id, name=name or f"Farmacia ISSEG {store_id}")
        s.add(store)
        s.flush()
    elif name:
        store.name = name
    return store


def enroll_terminal(
    s: Session, store_id: str, name: str, kind: str, now: datetime, store_name: str | None = None
) -> tuple[Terminal, str]:
    """A new terminal (or a fresh token for an existing one); the token is returned once."""
    if kind not in TERMINAL_KINDS:
        raise ApiError(422, "TIPO_TERMINAL_INVALIDO", "El tipo de terminal es caja o kiosko.")
    ensure_store(s, store_id, store_name)
    token = security.new_token()
    terminal = s.execute(
        select(Terminal).where(Terminal.store_id == store_id, Terminal.name == name)
    ).scalar_one_or_none()
    if terminal is None:
        terminal = Terminal(
            store_id=store_id,
            name=name,
            kind=kind,
            token_hash=security.token_hash(token),
            created_at=now,
            revoked_at=None,
        )
        s.add(terminal)
    else:
        terminal.kind = kind
        terminal.token_hash = security.token_hash(token)
        terminal.revoked_at = None
    s.flush()
    return terminal, token


def upsert_member(s: Session, number: str, name: str, nip: str | None) -> Member:
    member = s.get(Member, number)
    if member is None:
        if not nip:
            raise ApiError(422, "FALTA_NIP", "Un afiliado nuevo necesita NIP.")
        member = Member(
            number=number,
            name=name,
            nip_hash=security.hash_nip(nip),
            failed_attempts=0,
            locked_until=None,
        )
        s.add(member)
    else:
        member.name = name
        if nip:
            member.nip_hash = security.hash_nip(nip)
    s.flush()
    return member


def count(db: Database, model: Any) -> int:
    with db.read() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())
