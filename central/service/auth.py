"""Who is calling: terminal tokens (with a short-lived cache) and kiosk sessions."""

from __future__ import annotations

import time

from sqlalchemy import select

from central import security
from central.db import Database
from central.models import KioskSession, Terminal
from central.service.common import ApiError, SessionPrincipal, TerminalPrincipal

# Seconds a terminal token stays trusted without a database look-up (see TokenCache).
AUTH_CACHE_TTL = 5.0


class TokenCache:
    """Recently authenticated terminal tokens, so that a payment does not pay a database round
    trip to learn who sent it.

    Only good, unrevoked terminals are kept, keyed by the token's hash and for ``ttl`` seconds:
    a revocation takes effect within ``ttl`` on every worker (``ttl=0`` turns the cache off).
    Unknown and revoked tokens always go to the database.
    """

    MAX_ENTRIES = 10_000

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, TerminalPrincipal]] = {}

    def get(self, digest: str) -> TerminalPrincipal | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            self._entries.pop(digest, None)
            return None
        return entry[1]

    def put(self, digest: str, who: TerminalPrincipal) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()  # a bound, not a policy: terminals are few
        self._entries[digest] = (time.monotonic() + self.ttl, who)


def bearer_digest(authorization: str | None) -> str:
    """The hash of the bearer token in an Authorization header (401 when there is none)."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise ApiError(401, "NO_AUTENTICADO", "Falta el encabezado Authorization: Bearer <token>.")
    token = authorization[7:].strip()
    if not token:
        raise ApiError(401, "NO_AUTENTICADO", "El token está vacío.")
    return security.token_hash(token)


def authenticate(
    db: Database, authorization: str | None, cache: TokenCache | None = None
) -> TerminalPrincipal | SessionPrincipal:
    digest = bearer_digest(authorization)
    if cache is not None:
        known = cache.get(digest)
        if known is not None:
            return known
    with db.read() as s:
        terminal = s.execute(
            select(Terminal).where(Terminal.token_hash == digest)
        ).scalar_one_or_none()
        if terminal is not None:
            if terminal.revoked_at is not None:
                raise ApiError(401, "TOKEN_REVOCADO", "El token de esta terminal fue revocado.")
            who = TerminalPrincipal(
                terminal.terminal_id, terminal.store_id, terminal.kind, terminal.name
            )
            if cache is not None:
                cache.put(digest, who)
            return who
        if s.get(KioskSession, digest) is not None:
            return SessionPrincipal(digest)
    raise ApiError(401, "TOKEN_DESCONOCIDO", "Token desconocido.")
