"""Who is using the console: staff accounts (Argon2id passwords, lockout), sessions with a
CSRF token each, the roles' permissions, and the audit of every change."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from central import security
from central.console.models import ROLES, ConsoleAudit, ConsoleSession, ConsoleUser
from central.db import Database

# argon2-cffi's defaults are RFC 9106's low-memory profile (Argon2id, 64 MiB, 3 passes): staff
# passwords are few and guarded, unlike the bulk-imported NIPs of central.security.
_hasher = PasswordHasher()
# Verified when the user name is unknown, so that the answer takes as long as a real check.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_IDLE = timedelta(minutes=30)
SESSION_MAX_AGE = timedelta(hours=12)
# A session's last_seen_at is written at most this often: a page that refreshes itself every
# few seconds must not turn every read into a write.
TOUCH_EVERY = timedelta(minutes=1)
MIN_PASSWORD = 12
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")

# What each role may do. Viewing is broad; each kind of change belongs to one role.
PERMISSIONS: dict[str, frozenset[str]] = {
    "operador": frozenset({"ver", "ver_casos", "revocar_terminal", "codigos_alta"}),
    "finanzas": frozenset({"ver", "ver_casos", "resolver_caso", "cambiar_politica"}),
    "soporte": frozenset({"ver", "afiliados", "restablecer_nip", "desbloquear"}),
}


class Refused(Exception):
    """A console request refused: ``str()`` is the Spanish message, ``status`` the HTTP one."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Staff:
    """The signed-in person, as a request sees them."""

    user_id: int
    username: str
    name: str
    role: str
    csrf_token: str
    session_hash: str

    def may(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())


def check_new_user(username: str, name: str, role: str, password: str) -> None:
    if not 3 <= len(username) <= 40 or not set(username) <= USERNAME_CHARS:
        raise Refused("El usuario lleva de 3 a 40 letras minúsculas, dígitos, punto o guion.")
    if not 1 <= len(name.strip()) <= 200:
        raise Refused("El nombre lleva de 1 a 200 caracteres.")
    if role not in ROLES:
        raise Refused(f"El rol es uno de: {', '.join(ROLES)}.")
    if not MIN_PASSWORD <= len(password) <= 200:
        raise Refused(f"La contraseña lleva de {MIN_PASSWORD} a 200 caracteres.")


def create_user(
    db: Database, username: str, name: str, role: str, password: str, now: datetime
) -> int:
    """A new console user; an existing name is refused (nothing changes)."""
    check_new_user(username, name, role, password)
    with db.write() as s:
        if s.execute(select(ConsoleUser).where(ConsoleUser.username == username)).first():
            raise Refused(f"El usuario {username} ya existe.")
        user = ConsoleUser(
            username=username,
            name=name.strip(),
            role=role,
            password_hash=_hasher.hash(password),
            failed_attempts=0,
            locked_until=None,
            created_at=now,
        )
        s.add(user)
        s.flush()
        audit(s, now, "consola", "ALTA_USUARIO", username, {"rol": role})
        return user.user_id


def audit(
    s: Session,
    now: datetime,
    username: str,
    action: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
    remote: str = "",
) -> None:
    """One audit line, in the same transaction as the change it records."""
    s.add(
        ConsoleAudit(
            at=now,
            username=username[:40],
            action=action,
            target=target[:100],
            detail=detail or {},
            remote=remote[:64],
        )
    )


def sign_in(
    db: Database, username: str, password: str, now: datetime, remote: str = ""
) -> tuple[str, Staff]:
    """A new session for good credentials: (cookie token, who). A wrong or unknown name and a
    wrong password get the same refusal; the attempt is counted in the transaction that checks
    it (the user's row is locked), so concurrent guesses cannot outrun the lockout."""
    refusal = Refused("Usuario o contraseña incorrectos.", 401)
    username = username.strip().lower()[:40]
    with db.write() as s:
        user = s.execute(
            select(ConsoleUser).where(ConsoleUser.username == username).with_for_update()
        ).scalar_one_or_none()
        if user is None:
            _verify(_DUMMY_HASH, password)
            audit(s, now, username, "ENTRADA_FALLIDA", remote=remote)
        elif user.locked_until is not None and user.locked_until > now:
            audit(s, now, username, "ENTRADA_BLOQUEADA", remote=remote)
            refusal = Refused(
                "Cuenta bloqueada por intentos fallidos; intente de nuevo más tarde.", 423
            )
        elif not _verify(user.password_hash, password):
            user.failed_attempts += 1
            if user.failed_attempts >= MAX_FAILURES:
                user.failed_attempts = 0
                user.locked_until = now + LOCKOUT
            audit(s, now, username, "ENTRADA_FALLIDA", remote=remote)
        else:
            user.failed_attempts = 0
            user.locked_until = None
            token, csrf = security.new_token(), secrets.token_urlsafe(32)
            digest = security.token_hash(token)
            s.add(
                ConsoleSession(
                    token_hash=digest,
                    user_id=user.user_id,
                    csrf_token=csrf,
                    created_at=now,
                    last_seen_at=now,
                    ended_at=None,
                )
            )
            audit(s, now, username, "ENTRADA", remote=remote)
            return token, Staff(user.user_id, user.username, user.name, user.role, csrf, digest)
    # Raised after the block, so the counted attempt and its audit line are committed.
    raise refusal


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password[:200])
    except (VerificationError, InvalidHashError):
        return False


def current_staff(db: Database, token: str | None, now: datetime) -> Staff | None:
    """The session behind a cookie, or None when it is unknown, ended, idle or too old."""
    if not token or len(token) > 100:
        return None
    digest = security.token_hash(token)
    with db.read() as s:
        row = s.execute(
            select(ConsoleSession, ConsoleUser)
            .join(ConsoleUser, ConsoleUser.user_id == ConsoleSession.user_id)
            .where(ConsoleSession.token_hash == digest)
        ).first()
    if row is None:
        return None
    session, user = row
    if (
        session.ended_at is not None
        or now - session.last_seen_at > SESSION_IDLE
        or now - session.created_at > SESSION_MAX_AGE
    ):
        return None
    if now - session.last_seen_at > TOUCH_EVERY:
        with db.write() as s:
            s.execute(
                update(ConsoleSession)
                .where(ConsoleSession.token_hash == digest)
                .values(last_seen_at=now)
            )
    return Staff(user.user_id, user.username, user.name, user.role, session.csrf_token, digest)


def sign_out(db: Database, staff: Staff, now: datetime, remote: str = "") -> None:
    with db.write() as s:
        s.execute(
            update(ConsoleSession)
            .where(ConsoleSession.token_hash == staff.session_hash)
            .values(ended_at=now)
        )
        audit(s, now, staff.username, "SALIDA", remote=remote)


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
