"""SPEC 2.5: central decides time-based rules by its own clock, not the caja's.

Each test reproduces what the security review did against a central with demo data (issue
13) and checks that central now holds the money as a case instead of trusting the till."""

from __future__ import annotations

from datetime import timedelta

from central import service as svc
from tests.integration.central_support import BUSINESS_NOW, Api, new_key
from tests.integration.institute_support import service_token

pytest_plugins = ["tests.integration.central_support"]

DAY = timedelta(days=1)


def _cases(api: Api, kind: str) -> list[dict]:
    state = api.server.app.state
    return [c for c in svc.list_cases(state.db, state.policy) if c["kind"] == kind]


def _void(api: Api, payment_uuid: str, voided_at: str) -> dict:
    return {"store_id": "F001", "reason": "Cobro equivocado", "voided_at": voided_at}


def _sweep(api: Api) -> int:
    state = api.server.app.state
    return svc.expire_slips(state.db, api.clock(), state.policy)


def test_a_void_sent_days_later_with_the_tills_date_is_a_case_and_the_referencia_stays_paid(
    api: Api,
) -> None:
    ref = api.demo["references"][0]
    paid = api.pay(api.payment_body(ref["reference"], ref["amount"]))
    assert paid.status_code == 201
    uuid = paid.json()["payment_uuid"]
    api.clock.advance(7 * DAY)  # central's clock: a week later; the till claims day D
    headers = api.auth(api.token())
    body = _void(api, uuid, BUSINESS_NOW.isoformat())
    first = api.http.post(f"/v1/payments/{uuid}/void", headers=headers, json=body)
    again = api.http.post(f"/v1/payments/{uuid}/void", headers=headers, json=body)
    assert first.status_code == 422, first.text
    assert first.json()["code"] == "ANULACION_EN_REVISION"
    assert again.status_code == 422 and again.json() == first.json()
    assert api.reference(ref["reference"])["status"] == "PAGADA"
    [case] = _cases(api, "LATE_VOID")
    assert case["payment_uuid"] == uuid and case["case_id"] == (first.json()["reconciliation_id"])


def test_a_void_after_the_stores_day_close_reached_central_is_a_case(api: Api) -> None:
    ref = api.demo["references"][0]
    uuid = api.pay(api.payment_body(ref["reference"], ref["amount"])).json()["payment_uuid"]
    close = {
        "closing_uuid": new_key(),
        "store_id": "F001",
        "kind": "DIA",
        "business_date": BUSINESS_NOW.date().isoformat(),
        "closed_at": api.clock().isoformat(),
        "report": {},
    }
    headers = api.auth(api.token())
    assert api.http.post("/v1/closings", headers=headers, json=close).status_code == 201
    r = api.http.post(
        f"/v1/payments/{uuid}/void", headers=headers, json=_void(api, uuid, api.clock().isoformat())
    )
    assert r.status_code == 422 and r.json()["code"] == "ANULACION_EN_REVISION"
    assert api.reference(ref["reference"])["status"] == "PAGADA"
    assert len(_cases(api, "LATE_VOID")) == 1


def test_a_same_day_void_before_the_close_still_applies(api: Api) -> None:
    ref = api.demo["references"][0]
    uuid = api.pay(api.payment_body(ref["reference"], ref["amount"])).json()["payment_uuid"]
    api.clock.advance(timedelta(hours=3))
    r = api.http.post(
        f"/v1/payments/{uuid}/void",
        headers=api.auth(api.token()),
        json=_void(api, uuid, api.clock().isoformat()),
    )
    assert r.status_code == 201, r.text
    assert api.reference(ref["reference"])["status"] == "VIGENTE"


def test_a_payment_reaching_central_a_week_after_its_time_is_held_not_applied(api: Api) -> None:
    ref = api.demo["references"][0]
    day_end = BUSINESS_NOW.replace(hour=21, minute=59)
    api.clock.advance(7 * DAY)
    _sweep(api)
    r = api.pay(api.payment_body(ref["reference"], ref["amount"], paid_at=day_end.isoformat()))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "PAGO_EN_REVISION"
    assert api.reference(ref["reference"])["status"] == "CADUCADA"
    [case] = _cases(api, "LATE_PAYMENT")
    assert case["payment_uuid"] == r.json()["payment_uuid"]


def test_a_day_without_link_sent_the_next_morning_still_applies(api: Api) -> None:
    refs = api.demo["references"][:2]
    taken = [BUSINESS_NOW.replace(hour=12), BUSINESS_NOW.replace(hour=21, minute=30)]
    api.clock.advance(DAY - timedelta(hours=2))  # 08:00 the next day
    assert _sweep(api) >= 2  # the expiry sweep ran before the backlog arrived
    for folio, (ref, at) in enumerate(zip(refs, taken, strict=True), start=1):
        body = api.payment_body(ref["reference"], ref["amount"], paid_at=at.isoformat())
        r = api.pay({**body, "folio": folio})
        assert r.status_code == 201, r.text
        assert api.reference(ref["reference"])["status"] == "PAGADA"
    assert _cases(api, "LATE_PAYMENT") == []


def test_a_payment_earlier_than_the_tills_previous_one_is_held(api: Api) -> None:
    first, second, third = api.demo["references"][:3]
    at = BUSINESS_NOW
    ok = api.pay({**api.payment_body(first["reference"], first["amount"],
                                     paid_at=at.isoformat()), "folio": 10})  # fmt: skip
    assert ok.status_code == 201
    back = api.pay({**api.payment_body(second["reference"], second["amount"],
                                       paid_at=(at - timedelta(hours=1)).isoformat()),
                    "folio": 11})  # fmt: skip
    assert back.status_code == 422 and back.json()["code"] == "HORA_REGRESIVA"
    assert api.reference(second["reference"])["status"] == "VIGENTE"
    assert len(_cases(api, "CLOCK_BACKWARDS")) == 1
    # An older folio arriving late (sent after a newer one) is not going back in time.
    late = api.pay({**api.payment_body(third["reference"], third["amount"],
                                       paid_at=(at - timedelta(hours=2)).isoformat()),
                    "folio": 9})  # fmt: skip
    assert late.status_code == 201, late.text


def test_unpaid_fichas_expire_after_their_day_and_leave_the_feed(api: Api) -> None:
    headers = api.auth(api.token())
    before = api.http.get("/v1/references", headers=headers).json()["items"]
    assert before and all(i["status"] == "VIGENTE" for i in before)
    api.clock.advance(DAY)
    assert _sweep(api) == len(before)
    assert api.reference(before[0]["reference"])["status"] == "CADUCADA"
    assert api.http.get("/v1/references", headers=headers).json()["items"] == []


def test_a_new_caja_does_not_download_old_fichas(api: Api) -> None:
    paid = api.demo["references"][0]
    assert api.pay(api.payment_body(paid["reference"], paid["amount"])).status_code == 201
    api.clock.advance(10 * DAY)
    items = api.http.get("/v1/references", headers=api.auth(api.token())).json()["items"]
    assert items == []


def test_kiosk_terminals_cannot_read_the_feed_or_a_referencia(api: Api) -> None:
    kiosk = api.auth(api.token("F001", "kiosko"))
    ref = api.demo["references"][0]["reference"]
    assert api.http.get("/v1/references", headers=kiosk).status_code == 403
    assert api.http.get(f"/v1/references/{ref}", headers=kiosk).status_code == 403


def _event_kinds(api: Api) -> list[tuple[str, dict]]:
    """What the institute's event feed says, through a service account."""
    token = service_token(api.server.app.state.db, "prueba-eventos", "events")
    r = api.http.get("/v1/events", params={"limit": 500}, headers=api.auth(token))
    assert r.status_code == 200, r.text
    return [(e["kind"], e["data"]) for e in r.json()["events"]]


def test_a_held_payment_and_an_expired_ficha_are_events_for_the_institute(api: Api) -> None:
    first, second = api.demo["references"][0], api.demo["references"][1]
    day_end = BUSINESS_NOW.replace(hour=21, minute=59)
    api.clock.advance(7 * DAY)
    assert _sweep(api) >= 2
    r = api.pay(api.payment_body(first["reference"], first["amount"], paid_at=day_end.isoformat()))
    assert r.json()["code"] == "PAGO_EN_REVISION"
    seen = _event_kinds(api)
    held = [d for k, d in seen if k == "PAGO_RETENIDO"]
    assert [h["payment_uuid"] for h in held] == [r.json()["payment_uuid"]]
    assert (
        held[0]["reference"] == first["reference"] and held[0]["reason_code"] == "PAGO_EN_REVISION"
    )
    opened = [d for k, d in seen if k == "CASO_ABIERTO"]
    assert [o["kind"] for o in opened] == ["LATE_PAYMENT"]
    expired = {d["reference"] for k, d in seen if k == "FICHA_CADUCADA"}
    assert {first["reference"], second["reference"]} <= expired
