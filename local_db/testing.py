"""Helpers for tests and benchmarks: a settable clock and seed data on a real database."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from kiosk.ports import MEXICO_CITY, Clock, UnitOfWork, User
from kiosk.references import ReferenceRecord, issue
from kiosk.users import PinHasher

# Cheap Argon2id so tests stay fast; production uses kiosk.users.DEFAULT_HASHER.
FAST_HASHER = PinHasher(time_cost=1, memory_cost=1024, parallelism=1)

# A Tuesday that is no holiday, mid-morning in Mexico City.
BUSINESS_MORNING = datetime(2025, 3, 11, 10, 30, tzinfo=MEXICO_CITY)


class FixedClock:
    """The tests' one clock double: it reads ``now`` (a business morning unless given),
    frozen there or, with ``running``, advancing in real time from it (the outbox's backoff
    and the screens' timers need time to pass). Setting ``now`` or ``advance()`` moves it."""

    def __init__(self, now: datetime = BUSINESS_MORNING, *, running: bool = False) -> None:
        self._running = running
        self.now = now

    @property
    def now(self) -> datetime:
        if not self._running:
            return self._start
        return self._start + timedelta(seconds=time.monotonic() - self._t0)

    @now.setter
    def now(self, value: datetime) -> None:
        if value.tzinfo is None:
            raise ValueError("se requiere una hora con zona horaria")
        self._start, self._t0 = value, time.monotonic()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta = timedelta(0), **kwargs: float) -> None:
        self.now = self.now + delta + timedelta(**kwargs)


def reference_records(
    day: date, count: int, start: int = 1, amount: Decimal = Decimal("540.00")
) -> list[ReferenceRecord]:
    return [
        ReferenceRecord(
            reference=str(issue(day, serial)),
            amount=amount,
            issued_on=day,
            member_number=f"A{serial:07d}",
            member_name="AFILIADO DE PRUEBA",
            loan_id=f"P{serial}",
            kind="quincenal",
            concept="Pago quincenal",
        )
        for serial in range(start, start + count)
    ]


MANAGER_PIN = "2468"
CASHIER_PIN = "1357"


@dataclass
class Seeded:
    manager_id: int
    cashier_id: int
    references: list[ReferenceRecord]


def add_people(uow: UnitOfWork, clock: Clock) -> tuple[User, User]:
    """The first manager ``gerente`` (MANAGER_PIN) and a cashier ``cajero`` (CASHIER_PIN)."""
    from kiosk import users

    manager = users.create_first_manager(
        uow,
        username="gerente",
        name="Gerente Prueba",
        pin=MANAGER_PIN,
        hasher=FAST_HASHER,
        clock=clock,
    )
    cashier = users.create_user(
        uow,
        manager="gerente",
        manager_pin=MANAGER_PIN,
        username="cajero",
        name="Cajero Prueba",
        pin=CASHIER_PIN,
        hasher=FAST_HASHER,
        clock=clock,
    )
    return manager, cashier


def seed_terminal(
    uow: UnitOfWork,
    clock: FixedClock,
    *,
    references: int = 10,
    open_shift: bool = True,
    opening_float: Decimal = Decimal("500.00"),
) -> Seeded:
    """A terminal ready to take payments: manager ``gerente``, cashier ``cajero``, today's
    referencias in the cache and (optionally) an open shift."""
    from kiosk import reference_cache, shifts, terminal_state

    manager, cashier = add_people(uow, clock)
    terminal_state.set_identity(
        uow, terminal_id="T-0001", store_id="F-01", actor="gerente", clock=clock
    )
    records = reference_records(clock().date(), references)
    reference_cache.upsert(uow, records)
    if open_shift:
        shifts.open_shift(
            uow,
            cashier_id=cashier.id,
            opening_float=opening_float,
            opened_by=manager.id,
            clock=clock,
        )
    return Seeded(manager.id, cashier.id, records)
