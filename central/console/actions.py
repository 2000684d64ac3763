"""What the console changes, each in one transaction with its audit line. A refusal changes
nothing and says why in Spanish (:class:`~central.console.auth.Refused`)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from central import enrollment, security
from central.console.auth import Refused, Staff, audit
from central.console.notify import NotifyError
from central.console.seams import Seams
from central.db import Database
from central.models import LoginAttempts, Member, Terminal
from central.service import ApiError, cases
from central.service import policy as policy_admin
from kiosk.rules import Policy

NIP_DIGITS = 4
MAX_REASON = 500


def revoke_terminal(
    db: Database, staff: Staff, terminal_id: int, now: datetime, remote: str
) -> str:
    with db.write() as s:
        terminal = s.get(Terminal, terminal_id)
        if terminal is None:
            raise Refused("No existe esa terminal.", 404)
        if terminal.revoked_at is not None:
            raise Refused("Esa terminal ya estaba revocada.", 409)
        terminal.revoked_at = now
        audit(s, now, staff.username, "REVOCAR_TERMINAL", str(terminal_id),
              {"tienda": terminal.store_id, "nombre": terminal.name}, remote)  # fmt: skip
        return f"{terminal.store_id} {terminal.name}"


def issue_enrollment_code(
    db: Database, staff: Staff, store: str, name: str, kind: str, now: datetime, remote: str
) -> str:
    """A one-time code for a new terminal (``isseg-farmacia enrolar --codigo``), audited."""
    try:
        with db.write() as s:
            code, expires = enrollment.new_code(s, store, name, kind, now)
            audit(s, now, staff.username, "CODIGO_DE_ALTA", store,
                  {"nombre": name, "tipo": kind, "vence": expires.isoformat()}, remote)  # fmt: skip
    except ApiError as exc:
        raise Refused(exc.message) from None
    return code


# The three resolutions of SPEC 2.6, as the console offers them.
CASE_ACTIONS = {
    cases.APPLY_AS_PREPAYMENT: "Aplicar como abono a capital",
    cases.REFUND: "Devolver en la farmacia",
    cases.REJECT: "Rechazar",
}


def resolve_case(
    db: Database,
    policy: Policy,
    staff: Staff,
    case_id: int,
    action: str,
    reason: str,
    now: datetime,
    remote: str,
) -> None:
    """Resolve a case through central's one resolution (the API's and the admin command's):
    the case keeps who, when and why, and the institute gets its event; the console's audit
    adds where from."""
    reason = reason.strip()
    if action not in CASE_ACTIONS:
        raise Refused("Esa resolución no existe.")
    if not 5 <= len(reason) <= MAX_REASON:
        raise Refused(f"Escriba el motivo (de 5 a {MAX_REASON} caracteres).")
    try:
        outcome = cases.resolve_case(db, case_id, action, staff.username, reason, now, policy)
    except ApiError as exc:
        raise Refused(exc.message, exc.status if exc.status in (404, 409) else 400) from None
    if outcome.replayed:
        raise Refused("Ese caso ya estaba resuelto así.", 409)
    with db.write() as s:
        audit(s, now, staff.username, "RESOLVER_CASO", str(case_id),
              {"accion": action, "motivo": reason}, remote)  # fmt: skip


def change_policy(
    db: Database, staff: Staff, form: dict[str, str], now: datetime, current: Policy, remote: str
) -> Policy:
    """A new policy version from the console's form (finanzas), stored like PUT /v1/policy's."""
    changes: dict[str, Any] = {k: form[k] for k in ("window_start", "window_end", "cash_cap") if k in form}
    if "non_working_days" in form:
        changes["non_working_days"] = [d.strip() for d in form["non_working_days"].split(",") if d.strip()]
    if "max_daily_slips" in form:
        changes["max_daily_slips"] = form["max_daily_slips"]
    changes["version"] = current.version + 1
    try:
        outcome = policy_admin.set_policy(db, changes, staff.username, now, current)
    except ApiError as exc:
        raise Refused(exc.message, 409 if exc.status == 409 else 400) from None
    with db.write() as s:
        audit(s, now, staff.username, "CAMBIAR_POLITICA", str(changes["version"]),
              {k: v for k, v in changes.items() if k != "version"}, remote)  # fmt: skip
    return Policy.from_dict(outcome.body)


def reset_nip(
    db: Database, seams: Seams, staff: Staff, number: str, now: datetime, remote: str
) -> str:
    """A new random kiosk NIP, sent to the affiliate's email; nobody at the console sees it.
    The mail goes out before the commit: when it cannot be sent, the old NIP stays."""
    if seams.notifier is None:
        raise Refused("El envío de correo no está configurado; no se puede enviar un NIP nuevo.")
    with db.write() as s:
        member = s.get(Member, number, with_for_update=True)
        if member is None:
            raise Refused("No existe ese afiliado.", 404)
        email = seams.member_email(s, number)
        if not email:
            raise Refused("El afiliado no tiene correo registrado; no se puede enviar el NIP.")
        nip = "".join(secrets.choice("0123456789") for _ in range(NIP_DIGITS))
        member.nip_hash = security.hash_nip(nip)
        _clear_lockout(s, number)
        audit(s, now, staff.username, "RESTABLECER_NIP", number, {"correo": _masked(email)}, remote)
        s.flush()
        try:
            seams.notifier.send(
                email,
                "ISSEG: su nuevo NIP de kiosco",
                f"Estimado(a) {member.name}:\n\n"
                f"Su NIP para los kioscos de las farmacias ISSEG se restableció.\n"
                f"Su nuevo NIP es: {nip}\n\n"
                "Si usted no lo solicitó, comuníquese con el ISSEG.\n",
            )
        except NotifyError:
            raise Refused("No se pudo enviar el correo; el NIP no cambió.", 502) from None
    return _masked(email)


def unlock_member(db: Database, staff: Staff, number: str, now: datetime, remote: str) -> None:
    with db.write() as s:
        member = s.get(Member, number, with_for_update=True)
        if member is None:
            raise Refused("No existe ese afiliado.", 404)
        _clear_lockout(s, number)
        audit(s, now, staff.username, "DESBLOQUEAR_AFILIADO", number, remote=remote)


def _clear_lockout(s: Session, number: str) -> None:
    """The kiosk's lockout lives per number in login_attempts (any number, known or not)."""
    attempts = s.get(LoginAttempts, number, with_for_update=True)
    if attempts is not None:
        attempts.failures, attempts.locked_until = 0, None


def _masked(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:2]}…@{domain}"
