"""Enrollment: a terminal joins central with a short one-time code instead of a typed token.

An administrator asks for a code for one store, terminal name and kind (``admin
codigo-de-alta``); the terminal redeems it once, within 24 hours by central's clock, with
``POST /v1/enrollments`` and gets its token. Central keeps only the code's SHA-256: the code
has 50 random bits, lives a day, works once, and its endpoint is rate-limited per client,
so guessing one is out of reach while a stolen database does not hand out live codes.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import CursorResult, Integer, String, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from central import db as dbmod
from central import service as svc
from central.models import Base, Store, UTCDateTime
from kiosk.enrollment import code_characters

CODE_LIFETIME = timedelta(hours=24)
# Crockford's base 32 without I, L, O, U: nothing to mistake when read over the phone.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10  # 50 bits, shown as XXXXX-XXXXX
ATTEMPTS_PER_MINUTE = 10


class EnrollmentCode(Base):
    __tablename__ = "enrollment_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(20))
    store_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    terminal_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


def normalize(code: str) -> str:
    """What a person typed, as issued (the terminal's own rule, so both ends agree)."""
    return code_characters(code)


def code_hash(code: str) -> str:
    return hashlib.sha256(normalize(code).encode("ascii", "replace")).hexdigest()


def new_code(
    s: Session, store_id: str, name: str, kind: str, now: datetime, store_name: str | None = None
) -> tuple[str, datetime]:
    """A one-time code for this store, terminal name and kind; (code as shown, expiry)."""
    if kind not in svc.TERMINAL_KINDS:
        raise svc.ApiError(422, "TIPO_TERMINAL_INVALIDO", "El tipo de terminal es caja o kiosko.")
    if not store_name and s.get(Store, store_id) is None:
        raise svc.ApiError(
            422, "TIENDA_DESCONOCIDA", f"La tienda {store_id} no existe: indique su nombre."
        )
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    expires = now + CODE_LIFETIME
    s.add(
        EnrollmentCode(
            code_hash=code_hash(raw),
            store_id=store_id,
            store_name=store_name,
            name=name,
            kind=kind,
            created_at=now,
            expires_at=expires,
        )
    )
    return f"{raw[:5]}-{raw[5:]}", expires


# How a terminal kind is named in a sentence.
_A_KIND = {"caja": "una caja", "kiosko": "un kiosko de autoservicio"}
ASK_SYSTEMS = "pida al área de sistemas del ISSEG"


def redeem(
    database: dbmod.Database, code: str, now: datetime, kind: str | None = None
) -> dict[str, Any]:
    """Spend the code (once, by central's clock) and enroll its terminal: a new token.

    ``kind`` is what the terminal runs as (caja or kiosko), when it says: a code issued for
    the other kind is refused before it is spent, so the right terminal can still use it.
    Without it (older terminals, ``enrolar`` without ``--tipo``) nothing is compared."""
    digest = code_hash(code)
    with database.write() as s:
        found = s.get(EnrollmentCode, digest)
        if found is None:
            raise svc.ApiError(404, "CODIGO_INVALIDO", "El código de alta no existe; revíselo.")
        if found.used_at is not None:
            raise svc.ApiError(
                409, "CODIGO_USADO", f"Ese código de alta ya se usó; {ASK_SYSTEMS} uno nuevo."
            )
        if found.expires_at <= now:
            raise svc.ApiError(
                410,
                "CODIGO_VENCIDO",
                f"El código de alta venció (dura 24 horas); {ASK_SYSTEMS} uno nuevo.",
            )
        if kind is not None and kind != found.kind:
            raise svc.ApiError(
                409,
                "CODIGO_DE_OTRO_TIPO",
                f"Este código es para {_A_KIND.get(found.kind, found.kind)} y esta terminal es "
                f"{_A_KIND.get(kind, kind)}: {ASK_SYSTEMS} un código de tipo {kind}. "
                "El código sigue valiendo.",
            )
        # Two terminals with the same code at once: only the one whose update finds it
        # unused goes on; the other's transaction sees it used.
        spent: CursorResult[Any] = s.execute(  # type: ignore[assignment]
            update(EnrollmentCode)
            .where(EnrollmentCode.code_hash == digest, EnrollmentCode.used_at.is_(None))
            .values(used_at=now)
        )
        if spent.rowcount != 1:
            raise svc.ApiError(
                409, "CODIGO_USADO", f"Ese código de alta ya se usó; {ASK_SYSTEMS} uno nuevo."
            )
        terminal, token = svc.enroll_terminal(
            s, found.store_id, found.name, found.kind, now, found.store_name
        )
        found.terminal_id = terminal.terminal_id
        store = s.get(Store, found.store_id)
        return {
            "terminal_id": terminal.terminal_id,
            "store_id": found.store_id,
            "store_name": store.name if store else found.store_id,
            "name": found.name,
            "kind": found.kind,
            "token": token,
        }


class AttemptLimiter:
    """At most ``limit`` attempts per client in any 60 s (per worker process)."""

    def __init__(self, limit: int = ATTEMPTS_PER_MINUTE, window: float = 60.0) -> None:
        self.limit, self.window = limit, window
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 10_000:  # forget idle clients; bounded memory
                self._seen = {
                    k: v for k, v in self._seen.items() if v and v[-1] > now - self.window
                }
            seen = self._seen.setdefault(client, deque())
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.limit:
                return False
            seen.append(now)
            return True


class EnrollmentIn(BaseModel):
    code: Annotated[str, Field(min_length=1, max_length=20, description="Código de alta.")]
    kind: Literal["caja", "kiosko"] | None = Field(
        default=None,
        description="Tipo con que funciona la terminal; un código de otro tipo se rechaza "
        "(409 CODIGO_DE_OTRO_TIPO) sin gastarlo. Opcional: sin él no se compara.",
    )


class EnrollmentOut(BaseModel):
    terminal_id: int
    store_id: str
    store_name: str
    name: str
    kind: str
    token: str = Field(description="Token de la terminal; se entrega una sola vez.")


def install(app: Any, database: dbmod.Database, clock: svc.Clock) -> None:
    """``POST /v1/enrollments`` on central's app."""
    from starlette.concurrency import run_in_threadpool

    from central import schemas as sc

    limiter = AttemptLimiter()
    errors: dict[int | str, dict[str, Any]] = {
        status: {"model": sc.ErrorOut, "description": what}
        for status, what in (
            (404, "El código no existe."),
            (409, "El código ya se usó, o es de otro tipo de terminal (no se gasta)."),
            (410, "El código venció."),
            (429, "Demasiados intentos desde esta dirección."),
        )
    }

    @app.post(
        "/v1/enrollments",
        response_model=EnrollmentOut,
        status_code=201,
        tags=["terminal"],
        responses=errors,
    )
    async def enroll(body: EnrollmentIn, request: Request) -> JSONResponse:
        """Alta de una terminal con un código de un solo uso (24 horas): devuelve su token
        y a qué tienda y terminal corresponde. Sin token: el código es la credencial."""
        client = request.client.host if request.client else "?"
        if not limiter.allow(client):
            raise svc.ApiError(
                429,
                "DEMASIADOS_INTENTOS",
                "Demasiados intentos de alta desde esta dirección; espere un minuto.",
            )
        result = await run_in_threadpool(redeem, database, body.code, clock(), body.kind)
        return JSONResponse(result, status_code=201)
