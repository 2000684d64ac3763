"""ESC/POS layouts: receipt, ficha, void, X and Z reports.

Each ``render_*`` writes one complete ticket (reset, code page, text, barcode, cut) to any
python-escpos ``Escpos`` instance. ``width`` is the number of font A columns of the paper
(48 on 80 mm with a TM-T20II, 42 on some 80 mm models, 32 on 58 mm): no printed line is ever
wider, double-width text counting twice.
"""

from __future__ import annotations

import textwrap
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from kiosk import money
from kiosk.references import Reference
from printing import barcodes
from printing.documents import (
    Document,
    DropData,
    ReceiptData,
    RefundData,
    ReportData,
    ReportLine,
    SlipData,
    VoidData,
    kind_label,
)

MEXICO_CITY = ZoneInfo("America/Mexico_City")
INSTITUTE = "Instituto de Seguridad Social del Estado de Guanajuato"
# First one the profile supports wins: CP858 is CP850 (all Spanish letters) plus the euro.
PREFERRED_CODEPAGES = ("CP858", "CP850", "CP1252", "ISO_8859-15", "CP437")
_PYTHON_CODECS = {
    "CP858": "cp858",
    "CP850": "cp850",
    "CP1252": "cp1252",
    "ISO_8859-15": "iso8859_15",
    "CP437": "cp437",
}
# Letters and signs NFKD does not reduce to ASCII, common in names and pasted text.
_FALLBACKS = str.maketrans(
    {
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "Ø": "O",
        "ø": "o",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "–": "-",
        "—": "-",
        "…": ".",
    }
)
DEFAULT_WIDTH = 48
BARCODE_HEIGHT_DOTS = 80


def columns_for(paper_width_mm: int, profile_columns: int | None = None) -> int:
    """Font A columns for the paper: 32 on 58 mm; on 80 mm what the profile says (48 or 42)."""
    if paper_width_mm == 58:
        return 32
    if paper_width_mm == 80:
        return profile_columns if profile_columns in (42, 48) else 48
    raise ValueError(f"Ancho de papel no soportado: {paper_width_mm} mm (use 58 u 80).")


def codepage_for(printer: Any) -> str:
    """The code page this profile will print Spanish with."""
    supported = printer.profile.get_code_pages()
    for name in PREFERRED_CODEPAGES:
        if name in supported:
            return name
    raise ValueError("El perfil de la impresora no tiene una página de códigos para español.")


def mask_member_number(number: str) -> str:
    """``12341234`` → ``****1234``: enough for the affiliate to recognise it, not to reuse it."""
    number = number.strip()
    return "****" + (number[-4:] if len(number) > 4 else "")


def _local(moment: datetime) -> datetime:
    # Naive times are taken as already local: the services keep aware times, tests may not.
    return (
        moment.replace(tzinfo=MEXICO_CITY)
        if moment.tzinfo is None
        else moment.astimezone(MEXICO_CITY)
    )


def fmt_datetime(moment: datetime) -> str:
    return f"{_local(moment):%d/%m/%Y %H:%M}"


def fmt_date(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def grouped(reference: str) -> str:
    return Reference(reference).grouped() if len(reference) == 18 else reference


class _Ticket:
    """Line-oriented writer that keeps every line within the paper's columns."""

    def __init__(self, printer: Any, width: int) -> None:
        if width < 24:
            raise ValueError("El papel debe tener al menos 24 columnas.")
        self.printer = printer
        self.width = width
        self.codepage = codepage_for(printer)
        self._codec = _PYTHON_CODECS[self.codepage]

    def begin(self) -> None:
        self.printer._raw(b"\x1b@")  # ESC @: forget whatever the last job left set
        # ESC @ also resets the printer's code page; make escpos send ESC t n again.
        self.printer.magic.encoding = None
        self.printer.charcode(self.codepage)

    def clean(self, text: str) -> str:
        """Printable in the code page: no control bytes (a name must not inject commands),
        unknown letters reduced to their base letter, else '?'."""
        out = []
        for char in text:
            if unicodedata.category(char)[0] == "C":
                out.append(" ")
                continue
            try:
                char.encode(self._codec)
                out.append(char)
            except UnicodeEncodeError:
                char = char.translate(_FALLBACKS)
                base = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
                out.append(base[:1] or "?")
        return "".join(out)

    def _style(self, *, align: str, bold: bool, double: bool, tall: bool) -> None:
        self.printer.set(
            align=align,
            bold=bold,
            normal_textsize=not (double or tall),
            double_width=double,
            double_height=double or tall,
        )

    def text(
        self,
        text: str,
        *,
        align: str = "left",
        bold: bool = False,
        double: bool = False,
        tall: bool = False,
    ) -> None:
        """Wrapped paragraph. ``double`` is double width and height; ``tall`` height only."""
        columns = self.width // 2 if double else self.width
        lines = textwrap.wrap(
            self.clean(text), columns, break_long_words=True, break_on_hyphens=False
        ) or [""]
        self._style(align=align, bold=bold, double=double, tall=tall)
        for line in lines:
            self.printer.text(line + "\n")
        if bold or double or tall:
            self._style(align="left", bold=False, double=False, tall=False)
        elif align != "left":
            self.printer.set(align="left")

    def pair(self, label: str, value: str, *, bold: bool = False) -> None:
        """``label ........ value`` on one line, or the value right-aligned below it."""
        label, value = self.clean(label), self.clean(value)
        if bold:
            self.printer.set(bold=True)
        if len(label) + 1 + len(value) <= self.width:
            self.printer.text(label + " " * (self.width - len(label) - len(value)) + value + "\n")
        else:
            for line in textwrap.wrap(label, self.width, break_long_words=True) or [""]:
                self.printer.text(line + "\n")
            for line in textwrap.wrap(value, self.width, break_long_words=True):
                self.printer.text(line.rjust(self.width) + "\n")
        if bold:
            self.printer.set(bold=False)

    def money(self, label: str, amount: Decimal, *, bold: bool = False) -> None:
        self.pair(label, money.fmt(amount), bold=bold)

    def rule(self, char: str = "-") -> None:
        self.printer.text(char * self.width + "\n")

    def feed(self, lines: int = 1) -> None:
        self.printer.text("\n" * lines)

    def barcode(self, reference: str) -> None:
        """Code 128 of the referencia, centred, its digits printed by us (not as HRI)."""
        digits = str(reference)
        # 11 modules per pair in code set C; 3 dots fit 576-dot paper, 2 dots fit 384-dot paper.
        module = 3 if self.width >= 42 else 2
        if self.printer.profile.supports("barcodeB"):
            # The public barcode() prints "Using hardware barcode renderer" to stdout, and
            # this runs on a worker thread; the profile was checked above.
            self.printer._hw_barcode(
                barcodes.code128_data(digits),
                "CODE128",
                height=BARCODE_HEIGHT_DOTS,
                width=module,
                pos="OFF",
                font="A",
                align_ct=True,
                function_type="B",
                check=True,
            )
            # GS k leaves the print position at the start of a new line: no LF needed.
        else:
            image = barcodes.barcode_image(digits, module_px=module, height_px=BARCODE_HEIGHT_DOTS)
            self.printer.image(image, center=True)
        self.printer.set(align="left")
        self.text(grouped(digits), align="center", bold=True)

    def header(self, store_name: str, title: str) -> None:
        self.text(INSTITUTE.upper(), align="center", bold=True)
        self.text(store_name, align="center")
        self.feed()
        self.text(title, align="center", bold=True, tall=True)

    def reprint_mark(self, count: int) -> None:
        if count > 0:
            self.text(f"REIMPRESIÓN {count}", align="center", bold=True, double=True)

    def end(self) -> None:
        self.feed()
        self.printer.cut()


def _amount_block(t: _Ticket, amount: Decimal) -> None:
    t.text("IMPORTE", align="center")
    t.text(money.fmt(amount), align="center", bold=True, double=True)
    t.text(money.in_words(amount), align="center")


def render_receipt(printer: Any, data: ReceiptData, width: int = DEFAULT_WIDTH) -> None:
    t = _Ticket(printer, width)
    t.begin()
    t.header(data.store_name, "COMPROBANTE DE PAGO")
    t.reprint_mark(data.reprint_count)
    t.rule()
    t.pair("Folio:", data.folio)
    t.pair("Fecha:", fmt_datetime(data.paid_at))
    t.pair("Caja:", data.terminal)
    t.pair("Cajero:", data.cashier)
    t.rule()
    t.text("Afiliado:")
    t.text(data.member_name, bold=True)
    t.pair("Número de afiliado:", mask_member_number(data.member_number))
    t.pair("Préstamo:", data.loan_id)
    t.pair("Tipo de pago:", kind_label(data.kind))
    if data.concept:
        t.text(f"Concepto: {data.concept}")
    t.rule()
    t.text("Referencia de pago:", align="center")
    t.barcode(data.reference)
    t.rule()
    _amount_block(t, data.amount)
    t.rule()
    if data.cash_applied > 0:
        t.money("Efectivo aplicado:", data.cash_applied)
        t.money("Efectivo recibido:", data.cash_received)
        t.money("Cambio:", data.change)
    if data.card_amount > 0:
        t.money("Tarjeta:", data.card_amount)
        if data.card_authorization:
            t.pair("Autorización:", data.card_authorization)
    t.rule()
    if data.confirmed_online:
        t.text("Pago aplicado en línea", align="center", bold=True)
    else:
        t.text("Pago registrado; se enviará al restablecer la conexión", align="center", bold=True)
    t.text("Conserve este comprobante.", align="center")
    t.end()


def render_slip(printer: Any, data: SlipData, width: int = DEFAULT_WIDTH) -> None:
    t = _Ticket(printer, width)
    t.begin()
    t.header(data.store_name, "FICHA DE PAGO")
    if data.issued_at is not None:
        t.pair("Emitida:", fmt_datetime(data.issued_at))
    t.rule()
    t.text("Afiliado:")
    t.text(data.member_name, bold=True)
    t.pair("Número de afiliado:", mask_member_number(data.member_number))
    t.pair("Préstamo:", data.loan_id)
    t.pair("Tipo de pago:", kind_label(data.kind))
    if data.quincenas:
        t.text("Quincenas: " + ", ".join(data.quincenas))
    if data.concept:
        t.text(f"Concepto: {data.concept}")
    t.rule()
    _amount_block(t, data.amount)
    t.rule()
    t.text("Referencia de pago:", align="center")
    t.barcode(data.reference)
    t.rule()
    t.text(
        f"Válida únicamente el {fmt_date(data.issued_on)} por el monto exacto.",
        align="center",
        bold=True,
    )
    t.text(f"Horario de pago: {data.valid_hours}, {data.valid_days}.")
    t.text(
        f"Pago en efectivo hasta {money.fmt(data.cash_cap)} por ficha; "
        "el resto puede pagarse con tarjeta."
    )
    t.text("Páguela en cualquier farmacia ISSEG, sin comisión.")
    if data.replaces_reference:
        # The old referencia on a line of its own: wrapped, its digit groups would split.
        t.text("Esta ficha sustituye a la referencia")
        t.text(grouped(data.replaces_reference), align="center", bold=True)
        t.text("que ya no puede pagarse.")
    t.end()


def render_void(printer: Any, data: VoidData, width: int = DEFAULT_WIDTH) -> None:
    t = _Ticket(printer, width)
    t.begin()
    t.header(data.store_name, "CANCELACIÓN DE PAGO")
    t.reprint_mark(data.reprint_count)
    t.rule()
    t.pair("Folio de cancelación:", data.folio)
    t.pair("Folio del pago:", data.original_folio)
    t.pair("Fecha:", fmt_datetime(data.voided_at))
    t.pair("Caja:", data.terminal)
    t.pair("Cajero:", data.cashier)
    if data.requested_by:
        t.pair("Solicitó:", data.requested_by)
    t.pair("Autorizó:", data.manager)
    t.rule()
    t.text("Afiliado:")
    t.text(data.member_name, bold=True)
    t.pair("Número de afiliado:", mask_member_number(data.member_number))
    t.rule()
    t.text("Referencia cancelada:", align="center")
    t.barcode(data.reference)
    t.rule()
    t.text("IMPORTE CANCELADO", align="center")
    t.text(money.fmt(data.amount), align="center", bold=True, double=True)
    t.text(money.in_words(data.amount), align="center")
    if data.cash_refunded > 0:
        t.money("Efectivo devuelto:", data.cash_refunded)
    if data.card_reversed > 0:
        t.money("Devolución a tarjeta:", data.card_reversed)
    t.text(f"Motivo: {data.reason}")
    t.rule()
    if data.confirmed_online:
        t.text("Cancelación aplicada en línea", align="center", bold=True)
    else:
        t.text(
            "Cancelación registrada; se enviará al restablecer la conexión",
            align="center",
            bold=True,
        )
    t.feed()
    t.text("Firma del gerente:")
    t.feed(2)
    t.rule("_")
    t.end()


def render_refund(printer: Any, data: RefundData, width: int = DEFAULT_WIDTH) -> None:
    t = _Ticket(printer, width)
    t.begin()
    t.header(data.store_name, "DEVOLUCIÓN AL AFILIADO")
    t.rule()
    t.pair("Caso del instituto:", str(data.case_id))
    t.pair("Folio del pago:", data.original_folio)
    t.pair("Referencia:", grouped(data.reference))
    t.pair("Cobrado el:", fmt_datetime(data.paid_at))
    t.pair("Devuelto el:", fmt_datetime(data.refunded_at))
    t.pair("Caja:", data.terminal)
    t.pair("Entregó:", data.manager)
    t.pair("Autorizó (ISSEG):", data.resolved_by)
    t.rule()
    t.text("IMPORTE DEVUELTO EN EFECTIVO", align="center")
    t.text(money.fmt(data.amount), align="center", bold=True, double=True)
    t.text(money.in_words(data.amount), align="center")
    t.text(f"Motivo: {data.reason}")
    t.rule()
    t.text("Recibí de conformidad el importe indicado.")
    t.feed(2)
    t.text("Nombre y firma del afiliado:")
    t.feed(2)
    t.rule("_")
    t.end()


def _report_lines(
    t: _Ticket, title: str, lines: tuple[ReportLine, ...], none: str = "Ninguna."
) -> None:
    t.text(f"{title} ({len(lines)})", bold=True)
    if not lines:
        t.text(none)  # agrees with the title: "Ninguna" cancelación, "Ninguno" pago
        return
    for line in lines:
        when = f" {fmt_datetime(line.when)[-5:]}" if line.when else ""
        t.money(f"Folio {line.folio}{when}", line.amount)
        if line.reference:
            t.text(f"  Ref. {grouped(line.reference)}")
        if line.note:
            t.text(f"  {line.note}")
    t.money("Total:", sum((line.amount for line in lines), Decimal("0.00")))


REPORT_TITLES = {
    "X": "REPORTE X (PARCIAL)",
    "Z": "REPORTE Z (CORTE DE CAJA)",
    "TURNO": "CORTE DE TURNO",
}


def render_report(printer: Any, data: ReportData, width: int = DEFAULT_WIDTH) -> None:
    if data.kind not in REPORT_TITLES:
        raise ValueError(f"Tipo de reporte desconocido: {data.kind!r} (use X, Z o TURNO).")
    t = _Ticket(printer, width)
    t.begin()
    title = REPORT_TITLES[data.kind]
    t.header(data.store_name, title)
    t.rule()
    t.pair("Día:", fmt_date(data.business_date))
    t.pair("Caja:", data.terminal)
    if data.cashier:
        t.pair("Cajero:", data.cashier)
    if data.manager:
        t.pair("Gerente:", data.manager)
    if data.opened_at:
        t.pair("Apertura:", fmt_datetime(data.opened_at))
    if data.closed_at:
        t.pair("Cierre:", fmt_datetime(data.closed_at))
    t.pair("Impreso:", fmt_datetime(data.generated_at))
    t.rule()
    t.text("PAGOS POR FORMA DE PAGO", bold=True)
    for total in data.totals_by_method:
        t.money(f"{total.method} ({total.count})", total.amount)
    t.money(f"Total de pagos ({data.payments_count})", data.payments_total, bold=True)
    if data.shifts:
        t.rule()
        t.text("TURNOS", bold=True)
        for shift in data.shifts:
            t.money(f"{shift.terminal} {shift.cashier} ({shift.payments})", shift.total)
            if shift.over_short is not None:
                t.money("  Sobrante/faltante:", shift.over_short)
    t.rule()
    t.text("EFECTIVO", bold=True)
    t.money("Fondo de caja:", data.opening_float)
    t.money("Efectivo recibido:", data.cash_taken)
    t.money("Cambio entregado:", -data.change_given)
    t.money("Retiros:", -data.cash_drops)
    t.money("Efectivo esperado:", data.expected_cash, bold=True)
    if data.rounding:
        t.money("Redondeo a favor de afiliados:", data.rounding)
    if data.denominations:
        t.rule()
        t.text("CONTEO POR DENOMINACIÓN", bold=True)
        for piece in data.denominations:
            t.pair(
                f"{piece.form.capitalize()} {money.fmt(piece.value)} x {piece.count}",
                money.fmt(piece.amount),
            )
    if data.counted_cash is not None:
        t.money("Efectivo contado:", data.counted_cash, bold=True)
        difference = data.over_short
        assert difference is not None
        if difference > 0:
            label = "SOBRANTE:"
        elif difference < 0:
            label = "FALTANTE:"
        else:
            label = "Sin diferencia:"
        t.money(label, abs(difference), bold=True)
    if data.kind != "TURNO":
        t.rule()
        # To match against the bank terminal's batch, authorization by authorization.
        _report_lines(t, "PAGOS CON TARJETA", data.card_payments, "Ninguno.")
    t.rule()
    _report_lines(t, "RETIROS A CAJA FUERTE", data.drops, "Ninguno.")
    t.rule()
    _report_lines(t, "CANCELACIONES", data.voids)
    t.rule()
    _report_lines(t, "REIMPRESIONES", data.reprints)
    t.rule()
    _report_lines(t, "PAGOS SIN CONFIRMAR POR CENTRAL", data.unconfirmed, "Ninguno.")
    t.rule()
    if data.kind != "X":
        t.feed()
        t.text("Firma del cajero:")
        t.feed(2)
        t.rule("_")
        t.text("Firma del gerente:")
        t.feed(2)
        t.rule("_")
    t.end()


def render_drop(printer: Any, data: DropData, width: int = DEFAULT_WIDTH) -> None:
    t = _Ticket(printer, width)
    t.begin()
    t.header(data.store_name, "RETIRO DE EFECTIVO")
    t.rule()
    t.pair("Folio del retiro:", data.folio)
    t.pair("Fecha:", fmt_datetime(data.at))
    t.pair("Caja:", data.terminal)
    t.pair("Turno:", data.shift)
    t.pair("Cajero:", data.cashier)
    t.pair("Retiró:", data.dropped_by)
    t.rule()
    _amount_block(t, data.amount)
    t.rule()
    t.text("Este comprobante va con el efectivo a la caja fuerte.", align="center")
    t.feed()
    t.text("Entregó (cajero):")
    t.feed(2)
    t.rule("_")
    t.text("Recibió (gerente):")
    t.feed(2)
    t.rule("_")
    t.end()


def render(printer: Any, data: Document, width: int = DEFAULT_WIDTH) -> None:
    """Whichever layout fits the data."""
    if isinstance(data, ReceiptData):
        render_receipt(printer, data, width)
    elif isinstance(data, SlipData):
        render_slip(printer, data, width)
    elif isinstance(data, VoidData):
        render_void(printer, data, width)
    elif isinstance(data, RefundData):
        render_refund(printer, data, width)
    elif isinstance(data, ReportData):
        render_report(printer, data, width)
    elif isinstance(data, DropData):
        render_drop(printer, data, width)
    else:
        raise TypeError(f"documento desconocido: {type(data).__name__}")


def document_kind(data: Document) -> str:
    """Short Spanish name of the document, for the queue and the screen."""
    if isinstance(data, ReceiptData):
        return "comprobante"
    if isinstance(data, SlipData):
        return "ficha"
    if isinstance(data, VoidData):
        return "cancelacion"
    if isinstance(data, DropData):
        return "retiro"
    if isinstance(data, RefundData):
        return "devolucion"
    return f"reporte_{data.kind.lower()}"
