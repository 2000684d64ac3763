"""The hash-chained audit log: every sensitive action, each line chained to the one before.

``hash = sha256(prev_hash + canonical_json({id, at, actor, action, details}))``. The line's
``id`` is inside the hash and ids must run 1, 2, 3…, so a deleted line breaks the chain; the
last line's id and hash are also kept in the meta table (``audit_head``), so deleting the
newest lines is caught too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kiosk.ports import AuditEntry, UnitOfWork

GENESIS = "0" * 64
HEAD_KEY = "audit_head"

LOGIN = "INICIO_SESION"
LOGIN_FAILED = "INICIO_FALLIDO"
PAYMENT = "PAGO"
VOID = "CANCELACION"
REPRINT = "REIMPRESION"
SHIFT_OPEN = "APERTURA_TURNO"
CASH_DROP = "RETIRO"
REFUND = "DEVOLUCION"
SHIFT_CLOSE = "CIERRE_TURNO"
SHIFT_HANDOVER = "ENTREGA_TURNO"
DAY_CLOSE = "CIERRE_DIA"
SETTINGS_CHANGE = "CAMBIO_CONFIGURACION"
USER_CREATED = "ALTA_USUARIO"
PIN_RESET = "RESTABLECER_NIP"
USER_DEACTIVATED = "BAJA_USUARIO"
USER_UNLOCKED = "DESBLOQUEO_USUARIO"


def canonical_json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(
    prev_hash: str, entry_id: int, at: str, actor: str, action: str, details: Mapping[str, Any]
) -> str:
    body = canonical_json(
        {"id": entry_id, "at": at, "actor": actor, "action": action, "details": details}
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def record(
    uow: UnitOfWork, action: str, actor: str, details: Mapping[str, Any], at: datetime
) -> AuditEntry:
    """Append one line inside the caller's transaction (it commits with the action)."""
    last = uow.audit.last()
    prev = last.hash if last else GENESIS
    entry_id = last.id + 1 if last else 1
    stamp = at.isoformat(timespec="microseconds")
    # Round-trip through JSON so the stored details are exactly what was hashed.
    clean: dict[str, Any] = json.loads(canonical_json(details))
    digest = entry_hash(prev, entry_id, stamp, actor, action, clean)
    entry = AuditEntry(entry_id, stamp, actor, action, clean, prev, digest)
    uow.audit.add(entry)
    uow.meta.set(HEAD_KEY, f"{entry_id}:{digest}")
    return entry


def record_settings_change(
    uow: UnitOfWork, actor: str, changes: Mapping[str, Any], at: datetime
) -> AuditEntry:
    """Audit a settings change; ``changes`` maps a setting to ``{"antes":…, "despues":…}``."""
    return record(uow, SETTINGS_CHANGE, actor, {"cambios": dict(changes)}, at)


@dataclass(frozen=True, slots=True)
class BrokenLink:
    entry_id: int
    message: str


def verify(entries: Iterable[AuditEntry], head: str | None) -> BrokenLink | None:
    """The first broken link, or None when the whole chain (and its head) is intact."""
    prev = GENESIS
    expected_id = 1
    last: AuditEntry | None = None
    for e in entries:
        if e.id != expected_id:
            return BrokenLink(
                expected_id,
                f"Falta el registro {expected_id} de la bitácora (sigue el {e.id}): "
                "se borraron registros.",
            )
        if e.prev_hash != prev:
            return BrokenLink(
                e.id, f"El registro {e.id} no enlaza con el anterior: la bitácora fue alterada."
            )
        if entry_hash(prev, e.id, e.at, e.actor, e.action, e.details) != e.hash:
            return BrokenLink(
                e.id, f"El contenido del registro {e.id} no coincide con su huella: fue editado."
            )
        prev = e.hash
        expected_id += 1
        last = e
    if last is None:
        if head:
            return BrokenLink(
                1, "La bitácora está vacía pero debería tener registros: se borraron."
            )
        return None
    if head != f"{last.id}:{last.hash}":
        return BrokenLink(
            last.id + 1,
            f"La bitácora termina en el registro {last.id} pero el último registrado es otro: "
            "se borraron o alteraron registros finales.",
        )
    return None


def verify_uow(uow: UnitOfWork) -> BrokenLink | None:
    with uow.reading():
        return verify(uow.audit.all(), uow.meta.get(HEAD_KEY))


ANCHOR_KEY = "audit_anchor_seq"


def head_and_anchor(uow: UnitOfWork) -> tuple[tuple[int, str], tuple[int, str] | None]:
    """Inside an open transaction: the chain's head (id, hash), and the line at the head
    central last asked this terminal to prove (its id and hash here)."""
    last = uow.audit.last()
    head = (last.id, last.hash) if last else (0, GENESIS)
    raw = uow.meta.get(ANCHOR_KEY)
    if not raw:
        return head, None
    entry = uow.audit.at(int(raw))
    return head, (int(raw), entry.hash if entry else GENESIS)


def head_json(uow: UnitOfWork) -> dict[str, Any]:
    """Inside an open transaction: the chain's head as central's ``AuditHeadIn``."""
    (seq, digest), _ = head_and_anchor(uow)
    return {"seq": seq, "hash": digest}
