"""``isseg-farmacia diagnostico``: what support asks for on the phone, in one command.

Each check prints one Spanish line, ``[ OK ]``, ``[AVISO]`` (not a fault: something that
has not happened yet) or ``[FALLA]``, and the command exits 1 when any check failed. Times
are shown in America/Mexico_City, as on the till's screens. Nothing is changed: the terminal's database is opened read-only and only
if it exists, the printer is asked for its status, central is asked for its health and the
terminal's policy.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from kiosk import settings as settings_module
from kiosk.enrollment import LOOPBACK_HOSTS
from kiosk.logfile import log_to_file_quietly
from kiosk.ports import Clock, system_clock
from kiosk.records import MEXICO_CITY
from kiosk.rules import Policy

log = logging.getLogger(__name__)

# Past these, support should look: a payment unsent for a quarter of an hour means the link
# or the token is broken; a cache not refreshed for an hour means the same for referencias.
STALE_OUTBOX = timedelta(minutes=15)
STALE_CACHE = timedelta(hours=1)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    warning: bool = False  # ok, but worth a word (printed [AVISO])

    def line(self) -> str:
        mark = "FALLA" if not self.ok else "AVISO" if self.warning else " OK "
        return f"[{mark}] {self.name}: {self.detail}"


def _size(path: Path) -> str:
    total = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    return f"{total / 1_048_576:.1f} MB"


def check_database(path: Path) -> Check:
    if not path.is_file():
        return Check("Base de datos", False, f"no existe {path} (¿la caja nunca se abrió?)")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:  # "malformed": SQLite could not even check it
        return Check("Base de datos", False, f"DAÑADA o ilegible ({exc}); llame a sistemas")
    if result != ["ok"]:
        return Check("Base de datos", False, f"DAÑADA ({result[0]}); llame a sistemas")
    return Check("Base de datos", True, f"íntegra, {_size(path)} ({path})")


def check_printer(settings: settings_module.Settings) -> Check:
    from printing import connections
    from printing.service import PrintService
    from printing.spool import Spool

    try:
        connections.validate(settings)
        service = PrintService.from_settings(settings, Spool(settings.data_path / "cola-impresion"))
    except (connections.PrinterConfigError, connections.PrinterUnavailable) as exc:
        return Check("Impresora", False, str(exc))
    status = service.printer_status()
    queue = len(service.pending())
    waiting = f"; {queue} documento(s) en espera de impresión" if queue else ""
    if status == connections.OK:
        return Check("Impresora", not queue, f"lista ({settings.printer_kind}){waiting}")
    if status == connections.UNKNOWN and settings.printer_kind in ("file", "win32"):
        # These connections cannot answer a status request; not a fault in itself.
        return Check(
            "Impresora", not queue, f"{settings.printer_kind}: no informa su estado{waiting}"
        )
    words = connections.STATUS_MESSAGES.get(status, status)
    return Check("Impresora", False, f"{words} ({settings.printer_kind}){waiting}")


def check_central(
    settings: settings_module.Settings, policy: Policy, clock: Clock = system_clock
) -> list[Check]:
    url = settings.central_url.rstrip("/")
    parts = urlsplit(url)
    tls = parts.scheme == "https"
    checks = []
    if not tls and parts.hostname not in LOOPBACK_HOSTS:
        checks.append(Check("Conexión cifrada", False, f"{url} no usa https"))
    from sync.client import is_certificate_failure, tls_context

    # The same trust as the sync client and enrolar: the institute's CA (ca_bundle) or the
    # system's store. A diagnosis that trusts differently from the till misleads support.
    trust = f"ca_bundle {settings.ca_bundle}" if settings.ca_bundle else "el almacén del sistema"
    try:
        with httpx.Client(
            base_url=url,
            timeout=settings.http_timeout_seconds,
            verify=tls_context(settings.ca_bundle),
        ) as http:
            sent = clock()
            health = http.get("/v1/health")
            received = clock()
            token = settings.terminal_token
            policy_answer = (
                http.get("/v1/policy", headers={"Authorization": f"Bearer {token}"})
                if token
                else None
            )
    except httpx.ConnectError as exc:
        if is_certificate_failure(exc):
            log.warning("diagnostico: certificado TLS rechazado para %s: %s", url, exc)
            reason = (
                f"el certificado de {url} no es de confianza para {trust} "
                "(¿ca_bundle correcto? ¿la dirección coincide con el certificado?)"
            )
            return [*checks, Check("Central", False, reason)]
        return [*checks, Check("Central", False, f"sin conexión con {url}")]
    except httpx.HTTPError:
        return [*checks, Check("Central", False, f"no respondió a tiempo ({url})")]
    how = "TLS verificado" if tls else "sin TLS, en esta computadora"
    checks.append(Check("Central", health.status_code == 200, f"{url} responde ({how})"))
    if policy_answer is None:
        checks.append(
            Check(
                "Token", False, "esta terminal no está dada de alta: use «isseg-farmacia enrolar»"
            )
        )
    elif policy_answer.status_code == 200:
        checks.append(Check("Token", True, "válido"))
    else:
        checks.append(Check("Token", False, f"central lo rechazó ({policy_answer.status_code})"))
    date = health.headers.get("date")
    if date:
        server = parsedate_to_datetime(date)
        # The Date header has whole seconds; half the round trip is the best estimate.
        skew = (sent + (received - sent) / 2) - server
        ok = abs(skew) <= policy.max_clock_skew
        checks.append(
            Check(
                "Reloj",
                ok,
                f"diferencia con central de {skew.total_seconds():+.0f} s "
                f"(límite {policy.max_clock_skew.total_seconds():.0f} s)",
            )  # fmt: skip
        )
    return checks


def check_local(
    settings: settings_module.Settings, clock: Clock = system_clock
) -> tuple[list[Check], Policy]:
    """The outbox and the cache, through the terminal's own services."""
    from kiosk import reference_cache, terminal_state
    from kiosk.bootstrap import build

    terminal = build(settings, clock=clock, start_sync=False)
    try:
        with terminal.uow.reading() as uow:
            counts = uow.outbox.counts()
        policy = terminal.policy()
        refreshed = reference_cache.last_refreshed(terminal.uow)
        with terminal.uow.reading() as uow:
            heard_from_central = terminal_state.central_time_floor(uow) is not None
            kiosk = terminal_state.terminal_kind(uow) == "kiosko"
    finally:
        terminal.close()
    now = clock()
    checks = []
    age = counts.oldest_pending_age(now)
    if not counts.pending:
        checks.append(Check("Pagos por enviar", True, "ninguno"))
    else:
        minutes = (age or 0) / 60
        checks.append(
            Check(
                "Pagos por enviar",
                (age or 0) <= STALE_OUTBOX.total_seconds(),
                f"{counts.pending}, el más antiguo espera desde hace {minutes:.0f} min",
            )  # fmt: skip
        )
    if counts.rejected:
        checks.append(
            Check("Pagos rechazados", False, f"{counts.rejected} por conciliar con el gerente")
        )
    if kiosk:
        # Central serves referencias only to cajas: a kiosk that has none is as it should be.
        checks.append(Check("Referencias", True, "no aplica: un kiosko no cobra fichas"))
    elif refreshed is None and not heard_from_central:
        # Just enrolled, never opened (or never reached central): the first download happens
        # when the till opens. Not a fault in itself; the Central and Token lines say whether
        # it will be able to.
        checks.append(
            Check(
                "Referencias",
                True,
                "aún no se han descargado: se descargan cuando la caja abra y se conecte",
                warning=True,
            )
        )
    elif refreshed is None:
        # The till has talked to central but never finished a download: the feed is broken.
        checks.append(Check("Referencias", False, "nunca se han actualizado desde central"))
    else:
        ago = now - refreshed
        local = refreshed.astimezone(MEXICO_CITY)
        checks.append(
            Check(
                "Referencias",
                ago <= STALE_CACHE,
                f"actualizadas hace {ago.total_seconds() / 60:.0f} min ({local:%d/%m %H:%M})",
            )  # fmt: skip
        )
    return checks, policy


def run(settings: settings_module.Settings, clock: Clock = system_clock) -> list[Check]:
    checks = [check_database(settings.database_file)]
    policy = Policy()
    if checks[0].ok:
        local, policy = check_local(settings, clock)
        checks += local
    checks.append(check_printer(settings))
    checks += check_central(settings, policy, clock)
    return checks


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="isseg-farmacia diagnostico",
        description="Revisa la caja: base de datos, impresora, conexión con central, token, "
        "reloj, pagos por enviar y referencias. Termina con 1 si algo falla.",
    )
    parser.add_argument("--datos", help="Carpeta de datos de la terminal (ISSEG_DATA_DIR).")
    parser.add_argument("--config", help="Archivo de configuración JSON (ISSEG_CONFIG).")
    args = parser.parse_args(list(argv))
    try:
        settings = settings_module.load(settings_module.environment(args.datos, args.config))
    except ValueError as exc:
        print(f"[FALLA] Configuración: {exc}")
        return 1
    log_to_file_quietly()
    checks = run(settings)
    for check in checks:
        print(check.line())
    failed = [c for c in checks if not c.ok]
    now = system_clock().astimezone(MEXICO_CITY)
    print(
        f"{len(failed)} problema(s): " + ", ".join(c.name for c in failed)
        if failed
        else f"Todo en orden ({now:%d/%m/%Y %H:%M}, hora del centro de México)."
    )
    return 1 if failed else 0
