"""The institute's side of central over loopback (SQLite and PostgreSQL): service accounts,
versioned upserts, fichas for the portal, the policy, the event feed, webhooks, notices,
renewal and cases."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from central import admin
from central import db as dbmod
from central.demo import seed_demo
from central.dispatcher import Dispatcher
from central.embedded import CentralProcess, EmbeddedCentral
from central.models import EventRow, Member
from central.service import accounts
from central.service.notices import SmtpSettings
from kiosk.rules import Policy
from tests.integration.central_support import BUSINESS_NOW, Api, new_key
from tests.integration.institute_support import (
    Receiver,
    SmtpSink,
    add_webhook,
    service_token,
    wait_until,
)

pytest_plugins = ["tests.integration.central_support"]

ALL = accounts.SCOPES


def _db(api: Api) -> Any:
    return api.server.app.state.db


def _svc(api: Api, *scopes: str) -> dict[str, str]:
    token = service_token(_db(api), f"prueba-{uuid.uuid4().hex[:8]}", *(scopes or ALL))
    return {"Authorization": f"Bearer {token}"}


def _events(api: Api, auth: dict[str, str], since: int = 0, limit: int = 500) -> dict[str, Any]:
    r = api.http.get("/v1/events", params={"since": since, "limit": limit}, headers=auth)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _member(version: int, **extra: Any) -> dict[str, Any]:
    body = {
        "version": version,
        "name": "Rosa Elena Pérez Ruiz",
        "email": "rosa.perez@example.mx",
        "phone": "4731234567",
        "nip": "4321",
    }
    body.update(extra)
    return body


def _loan(version: int, states: list[str], member: str = "100001") -> dict[str, Any]:
    return {
        "version": version,
        "member_number": member,
        "kind": "PERSONAL",
        "principal": "1000.00",
        "annual_rate": "0.16",
        "installment": "250.00",
        "prepayments": "0.00",
        "dependencia": "SEG",
        "installments": [
            {
                "number": n,
                "due_date": f"2025-0{n + 3}-15",
                "amount": "250.00",
                "principal": "240.00",
                "state": state,
            }
            for n, state in enumerate(states, start=1)
        ],
    }


def _portal_slip(api: Api, auth: dict[str, str], key: str | None = None, **body: Any) -> Any:
    payload = {"member_number": "100001", "loan_id": "P-100001-1", "kind": "QUINCENAL",
               "quincenas": [6], "channel": "PORTAL", **body}  # fmt: skip
    return api.http.post(
        "/v1/slips", json=payload, headers={**auth, "Idempotency-Key": key or new_key()}
    )


def test_service_accounts_need_their_scope_and_stop_working_when_revoked(api: Api) -> None:
    events_only = {"Authorization": f"Bearer {service_token(_db(api), 'tablero', 'events')}"}
    assert api.http.get("/v1/events", headers=events_only).status_code == 200
    r = api.http.put("/v1/members/200001", json=_member(1), headers=events_only)
    assert r.status_code == 403 and r.json()["code"] == "ALCANCE_INSUFICIENTE"
    # A terminal's token is not a service account's, and the other way round.
    terminal = {"Authorization": f"Bearer {api.token()}"}
    assert api.http.get("/v1/events", headers=terminal).status_code == 401
    assert api.http.get("/v1/policy", headers=events_only).status_code == 401
    assert api.http.get("/v1/events").status_code == 401

    assert admin.main(["--db", api.server.db_url, "cuenta-de-servicio", "revocar", "nadie"]) == 1
    assert admin.main(["--db", api.server.db_url, "cuenta-de-servicio", "revocar", "tablero"]) == 0
    r = api.http.get("/v1/events", headers=events_only)
    assert r.status_code == 401 and r.json()["code"] == "TOKEN_REVOCADO"


def test_admin_creates_a_service_account_whose_token_works_once_shown(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    code = admin.main(["--db", api.server.db_url, "cuenta-de-servicio", "crear", "portal",
                       "--alcance", "slips", "--alcance", "events", "--json"])  # fmt: skip
    assert code == 0
    import json

    token = json.loads(capsys.readouterr().out)["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert _portal_slip(api, auth).status_code == 201
    assert api.http.put("/v1/policy", json={"version": 9}, headers=auth).status_code == 403


def test_member_upserts_are_versioned_and_idempotent(api: Api) -> None:
    auth = _svc(api, "members_loans")
    first = api.http.put("/v1/members/200001", json=_member(1), headers=auth)
    assert first.status_code == 201, first.text
    again = api.http.put("/v1/members/200001", json=_member(1), headers=auth)
    assert again.status_code == 200 and again.json()["status"] == "SIN_CAMBIOS"
    clash = api.http.put("/v1/members/200001", json=_member(1, phone="4739999999"), headers=auth)
    assert clash.status_code == 409 and clash.json()["code"] == "VERSION_REPETIDA"
    newer = api.http.put("/v1/members/200001", json=_member(3, email="rosa@isseg.mx"), headers=auth)
    assert newer.status_code == 200 and newer.json()["status"] == "ACTUALIZADO"
    older = api.http.put(
        "/v1/members/200001", json=_member(2, email="vieja@isseg.mx"), headers=auth
    )
    assert older.status_code == 409 and older.json()["current_version"] == 3
    with _db(api).read() as s:
        member = s.get(Member, "200001")
        assert member is not None
        assert (member.email, member.version) == ("rosa@isseg.mx", 3)
    # The NIP set by the institute works at the kiosk.
    assert api.login("200001", "4321")
    bad = api.http.put("/v1/members/200001", json=_member(4, email="sin-arroba"), headers=auth)
    assert bad.status_code == 422


def test_loan_upserts_carry_payroll_state_and_say_when_renewable(api: Api) -> None:
    auth = _svc(api, "members_loans")
    r = api.http.put("/v1/loans/L-1", json=_loan(1, ["PAGADA"] + ["PENDIENTE"] * 3), headers=auth)
    assert r.status_code == 201, r.text
    assert r.json()["renewable"] is False and r.json()["renewal_amount"] == "250.00"
    assert r.json()["dependencia"] == "SEG"
    # The payroll of the next quincena is generated: EN_NOMINA is not "paid" for renewal.
    r = api.http.put(
        "/v1/loans/L-1", json=_loan(2, ["PAGADA", "EN_NOMINA", "PENDIENTE", "PENDIENTE"]),
        headers=auth,
    )  # fmt: skip
    assert r.status_code == 200 and r.json()["renewable"] is False
    r = api.http.put(
        "/v1/loans/L-1", json=_loan(3, ["PAGADA", "PAGADA", "PENDIENTE", "PENDIENTE"]),
        headers=auth,
    )  # fmt: skip
    assert r.json()["renewable"] is True and r.json()["renewal_amount"] == "0.00"
    stale = api.http.put("/v1/loans/L-1", json=_loan(2, ["PENDIENTE"] * 4), headers=auth)
    assert stale.status_code == 409 and stale.json()["code"] == "VERSION_ANTERIOR"
    got = api.http.get("/v1/loans/L-1", headers=auth).json()
    assert [i["state"] for i in got["installments"]][:2] == ["PAGADA", "PAGADA"]
    assert got["version"] == 3
    assert api.http.get("/v1/loans/NO-EXISTE", headers=auth).status_code == 404


def test_a_loan_update_never_unpays_what_central_collected(api: Api) -> None:
    auth = _svc(api, "members_loans")
    ref = next(r for r in api.demo["references"] if r["loan_id"] == "P-100002-1")
    assert api.pay(api.payment_body(ref["reference"], ref["amount"])).status_code == 201
    before = api.http.get("/v1/loans/P-100002-1", headers=auth).json()
    paid = [i["number"] for i in before["installments"] if i["state"] == "PAGADA"]
    stale = {**_loan(1, [], "100002"), **{k: before[k] for k in ("kind", "principal",
             "annual_rate", "installment")}}  # fmt: skip
    stale["installments"] = [
        {**{k: i[k] for k in ("number", "due_date", "amount", "principal")},
         "state": "PENDIENTE" if i["number"] == max(paid) else i["state"]}
        for i in before["installments"]
    ]  # fmt: skip
    r = api.http.put("/v1/loans/P-100002-1", json=stale, headers=auth)
    assert r.status_code == 200, r.text
    after = [i["number"] for i in r.json()["installments"] if i["state"] == "PAGADA"]
    assert after == paid


def test_a_portal_ficha_supersedes_the_kiosk_one_enters_the_feed_and_is_paid(api: Api) -> None:
    auth = _svc(api, "slips", "events")
    kiosk_ref = next(r for r in api.demo["references"] if r["loan_id"] == "P-100001-1")
    key = new_key()
    r = _portal_slip(api, auth, key)
    assert r.status_code == 201, r.text
    slip = r.json()
    assert slip["channel"] == "PORTAL" and slip["replaced"] == kiosk_ref["reference"]
    replay = _portal_slip(api, auth, key)
    assert replay.status_code == 200 and replay.json()["reference"] == slip["reference"]
    reused = _portal_slip(api, auth, key, channel="TELEFONO")
    assert reused.status_code == 422 and reused.json()["code"] == "LLAVE_REUTILIZADA"
    assert api.reference(kiosk_ref["reference"])["status"] == "SUSTITUIDA"

    feed = api.http.get("/v1/references", headers=api.auth(api.token())).json()
    assert slip["reference"] in {i["reference"] for i in feed["items"]}
    paid = api.pay(api.payment_body(slip["reference"], slip["amount"]))
    assert paid.status_code == 201, paid.text

    kinds = [(e["kind"], e["data"].get("reference")) for e in _events(api, auth)["events"]]
    assert kinds[-3:] == [
        ("FICHA_SUSTITUIDA", kiosk_ref["reference"]),
        ("FICHA_EMITIDA", slip["reference"]),
        ("PAGO_APLICADO", slip["reference"]),
    ]


def test_the_event_feed_reads_in_order_with_a_cursor(api: Api) -> None:
    auth = _svc(api, "events")
    start = _events(api, auth)["next_cursor"]
    ref = api.demo["references"][0]
    body = api.payment_body(ref["reference"], ref["amount"])
    key = new_key()
    assert api.pay(body, key).status_code == 201
    void = api.http.post(
        f"/v1/payments/{key}/void",
        headers=api.auth(api.token()),
        json={"store_id": "F001", "reason": "error de captura",
              "voided_at": api.clock().isoformat(), "authorized_by": "gerente"},
    )  # fmt: skip
    assert void.status_code == 201, void.text
    closing = api.http.post(
        "/v1/closings",
        headers=api.auth(api.token()),
        json={"closing_uuid": new_key(), "store_id": "F001", "kind": "DIA",
              "business_date": BUSINESS_NOW.date().isoformat(),
              "closed_at": api.clock().isoformat(), "report": {"pagos": 0}},
    )  # fmt: skip
    assert closing.status_code == 201, closing.text
    page1 = _events(api, auth, start, limit=2)
    page2 = _events(api, auth, page1["next_cursor"], limit=2)
    got = page1["events"] + page2["events"]
    assert [e["kind"] for e in got] == ["PAGO_APLICADO", "PAGO_ANULADO", "CORTE_RECIBIDO"]
    assert [e["seq"] for e in got] == sorted(e["seq"] for e in got)
    assert len({e["event_id"] for e in got}) == 3
    assert page1["more"] is True and page2["more"] is False
    assert _events(api, auth, page2["next_cursor"])["events"] == []


def test_a_renewal_payment_says_the_loan_is_renewable_at_once(api: Api) -> None:
    auth = _svc(api, "events", "members_loans")
    ref = next(r for r in api.demo["references"] if r["kind"] == "RENOVACION")
    assert api.http.get(f"/v1/loans/{ref['loan_id']}", headers=auth).json()["renewable"] is False
    assert api.pay(api.payment_body(ref["reference"], ref["amount"])).status_code == 201
    event = _events(api, auth)["events"][-1]
    assert event["kind"] == "PAGO_APLICADO"
    assert event["data"]["renewable"] is True and event["data"]["became_renewable"] is True
    loan = api.http.get(f"/v1/loans/{ref['loan_id']}", headers=auth).json()
    assert loan["renewable"] is True and loan["renewal_amount"] == "0.00"


def test_the_policy_is_versioned_kept_and_served_to_terminals(api: Api) -> None:
    auth = _svc(api, "policy")
    change = {"version": 2, "window_start": "08:00", "window_end": "20:00",
              "cash_cap": "20000.00", "offline_window_hours": 48,
              "max_daily_slips": 3, "non_working_days": ["2025-06-12"]}  # fmt: skip
    r = api.http.put("/v1/policy", json=change, headers=auth)
    assert r.status_code == 201, r.text
    assert api.http.put("/v1/policy", json=change, headers=auth).status_code == 200
    older = api.http.put("/v1/policy", json={"version": 1, "cash_cap": "1.00"}, headers=auth)
    assert older.status_code == 409 and older.json()["code"] == "VERSION_ANTERIOR"
    bad = api.http.put(
        "/v1/policy", json={"version": 5, "window_start": "23:00", "window_end": "08:00"},
        headers=auth,
    )  # fmt: skip
    assert bad.status_code == 422
    served = Policy.from_dict(api.http.get("/v1/policy", headers=api.auth(api.token())).json())
    assert served.version == 2 and served.cash_cap == Decimal("20000.00")
    assert served.offline_window == timedelta(hours=48) and served.max_daily_slips == 3
    assert not served.is_business_day(BUSINESS_NOW.date() + timedelta(days=2))
    # The command line sets the next version on top of it.
    assert admin.main(["--db", api.server.db_url, "politica", "fijar", "--fichas-por-dia", "4",
                       "--por", "finanzas"]) == 0  # fmt: skip
    history = api.http.get("/v1/policy/history", headers=auth).json()["versions"]
    assert [(v["version"], v["created_by"], v["max_daily_slips"]) for v in history] == [
        (2, history[0]["created_by"], 3),
        (3, "finanzas", 4),
    ]


def test_fichas_per_affiliate_per_day_are_capped_over_every_channel(api: Api) -> None:
    policy_auth, slips = _svc(api, "policy"), _svc(api, "slips")
    # The demo already issued two fichas to affiliate 100001 today.
    r = api.http.put(
        "/v1/policy", json={"version": 2, "max_daily_slips": 3}, headers=policy_auth
    )
    assert r.status_code == 201
    api.server.app.state.policies.refresh()
    assert _portal_slip(api, slips).status_code == 201
    refused = _portal_slip(api, slips, channel="TELEFONO")
    assert refused.status_code == 422 and refused.json()["code"] == "LIMITE_DE_FICHAS"


def _pay_twice(api: Api) -> tuple[dict[str, Any], str]:
    """The same ficha paid at F001 and then at F002: the second is a case."""
    ref = next(r for r in api.demo["references"] if r["loan_id"] == "P-100002-1")
    assert api.pay(api.payment_body(ref["reference"], ref["amount"])).status_code == 201
    second = api.pay(api.payment_body(ref["reference"], ref["amount"], store_id="F002"))
    assert second.status_code == 409
    return second.json(), ref["amount"]


def test_a_case_resolved_as_a_refund_reaches_only_its_store_once(api: Api) -> None:
    auth = _svc(api, "cases", "events")
    refused, amount = _pay_twice(api)
    case_id = refused["reconciliation_id"]
    open_cases = api.http.get("/v1/cases", params={"abiertos": True}, headers=auth).json()
    assert [c["case_id"] for c in open_cases["cases"]] == [case_id]
    decision = {"action": "DEVOLUCION", "resolved_by": "finanzas.ana", "reason": "Cobro doble"}
    r = api.http.post(f"/v1/cases/{case_id}/resolution", json=decision, headers=auth)
    assert r.status_code == 201, r.text
    assert r.json()["resolved_by"] == "finanzas.ana" and r.json()["resolved_at"]
    again = api.http.post(f"/v1/cases/{case_id}/resolution", json=decision, headers=auth)
    assert again.status_code == 200
    other = {**decision, "action": "RECHAZO"}
    clash = api.http.post(f"/v1/cases/{case_id}/resolution", json=other, headers=auth)
    assert clash.status_code == 409 and clash.json()["code"] == "CASO_YA_RESUELTO"

    f001 = api.http.get("/v1/refunds", headers=api.auth(api.token("F001")))
    assert f001.json()["refunds"] == []
    f002 = api.http.get("/v1/refunds", headers=api.auth(api.token("F002"))).json()["refunds"]
    assert [(c["case_id"], c["amount"]) for c in f002] == [(case_id, amount)]
    paid = {"paid_at": api.clock().isoformat(), "paid_by": "gerente"}
    path = f"/v1/refunds/{case_id}/paid"
    assert api.http.post(path, json=paid, headers=api.auth(api.token("F001"))).status_code == 403
    assert api.http.post(path, json=paid, headers=api.auth(api.token("F002"))).status_code == 201
    assert api.http.post(path, json=paid, headers=api.auth(api.token("F002"))).status_code == 200
    assert api.http.get("/v1/refunds", headers=api.auth(api.token("F002"))).json()["refunds"] == []
    kinds = [e["kind"] for e in _events(api, auth)["events"]]
    assert kinds[-4:] == ["PAGO_APLICADO", "CASO_ABIERTO", "CASO_RESUELTO", "DEVOLUCION_ENTREGADA"]


def test_a_case_applied_as_abono_reduces_the_loan_and_a_rejection_needs_a_reason(
    api: Api,
) -> None:
    auth = _svc(api, "cases", "members_loans")
    refused, amount = _pay_twice(api)
    before = api.http.get("/v1/loans/P-100002-1", headers=auth).json()
    no_reason = {"action": "RECHAZO", "resolved_by": "soporte", "reason": ""}
    path = f"/v1/cases/{refused['reconciliation_id']}/resolution"
    assert api.http.post(path, json=no_reason, headers=auth).status_code == 422
    assert admin.main(["--db", api.server.db_url, "casos", "resolver",
                       str(refused["reconciliation_id"]), "--accion", "ABONO",
                       "--por", "finanzas", "--motivo", "El afiliado lo pidió"]) == 0  # fmt: skip
    after = api.http.get("/v1/loans/P-100002-1", headers=auth).json()
    assert Decimal(after["prepayments"]) == Decimal(before["prepayments"]) + Decimal(amount)
    assert api.http.get("/v1/cases/9999/resolution", headers=auth).status_code == 405


def test_webhooks_are_signed_retried_until_acknowledged_and_replayed_on_demand(
    api: Api,
) -> None:
    with Receiver(fail_first=2) as receiver:
        add_webhook(_db(api), receiver.url)
        ref = api.demo["references"][0]
        paid = api.pay(api.payment_body(ref["reference"], ref["amount"]))
        assert paid.status_code == 201
        wait_until(lambda: len(receiver.of_kind("PAGO_APLICADO")) == 1)
        event = receiver.of_kind("PAGO_APLICADO")[0]
        assert event["data"]["payment_uuid"] == paid.json()["payment_uuid"]
        assert receiver.failed == 2 and receiver.bad_signatures == 0
        # The delivery log shows each try; the two refused ones were tried again.
        wait_until(lambda: all(d["status"] == "ENTREGADO" for d in _deliveries(api)))
        assert sum(d["attempts"] - 1 for d in _deliveries(api)) == 2
        assert event["event_id"] in {d["event_id"] for d in _deliveries(api)}
        # A replay sends everything again; the receiver recognizes the event ids.
        assert admin.main(["--db", api.server.db_url, "webhook", "reenviar"]) == 0
        wait_until(lambda: receiver.duplicates >= len(receiver.acked))
    # An endpoint added later gets the history it asks for.
    with Receiver() as late:
        endpoint = add_webhook(_db(api), late.url)
        command = ["--db", api.server.db_url, "webhook", "reenviar", "--id", str(endpoint)]
        assert admin.main(command) == 0
        wait_until(lambda: len(late.of_kind("PAGO_APLICADO")) == 1)


def _deliveries(api: Api) -> list[dict[str, Any]]:
    from central.service import webhooks

    return webhooks.delivery_log(_db(api))


def test_only_the_holder_of_the_lease_dispatches(api: Api) -> None:
    policy = api.server.app.state.policies
    other = Dispatcher(_db(api), policy)
    try:
        # The app's own dispatcher holds the lease: a second one in the deployment waits.
        wait_until(lambda: not other.holds_lease() and not other.run_once())
    finally:
        other.stop()


def test_an_applied_payment_mails_the_affiliate(db_url: str, clock: Any) -> None:
    with (
        SmtpSink() as smtp,
        EmbeddedCentral(
            db_url, clock=clock, seed_demo=True, smtp=SmtpSettings("127.0.0.1", smtp.port)
        ) as server,
    ):
        api = Api(server, clock)
        auth = _svc(api, "members_loans")
        r = api.http.put("/v1/members/100002", json=_member(1, name="José Luis Ramírez Torres",
                         email="jose@example.mx"), headers=auth)  # fmt: skip
        assert r.status_code == 200, r.text
        ref = next(r for r in api.demo["references"] if r["member_number"] == "100002")
        paid = api.pay(api.payment_body(ref["reference"], ref["amount"])).json()
        wait_until(lambda: len(smtp.messages) == 1)
        mail = smtp.messages[0]
        text = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
        assert mail["To"] == "jose@example.mx"
        for part in (paid["payment_uuid"], ref["reference"], "Farmacia ISSEG Guanajuato Centro",
                     "10/06/2025 10:00", "PESOS"):  # fmt: skip
            assert part in text, part
        api.close()


def test_a_mail_server_that_is_down_never_delays_a_payment_and_is_retried(
    db_url: str, clock: Any
) -> None:
    from central.embedded import free_port

    port = free_port()
    with EmbeddedCentral(
        db_url, clock=clock, seed_demo=True, smtp=SmtpSettings("127.0.0.1", port, timeout=1)
    ) as server:
        api = Api(server, clock)
        auth = _svc(api, "members_loans")
        body = _member(1, name="José Luis Ramírez Torres", email="jose@example.mx")
        assert api.http.put("/v1/members/100002", json=body, headers=auth).status_code == 200
        ref = next(r for r in api.demo["references"] if r["member_number"] == "100002")
        assert api.pay(api.payment_body(ref["reference"], ref["amount"])).status_code == 201
        from central.models import Notice

        def attempted() -> bool:
            with _db(api).read() as s:
                n = s.query(Notice).one_or_none()
                return n is not None and n.attempts >= 1 and n.status == "PENDIENTE"

        wait_until(attempted)
        with SmtpSink(port) as smtp:
            wait_until(lambda: len(smtp.messages) == 1, timeout=30)
        api.close()


def test_every_event_is_numbered_once(api: Api) -> None:
    auth = _svc(api, "events")
    for ref in api.demo["references"][:3]:
        assert api.pay(api.payment_body(ref["reference"], ref["amount"])).status_code == 201
    got = _events(api, auth)["events"]
    with _db(api).read() as s:
        stored = s.query(EventRow).count()
    assert len(got) == stored and len({e["seq"] for e in got}) == stored


def test_no_webhook_is_lost_when_central_is_killed_while_the_receiver_fails(
    db_url: str,
) -> None:
    dbmod.upgrade(db_url)
    db = dbmod.Database(db_url)
    demo = seed_demo(db, BUSINESS_NOW, Policy(version=1))
    token = next(t["token"] for t in demo["terminals"] if t["kind"] == "caja")
    with Receiver(fail_rate=1.0) as receiver:
        add_webhook(db, receiver.url)
        central = CentralProcess(db_url, now=BUSINESS_NOW).start()
        try:
            paid = []
            with httpx.Client(base_url=central.base_url, timeout=10) as http:
                for ref in demo["references"]:
                    body = {"reference": ref["reference"], "store_id": "F001",
                            "amount": ref["amount"], "cash": ref["amount"], "card": "0.00",
                            "paid_at": BUSINESS_NOW.isoformat(), "cashier": "c"}  # fmt: skip
                    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": new_key()}
                    r = http.post("/v1/payments", json=body, headers=headers)
                    assert r.status_code == 201, r.text
                    paid.append(r.json()["payment_uuid"])
            wait_until(lambda: receiver.failed >= len(paid))
            central.kill()  # every delivery still unacknowledged
            receiver.fail_rate = 0.3
            central.start()

            def delivered() -> set[str]:
                return {e["data"]["payment_uuid"] for e in receiver.of_kind("PAGO_APLICADO")}

            wait_until(lambda: delivered() == set(paid), timeout=60)
        finally:
            central.close()
            db.dispose()
