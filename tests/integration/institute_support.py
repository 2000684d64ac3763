"""Helpers for the institute's side of central: service tokens, a webhook receiver on loopback
that checks every signature and fails when told to, and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import time
from collections.abc import Callable
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from central.db import Database
from central.embedded import free_port
from central.service import accounts, webhooks
from central.service.common import utcnow

SECRET = "secreto-de-prueba-del-instituto"


def service_token(db: Database, name: str, *scopes: str) -> str:
    with db.write() as s:
        _, token = accounts.create_account(s, name, list(scopes), utcnow())
    return token


def add_webhook(db: Database, url: str, secret: str = SECRET) -> int:
    with db.write() as s:
        return webhooks.add_endpoint(s, url, secret, utcnow()).endpoint_id


def wait_until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("la condición no se cumplió a tiempo")
        time.sleep(0.02)


class Receiver:
    """The institute's webhook endpoint: answers 500 to the first ``fail_first`` requests (of
    events of ``kind``, when given) and then to a ``fail_rate`` share of them (seeded), 200
    otherwise; keeps every acknowledged
    event (by id) with when it arrived, and counts bad signatures."""

    def __init__(
        self, fail_first: int = 0, fail_rate: float = 0.0, seed: int = 15, kind: str = ""
    ) -> None:
        self.fail_first = fail_first
        self.kind = kind  # count only events of this kind towards fail_first
        self.of_that_kind = 0
        self.fail_rate = fail_rate
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.requests = 0
        self.failed = 0
        self.bad_signatures = 0
        self.acked: dict[str, dict[str, Any]] = {}
        self.arrived: dict[str, float] = {}
        self.duplicates = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.handle(dict(self.headers), body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/eventos"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        expected = (
            "sha256="
            + hmac.new(
                SECRET.encode(), headers["X-Isseg-Timestamp"].encode() + b"." + body, hashlib.sha256
            ).hexdigest()
        )
        with self.lock:
            self.requests += 1
            if not hmac.compare_digest(expected, headers["X-Isseg-Signature"]):
                self.bad_signatures += 1
                return 401
            event = json.loads(body)
            matching = not self.kind or event["kind"] == self.kind
            self.of_that_kind += matching
            if (matching and self.of_that_kind <= self.fail_first) or (
                self.random.random() < self.fail_rate
            ):
                self.failed += 1
                return 500
            assert event["event_id"] == headers["X-Isseg-Event-Id"]
            if event["event_id"] in self.acked:
                self.duplicates += 1
            else:
                self.acked[event["event_id"]] = event
                self.arrived[event["event_id"]] = time.monotonic()
            return 200

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.acked.values() if e["kind"] == kind]

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpSink:
    """A real SMTP server on loopback that keeps every message it accepts."""

    def __init__(self, port: int | None = None) -> None:
        self.messages: list[Message] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                sink.messages.append(message_from_bytes(envelope.content))
                return "250 OK"

        self.port = port or free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
