"""Cashiers and managers: PINs hashed with Argon2id, lockout, PIN reset, the first manager."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import timedelta

import argon2

from kiosk import audit, spanish
from kiosk.ports import CASHIER, MANAGER, ROLES, Clock, Refused, UnitOfWork, User, system_clock

MAX_FAILED_ATTEMPTS = 5
MAX_LOCKOUT = timedelta(hours=8)
LOCKOUT = timedelta(minutes=5)
_PIN = re.compile(r"[0-9]{4,8}")
_USERNAME = re.compile(r"[a-z0-9._-]{2,32}")


@dataclass(frozen=True, slots=True)
class PinHasher:
    """Argon2id. The defaults are argon2-cffi's (RFC 9106 low-memory); tests use cheaper ones."""

    time_cost: int = 3
    memory_cost: int = 65536
    parallelism: int = 4

    @property
    def _hasher(self) -> argon2.PasswordHasher:
        return argon2.PasswordHasher(
            time_cost=self.time_cost,
            memory_cost=self.memory_cost,
            parallelism=self.parallelism,
            type=argon2.Type.ID,
        )

    def hash(self, pin: str) -> str:
        return self._hasher.hash(pin)

    def verify(self, pin_hash: str, pin: str) -> bool:
        try:
            return self._hasher.verify(pin_hash, pin)
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False


DEFAULT_HASHER = PinHasher()


def _check_pin(pin: str) -> None:
    if not _PIN.fullmatch(pin):
        raise Refused("NIP_INVALIDO", "El NIP debe tener de 4 a 8 dígitos.")


def _check_new_user(uow: UnitOfWork, username: str, name: str, role: str, pin: str) -> None:
    if not _USERNAME.fullmatch(username):
        raise Refused(
            "USUARIO_INVALIDO",
            "El usuario debe tener de 2 a 32 letras minúsculas, números, punto o guion.",
        )
    if not name.strip():
        raise Refused("NOMBRE_REQUERIDO", "Escriba el nombre de la persona.")
    if role not in ROLES:
        raise Refused("ROL_INVALIDO", "El rol debe ser cajero o gerente.")
    _check_pin(pin)
    if uow.users.by_username(username) is not None:
        raise Refused("USUARIO_EXISTE", f"Ya existe el usuario «{username}».")


def display_name(uow: UnitOfWork, user_id: int) -> str:
    """A user's name as documents print it (the id, should the user be gone)."""
    person = uow.users.get(user_id)
    return person.name if person else str(user_id)


def needs_first_manager(uow: UnitOfWork) -> bool:
    """True on first run: there is no user yet, so the first screen creates a manager."""
    with uow.reading():
        return uow.users.count() == 0


def create_first_manager(
    uow: UnitOfWork,
    *,
    username: str,
    name: str,
    pin: str,
    hasher: PinHasher = DEFAULT_HASHER,
    clock: Clock = system_clock,
) -> User:
    with uow:
        if uow.users.count() != 0:
            raise Refused(
                "YA_CONFIGURADO",
                "La caja ya tiene usuarios: pida a un gerente que dé de alta al nuevo usuario.",
            )
        _check_new_user(uow, username, name, MANAGER, pin)
        user = User(0, username, name.strip(), MANAGER, hasher.hash(pin))
        user = replace(user, id=uow.users.add(user))
        audit.record(
            uow,
            audit.USER_CREATED,
            username,
            {"usuario": username, "rol": MANAGER, "primer_gerente": True},
            clock(),
        )
        uow.commit()
    return user


def _authenticate_in(
    uow: UnitOfWork, username: str, pin: str, hasher: PinHasher, clock: Clock
) -> User:
    """Check a PIN inside an open write transaction; the failure bookkeeping is committed
    by the caller before the refusal propagates."""
    now = clock()
    user = uow.users.by_username(username)
    if user is None or not user.active:
        audit.record(uow, audit.LOGIN_FAILED, username, {"motivo": "usuario desconocido"}, now)
        raise Refused("CREDENCIALES_INVALIDAS", "Usuario o NIP incorrectos.")
    if user.locked_until is not None and now < user.locked_until:
        minutes = max(1, int((user.locked_until - now).total_seconds() + 59) // 60)
        audit.record(uow, audit.LOGIN_FAILED, username, {"motivo": "bloqueado"}, now)
        raise Refused(
            "USUARIO_BLOQUEADO",
            f"Usuario bloqueado por intentos fallidos. Intente en {minutes} min "
            "o pida a un gerente que restablezca su NIP.",
        )
    if not hasher.verify(user.pin_hash, pin):
        # Failures count until a right PIN: each lockout lasts twice the one before.
        failed = user.failed_attempts + 1
        locked = None
        if failed % MAX_FAILED_ATTEMPTS == 0:
            lasts = min(LOCKOUT * 2 ** (failed // MAX_FAILED_ATTEMPTS - 1), MAX_LOCKOUT)
            locked = now + lasts
        uow.users.set_failures(user.id, failed, locked)
        audit.record(
            uow,
            audit.LOGIN_FAILED,
            username,
            {"motivo": "NIP incorrecto", "bloqueado": locked is not None},
            now,
        )
        if locked is not None:
            raise Refused(
                "USUARIO_BLOQUEADO",
                f"NIP incorrecto {MAX_FAILED_ATTEMPTS} veces: usuario bloqueado "
                f"{int((locked - now).total_seconds() // 60)} minutos.",
            )
        left = MAX_FAILED_ATTEMPTS - failed % MAX_FAILED_ATTEMPTS
        raise Refused(
            "CREDENCIALES_INVALIDAS", f"Usuario o NIP incorrectos. {spanish.attempts_left(left)}"
        )
    if user.failed_attempts or user.locked_until is not None:
        uow.users.set_failures(user.id, 0, None)
        user = replace(user, failed_attempts=0, locked_until=None)
    return user


def verify_pin(
    uow: UnitOfWork,
    username: str,
    pin: str,
    *,
    hasher: PinHasher,
    clock: Clock,
    required_role: str | None = None,
) -> User:
    """Check a PIN inside the caller's open write transaction (e.g. a manager approving a
    void). On a wrong PIN, the failure count and the audit line are committed before the
    refusal propagates, so lockout cannot be dodged by aborting."""
    try:
        user = _authenticate_in(uow, username, pin, hasher, clock)
    except Refused:
        uow.commit()
        raise
    if required_role is not None and user.role != required_role:
        raise Refused("REQUIERE_GERENTE", "Esta operación requiere el NIP de un gerente.")
    return user


def login(
    uow: UnitOfWork,
    username: str,
    pin: str,
    *,
    hasher: PinHasher = DEFAULT_HASHER,
    clock: Clock = system_clock,
) -> User:
    """Log a cashier or manager in. Every try (good or bad) is audited."""
    with uow:
        user = verify_pin(uow, username, pin, hasher=hasher, clock=clock)
        audit.record(uow, audit.LOGIN, username, {"rol": user.role}, clock())
        uow.commit()
    return user


def create_user(
    uow: UnitOfWork,
    *,
    manager: str,
    manager_pin: str,
    username: str,
    name: str,
    role: str = CASHIER,
    pin: str,
    hasher: PinHasher = DEFAULT_HASHER,
    clock: Clock = system_clock,
) -> User:
    with uow:
        verify_pin(uow, manager, manager_pin, hasher=hasher, clock=clock, required_role=MANAGER)
        _check_new_user(uow, username, name, role, pin)
        user = User(0, username, name.strip(), role, hasher.hash(pin))
        user = replace(user, id=uow.users.add(user))
        audit.record(uow, audit.USER_CREATED, manager, {"usuario": username, "rol": role}, clock())
        uow.commit()
    return user


def reset_pin(
    uow: UnitOfWork,
    *,
    manager: str,
    manager_pin: str,
    username: str,
    new_pin: str,
    hasher: PinHasher = DEFAULT_HASHER,
    clock: Clock = system_clock,
) -> None:
    """A manager sets a new PIN for someone; it also lifts a lockout."""
    with uow:
        _, user = _managed(uow, manager, manager_pin, username, hasher, clock)
        _check_pin(new_pin)
        uow.users.set_pin(user.id, hasher.hash(new_pin))
        uow.users.set_failures(user.id, 0, None)
        audit.record(uow, audit.PIN_RESET, manager, {"usuario": username}, clock())
        uow.commit()


@dataclass(frozen=True, slots=True)
class UserState:
    """A user as the manager's list shows them: role and state in words."""

    user: User
    state: str  # "activo", "bloqueado hasta las 10:35", "dado de baja"

    @property
    def role_label(self) -> str:
        return "Gerente" if self.user.role == MANAGER else "Cajero"


def list_users(uow: UnitOfWork, *, clock: Clock = system_clock) -> list[UserState]:
    now = clock()
    out = []
    with uow.reading():
        for u in uow.users.all():
            if not u.active:
                state = "dado de baja"
            elif u.locked_until is not None and now < u.locked_until:
                state = f"bloqueado hasta las {u.locked_until.astimezone(now.tzinfo):%H:%M}"
            else:
                state = "activo"
            out.append(UserState(u, state))
    return out


def _managed(
    uow: UnitOfWork, manager: str, manager_pin: str, username: str, hasher: PinHasher, clock: Clock
) -> tuple[User, User]:
    """The approving manager (PIN checked in the open transaction) and the user acted on."""
    approver = verify_pin(
        uow, manager, manager_pin, hasher=hasher, clock=clock, required_role=MANAGER
    )
    user = uow.users.by_username(username)
    if user is None:
        raise Refused("USUARIO_DESCONOCIDO", f"No existe el usuario «{username}».")
    return approver, user


def deactivate(
    uow: UnitOfWork,
    *,
    manager: str,
    manager_pin: str,
    username: str,
    hasher: PinHasher = DEFAULT_HASHER,
    clock: Clock = system_clock,
) -> None:
    """Nobody can log in as ``username`` any more; their history stays. Never the manager
    acting, nor the last active manager (the terminal would be left without one)."""
    with uow:
        approver, user = _managed(uow, manager, manager_pin, username, hasher, clock)
        if not user.active:
            raise Refused("USUARIO_INACTIVO", f"{user.name} ya está dado de baja.")
        if user.id == approver.id:
            raise Refused("NO_A_SI_MISMO", "Un gerente no puede darse de baja a sí mismo.")
        uow.users.set_active(user.id, False)
        audit.record(uow, audit.USER_DEACTIVATED, approver.username, {"usuario": username}, clock())
        uow.commit()


def unlock(
    uow: UnitOfWork,
    *,
    manager: str,
    manager_pin: str,
    username: str,
    hasher: PinHasher = DEFAULT_HASHER,
    clock: Clock = system_clock,
) -> None:
    """Lift a lockout after repeated wrong PINs (the PIN stays as it was)."""
    with uow:
        approver, user = _managed(uow, manager, manager_pin, username, hasher, clock)
        uow.users.set_failures(user.id, 0, None)
        audit.record(uow, audit.USER_UNLOCKED, approver.username, {"usuario": username}, clock())
        uow.commit()
