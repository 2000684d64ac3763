"""The httpx client of central's API (SPEC 4), for terminals and the self-service kiosk.

Blocking and thread-safe (one pooled ``httpx.Client``): call it from a worker thread, never
from the UI thread. Every call either returns central's JSON or raises one of:

* ``Offline``   — no answer: connection refused or reset, timeout, or a 5xx. Try later.
* ``AuthError`` — 401/403: the token is wrong, revoked, or not allowed for this store.
* ``Rejected``  — 409/422 (and 423, an affiliate locked out at the kiosk; a 404 naming what
  central lacks): central understood and said no (``code`` and Spanish ``message``).
* ``ProtocolError`` — any other unexpected answer (a bug or a version mismatch): not a
  business refusal, so the outbox keeps such an entry pending instead of giving up on it.

Every answer from central also updates ``client.link`` (online, last contact, and central's
``Date`` header for the clock check).
"""

from __future__ import annotations

import json as _json
import logging
import ssl
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from kiosk.enrollment import LOOPBACK_HOSTS
from kiosk.ports import Clock, TerminalNotAllowed, system_clock
from kiosk.references import STATUSES, ReferenceRecord

log = logging.getLogger(__name__)


class SyncError(Exception):
    """Base of every error of the sync client. ``str()`` is a Spanish message."""


class Offline(SyncError):
    """Central did not answer (network down, timeout, or a server error)."""


class AuthError(SyncError):
    def __init__(self, status: int, code: str, message: str, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.body = body  # a refused kiosk login says how many attempts are left


class Rejected(SyncError):
    """Central refused the request for a business reason (409 paid twice, 422 a rule)."""

    def __init__(self, status: int, code: str, message: str, body: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.body = body


class CertificateFailure(Offline):
    """The TLS certificate central presented is not trusted (or not central's): nothing is
    sent, and it is not a network outage that waiting cures."""


class InsecureCentral(SyncError):
    """The configured central URL is not HTTPS and not this machine: nothing is sent."""




def insecure_reason(base_url: str) -> str:
    """Why ``base_url`` may not carry payments and tokens ("" when it may): terminals talk to
    central only over HTTPS, this machine aside (SPEC 3.9)."""
    url = httpx.URL(base_url)
    if url.scheme == "https" or (url.scheme == "http" and url.host in LOOPBACK_HOSTS):
        return ""
    return (
        f"La dirección del instituto ({url.scheme}://{url.host}) no es https://: la caja no "
        "envía pagos ni su token por un enlace sin cifrar. Corrija central_url."
    )


def tls_context(ca_bundle: str = "") -> ssl.SSLContext:
    """Whom central's certificate must come from: the institute's CA (``ca_bundle``), or the
    operating system's trust store (truststore), where an institute CA is usually installed."""
    if ca_bundle:
        return ssl.create_default_context(cafile=ca_bundle)
    try:
        import truststore
    except ImportError:  # pragma: no cover - a dependency; Python's own store otherwise
        return ssl.create_default_context()
    context: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return context


def is_certificate_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(
            seen
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class ProtocolError(SyncError):
    def __init__(self, status: int, message: str, body: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass(frozen=True, slots=True)
class Response:
    """A successful answer: its status (201 applied, 200 replayed or read) and JSON body."""

    status: int
    body: Any
    server_date: datetime | None

    @property
    def replayed(self) -> bool:
        return self.status == 200


@dataclass(frozen=True, slots=True)
class LinkSnapshot:
    online: bool | None
    last_contact: datetime | None
    last_error: str
    server_date: datetime | None  # central's Date header of the last answer
    local_at_server_date: datetime | None  # our clock when that answer arrived


class LinkState:
    """What the last exchange with central said about the link. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snap = LinkSnapshot(None, None, "", None, None)

    def snapshot(self) -> LinkSnapshot:
        with self._lock:
            return self._snap

    def answered(self, local_now: datetime, server_date: datetime | None, error: str = "") -> None:
        with self._lock:
            s = self._snap
            self._snap = LinkSnapshot(
                True,
                local_now,
                error,
                server_date or s.server_date,
                local_now if server_date else s.local_at_server_date,
            )

    def failed(self, error: str) -> None:
        with self._lock:
            s = self._snap
            self._snap = LinkSnapshot(
                False, s.last_contact, error, s.server_date, s.local_at_server_date
            )


def parse_http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _error_fields(body: Any, fallback: str) -> tuple[str, str]:
    """Central's refusal code and Spanish message, wherever the body keeps them.

    Accepts ``{"code", "message"}`` at the top level or under ``detail`` (FastAPI's
    ``HTTPException``); anything else becomes ``fallback`` with the raw text.
    """
    candidates: list[Any] = [body]
    if isinstance(body, Mapping):
        candidates += [body.get("detail"), body.get("error")]
    for c in candidates:
        if isinstance(c, Mapping) and ("code" in c or "message" in c):
            return str(c.get("code") or fallback), str(c.get("message") or c.get("code"))
    if isinstance(body, Mapping) and isinstance(body.get("detail"), str):
        return fallback, body["detail"]
    return fallback, str(body)[:300]


def record_from_json(item: Mapping[str, Any]) -> ReferenceRecord:
    """One referencia as central sends it (feed item or single lookup)."""
    member = item.get("member")
    member_number = item.get("member_number") or ""
    member_name = item.get("member_name") or ""
    if isinstance(member, Mapping):
        member_number = member_number or member.get("number", "")
        member_name = member_name or member.get("name", "")
    status = str(item.get("status") or "VIGENTE").upper()
    if status not in STATUSES:
        raise ValueError(f"estado de referencia desconocido: {status}")
    return ReferenceRecord(
        reference=str(item["reference"]),
        amount=Decimal(str(item["amount"])),
        issued_on=date.fromisoformat(str(item["issued_on"])[:10]),
        status=status,
        member_number=str(member_number),
        member_name=str(member_name),
        loan_id=str(item.get("loan_id") or ""),
        kind=str(item.get("kind") or ""),
        concept=str(item.get("concept") or ""),
        version=int(item.get("version") or 0),
    )


def answer(
    status: int, body: Any, server_date: datetime | None = None, *, ok_404: bool = False
) -> Response:
    """Central's answer with ``status`` (not a 5xx): a ``Response`` when it is a success,
    otherwise the exception the module doc names for it."""
    if status < 300 or (ok_404 and status == 404):
        return Response(status, body, server_date)
    if status in (401, 403):
        code, message = _error_fields(body, "NO_AUTORIZADO")
        raise AuthError(status, code, message, body)
    if status == 404 and isinstance(body, Mapping) and body.get("code"):
        # Central named what it does not have (a payment to void it lost or never got):
        # a definitive answer for the manager to see, not a reason to retry for ever.
        # A bare 404 (no route: another version of central) stays a protocol error.
        code, message = _error_fields(body, "NO_ENCONTRADO")
        raise Rejected(status, code, message, body)
    if status in (409, 423):
        code, message = _error_fields(body, "YA_PAGADA")
        raise Rejected(status, code, message, body)
    if status == 422:
        detail = body.get("detail") if isinstance(body, Mapping) else None
        if isinstance(detail, list):
            # FastAPI's request validation: our request is malformed, not refused.
            raise ProtocolError(status, f"solicitud inválida para el instituto: {detail}", body)
        code, message = _error_fields(body, "RECHAZADO")
        raise Rejected(status, code, message, body)
    _code, message = _error_fields(body, f"HTTP_{status}")
    raise ProtocolError(status, f"respuesta inesperada {status}: {message}", body)


class CentralClient:
    """One terminal's connection to central. ``token`` is the terminal's enrollment token."""

    def __init__(
        self,
        base_url: str,
        token: str,
        timeout: float = 3.0,
        transport: httpx.BaseTransport | None = None,
        *,
        clock: Clock = system_clock,
        max_connections: int = 16,
        ca_bundle: str = "",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.insecure = insecure_reason(self.base_url)
        self.token = token
        self.timeout = timeout
        self.clock = clock
        self.link = LinkState()
        # Requests go straight to the transport (httpx's connection pool): httpx.Client's
        # per-request URL and header merging costs as much CPU as the whole exchange, and
        # the outbox drain sends hundreds of requests per second.
        self._transport: httpx.BaseTransport = transport or httpx.HTTPTransport(
            verify=tls_context(ca_bundle),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )
        self._headers = {
            "Accept": "application/json",
            "User-Agent": "caja-isseg-sync/1",
            "Host": httpx.URL(self.base_url).netloc.decode("ascii"),
        }

    def relink(self, base_url: str, token: str) -> None:
        """Talk to ``base_url`` with ``token`` from the next request on: a terminal enrolled
        from its first-run screen goes on without a restart. The sync engine, the sender,
        the heartbeat and the kiosk all hold this one client, so all of them follow. The
        pool keeps connections per address, so the old ones just go idle."""
        base = base_url.rstrip("/")
        headers = dict(self._headers)
        headers["Host"] = httpx.URL(base).netloc.decode("ascii")
        # Each a single assignment: a request already under way uses the old or the new.
        self.insecure = insecure_reason(base)
        self.base_url = base
        self._headers = headers
        self.token = token
        self.link = LinkState()  # "token rejected" was about the old token

    def _timeouts(self, seconds: float) -> dict[str, float | None]:
        return httpx.Timeout(seconds, connect=min(seconds, 2.0)).as_dict()

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> CentralClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the one place that talks HTTP ------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        bearer: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        ok_404: bool = False,
    ) -> Response:
        """Send one request; see the module doc for what is raised. ``bearer`` overrides the
        terminal token (a kiosk session); ``ok_404`` returns a 404 as a response."""
        if self.insecure:
            self.link.failed(self.insecure)
            raise InsecureCentral(self.insecure)
        headers = dict(self._headers)
        headers["Authorization"] = f"Bearer {bearer or self.token}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if extra_headers:
            headers.update(extra_headers)
        content = b""
        if json is not None:
            content = _json.dumps(json, ensure_ascii=False, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        url = self.base_url + path
        if params:
            url += "?" + urlencode(params)
        request = httpx.Request(
            method,
            url,
            content=content if method in ("POST", "PUT", "PATCH") else None,
            headers=headers,
            extensions={"timeout": self._timeouts(self.timeout if timeout is None else timeout)},
        )
        try:
            r = self._transport.handle_request(request)
            try:
                r.read()
            finally:
                r.close()
        except httpx.TimeoutException as exc:
            self.link.failed(f"tiempo agotado ({type(exc).__name__})")
            raise Offline("El instituto no respondió a tiempo.") from exc
        except httpx.TransportError as exc:  # refused, reset, closed mid-answer
            if is_certificate_failure(exc):
                message = (
                    "El certificado del instituto no es de confianza: revise ca_bundle o los "
                    "certificados del equipo (no se envió nada)."
                )
                log.warning("certificado TLS rechazado para %s: %s", self.base_url, exc)
                self.link.failed(message)
                raise CertificateFailure(message) from exc
            self.link.failed(f"sin conexión ({type(exc).__name__})")
            raise Offline("Sin conexión con el instituto.") from exc
        server_date = parse_http_date(r.headers.get("date"))
        try:
            body: Any = _json.loads(r.content) if r.content else None
        except ValueError:
            body = r.text
        if r.status_code >= 500:
            self.link.failed(f"error del servidor {r.status_code}")
            raise Offline(f"El instituto tuvo un error ({r.status_code}); se reintentará.")
        status = r.status_code
        problem = ""
        if status == 401 and bearer is None:
            # The terminal's own token was refused: nothing will leave until it is fixed.
            # (A 403 is a path this terminal may not use, such as a kiosk and the feed.)
            problem = "el instituto rechazó el token de esta caja: " + _error_fields(body, "")[1]
        self.link.answered(self.clock(), server_date, problem)
        return answer(status, body, server_date, ok_404=ok_404)

    # --- terminal endpoints -------------------------------------------------------------------

    def health(self) -> Response:
        return self.request("GET", "/v1/health")

    def policy(self) -> dict[str, Any]:
        return dict(self.request("GET", "/v1/policy").body)

    def refunds(self) -> list[Mapping[str, Any]]:
        """The refunds the institute decided for this store, not yet handed back."""
        body = self.request("GET", "/v1/refunds").body
        items = body.get("refunds") if isinstance(body, Mapping) else None
        if not isinstance(items, list):
            raise ProtocolError(200, "respuesta de devoluciones inesperada", body)
        return [i for i in items if isinstance(i, Mapping)]

    def references(self, since: str | None = None, limit: int = 1000) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit}
        if since:
            params["since"] = since
        return dict(self.request("GET", "/v1/references", params=params).body)

    def reference(self, reference: str) -> dict[str, Any] | None:
        """One referencia, or None when central does not know it."""
        r = self.request("GET", f"/v1/references/{quote(reference, safe='')}", ok_404=True)
        return None if r.status == 404 else dict(r.body)

    def post_payment(self, payload: Mapping[str, Any], idempotency_key: str) -> Response:
        return self.request("POST", "/v1/payments", json=payload, idempotency_key=idempotency_key)

    def post_payments(
        self, payments: Sequence[tuple[str, Mapping[str, Any]]], timeout: float | None = None
    ) -> list[tuple[int, Any]]:
        """Several payments in one request (``POST /v1/payments/batch``), each as its
        Idempotency-Key and its body for POST /v1/payments. Returns, in order, the status and
        body POST /v1/payments would have answered for each (:func:`answer` reads them).
        Raises like :meth:`request` when the request as a whole fails."""
        batch = {"payments": [{"idempotency_key": k, "body": dict(b)} for k, b in payments]}
        r = self.request("POST", "/v1/payments/batch", json=batch, timeout=timeout)
        results = r.body.get("results") if isinstance(r.body, Mapping) else None
        if not isinstance(results, list) or len(results) != len(payments):
            raise ProtocolError(r.status, "respuesta de lote inesperada", r.body)
        out: list[tuple[int, Any]] = []
        for (key, _body), item in zip(payments, results, strict=True):
            if not isinstance(item, Mapping) or item.get("idempotency_key") != key:
                raise ProtocolError(r.status, "respuesta de lote en otro orden", r.body)
            out.append((int(item.get("status") or 0), item.get("body")))
        return out

    def void_payment(
        self, payment_uuid: str, payload: Mapping[str, Any], idempotency_key: str
    ) -> Response:
        return self.request(
            "POST",
            f"/v1/payments/{quote(payment_uuid, safe='')}/void",
            json=payload,
            idempotency_key=idempotency_key,
        )

    def get_reference(self, reference: str) -> ReferenceRecord | None:
        """One referencia as a cache record (None: central does not know it). Central
        refusing this terminal (401/403) is the port's ``TerminalNotAllowed``: the scan must
        not read it as a referencia central does not know."""
        try:
            item = self.reference(reference)
        except AuthError as exc:
            raise TerminalNotAllowed(exc.code, exc.message) from exc
        return None if item is None else record_from_json(item)

    # --- kiosk endpoints ------------------------------------------------------------------------

    def kiosk_login(self, member_number: str, nip: str) -> KioskSession:
        """Open an affiliate's short-lived session (the kiosk terminal's token goes along)."""
        body = {"member_number": member_number, "nip": nip}
        r = self.request("POST", "/v1/kiosk/sessions", json=body)
        return KioskSession.from_json(r.body)

    def kiosk_loans(self, session: KioskSession | str) -> dict[str, Any]:
        """The affiliate's loans with their payment options, as central sends them."""
        return dict(self._kiosk("GET", "/v1/kiosk/loans", session).body)

    def kiosk_issue_slip(
        self,
        session: KioskSession | str,
        *,
        loan_id: str,
        kind: str,
        quincenas: Sequence[int] = (),
        amount: Decimal | None = None,
    ) -> dict[str, Any]:
        """Issue a ficha; central answers with the new referencia (and any it replaced)."""
        body: dict[str, Any] = {"loan_id": loan_id, "kind": kind}
        if quincenas:
            body["quincenas"] = list(quincenas)
        if amount is not None:
            body["amount"] = str(amount)
        return dict(self._kiosk("POST", "/v1/kiosk/slips", session, json=body).body)

    def kiosk_logout(self, session: KioskSession | str) -> None:
        """End the affiliate's session (the kiosk also forgets it on its own)."""
        self._kiosk("DELETE", "/v1/kiosk/sessions", session)

    def kiosk_history(self, session: KioskSession | str) -> dict[str, Any]:
        """The affiliate's payments per loan and today's fichas with their status."""
        return dict(self._kiosk("GET", "/v1/kiosk/history", session).body)

    def kiosk_profile(self, session: KioskSession | str) -> dict[str, Any]:
        """What central knows of the affiliate for the simulator (salary, contributions…)."""
        return dict(self._kiosk("GET", "/v1/kiosk/profile", session).body)

    def _kiosk(
        self, method: str, path: str, session: KioskSession | str, json: Any = None
    ) -> Response:
        token = session.token if isinstance(session, KioskSession) else session
        return self.request(method, path, json=json, bearer=token)


@dataclass(frozen=True, slots=True)
class KioskSession:
    token: str = field(repr=False)  # a session token is a credential: never in a log
    member_number: str
    member_name: str
    expires_at: datetime | None
    body: Mapping[str, Any]

    @classmethod
    def from_json(cls, body: Any) -> KioskSession:
        if not isinstance(body, Mapping):
            raise ProtocolError(200, "respuesta de sesión inesperada", body)
        raw_member = body.get("member")
        member: Mapping[str, Any] = raw_member if isinstance(raw_member, Mapping) else {}
        expires = body.get("expires_at")
        return cls(
            token=str(body.get("token") or body.get("session_token") or ""),
            member_number=str(body.get("member_number") or member.get("number") or ""),
            member_name=str(body.get("member_name") or member.get("name") or ""),
            expires_at=datetime.fromisoformat(str(expires)) if expires else None,
            body=dict(body),
        )
