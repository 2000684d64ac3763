"""A referencia paid from two stores at the same moment: exactly one payment wins."""

from __future__ import annotations

import threading
from collections import Counter

import httpx
from sqlalchemy import func, select

from central.models import Payment, ReferenceClaim
from tests.integration.central_support import Api, new_key

pytest_plugins = ["tests.integration.central_support"]


ATTEMPTS_PER_STORE = 20


def test_a_referencia_paid_from_two_stores_at_once_is_applied_exactly_once(api: Api) -> None:
    ref = api.demo["references"][0]
    barrier = threading.Barrier(2 * ATTEMPTS_PER_STORE)
    results: list[tuple[str, int, dict]] = []
    lock = threading.Lock()

    def attempt(store_id: str) -> None:
        body = api.payment_body(ref["reference"], ref["amount"], store_id=store_id)
        headers = api.auth(api.token(store_id), **{"Idempotency-Key": new_key()})
        with httpx.Client(base_url=api.server.base_url, timeout=60) as client:
            barrier.wait()
            r = client.post("/v1/payments", headers=headers, json=body)
        with lock:
            results.append((store_id, r.status_code, r.json()))

    threads = [
        threading.Thread(target=attempt, args=(store,))
        for store in ("F001", "F002")
        for _ in range(ATTEMPTS_PER_STORE)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    codes = Counter(code for _, code, _ in results)
    assert codes == {201: 1, 409: 2 * ATTEMPTS_PER_STORE - 1}, codes
    winner = next(body for _, code, body in results if code == 201)
    for _, code, body in results:
        if code == 409:
            assert body["first_payment_uuid"] == winner["payment_uuid"]

    db = api.server.app.state.db
    with db.read() as s:
        applied = s.execute(
            select(func.count()).select_from(Payment).where(Payment.status == "APLICADO")
        ).scalar_one()
        claims = s.execute(select(func.count()).select_from(ReferenceClaim)).scalar_one()
    assert (applied, claims) == (1, 1)
    from central import service as svc

    kept = svc.list_cases(db, api.server.app.state.policy)
    assert len(kept) == 2 * ATTEMPTS_PER_STORE - 1
    assert {item["reason_code"] for item in kept} == {"PAGADA"}


def test_one_key_sent_many_times_at_once_is_applied_once_then_replayed_or_refused(
    api: Api,
) -> None:
    ref = api.demo["references"][0]
    key = new_key()
    cashiers = ["ana", "ana", "ana", "beto", "beto", "beto"]
    barrier = threading.Barrier(len(cashiers))
    results: list[tuple[str, int, dict, str | None]] = []
    lock = threading.Lock()

    def attempt(cashier: str) -> None:
        body = api.payment_body(ref["reference"], ref["amount"], cashier=cashier)
        headers = api.auth(api.token("F001"), **{"Idempotency-Key": key})
        with httpx.Client(base_url=api.server.base_url, timeout=60) as client:
            barrier.wait()
            r = client.post("/v1/payments", headers=headers, json=body)
        with lock:
            results.append((cashier, r.status_code, r.json(), r.headers.get("Idempotent-Replayed")))

    threads = [threading.Thread(target=attempt, args=(c,)) for c in cashiers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert [code for _, code, _, _ in results].count(201) == 1, results
    winner, _, first, _ = next(r for r in results if r[1] == 201)
    for cashier, code, body, replayed in results:
        if code == 201:
            continue
        if cashier == winner:  # the same body: the stored answer
            assert (code, body, replayed) == (200, first, "true")
        else:  # the same key with another body
            assert (code, body["code"]) == (422, "LLAVE_REUTILIZADA")
    with api.server.app.state.db.read() as s:
        assert s.execute(select(func.count()).select_from(Payment)).scalar_one() == 1
