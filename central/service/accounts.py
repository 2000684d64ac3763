"""Service accounts: the institute's systems (portal, phone line, payroll, finance) calling
central, apart from terminal tokens. Each has scopes; its token is stored hashed and shown
once; it can be revoked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central import security
from central.db import Database
from central.models import ServiceAccount
from central.service.auth import bearer_digest
from central.service.common import ApiError

EVENTS = "events"
MEMBERS_LOANS = "members_loans"
SLIPS = "slips"
POLICY = "policy"
CASES = "cases"
SCOPES = (EVENTS, MEMBERS_LOANS, SLIPS, POLICY, CASES)


@dataclass(frozen=True)
class ServicePrincipal:
    account_id: int
    name: str
    scopes: frozenset[str]


def create_account(
    s: Session, name: str, scopes: list[str], now: datetime
) -> tuple[ServiceAccount, str]:
    """A new account (or a fresh token for an existing one, with these scopes); the token is
    returned once."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,99}", name):
        raise ApiError(
            422, "NOMBRE_INVALIDO", "El nombre va en minúsculas, dígitos, punto, guion o _."
        )
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ApiError(
            422,
            "ALCANCE_INVALIDO",
            f"Alcances válidos: {', '.join(SCOPES)} (desconocidos: {', '.join(unknown) or '-'}).",
        )
    token = security.new_token()
    account = s.execute(
        select(ServiceAccount).where(ServiceAccount.name == name)
    ).scalar_one_or_none()
    if account is None:
        account = ServiceAccount(name=name, created_at=now)
        s.add(account)
    account.token_hash = security.token_hash(token)
    account.scopes = sorted(set(scopes))
    account.revoked_at = None
    s.flush()
    return account, token


def revoke_account(s: Session, name: str, now: datetime) -> bool:
    account = s.execute(
        select(ServiceAccount).where(ServiceAccount.name == name)
    ).scalar_one_or_none()
    if account is None:
        return False
    account.revoked_at = now
    return True


def authenticate_service(db: Database, authorization: str | None, scope: str) -> ServicePrincipal:
    """The service account of a bearer token, if it has ``scope`` (401 / 403 otherwise)."""
    digest = bearer_digest(authorization)
    with db.read() as s:
        account = s.execute(
            select(ServiceAccount).where(ServiceAccount.token_hash == digest)
        ).scalar_one_or_none()
    if account is None:
        raise ApiError(401, "TOKEN_DESCONOCIDO", "Token de cuenta de servicio desconocido.")
    if account.revoked_at is not None:
        raise ApiError(401, "TOKEN_REVOCADO", "Esta cuenta de servicio fue revocada.")
    if scope not in account.scopes:
        raise ApiError(
            403, "ALCANCE_INSUFICIENTE", f"Esta cuenta de servicio no tiene el alcance «{scope}»."
        )
    return ServicePrincipal(account.account_id, account.name, frozenset(account.scopes))
