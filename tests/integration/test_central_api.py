"""Central's API over loopback: the kiosk issues fichas, cajas pay and void them."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime

import pytest

from central import admin
from kiosk import references as refs
from tests.integration.central_support import BUSINESS_NOW, Api, new_key

pytest_plugins = ["tests.integration.central_support"]


def _first_loan(api: Api, session: str, loan_id: str = "P-100001-1") -> dict:
    return next(loan for loan in api.loans(session)["loans"] if loan["loan_id"] == loan_id)


def test_health_reports_the_server_clock_in_body_and_date_header(api: Api) -> None:
    r = api.http.get("/v1/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert datetime.fromisoformat(r.json()["server_time"]) == BUSINESS_NOW
    assert parsedate_to_datetime(r.headers["date"]) == BUSINESS_NOW


def test_policy_is_the_rules_default_with_a_version(api: Api) -> None:
    r = api.http.get("/v1/policy", headers=api.auth(api.token()))
    assert r.status_code == 200
    body = r.json()
    assert body["cash_cap"] == "30000.00"
    assert body["window_start"] == "07:00" and body["window_end"] == "22:00"
    assert body["timezone"] == "America/Mexico_City"
    assert body["version"] >= 1


def test_a_ficha_issued_at_the_kiosk_is_paid_at_a_cashier(api: Api) -> None:
    session = api.login()
    loan = _first_loan(api, session)
    first, second = loan["options"]["pending"][:2]
    slip = api.slip(
        session, loan_id=loan["loan_id"], kind="QUINCENAL",
        quincenas=[first["number"], second["number"]],
    )  # fmt: skip
    assert slip.status_code == 201, slip.text
    ficha = slip.json()
    expected = Decimal(first["amount"]) + Decimal(second["amount"])
    assert Decimal(ficha["amount"]) == expected
    assert refs.parse(ficha["reference"]).issued_on == BUSINESS_NOW.date()

    seen = api.reference(ficha["reference"])
    assert seen["status"] == "VIGENTE" and seen["amount"] == ficha["amount"]
    assert seen["member_name"] == api.demo["members"][0]["name"]

    paid = api.pay(api.payment_body(ficha["reference"], ficha["amount"]))
    assert paid.status_code == 201, paid.text
    assert paid.json()["status"] == "APLICADO"
    assert api.reference(ficha["reference"])["status"] == "PAGADA"

    after = _first_loan(api, session)
    states = {i["number"]: i["state"] for i in after["installments"]}
    assert states[first["number"]] == states[second["number"]] == "PAGADA"


def test_a_replayed_payment_gets_the_original_answer_with_200(api: Api) -> None:
    ref = api.demo["references"][0]
    body = api.payment_body(ref["reference"], ref["amount"])
    key = new_key()
    first = api.pay(body, key)
    again = api.pay(body, key)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"


def test_the_same_key_with_a_different_body_is_refused_with_422(api: Api) -> None:
    ref = api.demo["references"][0]
    key = new_key()
    assert api.pay(api.payment_body(ref["reference"], ref["amount"]), key).status_code == 201
    changed = api.payment_body(ref["reference"], ref["amount"], cashier="otro")
    r = api.pay(changed, key)
    assert r.status_code == 422
    assert r.json()["code"] == "LLAVE_REUTILIZADA"


def test_a_second_payment_of_a_paid_referencia_is_409_naming_the_first(api: Api) -> None:
    ref = api.demo["references"][0]
    first = api.pay(api.payment_body(ref["reference"], ref["amount"]))
    second = api.pay(api.payment_body(ref["reference"], ref["amount"], store_id="F002"))
    assert second.status_code == 409
    body = second.json()
    assert body["first_payment_uuid"] == first.json()["payment_uuid"]
    assert body["first_store_id"] == "F001"
    listed = admin_conciliacion(api)
    assert [item["payment_uuid"] for item in listed] == [body["payment_uuid"]]
    assert listed[0]["reason_code"] == "PAGADA"


def test_a_batch_answers_each_payment_as_its_own_post_would(api: Api) -> None:
    first, second, third = api.demo["references"][:3]
    replayed_key, reused_key = new_key(), new_key()
    replayed = api.payment_body(first["reference"], first["amount"])
    assert api.pay(replayed, replayed_key).status_code == 201
    assert (
        api.pay(api.payment_body(second["reference"], second["amount"]), reused_key).status_code
        == 201
    )
    new = api.payment_body(third["reference"], third["amount"])
    paid_twice = api.payment_body(first["reference"], first["amount"])
    items = [
        (new_key(), new),
        (replayed_key, replayed),
        (reused_key, api.payment_body(second["reference"], second["amount"], cashier="otro")),
        (new_key(), paid_twice),
        (new_key(), api.payment_body(third["reference"], third["amount"], store_id="F002")),
        ("no-es-uuid", api.payment_body(third["reference"], third["amount"])),
    ]
    r = api.http.post(
        "/v1/payments/batch",
        headers=api.auth(api.token()),
        json={"payments": [{"idempotency_key": k, "body": b} for k, b in items]},
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["idempotency_key"] for x in results] == [k for k, _ in items]
    assert [x["status"] for x in results] == [201, 200, 422, 409, 403, 422]
    codes = [x["body"].get("code") for x in results]
    assert codes[2:] == ["LLAVE_REUTILIZADA", "PAGADA", "TIENDA_AJENA", "LLAVE_INVALIDA"]
    assert results[0]["body"]["status"] == "APLICADO"
    assert results[0]["body"]["payment_uuid"] == items[0][0]
    assert results[1]["body"] == api.pay(replayed, replayed_key).json()
    assert api.reference(third["reference"])["status"] == "PAGADA"
    assert [i["payment_uuid"] for i in admin_conciliacion(api)] == [items[3][0]]


def test_payments_after_a_rolled_back_one_in_a_batch_are_still_applied(api: Api) -> None:
    first, second, third, fourth = api.demo["references"][:4]
    reused_key = new_key()
    assert api.pay(api.payment_body(first["reference"], first["amount"])).status_code == 201
    assert (
        api.pay(api.payment_body(second["reference"], second["amount"]), reused_key).status_code
        == 201
    )
    # The 409 and the reused key each abort a transaction on the batch's connection.
    items = [
        (new_key(), api.payment_body(first["reference"], first["amount"])),
        (new_key(), api.payment_body(third["reference"], third["amount"])),
        (reused_key, api.payment_body(second["reference"], second["amount"], cashier="otro")),
        (new_key(), api.payment_body(fourth["reference"], fourth["amount"])),
    ]
    r = api.http.post(
        "/v1/payments/batch",
        headers=api.auth(api.token()),
        json={"payments": [{"idempotency_key": k, "body": b} for k, b in items]},
    )
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == [409, 201, 422, 201]
    assert api.reference(third["reference"])["status"] == "PAGADA"
    assert api.reference(fourth["reference"])["status"] == "PAGADA"
    # Each applied payment is stored: its key replays the original answer.
    for index in (1, 3):
        key, body = items[index]
        again = api.pay(body, key)
        assert again.status_code == 200
        assert again.json() == r.json()["results"][index]["body"]


def test_a_batch_is_for_cashier_terminals_and_has_a_size_limit(api: Api) -> None:
    ref = api.demo["references"][0]
    one = {"idempotency_key": new_key(), "body": api.payment_body(ref["reference"], ref["amount"])}
    kiosk = api.http.post(
        "/v1/payments/batch",
        headers=api.auth(api.token("F001", "kiosko")),
        json={"payments": [one]},
    )
    assert kiosk.status_code == 403
    too_many = api.http.post(
        "/v1/payments/batch", headers=api.auth(api.token()), json={"payments": [one] * 101}
    )
    assert too_many.status_code == 422
    assert api.reference(ref["reference"])["status"] == "VIGENTE"


def test_a_nul_character_in_stored_text_is_refused_with_422_not_a_server_error(api: Api) -> None:
    ref = api.demo["references"][0]
    paid = api.pay(api.payment_body(ref["reference"], ref["amount"], cashier="caj\x00ero"))
    slip = api.slip(api.login(), loan_id="P-100001-1\x00", kind="RENOVACION")
    assert (paid.status_code, slip.status_code) == (422, 422)
    assert api.reference(ref["reference"])["status"] == "VIGENTE"


def admin_conciliacion(api: Api) -> list[dict]:
    from central import service as svc

    return svc.list_cases(api.server.app.state.db, api.server.app.state.policy)


def test_a_payment_one_centavo_short_is_refused_with_its_code(api: Api) -> None:
    ref = api.demo["references"][0]
    short = str(Decimal(ref["amount"]) - Decimal("0.01"))
    r = api.pay(api.payment_body(ref["reference"], short))
    assert r.status_code == 422
    assert r.json()["code"] == "MONTO_DISTINTO"
    assert api.reference(ref["reference"])["status"] == "VIGENTE"


def test_an_unknown_referencia_is_refused_and_kept_for_reconciliation(api: Api) -> None:
    unknown = str(refs.issue(BUSINESS_NOW.date(), 9_999_999))
    r = api.pay(api.payment_body(unknown, "100.00"))
    assert r.status_code == 422
    assert r.json()["code"] == "NO_ENCONTRADA"
    assert [i["reference"] for i in admin_conciliacion(api)] == [unknown]


def test_same_day_is_judged_by_the_payment_time_not_its_arrival(api: Api, clock) -> None:
    queued, late = api.demo["references"][0], api.demo["references"][1]
    offline_body = api.payment_body(queued["reference"], queued["amount"])
    clock.advance(timedelta(days=1))  # the pharmacy was offline until the next day
    assert api.pay(offline_body).status_code == 201
    r = api.pay(api.payment_body(late["reference"], late["amount"]))
    assert r.status_code == 422
    assert r.json()["code"] == "CADUCADA"


def test_a_payment_outside_the_window_is_refused(api: Api) -> None:
    ref = api.demo["references"][0]
    dawn = BUSINESS_NOW.replace(hour=6, minute=30)
    r = api.pay(api.payment_body(ref["reference"], ref["amount"], paid_at=dawn.isoformat()))
    assert r.status_code == 422
    assert r.json()["code"] == "FUERA_DE_HORARIO"


def test_a_second_ficha_makes_the_first_sustituida(api: Api) -> None:
    session = api.login()
    old = next(r for r in api.demo["references"] if r["loan_id"] == "P-100001-1")
    pending = _first_loan(api, session)["options"]["pending"]
    r = api.slip(session, loan_id="P-100001-1", kind="QUINCENAL", quincenas=[pending[0]["number"]])
    assert r.status_code == 201
    assert r.json()["replaced"] == old["reference"]
    assert old["reference"] in r.json()["replaced_message"]
    replaced = api.reference(old["reference"])
    assert replaced["status"] == "SUSTITUIDA"
    assert replaced["replaced_by"] == r.json()["reference"]


def test_a_ficha_replaced_while_the_pharmacy_was_offline_is_kept_for_reconciliation(
    api: Api,
) -> None:

    old = next(r for r in api.demo["references"] if r["loan_id"] == "P-100001-1")
    session = api.login()
    pending = _first_loan(api, session)["options"]["pending"]
    api.slip(session, loan_id="P-100001-1", kind="QUINCENAL", quincenas=[pending[0]["number"]])
    r = api.pay(api.payment_body(old["reference"], old["amount"]))
    assert r.status_code == 422
    assert r.json()["code"] == "SUSTITUIDA"
    assert [i["payment_uuid"] for i in admin_conciliacion(api)] == [r.json()["payment_uuid"]]


def test_kiosk_refusals_carry_the_loan_rule_code(api: Api) -> None:
    session = api.login()
    loan = _first_loan(api, session)
    pending = loan["options"]["pending"]
    skipped = api.slip(session, loan_id=loan["loan_id"], kind="QUINCENAL",
                       quincenas=[pending[1]["number"]])  # fmt: skip
    assert skipped.status_code == 422
    assert skipped.json()["code"] == "QUINCENAS_FUERA_DE_ORDEN"
    small = str(Decimal(loan["installment"]) - Decimal("0.01"))
    r = api.slip(session, loan_id=loan["loan_id"], kind="ABONO", amount=small)
    assert r.status_code == 422
    assert r.json()["code"] == "ABONO_MENOR_AL_DESCUENTO"
    other = api.slip(session, loan_id="P-100002-1", kind="LIQUIDACION")
    assert other.status_code == 404  # another affiliate's loan


def test_paying_a_liquidacion_leaves_only_what_payroll_will_pay(api: Api) -> None:
    session = api.login()
    loan = _first_loan(api, session, "P-100001-2")
    r = api.slip(session, loan_id=loan["loan_id"], kind="LIQUIDACION")
    assert r.status_code == 201
    assert r.json()["amount"] == loan["options"]["payoff_amount"]
    assert api.pay(api.payment_body(r.json()["reference"], r.json()["amount"])).status_code == 201
    after = _first_loan(api, session, "P-100001-2")
    in_payroll = sum(
        Decimal(i["principal"]) for i in after["installments"] if i["state"] == "EN_NOMINA"
    )
    assert Decimal(after["outstanding_balance"]) == in_payroll
    assert after["options"]["payoff_amount"] == "0.00"


def test_a_void_makes_the_referencia_payable_again_and_is_idempotent(api: Api) -> None:
    session = api.login()
    ref = next(r for r in api.demo["references"] if r["loan_id"] == "P-100001-1")
    number = api.reference(ref["reference"])["quincenas"][0]
    paid = api.pay(api.payment_body(ref["reference"], ref["amount"]))
    uuid = paid.json()["payment_uuid"]
    void = {"store_id": "F001", "reason": "Cobro equivocado", "voided_at": api.clock().isoformat()}
    headers = api.auth(api.token("F001"))
    first = api.http.post(f"/v1/payments/{uuid}/void", headers=headers, json=void)
    again = api.http.post(f"/v1/payments/{uuid}/void", headers=headers, json=void)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    assert api.reference(ref["reference"])["status"] == "VIGENTE"
    states = {i["number"]: i["state"] for i in _first_loan(api, session)["installments"]}
    assert states[number] == "PENDIENTE"
    assert api.pay(api.payment_body(ref["reference"], ref["amount"])).status_code == 201


def test_another_stores_token_is_403(api: Api) -> None:
    ref = api.demo["references"][0]
    body = api.payment_body(ref["reference"], ref["amount"], store_id="F001")
    r = api.pay(body, token=api.token("F002"))
    assert r.status_code == 403
    paid = api.pay(body)
    void = {"store_id": "F002", "reason": "x", "voided_at": api.clock().isoformat()}
    r = api.http.post(
        f"/v1/payments/{paid.json()['payment_uuid']}/void",
        headers=api.auth(api.token("F002")),
        json=void,
    )
    assert r.status_code == 403


@pytest.mark.parametrize("central_options", [{"auth_cache_ttl": 0}])
def test_a_revoked_token_is_401_and_an_unknown_one_too(api: Api) -> None:
    terminal = next(t for t in api.demo["terminals"] if t["store_id"] == "F002")
    headers = api.auth(terminal["token"])
    assert api.http.get("/v1/policy", headers=headers).status_code == 200
    assert admin.main(["--db", api.server.db_url, "revocar", str(terminal["terminal_id"])]) == 0
    r = api.http.get("/v1/policy", headers=headers)
    assert r.status_code == 401 and r.json()["code"] == "TOKEN_REVOCADO"
    assert api.http.get("/v1/policy", headers=api.auth("no-existe")).status_code == 401
    assert api.http.get("/v1/policy").status_code == 401


@pytest.mark.parametrize("central_options", [{"auth_cache_ttl": 0.5}])
def test_a_revoked_token_stops_working_once_the_token_cache_lapses(api: Api) -> None:
    terminal = next(t for t in api.demo["terminals"] if t["store_id"] == "F002")
    headers = api.auth(terminal["token"])
    assert api.http.get("/v1/policy", headers=headers).status_code == 200  # now cached
    assert admin.main(["--db", api.server.db_url, "revocar", str(terminal["terminal_id"])]) == 0
    time.sleep(0.6)
    r = api.http.get("/v1/policy", headers=headers)
    assert r.status_code == 401 and r.json()["code"] == "TOKEN_REVOCADO"


def test_tokens_only_work_on_their_own_side(api: Api) -> None:
    session = api.login()
    ref = api.demo["references"][0]
    r = api.pay(api.payment_body(ref["reference"], ref["amount"]), token=session)
    assert r.status_code == 403
    assert api.http.get("/v1/kiosk/loans", headers=api.auth(api.token())).status_code == 403
    kiosk_pays = api.pay(api.payment_body(ref["reference"], ref["amount"]),
                         token=api.token("F001", "kiosko"))  # fmt: skip
    assert kiosk_pays.status_code == 403


def test_the_delta_feed_pages_with_its_cursor_and_returns_changes(api: Api) -> None:
    headers = api.auth(api.token())
    session = api.login("100002", "2468")
    loan = _first_loan(api, session, "P-100002-1")
    for count in (1, 2, 3):
        numbers = [i["number"] for i in loan["options"]["pending"][:count]]
        api.slip(session, loan_id=loan["loan_id"], kind="QUINCENAL", quincenas=numbers)
    seen: dict[str, dict] = {}
    cursor, pages = 0, 0
    while True:
        page = api.http.get("/v1/references", params={"since": cursor, "limit": 2}, headers=headers)
        assert page.status_code == 200
        body = page.json()
        assert len(body["items"]) <= 2
        for item in body["items"]:
            seen[item["reference"]] = item
        pages += 1
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
    assert pages >= 3
    statuses = sorted(item["status"] for item in seen.values())
    assert statuses.count("VIGENTE") == 4  # one per demo loan
    assert statuses.count("SUSTITUIDA") == 3
    empty = api.http.get("/v1/references", params={"since": cursor}, headers=headers).json()
    assert empty["items"] == [] and empty["next_cursor"] == cursor

    ref = api.demo["references"][0]
    api.pay(api.payment_body(ref["reference"], ref["amount"]))
    delta = api.http.get("/v1/references", params={"since": cursor}, headers=headers).json()
    assert [(i["reference"], i["status"]) for i in delta["items"]] == [(ref["reference"], "PAGADA")]
    assert delta["items"][0]["version"] > seen[ref["reference"]]["version"]
    assert delta["next_cursor"] > cursor


def test_every_feed_item_reads_exactly_as_the_single_referencia_lookup(api: Api) -> None:
    # The feed is built from raw column values; the single lookup goes through the ORM types.
    headers = api.auth(api.token())
    session = api.login("100002", "2468")
    loan = _first_loan(api, session, "P-100002-1")
    numbers = [i["number"] for i in loan["options"]["pending"][:2]]
    api.slip(session, loan_id=loan["loan_id"], kind="QUINCENAL", quincenas=numbers)
    api.slip(session, loan_id=loan["loan_id"], kind="ABONO", amount="1234.56")
    ref = api.demo["references"][0]
    assert api.pay(api.payment_body(ref["reference"], ref["amount"])).status_code == 201
    body = api.http.get("/v1/references", params={"limit": 1000}, headers=headers).json()
    assert not body["has_more"]
    statuses = {item["status"] for item in body["items"]}
    assert {"VIGENTE", "PAGADA", "SUSTITUIDA"} <= statuses
    assert any(item["quincenas"] == sorted(numbers) for item in body["items"])
    for item in body["items"]:
        assert item == api.reference(item["reference"])


def test_kiosk_login_with_a_wrong_nip_is_refused_then_locked(api: Api) -> None:
    headers = api.auth(api.token("F001", "kiosko"))
    wrong = {"member_number": "100001", "nip": "9999"}
    r = api.http.post("/v1/kiosk/sessions", headers=headers, json=wrong)
    assert r.status_code == 401 and r.json()["code"] == "CREDENCIALES_INCORRECTAS"
    codes = [
        api.http.post("/v1/kiosk/sessions", headers=headers, json=wrong).status_code
        for _ in range(4)
    ]
    assert codes[-1] == 423
    right = {"member_number": "100001", "nip": "1234"}
    locked = api.http.post("/v1/kiosk/sessions", headers=headers, json=right)
    assert locked.status_code == 423 and locked.json()["code"] == "AFILIADO_BLOQUEADO"
    unknown = {"member_number": "999999", "nip": "1234"}
    assert api.http.post("/v1/kiosk/sessions", headers=headers, json=unknown).status_code == 401


def test_a_kiosk_session_expires_when_idle(api: Api, clock) -> None:
    session = api.login()
    clock.advance(timedelta(minutes=4))
    api.loans(session)  # activity keeps it alive
    clock.advance(timedelta(minutes=4))
    api.loans(session)
    clock.advance(timedelta(minutes=6))
    r = api.http.get("/v1/kiosk/loans", headers=api.auth(session))
    assert r.status_code == 401 and r.json()["code"] == "SESION_EXPIRADA"


def test_a_closing_is_stored_once_and_replays(api: Api) -> None:
    body = {
        "closing_uuid": new_key(),
        "store_id": "F001",
        "kind": "DIA",
        "business_date": BUSINESS_NOW.date().isoformat(),
        "closed_at": api.clock().isoformat(),
        "report": {"total": "540.00", "pagos": 1},
    }
    headers = api.auth(api.token())
    first = api.http.post("/v1/closings", headers=headers, json=body)
    again = api.http.post("/v1/closings", headers=headers, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    changed = api.http.post("/v1/closings", headers=headers,
                            json={**body, "report": {"total": "0.00"}})  # fmt: skip
    assert changed.status_code == 422
    other = api.http.post("/v1/closings", headers=api.auth(api.token("F002")), json=body)
    assert other.status_code == 403
