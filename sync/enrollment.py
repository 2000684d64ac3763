"""``isseg-farmacia enrolar``: this terminal joins central with a one-time code.

The code (from ``admin codigo-de-alta``) is exchanged with ``POST /v1/enrollments`` for the
terminal's token, which is kept in ``<data>/token`` readable only by this user (0600); the
store and terminal names and central's address go to ``config.json``, and the identity
(terminal and store ids) into the terminal's database, audited.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import ssl
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from kiosk import settings as settings_module
from kiosk.enrollment import LOOPBACK_HOSTS
from kiosk.records import Enrolled

TOKEN_FILE = settings_module.TOKEN_FILE
log = logging.getLogger(__name__)


class EnrollmentError(Exception):
    """Why the terminal could not join, in Spanish (``code`` for programs: central's own
    code when central refused)."""

    def __init__(self, message: str, code: str = "ALTA_RECHAZADA") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def check_url(url: str) -> str:
    """Central's address: HTTPS, except on this very machine (the demo, a test)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EnrollmentError(
            f"La dirección de central no es válida: «{url}» (use https://…).", "CENTRAL_INVALIDA"
        )
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise EnrollmentError(
            "La conexión con central debe ser cifrada: use https://…", "CENTRAL_SIN_CIFRAR"
        )
    return url.strip().rstrip("/")


# What OpenSSL says when the "TLS" answer is plain text (an HTTP server on that port):
# 3.0 reads its first bytes as a record version; newer releases call it a record failure.
_PLAIN_HTTP_REASONS = frozenset({"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "HTTP_REQUEST"})


def _answered_plain_http(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) and getattr(seen, "reason", "") in _PLAIN_HTTP_REASONS:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def redeem(
    central_url: str,
    code: str,
    *,
    timeout: float = 10.0,
    ca_bundle: str = "",
    kind: str | None = None,
) -> Enrolled:
    """Exchange the code for the token. Central's certificate is checked as the sync
    client checks it: the institute's CA (``ca_bundle``) or the system's trust store.
    ``kind`` (caja or kiosko) is what this terminal runs as: central refuses a code of the
    other kind without spending it."""
    from sync.client import is_certificate_failure, tls_context

    base = check_url(central_url)
    url = base + "/v1/enrollments"
    request: dict[str, str] = {"code": code.strip()[:20]}
    if kind:
        request["kind"] = kind
    try:
        response = httpx.post(url, json=request, timeout=timeout, verify=tls_context(ca_bundle))
    except httpx.HTTPError as exc:
        if is_certificate_failure(exc):
            # The detail (which check failed: issuer, name, dates) is for support, in the log.
            log.warning(
                "alta: certificado TLS de %s rechazado (confianza: %s): %s",
                central_url,
                ca_bundle or "almacén del sistema",
                exc,
            )
            raise EnrollmentError(
                f"El certificado de central en {central_url} no es de confianza: revise "
                "ca_bundle o los certificados del equipo (no se envió el código).",
                "CERTIFICADO_NO_CONFIABLE",
            ) from None
        log.warning("alta: sin conexión con %s: %r", central_url, exc)
        if _answered_plain_http(exc):
            raise EnrollmentError(
                f"En {central_url} el servidor respondió sin cifrar (http), no con https: "
                "revise la dirección (quizá es otro puerto) o pida al área de sistemas del "
                "ISSEG la dirección https de central.",
                "CENTRAL_HABLA_HTTP",
            ) from None
        raise EnrollmentError(
            f"No se pudo conectar con central en {central_url}: revise la dirección y la red.",
            "CENTRAL_INALCANZABLE",
        ) from None
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if response.status_code != 201 or not isinstance(body, dict):
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            raise EnrollmentError(body["message"], str(body.get("code") or "ALTA_RECHAZADA"))
        # An answer without central's Spanish message: another server at that address.
        raise EnrollmentError(
            f"En {central_url} no respondió central (respondió {response.status_code}): "
            "revise la dirección.",
            "NO_ES_CENTRAL",
        )
    try:
        return Enrolled(
            terminal_id=int(body["terminal_id"]),
            store_id=str(body["store_id"]),
            store_name=str(body["store_name"]),
            name=str(body["name"]),
            kind=str(body["kind"]),
            central_url=base,
            token=str(body["token"]),
        )
    except (KeyError, TypeError, ValueError):
        raise EnrollmentError(
            "Central respondió algo inesperado al alta.", "RESPUESTA_INESPERADA"
        ) from None


def save(settings: settings_module.Settings, central_url: str, result: Enrolled) -> Path:
    """Keep the token (0600), the names and central's address; set the identity."""
    import local_db
    from kiosk import terminal_state

    data = settings.data_path
    data.mkdir(parents=True, exist_ok=True)
    token_path = data / TOKEN_FILE
    # Created 0600 from the start (not chmod after): no moment where others can read it.
    fd = os.open(token_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(result.token + "\n")
    os.chmod(token_path, 0o600)  # an existing file keeps its old mode through O_CREAT
    config_path = data / "config.json"
    config: dict[str, Any] = {}
    if config_path.is_file():
        config = json.loads(config_path.read_text(encoding="utf-8"))
    config.pop("terminal_token", None)  # the token file replaces a hand-typed token
    config.update(central_url=central_url, store_name=result.store_name, terminal_name=result.name)
    config_path.write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")
    db = local_db.open_database(settings.database_file)
    try:
        terminal_state.set_identity(
            db.unit_of_work(),
            terminal_id=str(result.terminal_id),
            store_id=result.store_id,
            actor="enrolar",
            kind=result.kind,
        )
    finally:
        db.close()
    return token_path


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="isseg-farmacia enrolar",
        description="Da de alta esta terminal en central con un código de un solo uso "
        "(isseg-farmacia admin codigo-de-alta en central).",
    )
    parser.add_argument("--central", required=True, help="Dirección de central: https://…")
    parser.add_argument("--codigo", required=True, help="Código de alta, p. ej. 7KQ2M-9XH4D.")
    parser.add_argument("--datos", help="Carpeta de datos de la terminal (ISSEG_DATA_DIR).")
    parser.add_argument(
        "--tipo",
        choices=("caja", "kiosko"),
        help="Cómo funcionará esta terminal; central rechaza un código de otro tipo sin "
        "gastarlo. Sin esta opción no se compara.",
    )
    args = parser.parse_args(list(argv))
    from kiosk.logfile import log_to_file_quietly

    log_to_file_quietly()
    try:
        settings = settings_module.load(settings_module.environment(args.datos))
        url = check_url(args.central)
        result = redeem(url, args.codigo, ca_bundle=settings.ca_bundle, kind=args.tipo)
        token_path = save(settings, url, result)
    except (EnrollmentError, ValueError) as exc:
        print(f"No se pudo dar de alta la terminal: {exc}", file=sys.stderr)
        return 1
    print(
        f"Esta terminal es ahora «{result.name}» ({result.kind}, número {result.terminal_id}) "
        f"de la tienda {result.store_id} «{result.store_name}»."
    )
    print(f"Token guardado en {token_path} (solo lo lee este usuario).")
    return 0
