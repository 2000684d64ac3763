"""The terminal service's own decisions, on fakes of its Protocols: when a scan asks central,
and why a receipt can say "aplicado en línea"."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from kiosk.app import Terminal
from kiosk.ports import Payment, PrintOutcome, ReceiptFacts
from kiosk.references import ReferenceRecord, issue
from kiosk.rules import NO_ENCONTRADA, Tender
from kiosk.settings import Settings


@dataclass
class Snapshot:
    online: bool | None


@dataclass
class FakeCentral:
    """Knows ``records``; ``down`` makes every question fail as a dropped link would."""

    records: dict[str, ReferenceRecord] = field(default_factory=dict)
    down: bool = False
    asked: list[str] = field(default_factory=list)
    online: bool | None = True

    @property
    def link(self) -> Any:
        central = self

        class Link:
            def snapshot(self) -> Snapshot:
                return Snapshot(central.online)

        return Link()

    def get_reference(self, reference: str) -> ReferenceRecord | None:
        self.asked.append(reference)
        if self.down:
            raise ConnectionError("sin red")
        return self.records.get(reference)


@dataclass
class FakeSync:
    """Confirms a payment when asked to send it, as central would."""

    uow: Any
    sends: list[int] = field(default_factory=list)

    @property
    def sender(self) -> Any:
        return self

    @property
    def clock_check(self) -> Any:
        class NoReading:
            def last(self) -> None:
                return None

        return NoReading()

    def send_now(self, entry_id: int) -> object:
        self.sends.append(entry_id)
        with self.uow:
            self.uow.outbox.mark_confirmed(entry_id, {"status": 201})
            self.uow.commit()
        return None

    def status(self) -> Any:
        @dataclass
        class View:
            online: bool | None = True
            clock_skew: timedelta | None = None
            clock_ok: bool = True
            last_error: str = ""

        return View()

    def nudge(self) -> None:
        pass


@dataclass
class FakePrinter:
    receipts: list[ReceiptFacts] = field(default_factory=list)
    drawer_pulses: int = 0

    def prepare(self) -> None:
        pass

    def print_receipt(self, receipt: ReceiptFacts) -> PrintOutcome:
        self.receipts.append(receipt)
        return PrintOutcome(True, False, "Impreso.")

    def print_report(self, report: Any) -> PrintOutcome:
        return PrintOutcome(True, False, "Impreso.")

    def print_document(self, document: object) -> PrintOutcome:
        return PrintOutcome(True, False, "Impreso.")

    def print_void(self, void: Any) -> PrintOutcome:
        return PrintOutcome(True, False, "Impreso.")

    def print_shift_report(self, report: Any) -> PrintOutcome:
        return PrintOutcome(True, False, "Impreso.")

    def print_drop_slip(self, slip: Any) -> PrintOutcome:
        return PrintOutcome(True, False, "Impreso.")

    def open_drawer(self) -> str | None:
        self.drawer_pulses += 1
        return None

    def retry_pending(self) -> int:
        return 0

    def pending_count(self) -> int:
        return 0


def terminal(world: Any, central: FakeCentral | None = None, sync: Any = None) -> Terminal:
    uow, clock, _ = world
    return Terminal(
        settings=Settings(),
        uow_factory=lambda: uow,
        clock=clock,
        central=central,
        sync=sync,
        printer=FakePrinter(),
    )


def pay_in_cash(t: Terminal, record: ReferenceRecord, cashier_id: int) -> Payment:
    return t.pay(
        reference=record.reference,
        tender=Tender(cash=record.amount),
        cashier_id=cashier_id,
        cash_received=record.amount,
        card_authorization="",
    )


def test_a_cached_referencia_is_judged_without_asking_central(world: Any) -> None:
    central = FakeCentral(down=True)
    t = terminal(world, central)
    scanned = t.scan(world[2].references[0].reference)
    assert scanned.verdict.ok and central.asked == []


def test_a_miss_is_asked_of_central_kept_and_judged_again(world: Any) -> None:
    uow, clock, _ = world
    record = ReferenceRecord(str(issue(clock().date(), 500)), Decimal("99.00"), clock().date())
    central = FakeCentral({record.reference: record})
    scanned = terminal(world, central).scan(record.reference)
    assert central.asked == [record.reference]
    assert scanned.verdict.ok and scanned.verdict.record.amount == Decimal("99.00")
    assert uow.references.get(record.reference) is not None


def test_central_unreachable_leaves_the_caches_verdict(world: Any) -> None:
    _, clock, _ = world
    central = FakeCentral(down=True, online=False)
    scanned = terminal(world, central).scan(str(issue(clock().date(), 501)))
    assert scanned.verdict.code == NO_ENCONTRADA and "Sin conexión" in scanned.verdict.message


def test_the_receipt_says_applied_online_because_it_is_sent_before_it_is_printed(
    world: Any,
) -> None:
    uow, _, seeded = world
    sync = FakeSync(uow)
    t = terminal(world, FakeCentral(), sync)
    paid = pay_in_cash(t, seeded.references[0], seeded.cashier_id)
    outcome = t.deliver_receipt(paid.uuid)
    assert len(sync.sends) == 1
    assert outcome.confirmed_online
    printer = t.printer
    assert isinstance(printer, FakePrinter)
    assert [r.confirmed_online for r in printer.receipts] == [True]
    assert t.last_print == outcome.printed


def test_without_a_sync_engine_the_receipt_says_it_will_be_sent(world: Any) -> None:
    _, _, seeded = world
    t = terminal(world)
    paid = pay_in_cash(t, seeded.references[1], seeded.cashier_id)
    assert not t.deliver_receipt(paid.uuid).confirmed_online
