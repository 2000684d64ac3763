"""Shared set-up for the sync tests and the sync benchmark: a real central on loopback, a real
terminal database, and ways to look inside central's database to count what it holds."""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update

import local_db
from central import service as svc
from central.clock import ShiftedClock
from central.db import Database as CentralDatabase
from central.embedded import EmbeddedCentral
from central.models import Counter, Payment, ReferenceRow
from kiosk import audit, cashier, shifts, terminal_state, voids
from kiosk.ports import MEXICO_CITY, NewOutboxEntry, UnitOfWork
from kiosk.ports import Payment as LocalPayment
from kiosk.references import VIGENTE, issue
from kiosk.rules import Tender
from local_db.testing import FAST_HASHER, MANAGER_PIN, add_people
from sync.client import CentralClient

# A Tuesday that is no holiday, mid-morning in Mexico City (both clocks start here and run).
BUSINESS_START = datetime(2025, 3, 11, 10, 30, tzinfo=MEXICO_CITY)


def business_clock(start: datetime = BUSINESS_START) -> ShiftedClock:
    return ShiftedClock(start)


@contextmanager
def central_on_loopback(
    clock: ShiftedClock, db_url: str | None = None
) -> Iterator[EmbeddedCentral]:
    with EmbeddedCentral(db_url=db_url, clock=clock, seed_demo=True) as central:
        yield central


def terminal_entry(
    central: EmbeddedCentral, store_id: str = "F001", kind: str = "caja", index: int = 0
) -> dict[str, Any]:
    found = [
        t for t in central.demo["terminals"] if t["store_id"] == store_id and t["kind"] == kind
    ]
    return dict(found[index])


@dataclass
class Terminal:
    """One caja: its own SQLite file, its users and open shift, its client of central."""

    db: local_db.Database
    clock: ShiftedClock
    cashier_id: int
    manager_id: int
    store_id: str
    token: str

    def uow(self) -> UnitOfWork:
        return self.db.unit_of_work()

    def client(self, base_url: str, timeout: float = 3.0) -> CentralClient:
        return CentralClient(base_url, self.token, timeout=timeout, clock=self.clock)

    def pay(self, reference: str, amount: Decimal) -> LocalPayment:
        return cashier.take_payment(
            self.uow(),
            reference=reference,
            tender=Tender(cash=amount),
            cashier_id=self.cashier_id,
            clock=self.clock,
        )

    def void(self, payment_uuid: str, reason: str) -> None:
        """The manager voids a payment with their PIN, as the manager screen does."""
        voids.void_payment(
            self.uow(),
            payment_uuid,
            manager="gerente",
            manager_pin=MANAGER_PIN,
            reason=reason,
            requested_by=self.cashier_id,
            hasher=FAST_HASHER,
            clock=self.clock,
        )

    def close(self) -> None:
        self.db.close()


def make_terminal(
    path: Path, clock: ShiftedClock, entry: dict[str, Any], *, fresh: bool = True
) -> Terminal:
    """Open (and on first use set up) a terminal database enrolled as ``entry``."""
    db = local_db.open_database(path)
    uow = db.unit_of_work()
    if fresh:
        manager, cajero = add_people(uow, clock)
        terminal_state.set_identity(
            uow,
            terminal_id=str(entry["terminal_id"]),
            store_id=entry["store_id"],
            actor="gerente",
            clock=clock,
        )
        shifts.open_shift(
            uow,
            cashier_id=cajero.id,
            opening_float=Decimal("500.00"),
            opened_by=manager.id,
            clock=clock,
        )
        manager_id, cashier_id = manager.id, cajero.id
    else:
        with uow.reading():
            manager_id = uow.users.by_username("gerente").id  # type: ignore[union-attr]
            cashier_id = uow.users.by_username("cajero").id  # type: ignore[union-attr]
    return Terminal(db, clock, cashier_id, manager_id, entry["store_id"], entry["token"])


# --- central's database, seen from the tests ---------------------------------------------------


def seed_references(
    db_url: str,
    count: int,
    now: datetime,
    *,
    member: str = "100001",
    amount: Decimal = Decimal("100.00"),
) -> list[str]:
    """``count`` VIGENTE referencias issued today for ``member`` (no loan behind them: paying
    one touches no loan), inserted in one transaction with their delta-feed positions."""
    db = CentralDatabase(db_url)
    try:
        today = now.astimezone(MEXICO_CITY).date()
        with db.write() as s:
            start = s.execute(select(Counter.value).where(Counter.name == "feed")).scalar_one()
            s.execute(update(Counter).where(Counter.name == "feed").values(value=start + count))
            refs = [str(issue(today, start + i)) for i in range(1, count + 1)]
            rows: list[dict[str, Any]] = [
                {
                    "reference": ref,
                    "loan_id": None,
                    "member_number": member,
                    "kind": "ABONO",
                    "concept": "Abono a capital (prueba)",
                    "amount": amount,
                    "quincenas": [],
                    "issued_on": today,
                    "issued_at": now,
                    "status": VIGENTE,
                    "replaced_by": None,
                    "version": 1,
                    "change_seq": start + i,
                }
                for i, ref in zip(range(1, count + 1), refs, strict=True)
            ]
            for chunk in range(0, len(rows), 5000):
                s.execute(insert(ReferenceRow), rows[chunk : chunk + 5000])
        return refs
    finally:
        db.dispose()


def central_payments(db_url: str) -> dict[str, tuple[str, str]]:
    """Every payment central holds: uuid → (referencia, status)."""
    db = CentralDatabase(db_url)
    try:
        with db.read() as s:
            rows = s.execute(select(Payment.payment_uuid, Payment.reference, Payment.status)).all()
        return {r[0]: (r[1], r[2]) for r in rows}
    finally:
        db.dispose()


def central_count(db_url: str, model: Any) -> int:
    db = CentralDatabase(db_url)
    try:
        with db.read() as s:
            return int(s.execute(select(func.count()).select_from(model)).scalar_one())
    finally:
        db.dispose()


def assert_exactly_once(db_url: str, taken: list[LocalPayment]) -> None:
    """Central holds each payment taken, once, applied, and nothing else."""
    held = central_payments(db_url)
    assert set(held) == {p.uuid for p in taken}
    assert all(status == svc.APPLIED for _, status in held.values()), held
    refs = [ref for ref, _ in held.values()]
    assert len(refs) == len(set(refs))  # no referencia paid twice
    assert sorted(refs) == sorted(p.reference for p in taken)


def bulk_backlog(terminal: Terminal, references: list[str], amount: Decimal) -> int:
    """Queue one payment per referencia the way ``take_payment`` writes it (payment row, cache
    mark, outbox entry, audit line), but in one transaction: the benchmark's backlog."""
    uow = terminal.uow()
    now = terminal.clock()
    with uow:
        shift = uow.shifts.open_shift()
        assert shift is not None
        folio = uow.payments.next_folio()
        for i, ref in enumerate(references):
            p = LocalPayment(
                uuid=str(uuid_module.uuid4()),
                folio=folio + i,
                reference=ref,
                amount=amount,
                cash=amount,
                card=Decimal("0.00"),
                card_authorization="",
                cash_received=amount,
                change=Decimal("0.00"),
                cashier_id=terminal.cashier_id,
                shift_id=shift.id,
                terminal_id=terminal_state.terminal_id(uow),
                paid_at=now,
                business_date=now.date(),
            )
            uow.payments.add(p)
            uow.outbox.add(
                NewOutboxEntry(
                    kind="payment",
                    method="POST",
                    path="/v1/payments",
                    idempotency_key=p.uuid,
                    subject=p.uuid,
                    payload=cashier.payment_payload(
                        p, store_id=terminal_state.store_id(uow), cashier="cajero"
                    ),
                    created_at=now,
                )
            )
        audit.record(uow, audit.PAYMENT, str(terminal.cashier_id), {"lote": len(references)}, now)
        uow.commit()
    return len(references)
