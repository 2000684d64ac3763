"""Kiosk logins (issue 13): each attempt counted with its check, the same answer for known
and unknown numbers, lockouts that grow, and a cap on a kiosk's failed logins per minute."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from argon2 import PasswordHasher
from sqlalchemy import select, update

from central import security
from central.models import LoginAttempts, Member
from tests.integration.central_support import Api

pytest_plugins = ["tests.integration.central_support"]

LOGIN = "/v1/kiosk/sessions"


def _attempts(api: Api, number: str) -> LoginAttempts:
    with api.server.app.state.db.read() as s:
        row = s.execute(
            select(LoginAttempts).where(LoginAttempts.member_number == number)
        ).scalar_one()
        s.expunge(row)
        return row


def test_a_burst_of_40_wrong_nips_checks_no_more_than_the_limit_and_the_right_nip_is_locked_out(
    api: Api,
) -> None:
    headers = api.auth(api.token("F001", "kiosko"))
    wrong = {"member_number": "100001", "nip": "9999"}

    def attempt(_: int) -> int:
        with httpx.Client(base_url=api.server.base_url, timeout=60) as c:
            return c.post(LOGIN, headers=headers, json=wrong).status_code

    with ThreadPoolExecutor(max_workers=40) as pool:
        codes = list(pool.map(attempt, range(40)))
    checked = codes.count(401) + _attempts(api, "100001").lockouts
    assert codes.count(401) == 4 and checked == 5, codes
    assert set(codes) == {401, 423}
    right = api.http.post(LOGIN, headers=headers, json={"member_number": "100001", "nip": "1234"})
    assert right.status_code == 423


def test_known_and_unknown_numbers_get_the_same_401_and_the_same_lockout(api: Api) -> None:
    headers = api.auth(api.token("F001", "kiosko"))
    known = api.http.post(LOGIN, headers=headers, json={"member_number": "100001", "nip": "9"})
    unknown = api.http.post(LOGIN, headers=headers, json={"member_number": "777777", "nip": "9"})
    assert known.status_code == unknown.status_code == 401
    assert known.json() == unknown.json()
    for _ in range(4):
        last = api.http.post(LOGIN, headers=headers, json={"member_number": "777777", "nip": "9"})
    assert last.status_code == 423 and last.json()["code"] == "AFILIADO_BLOQUEADO"


def test_each_lockout_of_a_number_lasts_longer_than_the_last(api: Api) -> None:
    headers = api.auth(api.token("F001", "kiosko"))
    wrong = {"member_number": "100002", "nip": "0000"}
    lasted = []
    for _ in range(3):
        for _ in range(5):
            api.http.post(LOGIN, headers=headers, json=wrong)
            api.clock.advance(timedelta(seconds=61))  # stay under the per-minute cap
        row = _attempts(api, "100002")
        assert row.locked_until is not None
        lasted.append(row.locked_until - api.clock())
        api.clock.advance(lasted[-1] + timedelta(seconds=1))
    assert lasted[0] < lasted[1] < lasted[2]
    ok = api.http.post(LOGIN, headers=headers, json={"member_number": "100002", "nip": "2468"})
    assert ok.status_code == 201


def test_a_kiosk_gets_429_after_the_policys_failed_logins_per_minute(api: Api) -> None:
    headers = api.auth(api.token("F001", "kiosko"))
    codes = [
        api.http.post(
            LOGIN, headers=headers, json={"member_number": f"9{n:05d}", "nip": "1111"}
        ).status_code
        for n in range(30)
    ]
    limit = api.server.app.state.policy.kiosk_login_failures_per_minute
    assert codes[:limit] == [401] * limit
    assert set(codes[limit:]) == {429}
    refused = api.http.post(LOGIN, headers=headers, json={"member_number": "1", "nip": "1"})
    assert "Espere un minuto" in refused.json()["message"]
    # Another kiosk is not affected, and the next minute this one may try again.
    other = api.auth(api.token("F002", "kiosko"))
    assert (
        api.http.post(LOGIN, headers=other, json={"member_number": "1", "nip": "1"}).status_code
        == 401
    )
    api.clock.advance(timedelta(minutes=1))
    ok = api.http.post(LOGIN, headers=headers, json={"member_number": "100003", "nip": "1357"})
    assert ok.status_code == 201


def _stored_hash(api: Api, number: str) -> str:
    with api.server.app.state.db.read() as s:
        return str(s.scalar(select(Member.nip_hash).where(Member.number == number)))


def test_a_nip_hashed_with_an_older_profile_still_logs_in_and_is_moved_to_the_current_one(
    api: Api,
) -> None:
    # Before this profile NIPs were hashed with 19 MiB and 2 passes; such hashes stay valid.
    old = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash("1234")
    assert security.nip_needs_rehash(old)
    with api.server.app.state.db.write() as s:
        s.execute(update(Member).where(Member.number == "100001").values(nip_hash=old))
    headers = api.auth(api.token("F001", "kiosko"))
    wrong = api.http.post(LOGIN, headers=headers, json={"member_number": "100001", "nip": "4321"})
    assert wrong.status_code == 401
    assert _stored_hash(api, "100001") == old  # a wrong NIP changes nothing
    api.login("100001", "1234")
    new = _stored_hash(api, "100001")
    assert new != old and not security.nip_needs_rehash(new)
    assert f"m={security.NIP_MEMORY_KIB},t={security.NIP_PASSES},p=1$" in new
    assert security.verify_nip(new, "1234") and not security.verify_nip(new, "4321")
    api.login("100001", "1234")
    assert _stored_hash(api, "100001") == new  # once: a current hash is left alone
