"""The terminal's heartbeat (``POST /v1/heartbeat``, every minute): its health for the
institute's console and its audit chain's head, which central keeps so that a rewritten or
truncated log on this machine is noticed there (issue 13)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib import metadata
from typing import Any

from kiosk import audit
from kiosk.ports import Clock
from sync.client import CentralClient
from sync.outbox import UowFactory

log = logging.getLogger(__name__)


def _version() -> str:
    try:
        return metadata.version("caja-isseg")
    except metadata.PackageNotFoundError:
        return "desconocida"


class Heartbeat:
    def __init__(
        self,
        uow_factory: UowFactory,
        client: CentralClient,
        clock: Clock,
        health: Callable[[], dict[str, Any]],
    ) -> None:
        """``health`` gives the other fields of the body (queue, clock, printer, cache)."""
        self.uow_factory = uow_factory
        self.client = client
        self.clock = clock
        self.health = health
        self.version = _version()

    def body(self) -> dict[str, Any]:
        with self.uow_factory().reading() as uow:
            _, anchor = audit.head_and_anchor(uow)
            head = audit.head_json(uow)
        body: dict[str, Any] = {
            "sent_at": self.clock().isoformat(),
            "version": self.version,
            **self.health(),
            "audit_head": head,
        }
        if anchor is not None:
            body["anchor"] = {"seq": anchor[0], "hash": anchor[1]}
        return body

    def send(self) -> bool:
        """Send one heartbeat; whether central found the audit chain intact. Raises
        ``SyncError`` when central cannot be reached."""
        answer = self.client.request("POST", "/v1/heartbeat", json=self.body()).body
        anchor = answer.get("audit_anchor") if isinstance(answer, dict) else None
        if isinstance(anchor, dict) and isinstance(anchor.get("seq"), int):
            uow = self.uow_factory()
            with uow:
                uow.meta.set(audit.ANCHOR_KEY, str(anchor["seq"]))
                uow.commit()
        ok = bool(answer.get("audit_ok", True)) if isinstance(answer, dict) else True
        if not ok:
            log.warning("el instituto encontró alterada la bitácora de esta terminal")
        return ok
