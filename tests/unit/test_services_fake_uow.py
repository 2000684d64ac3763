"""An in-memory unit of work for the services' pure logic (storage is tested on real files).

Snapshot on enter, restore on exit unless committed: the same contract as local_db.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from kiosk.ports import (
    CONFIRMED,
    PENDING,
    AuditEntry,
    CardLine,
    DayClose,
    NewOutboxEntry,
    OutboxCounts,
    OutboxEntry,
    Payment,
    PaymentTotals,
    PendingLine,
    Shift,
    User,
    Void,
)
from kiosk.references import ReferenceRecord


@dataclass
class State:
    refs: dict[str, ReferenceRecord] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    outbox: list[OutboxEntry] = field(default_factory=list)
    shifts: dict[int, Shift] = field(default_factory=dict)
    users: dict[int, User] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    voids: list[Void] = field(default_factory=list)
    day_closes: dict[date, DayClose] = field(default_factory=dict)
    drops: list[Any] = field(default_factory=list)
    counts: dict[int, Any] = field(default_factory=dict)
    reprints: list[Any] = field(default_factory=list)


class _R:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    @property
    def s(self) -> State:
        return self.uow.state


class Refs(_R):
    def get(self, reference: str) -> ReferenceRecord | None:
        return self.s.refs.get(reference)

    def upsert_many(self, records: Any) -> int:
        n = 0
        for r in records:
            old = self.s.refs.get(r.reference)
            self.s.refs[r.reference] = replace(
                r, local_payment_uuid=old.local_payment_uuid if old else None
            )
            n += 1
        return n

    def mark_paid(self, reference: str, payment_uuid: str) -> None:
        self.s.refs[reference] = replace(self.s.refs[reference], local_payment_uuid=payment_uuid)

    def clear_paid(self, reference: str, payment_uuid: str) -> None:
        r = self.s.refs[reference]
        status = "VIGENTE" if r.status == "PAGADA" else r.status
        self.s.refs[reference] = replace(r, local_payment_uuid=None, status=status)

    def count(self) -> int:
        return len(self.s.refs)


class Meta(_R):
    def get(self, key: str) -> str | None:
        return self.s.meta.get(key)

    def get_many(self, keys: Sequence[str]) -> dict[str, str]:
        return {k: self.s.meta[k] for k in keys if k in self.s.meta}

    def set(self, key: str, value: str) -> None:
        self.s.meta[key] = value


class Payments(_R):
    def next_folio(self) -> int:
        return len(self.s.payments) + 1

    def add(self, p: Payment) -> None:
        self.uow.log.append("payment")
        self.s.payments[p.uuid] = p

    def get(self, uuid: str) -> Payment | None:
        return self.s.payments.get(uuid)

    def for_business_date(self, day: date) -> list[Payment]:
        return [p for p in self.s.payments.values() if p.business_date == day]

    def for_shift(self, shift_id: int) -> list[Payment]:
        return [p for p in self.s.payments.values() if p.shift_id == shift_id]

    def _live(self, day: date) -> list[Payment]:
        voided = {v.payment_uuid for v in self.s.voids}
        return [p for p in self.for_business_date(day) if p.uuid not in voided]

    def totals(self, day: date) -> PaymentTotals:
        live = self._live(day)
        zero = Decimal("0.00")
        return PaymentTotals(
            len(live),
            sum((p.amount for p in live), zero),
            sum((p.cash for p in live), zero),
            sum((p.card for p in live), zero),
            sum((p.change_given for p in live), zero),
            sum(1 for p in live if p.cash),
            sum(1 for p in live if p.card),
            sum((p.cash_received for p in live), zero),
        )

    def card_lines(self, day: date) -> list[CardLine]:
        return [
            CardLine(p.folio, p.reference, p.card_authorization, p.card)
            for p in self._live(day)
            if p.card
        ]

    def shift_totals(self, day: date) -> dict[int, tuple[int, Decimal]]:
        out: dict[int, tuple[int, Decimal]] = {}
        for p in self._live(day):
            n, total = out.get(p.shift_id, (0, Decimal("0.00")))
            out[p.shift_id] = (n + 1, total + p.amount)
        return out

    def unconfirmed(self, day: date) -> list[PendingLine]:
        pending = self.uow.outbox.unconfirmed_subjects("payment")
        return [
            PendingLine(p.folio, p.uuid, p.reference, p.amount, p.paid_at)
            for p in self.for_business_date(day)
            if p.uuid in pending
        ]


class Outbox(_R):
    def add(self, e: NewOutboxEntry) -> int:
        self.uow.log.append("outbox")
        i = len(self.s.outbox) + 1
        self.s.outbox.append(
            OutboxEntry(
                i, e.kind, e.method, e.path, e.idempotency_key, e.subject, e.payload, e.created_at
            )
        )
        return i

    def get(self, entry_id: int) -> OutboxEntry | None:
        return self.s.outbox[entry_id - 1] if 0 < entry_id <= len(self.s.outbox) else None

    def _set(self, entry_id: int, **kw: Any) -> None:
        self.s.outbox[entry_id - 1] = replace(self.s.outbox[entry_id - 1], **kw)

    def mark_confirmed(self, entry_id: int, response: Any, at: datetime | None = None) -> None:
        self._set(entry_id, status=CONFIRMED, response=response, settled_at=at)

    def mark_rejected(
        self, entry_id: int, code: str, message: str, at: datetime | None = None
    ) -> None:
        self._set(
            entry_id,
            status="rechazado",
            rejection_code=code,
            rejection_message=message,
            settled_at=at,
        )

    def record_attempt(self, entry_id: int, error: str, next_attempt_at: datetime) -> None:
        e = self.s.outbox[entry_id - 1]
        self._set(
            entry_id, attempts=e.attempts + 1, last_error=error, next_attempt_at=next_attempt_at
        )

    def rejected(self) -> list[OutboxEntry]:
        return [e for e in self.s.outbox if e.status == "rechazado"]

    def pending(self, limit: int = 50, now: datetime | None = None) -> list[OutboxEntry]:
        return [e for e in self.s.outbox if e.status == PENDING][:limit]

    def counts(self) -> OutboxCounts:
        st = [e.status for e in self.s.outbox]
        return OutboxCounts(st.count(PENDING), st.count("rechazado"))

    def status_of(self, kind: str, subject: str) -> str | None:
        found = [e.status for e in self.s.outbox if e.kind == kind and e.subject == subject]
        return found[-1] if found else None

    def latest_for(self, kind: str, subject: str) -> OutboxEntry | None:
        found = [e for e in self.s.outbox if e.kind == kind and e.subject == subject]
        return found[-1] if found else None

    def unconfirmed_subjects(self, kind: str) -> set[str]:
        return {e.subject for e in self.s.outbox if e.kind == kind and e.status != CONFIRMED}


class Shifts(_R):
    def add(self, shift: Shift) -> int:
        i = len(self.s.shifts) + 1
        self.s.shifts[i] = replace(shift, id=i)
        return i

    def get(self, shift_id: int) -> Shift | None:
        return self.s.shifts.get(shift_id)

    def open_shift(self) -> Shift | None:
        return next((s for s in self.s.shifts.values() if s.is_open), None)

    def close(self, shift_id: int, **kw: Any) -> None:
        self.s.shifts[shift_id] = replace(self.s.shifts[shift_id], **kw)

    def for_business_date(self, day: date) -> list[Shift]:
        return [s for s in self.s.shifts.values() if s.business_date == day]


class Users(_R):
    def add(self, u: User) -> int:
        i = len(self.s.users) + 1
        self.s.users[i] = replace(u, id=i)
        return i

    def get(self, user_id: int) -> User | None:
        return self.s.users.get(user_id)

    def by_username(self, username: str) -> User | None:
        return next((u for u in self.s.users.values() if u.username == username), None)

    def count(self) -> int:
        return len(self.s.users)

    def set_failures(self, user_id: int, failed: int, locked: datetime | None) -> None:
        self.s.users[user_id] = replace(
            self.s.users[user_id], failed_attempts=failed, locked_until=locked
        )

    def set_pin(self, user_id: int, pin_hash: str) -> None:
        self.s.users[user_id] = replace(self.s.users[user_id], pin_hash=pin_hash)

    def all(self) -> list[User]:
        return list(self.s.users.values())


class Audit(_R):
    def last(self) -> AuditEntry | None:
        return self.s.audit[-1] if self.s.audit else None

    def at(self, entry_id: int) -> AuditEntry | None:
        return next((e for e in self.s.audit if e.id == entry_id), None)

    def add(self, e: AuditEntry) -> None:
        self.uow.log.append("audit")
        self.s.audit.append(e)

    def all(self) -> list[AuditEntry]:
        return list(self.s.audit)


class Voids(_R):
    def add(self, v: Void) -> int:
        self.s.voids.append(v)
        return len(self.s.voids)

    def for_payment(self, uuid: str) -> Void | None:
        return next((v for v in self.s.voids if v.payment_uuid == uuid), None)

    def for_business_date(self, day: date) -> list[Void]:
        return [v for v in self.s.voids if v.business_date == day]

    def voided_on(self, day: date) -> set[str]:
        paid = {p.uuid for p in self.s.payments.values() if p.business_date == day}
        return {v.payment_uuid for v in self.s.voids if v.payment_uuid in paid}


class Drops(_R):
    def add(self, d: Any) -> int:
        self.s.drops.append(d)
        return len(self.s.drops)

    def for_shift(self, shift_id: int) -> list[Any]:
        return [d for d in self.s.drops if d.shift_id == shift_id]


class Counts(_R):
    def add(self, c: Any) -> None:
        self.s.counts[c.shift_id] = c

    def get(self, shift_id: int) -> Any:
        return self.s.counts.get(shift_id)


class Reprints(_R):
    def add(self, r: Any) -> int:
        self.s.reprints.append(r)
        return len(self.s.reprints)

    def count_for(self, uuid: str) -> int:
        return sum(1 for r in self.s.reprints if r.payment_uuid == uuid)

    def for_business_date(self, day: date) -> list[Any]:
        return [r for r in self.s.reprints if r.business_date == day]


class DayCloses(_R):
    def get(self, day: date) -> DayClose | None:
        return self.s.day_closes.get(day)

    def add(self, c: DayClose) -> None:
        self.s.day_closes[c.business_date] = c


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.state = State()
        self.log: list[str] = []
        self.commits = 0
        self._saved: State | None = None
        self.references, self.meta, self.payments = Refs(self), Meta(self), Payments(self)
        self.outbox, self.shifts, self.users = Outbox(self), Shifts(self), Users(self)
        self.audit, self.voids, self.drops = Audit(self), Voids(self), Drops(self)
        self.counts, self.reprints, self.day_closes = Counts(self), Reprints(self), DayCloses(self)

    def __enter__(self) -> FakeUnitOfWork:
        self._saved = copy.deepcopy(self.state)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None:
            self.state = self._saved
        self._saved = None

    @contextmanager
    def reading(self) -> Iterator[FakeUnitOfWork]:
        yield self

    def commit(self) -> None:
        self.commits += 1
        self._saved = None

    def rollback(self) -> None:
        if self._saved is not None:
            self.state = copy.deepcopy(self._saved)


def test_the_fake_rolls_back_unless_committed() -> None:
    uow = FakeUnitOfWork()
    with uow:
        uow.meta.set("a", "1")
    assert uow.meta.get("a") is None
    with uow:
        uow.meta.set("a", "1")
        uow.commit()
    assert uow.meta.get("a") == "1"
