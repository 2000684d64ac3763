"""From an outbox entry's payload (as the kiosk services write it) to central's request body.

The kiosk services write what the terminal knows (``kiosk.cashier.payment_payload``,
``kiosk.voids.void_payload``, ``kiosk.shifts.closing_payload``, ``kiosk.reports.close_day``);
central's ``PaymentIn``/``VoidIn``/``ClosingIn`` (``central/schemas.py``) want a few things
named or shaped differently, and the store the terminal belongs to. This module is the one
place that translates, deterministically, so a retry always sends the same body (central
answers a replay with the same key and a different body with 422 ``LLAVE_REUTILIZADA``).

The differences it bridges (found by ``tests/integration/test_sync_contract.py``):

* every request: central requires ``store_id`` (it checks it is the token's store); the
  payloads do not carry it, so it comes from this terminal's identity (meta ``store_id``,
  set at enrollment by ``kiosk.terminal_state.set_identity``);
* payment: central's ``cashier`` is text, the payload has ``cashier_id`` → its text;
* void: central's ``authorized_by`` is the payload's ``manager``;
* closings: central needs ``closing_uuid`` (the entry's Idempotency-Key, a uuid4),
  ``kind`` ``TURNO``/``DIA`` (payload ``shift``/``day``), ``business_date``, ``closed_at``
  and the report itself under ``report`` (the whole payload is sent there).

Fields the payload already names as central does are used as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiosk.ports import OutboxEntry

_CLOSING_KINDS = {"shift": "TURNO", "shift_close": "TURNO", "day": "DIA", "day_close": "DIA"}


def central_body(entry: OutboxEntry, store_id: str) -> dict[str, Any]:
    """The JSON body to send for ``entry`` (unknown kinds go as written)."""
    p: Mapping[str, Any] = entry.payload
    if entry.kind == "payment":
        return {
            "reference": p["reference"],
            "store_id": p.get("store_id") or store_id,
            "amount": p["amount"],
            "cash": p.get("cash", "0.00"),
            "card": p.get("card", "0.00"),
            "paid_at": p["paid_at"],
            "cashier": str(p.get("cashier") or p.get("cashier_id") or ""),
        }
    if entry.kind == "void":
        return {
            "store_id": p.get("store_id") or store_id,
            "reason": p["reason"],
            "voided_at": p["voided_at"],
            "authorized_by": str(p.get("authorized_by") or p.get("manager") or ""),
        }
    if entry.kind in ("shift_close", "day_close"):
        kind = str(p.get("kind") or entry.kind)
        closed_at = p.get("closed_at") or entry.created_at.isoformat()
        business_date = p.get("business_date") or entry.created_at.date().isoformat()
        return {
            "closing_uuid": p.get("closing_uuid") or entry.idempotency_key,
            "store_id": p.get("store_id") or store_id,
            "kind": _CLOSING_KINDS.get(kind, kind),
            "business_date": str(business_date)[:10],
            "closed_at": closed_at,
            "report": dict(p),
        }
    return dict(p)
