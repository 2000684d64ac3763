"""The httpx client against the real central server: typed errors, the Date header, kiosk."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from central import service as svc
from central.db import Database as CentralDatabase
from kiosk.references import issue
from sync.client import AuthError, CentralClient, KioskSession, Offline, Rejected
from tests.integration.sync_faults import ERROR500, HANG, fault_proxy
from tests.integration.sync_support import (
    BUSINESS_START,
    business_clock,
    central_on_loopback,
    seed_references,
    terminal_entry,
)

pytestmark = pytest.mark.timeout(120)

# Well formed, dated on the test's business day, never issued by central.
NEVER_ISSUED = str(issue(BUSINESS_START.date(), 9_999_999_999))


@pytest.fixture(scope="module")
def clock():
    return business_clock()


@pytest.fixture(scope="module")
def central(clock):
    with central_on_loopback(clock) as c:
        yield c


def caja_client(central, clock, store: str = "F001") -> CentralClient:
    return CentralClient(central.base_url, terminal_entry(central, store)["token"], clock=clock)


def kiosk_client(central, clock) -> CentralClient:
    return CentralClient(
        central.base_url, terminal_entry(central, kind="kiosko")["token"], clock=clock
    )


def test_health_reports_central_time_in_the_date_header(central, clock):
    with caja_client(central, clock) as client:
        r = client.health()
        link = client.link.snapshot()
    assert r.status == 200 and r.body["status"] == "ok"
    assert r.server_date is not None
    assert abs(r.server_date - clock()) < timedelta(seconds=3)
    assert link.online is True and link.server_date == r.server_date


def test_an_unknown_token_is_an_auth_error_with_central_code(central, clock):
    with (
        CentralClient(central.base_url, "no-existe", clock=clock) as client,
        pytest.raises(AuthError) as refused,
    ):
        client.policy()
    assert refused.value.status == 401 and refused.value.code == "TOKEN_DESCONOCIDO"
    link = client.link.snapshot()
    assert link.online is True and "token de esta caja" in link.last_error


def test_a_revoked_token_is_refused(central, clock):
    db = CentralDatabase(central.db_url)
    try:
        with db.write() as s:
            terminal, token = svc.enroll_terminal(s, "F001", "Caja revocada", "caja", clock())
            terminal.revoked_at = clock()
    finally:
        db.dispose()
    with (
        CentralClient(central.base_url, token, clock=clock) as client,
        pytest.raises(AuthError) as refused,
    ):
        client.references()
    assert refused.value.code == "TOKEN_REVOCADO"


def test_paying_for_another_store_is_forbidden(central, clock):
    [ref] = seed_references(central.db_url, 1, clock())
    body = {
        "reference": ref,
        "store_id": "F002",
        "amount": "100.00",
        "cash": "100.00",
        "paid_at": clock().isoformat(),
    }
    with caja_client(central, clock, "F001") as client, pytest.raises(AuthError) as refused:
        client.post_payment(body, "7f1d6c0e-93a5-4c8e-9d7e-0b1f2a3c4d5e")
    assert refused.value.status == 403 and refused.value.code == "TIENDA_AJENA"


def test_a_business_refusal_is_rejected_with_central_code_and_spanish_message(central, clock):
    [ref] = seed_references(central.db_url, 1, clock())
    body = {
        "reference": ref,
        "store_id": "F001",
        "amount": "99.00",
        "cash": "99.00",
        "paid_at": clock().isoformat(),
    }
    with caja_client(central, clock) as client, pytest.raises(Rejected) as refused:
        client.post_payment(body, "0b8f4a52-5a0c-4f7e-a7a4-0d9d3f5e2c11")
    assert refused.value.status == 422 and refused.value.code == "MONTO_DISTINTO"
    assert "exactamente" in refused.value.message


def test_nothing_listening_is_offline(clock):
    with (
        CentralClient("http://127.0.0.1:9", "t", timeout=0.5, clock=clock) as client,
        pytest.raises(Offline),
    ):
        client.health()
        assert client.link.snapshot().online is False


def test_a_server_error_and_a_timeout_are_offline_too(central, clock):
    port = int(central.base_url.rsplit(":", 1)[1])
    for fault in (ERROR500, HANG):
        with (
            fault_proxy("127.0.0.1", port, weights={fault: 1.0}, hang_seconds=2) as proxy,
            CentralClient(proxy.base_url, "t", timeout=0.3, clock=clock) as client,
        ):
            with pytest.raises(Offline):
                client.health()
            assert client.link.snapshot().last_error


def test_a_cache_miss_lookup_returns_a_record_or_none(central, clock):
    [ref] = seed_references(central.db_url, 1, clock(), amount=Decimal("250.50"))
    with caja_client(central, clock) as client:
        record = client.get_reference(ref)
        never_issued = client.get_reference(NEVER_ISSUED)
    assert record is not None and record.amount == Decimal("250.50")
    assert record.issued_on == clock().date() and record.status == "VIGENTE"
    assert never_issued is None


def test_the_kiosk_logs_in_lists_loans_issues_a_ficha_and_logs_out(central, clock):
    member = central.demo["members"][2]
    with kiosk_client(central, clock) as kc, pytest.raises(AuthError) as wrong:
        kc.kiosk_login(member["number"], "0000")
        assert wrong.value.code == "CREDENCIALES_INCORRECTAS"
        session = kc.kiosk_login(member["number"], member["nip"])
        assert isinstance(session, KioskSession) and session.token
        assert session.member_name == member["name"] and session.expires_at is not None
        loans = kc.kiosk_loans(session)
        loan = loans["loans"][0]
        before = loan["current_reference"]
        amount = Decimal(loan["options"]["min_prepayment"])
        slip = kc.kiosk_issue_slip(session, loan_id=loan["loan_id"], kind="ABONO", amount=amount)
        assert Decimal(slip["amount"]) == amount and slip["kind"] == "ABONO"
        if before is not None:
            assert slip["replaced"] == before["reference"]
        kc.kiosk_logout(session)
        with pytest.raises(AuthError):
            kc.kiosk_loans(session)


def test_a_kiosk_session_token_cannot_act_as_a_terminal(central, clock):
    member = central.demo["members"][0]
    with kiosk_client(central, clock) as kc:
        session = kc.kiosk_login(member["number"], member["nip"])
    with (
        CentralClient(central.base_url, session.token, clock=clock) as as_terminal,
        pytest.raises(AuthError) as refused,
    ):
        as_terminal.policy()
    assert refused.value.status == 403
