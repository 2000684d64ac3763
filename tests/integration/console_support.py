"""The console's test set-up: central on loopback with the demo data, a day of payments, a
refused payment (a case), one caja's day close, and one console user per role."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from starlette.testclient import TestClient

from central.console.auth import create_user
from kiosk import references as refs
from tests.integration.central_support import BUSINESS_NOW, Api, new_key

PASSWORD = "clave-de-prueba-larga"
STAFF = {"operador": "olga", "finanzas": "fernando", "soporte": "sofia"}


@dataclass(frozen=True)
class Day:
    """What :func:`a_day_of_payments` did."""

    paid: list[dict[str, Any]]  # the demo referencias paid, with store_id added
    case_reference: str  # the unknown referencia a caja collected anyway

    def pages(self) -> dict[str, str]:
        """Every page an operador reaches from the menu, and a text each must show for this
        day (both browsers' tests walk the same list)."""
        return {
            "terminales": "Caja 2",
            "cierre": "cierre incompleto",
            "casos": self.case_reference,
            "reportes": "Etiquetas de fila",
            "politica": "Tope de efectivo por pago",
        }


def add_staff(api: Api) -> None:
    db, now = api.server.app.state.db, api.clock()
    for role, username in STAFF.items():
        create_user(db, username, f"Persona {role}", role, PASSWORD, now)


def token_of(api: Api, store_id: str, name: str) -> str:
    return next(
        t["token"]
        for t in api.demo["terminals"]
        if t["store_id"] == store_id and t["name"] == name
    )


def a_day_of_payments(api: Api) -> Day:
    """Two payments at F001 Caja 1 (cash), one at F002 Caja 1 (card and cash), a refused one
    at F001 Caja 2, and F001 Caja 1's day close, whose Z says one payment less than central
    received (a discrepancy)."""
    references = api.demo["references"]
    paid = []
    for ref, store in zip(references[:3], ("F001", "F001", "F002"), strict=True):
        body = api.payment_body(ref["reference"], ref["amount"], store)
        if store == "F002":
            body["cash"], body["card"] = "100.00", str(Decimal(ref["amount"]) - 100)
        r = api.pay(body)
        assert r.status_code == 201, r.text
        paid.append({**ref, "store_id": store})
    unknown = str(refs.issue(BUSINESS_NOW.date(), 9_999_999))
    r = api.pay(api.payment_body(unknown, "250.00"), token=token_of(api, "F001", "Caja 2"))
    assert r.status_code == 422, r.text
    closing = {
        "closing_uuid": new_key(),
        "store_id": "F001",
        "kind": "DIA",
        "business_date": BUSINESS_NOW.date().isoformat(),
        "closed_at": api.clock().isoformat(),
        "report": {
            "payments": 1,
            "total": references[0]["amount"],
            "cash_total": references[0]["amount"],
            "card_total": "0.00",
            "voided_total": "0.00",
            "over_short": "-20.00",
            "unconfirmed": [],
        },
    }
    r = api.http.post("/v1/closings", headers=api.auth(api.token("F001")), json=closing)
    assert r.status_code == 201, r.text
    return Day(paid, unknown)


def signed_in(api: Api, role: str) -> TestClient:
    """A client (in process, over https so the Secure cookie travels) signed in as ``role``."""
    client = TestClient(api.server.app, base_url="https://testserver")
    form = client.get("/consola/entrar")
    r = client.post(
        "/consola/entrar",
        data={"usuario": STAFF[role], "contrasena": PASSWORD, "csrf": csrf_in(form.text)},
    )
    assert r.status_code == 200 and r.url.path == "/consola/hoy", r.text
    return client


def csrf_in(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "la página no trae el token CSRF"
    return found.group(1)
