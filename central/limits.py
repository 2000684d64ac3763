"""Limits before work (SPEC 4.4): an ASGI layer in front of central's routes.

For a request with a body it checks, in this order and before reading a byte of the body:
the declared size (413 over the limit), and on the terminal paths the bearer token from the
headers (401, the same answer the route would give). It then reads the body up to the limit
(413 past it, for a body sent without a length) and refuses what is not strict JSON: non-UTF-8
text, NaN, Infinity or a number too large for a float (1e400) are a 422 in central's
``{code, message}`` shape, where Starlette would answer 400 ``{"detail"}`` or fail with a 500
while building its own 422.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from central.service import ApiError

MAX_BODY_BYTES = 1024 * 1024
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Paths whose callers are terminals (or kiosk sessions): their token is checked here first.
TERMINAL_PATHS = ("/v1/payments", "/v1/closings", "/v1/heartbeat", "/v1/kiosk/")

Authorize = Callable[[str | None], Awaitable[object]]


async def _answer(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"code": code, "message": message}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The rest of the body is not read: the client must not reuse the connection.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _no_constants(name: str) -> Any:
    raise ValueError(f"valor no permitido en JSON: {name}")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"número fuera de rango: {text[:20]}")
    return value


def strict_json(raw: bytes) -> None:
    """Raises ValueError unless ``raw`` is UTF-8 JSON with finite numbers only."""
    try:
        json.loads(raw.decode("utf-8"), parse_constant=_no_constants, parse_float=_finite)
    except (UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(str(exc)) from None


def too_large(limit: int) -> str:
    return f"La solicitud pasa del límite de {limit // 1024} KiB."


class RequestLimits:
    def __init__(
        self, app: ASGIApp, *, authorize: Authorize, max_body: int = MAX_BODY_BYTES
    ) -> None:
        self.app = app
        self.authorize = authorize
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await _answer(send, 413, "SOLICITUD_DEMASIADO_GRANDE", too_large(self.max_body))
            return
        if scope["path"].startswith(TERMINAL_PATHS):
            try:
                await self.authorize(headers.get("authorization"))
            except ApiError as exc:
                await _answer(send, exc.status, exc.code, exc.message)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await _answer(send, 413, "SOLICITUD_DEMASIADO_GRANDE", too_large(self.max_body))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        raw = b"".join(chunks)
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if raw and kind.endswith("json"):
            try:
                strict_json(raw)
            except ValueError:
                await _answer(
                    send,
                    422,
                    "JSON_INVALIDO",
                    "El cuerpo no es JSON válido en UTF-8 con números finitos.",
                )
                return
        await self.app(scope, replaying(raw, receive), send)


def replaying(raw: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands over the already read body ``raw`` once, then defers to
    ``receive`` (which then reports the client's disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return replay
