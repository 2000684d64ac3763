"""Limits before work and bad input (SPEC 4.4, issue 13): the token is checked from the
headers before a body is read, bodies have a size limit, and malformed JSON is a 422 in
central's {code, message} shape, never a 500 or an undocumented 400."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from tests.integration.central_support import Api, new_key

pytest_plugins = ["tests.integration.central_support"]


def _raw_request(api: Api, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send ``head`` (request line and headers) and ``body`` by hand; the status and the
    answer's bytes. Used to declare a body far larger than what is sent."""
    url = urlsplit(api.server.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head.encode() + b"\r\n" + body)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) == 0:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


def test_an_800_mb_body_without_a_token_is_refused_from_its_headers(api: Api) -> None:
    head = (
        "POST /v1/payments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Idempotency-Key: {new_key()}\r\nContent-Length: {800 * 1024 * 1024}\r\n"
    )
    status, answer = _raw_request(api, head, b'{"reference": ')
    assert status == 413 and b"SOLICITUD_DEMASIADO_GRANDE" in answer
    small = head.replace(f"{800 * 1024 * 1024}", "5000")
    status, answer = _raw_request(api, small, b'{"reference": ')
    assert status == 401 and b"NO_AUTENTICADO" in answer


def test_a_streamed_body_past_the_limit_is_cut_with_413(api: Api) -> None:
    token = api.token()

    def chunks():
        for _ in range(40):
            yield b" " * 65536

    r = api.http.post(
        "/v1/closings",
        headers={**api.auth(token), "Content-Type": "application/json"},
        content=chunks(),
    )
    assert r.status_code == 413 and r.json()["code"] == "SOLICITUD_DEMASIADO_GRANDE"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/v1/payments", "caja"),
        ("/v1/payments/batch", "caja"),
        (f"/v1/payments/{new_key()}/void", "caja"),
        ("/v1/closings", "caja"),
        ("/v1/heartbeat", "caja"),
        ("/v1/kiosk/sessions", "kiosko"),
        ("/v1/kiosk/slips", "sesion"),
    ],
)
def test_non_finite_numbers_are_a_422_not_a_500(api: Api, path: str, who: str, number: str):
    token = api.login() if who == "sesion" else api.token("F001", who)
    r = api.http.post(
        path,
        headers={**api.auth(token), "Content-Type": "application/json",
                 "Idempotency-Key": new_key()},
        content=f'{{"amount": {number}, "report": {{"x": {number}}}}}'.encode(),
    )  # fmt: skip
    assert r.status_code == 422, r.text
    assert set(r.json()) == {"code", "message"} and r.json()["code"] == "JSON_INVALIDO"


def test_a_body_that_is_not_utf8_is_a_documented_422(api: Api) -> None:
    r = api.http.post(
        "/v1/payments",
        headers={**api.auth(api.token()), "Content-Type": "application/json",
                 "Idempotency-Key": new_key()},
        content=b'{"reference": "\xff\xfe"}',
    )  # fmt: skip
    assert r.status_code == 422 and r.json()["code"] == "JSON_INVALIDO"
    doc = api.http.get("/openapi.json").json()
    assert "422" in doc["paths"]["/v1/payments"]["post"]["responses"]
    assert "413" in doc["paths"]["/v1/payments"]["post"]["responses"]


def test_a_20_mb_closing_report_is_refused_and_a_70_kib_one_too(api: Api) -> None:
    body = {
        "closing_uuid": new_key(),
        "store_id": "F001",
        "kind": "TURNO",
        "business_date": "2025-06-10",
        "closed_at": api.clock().isoformat(),
    }
    huge = api.http.post(
        "/v1/closings",
        headers=api.auth(api.token()),
        json={**body, "report": {"x": "a" * 20_000_000}},
    )
    assert huge.status_code == 413
    big = api.http.post(
        "/v1/closings", headers=api.auth(api.token()), json={**body, "report": {"x": "a" * 70_000}}
    )
    assert big.status_code == 422


def test_unknown_paths_and_methods_answer_in_the_api_shape(api: Api) -> None:
    missing = api.http.get("/v1/no-existe")
    assert missing.status_code == 404 and set(missing.json()) == {"code", "message"}
    wrong = api.http.put("/v1/health")
    assert wrong.status_code == 405 and wrong.json()["code"] == "METODO_NO_PERMITIDO"
