"""The terminal's printer (``kiosk.ports.Printer``): the core's receipts and reports laid out
as printing's documents, printed through the durable queue.

The print service (and with it escpos) is built on the first print, so a window shows before
escpos is imported; until then the queue folder alone says what waits.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from kiosk.records import PrintOutcome, ReceiptFacts
from kiosk.refunds import RefundFacts
from kiosk.reports import DayReport
from kiosk.settings import Settings
from kiosk.shifts import (
    DENOMINATIONS,
    DropLine,
    DropSlip,
    ReprintLine,
    ShiftReport,
    VoidLine,
)
from kiosk.voids import VoidFacts
from printing.documents import (
    DenominationCount,
    Document,
    DropData,
    MethodTotal,
    ReceiptData,
    RefundData,
    ReportData,
    ReportLine,
    ShiftSummary,
    VoidData,
)
from printing.spool import Spool

if TYPE_CHECKING:
    from printing.service import PrintResult, PrintService

log = logging.getLogger(__name__)


def receipt_document(r: ReceiptFacts) -> ReceiptData:
    p, record = r.payment, r.record
    return ReceiptData(
        store_name=r.store_name,
        folio=str(p.folio),
        paid_at=p.paid_at,
        terminal=r.terminal_name,
        cashier=r.cashier_name,
        member_name=record.member_name if record else "",
        member_number=record.member_number if record else "",
        loan_id=record.loan_id if record else "",
        kind=record.kind if record else "",
        concept=record.concept if record else "",
        reference=p.reference,
        amount=p.amount,
        cash_applied=p.cash,
        cash_received=p.cash_received,
        change=p.change_given,
        card_amount=p.card,
        card_authorization=p.card_authorization,
        confirmed_online=r.confirmed_online,
        reprint_count=r.reprints,
    )


def report_document(r: DayReport) -> ReportData:
    f = r.figures
    return ReportData(
        kind=r.kind,
        store_name=r.store_name,
        terminal=r.terminal_name,
        business_date=f.business_date,
        generated_at=r.generated_at,
        cashier=", ".join(r.cashiers),
        manager=r.manager,
        opened_at=r.opened_at,
        closed_at=f.closed_at,
        totals_by_method=(
            MethodTotal("Efectivo", f.cash_payments, f.cash_total),
            MethodTotal("Tarjeta", f.card_payments, f.card_total),
        ),
        payments_count=f.payments,
        payments_total=f.total,
        opening_float=r.opening_float,
        cash_taken=f.cash_received,
        change_given=f.change_given,
        cash_drops=r.drops,
        rounding=f.change_given - (f.cash_received - f.cash_total),
        drops=tuple(_drop_line(d) for d in r.drop_lines),
        denominations=_denominations(r.pieces),
        counted_cash=r.counted_cash,
        shifts=tuple(
            ShiftSummary(f"Turno {s.shift_id}", s.cashier, s.payments, s.total, s.over_short)
            for s in r.shifts
        ),
        card_payments=tuple(
            ReportLine(str(c.folio), c.reference, c.amount, note=f"Autorización: {c.authorization}")
            for c in f.card_lines
        ),
        voids=_void_lines(f.voids),
        reprints=_reprint_lines(r.reprints),
        unconfirmed=tuple(
            ReportLine(str(u.folio), u.reference, u.amount, u.paid_at, "por confirmar")
            for u in f.unconfirmed
        ),
    )


def _void_lines(voids: Sequence[VoidLine]) -> tuple[ReportLine, ...]:
    return tuple(ReportLine(str(v.folio), v.reference, v.amount, v.at, v.reason) for v in voids)


def _reprint_lines(reprints: Sequence[ReprintLine]) -> tuple[ReportLine, ...]:
    return tuple(
        ReportLine(str(x.folio), x.reference, x.amount, x.at, f"Reimprimió: {x.who}")
        for x in reprints
    )


def _denominations(pieces: Mapping[str, int]) -> tuple[DenominationCount, ...]:
    return tuple(
        DenominationCount(DENOMINATIONS[k], n, "billete" if k.startswith("b") else "moneda")
        for k, n in pieces.items()
    )


def _drop_line(d: DropLine) -> ReportLine:
    return ReportLine(str(d.id), "", d.amount, d.at, f"Retiró: {d.who}")


def refund_document(f: RefundFacts) -> RefundData:
    r = f.refund
    return RefundData(
        store_name=f.store_name,
        case_id=r.case_id,
        refunded_at=f.at,
        terminal=f.terminal_name,
        manager=f.manager,
        original_folio=r.payment_uuid,
        reference=r.reference,
        paid_at=r.paid_at,
        amount=r.amount,
        reason=r.reason,
        resolved_by=r.resolved_by,
    )


def void_document(v: VoidFacts) -> VoidData:
    p, record = v.payment, v.record
    return VoidData(
        store_name=v.store_name,
        folio=str(v.void.id),
        voided_at=v.void.at,
        terminal=v.terminal_name,
        cashier=v.cashier,
        manager=v.authorized_by,
        original_folio=str(p.folio),
        reference=p.reference,
        member_name=record.member_name if record else "",
        member_number=record.member_number if record else "",
        amount=p.amount,
        reason=v.void.reason,
        cash_refunded=p.drawer_cash,
        card_reversed=p.card,
        confirmed_online=v.confirmed,
        requested_by=v.requested_by,
    )


def shift_report_document(r: ShiftReport) -> ReportData:
    f, s = r.figures, r.figures.shift
    return ReportData(
        kind="TURNO",
        store_name=r.store_name,
        terminal=r.terminal_name,
        business_date=s.business_date,
        generated_at=r.generated_at,
        cashier=f.cashier,
        opened_at=s.opened_at,
        closed_at=s.closed_at,
        totals_by_method=(
            MethodTotal("Efectivo", f.cash_payments, f.total - f.card_total),
            MethodTotal("Tarjeta", f.card_payments, f.card_total),
        ),
        payments_count=f.payments,
        payments_total=f.total,
        opening_float=s.opening_float,
        cash_taken=f.cash_received,
        change_given=f.change_given,
        cash_drops=f.cash_drops,
        rounding=f.rounding,
        drops=tuple(_drop_line(d) for d in f.drops),
        denominations=_denominations(
            {k: f.count.pieces[k] for k in DENOMINATIONS if f.count and f.count.pieces.get(k)}
        ),
        counted_cash=f.counted_cash,
        voids=_void_lines(f.voids),
        reprints=_reprint_lines(f.reprints),
    )


def drop_document(d: DropSlip) -> DropData:
    return DropData(
        store_name=d.store_name,
        folio=str(d.drop.id),
        at=d.drop.at,
        terminal=d.terminal_name,
        shift=str(d.drop.shift_id),
        cashier=d.cashier,
        dropped_by=d.drop.who,
        amount=d.drop.amount,
    )


def outcome(result: PrintResult) -> PrintOutcome:
    return PrintOutcome(result.printed, result.queued, result.message)


class TerminalPrinter:
    def __init__(self, settings: Settings, service: PrintService | None = None) -> None:
        self._settings = settings
        self._service = service
        self._spool: Spool | None = service.spool if service is not None else None
        self._lock = threading.Lock()

    def _queue(self) -> Spool:
        with self._lock:
            if self._spool is None:
                self._spool = Spool(self._settings.data_path / "cola-impresion")
            return self._spool

    def service(self) -> PrintService:
        spool = self._queue()
        with self._lock:
            if self._service is None:
                from printing.service import PrintService

                self._service = PrintService.from_settings(self._settings, spool)
            return self._service

    def prepare(self) -> None:
        self.service()

    def print_document(self, document: object) -> PrintOutcome:
        return outcome(self.service().print_document(_document(document)))

    def print_receipt(self, receipt: ReceiptFacts) -> PrintOutcome:
        return self.print_document(receipt_document(receipt))

    def print_report(self, report: DayReport) -> PrintOutcome:
        return self.print_document(report_document(report))

    def print_void(self, void: VoidFacts) -> PrintOutcome:
        return self.print_document(void_document(void))

    def print_shift_report(self, report: ShiftReport) -> PrintOutcome:
        return self.print_document(shift_report_document(report))

    def print_drop_slip(self, slip: DropSlip) -> PrintOutcome:
        return self.print_document(drop_document(slip))

    def print_refund(self, refund: RefundFacts) -> PrintOutcome:
        return self.print_document(refund_document(refund))

    def open_drawer(self) -> str | None:
        return self.service().open_drawer()

    def retry_pending(self) -> int:
        return self.service().retry_pending()

    def pending_count(self) -> int:
        if self._service is not None:
            return len(self._service.pending())
        try:
            return len(self._queue().pending())
        except Exception:  # noqa: BLE001 - the status bar must not fail on the queue
            log.exception("no se pudo leer la cola de impresión")
            return 0


def _document(document: object) -> Document:
    if not isinstance(document, Document):  # one list of what prints: printing.documents
        raise TypeError(f"no es un documento imprimible: {type(document).__name__}")
    return document
