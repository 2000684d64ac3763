"""Central's side of an affiliate's visit: the daily fichas limit, the history and profile
endpoints, and the shared "can it still be paid today" rule on an issued ficha."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.central_support import Api

pytest_plugins = ["tests.integration.central_support"]


def _loan(api: Api, session: str, number: str) -> dict:
    return next(ln for ln in api.loans(session)["loans"] if ln["options"]["can_prepay"])


def test_an_affiliate_gets_the_policys_fichas_per_day_and_then_a_clear_refusal(api: Api) -> None:
    session = api.login("100002", "2468")
    loan = _loan(api, session, "100002")
    amount = loan["options"]["min_prepayment"]
    already = sum(1 for r in api.demo["references"] if r["member_number"] == "100002")
    codes, left = [], []
    for _ in range(5 - already):
        left.append(api.loans(session)["slips_left_today"])
        codes.append(
            api.slip(session, loan_id=loan["loan_id"], kind="ABONO", amount=amount).status_code
        )
    assert codes == [201] * (5 - already)
    assert left == list(range(5 - already, 0, -1))  # said on the loans, before any refusal
    assert api.loans(session)["slips_left_today"] == 0
    refused = api.slip(session, loan_id=loan["loan_id"], kind="ABONO", amount=amount)
    assert refused.status_code == 422
    assert refused.json()["code"] == "LIMITE_DE_FICHAS"
    assert refused.json()["message"].startswith("Ya generó 5 fichas hoy, el máximo por afiliado")
    api.clock.advance(timedelta(days=1))  # Wednesday: a new day, a new allowance
    session = api.login("100002", "2468")
    again = api.slip(session, loan_id=loan["loan_id"], kind="ABONO", amount=amount)
    assert again.status_code == 201


def test_history_lists_each_payment_with_its_store_and_todays_fichas_with_status(
    api: Api,
) -> None:
    ref = next(r for r in api.demo["references"] if r["member_number"] == "100001")
    assert api.pay(api.payment_body(ref["reference"], ref["amount"])).status_code == 201
    session = api.login()
    r = api.http.get("/v1/kiosk/history", headers=api.auth(session))
    assert r.status_code == 200, r.text
    loans = {ln["loan_id"]: ln for ln in r.json()["loans"]}
    paid = loans[ref["loan_id"]]
    assert paid["payments"] == [
        {
            "paid_at": api.clock().isoformat(),
            "place": "Farmacia ISSEG Guanajuato Centro",
            "amount": ref["amount"],
            "kind": ref["kind"],
            "status": "APLICADO",
        }
    ]
    assert {"reference": ref["reference"], "amount": ref["amount"], "kind": ref["kind"],
            "status": "PAGADA"} in paid["slips_today"]  # fmt: skip
    others = [ln for loan_id, ln in loans.items() if loan_id != ref["loan_id"]]
    assert others and all(ln["payments"] == [] for ln in others)


def test_profile_serves_what_central_knows_of_the_affiliate(api: Api) -> None:
    session = api.login("100003", "1357")
    r = api.http.get("/v1/kiosk/profile", headers=api.auth(session))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "monthly_salary": "12800.00",
        "contribution_start": "1990-01-08",
        "sex": "M",
        "birth_date": "1962-10-21",
        "pensioner": True,
        "has_debts": False,
    }


def test_history_and_profile_need_a_session_and_are_documented(api: Api) -> None:
    terminal = api.auth(api.token("F001", "kiosko"))
    for path in ("/v1/kiosk/history", "/v1/kiosk/profile"):
        assert api.http.get(path, headers=terminal).status_code == 403  # not a session
        assert api.http.get(path).status_code == 401
    paths = api.http.get("/openapi.json").json()["paths"]
    assert "get" in paths["/v1/kiosk/history"] and "get" in paths["/v1/kiosk/profile"]


def test_a_ficha_issued_before_seven_says_it_can_be_paid_from_seven(api: Api) -> None:
    api.clock.advance(timedelta(hours=-4))  # 06:00 on a business day
    session = api.login("100002", "2468")
    loan = _loan(api, session, "100002")
    r = api.slip(session, loan_id=loan["loan_id"], kind="ABONO",
                 amount=loan["options"]["min_prepayment"])  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["payable_today"] is True
    assert "podrá pagarse hoy a partir de las 7:00" in r.json()["warning"]


def test_central_and_the_kiosk_read_the_same_minutes_left(api: Api) -> None:
    from kiosk import kiosk_flow as kf
    from kiosk.rules import Policy

    api.clock.advance(timedelta(hours=11, minutes=45, seconds=30))  # 21:45:30: 14.5 min left
    session = api.login("100002", "2468")
    body = api.loans(session)["loans"][0]
    loan = kf.loan_from_json(body)
    r = api.slip(session, loan_id=loan.loan_id, kind="ABONO", amount=str(loan.min_prepayment))
    assert r.status_code == 201, r.text
    on_summary = kf.summary(kf.choose(loan, kf.ABONO, amount=str(loan.min_prepayment)),
                            api.clock(), Policy()).warnings[-1]  # fmt: skip
    assert (
        r.json()["warning"]
        == on_summary
        == ("La caja deja de cobrar en 15 minutos: esta ficha solo vale hoy.")
    )
