"""Reports leave the console as CSV and XLSX that open right in a Spanish Excel, with an inline
SVG chart on screen, and the store's day close as a PDF."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from html import escape

from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from central.console.queries import Report, Row, StoreClose

MONEY_FORMAT = '"$"#,##0.00'


def pesos(value: Decimal | str) -> str:
    """$1,234.56, as money is written in Mexico (negative: -$1,234.56)."""
    value = Decimal(value)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def _table(report: Report) -> list[Row]:
    return [*report.rows, report.grand_total]


def report_csv(report: Report) -> bytes:
    """UTF-8 with a BOM (so Excel reads the accents), comma-separated as Excel in es-MX
    expects, CRLF, amounts as plain numbers with a decimal point so they stay numbers."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([report.label_header, "Suma de MONTO", "Cuenta de MONTO"])
    for row in _table(report):
        writer.writerow(["   " * row.level + row.label, f"{row.total:.2f}", row.count])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def report_xlsx(report: Report) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Reporte"
    sheet.append([report.title])
    sheet["A1"].font = Font(bold=True)
    sheet.append([report.label_header, "Suma de MONTO", "Cuenta de MONTO"])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in _table(report):
        sheet.append([row.label, row.total, row.count])
        line = sheet.max_row
        sheet.cell(line, 1).alignment = Alignment(indent=2 * row.level)
        sheet.cell(line, 2).number_format = MONEY_FORMAT
        if report.nested and row.level == 0:
            for col in (1, 2, 3):
                sheet.cell(line, col).font = Font(bold=True)
    if report.note:
        sheet.append([])
        sheet.append([report.note])
    sheet.column_dimensions["A"].width = 36
    sheet.column_dimensions["B"].width = 20
    sheet.column_dimensions["C"].width = 18
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def bar_chart(rows: list[Row], title: str) -> str:
    """Horizontal bars, one per row, sized by amount: inline SVG, no script."""
    if not rows:
        return ""
    bar_h, gap, bar_w, value_w = 18, 6, 420, 150
    # About 7 px a character at 12 px: room for the longest label (a store's full name).
    label_w = min(360, 16 + 7 * max(len(r.label) for r in rows))
    top = max((r.total for r in rows), default=Decimal(0)) or Decimal(1)
    height = len(rows) * (bar_h + gap) + gap
    width = label_w + bar_w + value_w
    parts = [
        f'<svg class="grafica" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>"
    ]
    for i, row in enumerate(rows):
        y = gap + i * (bar_h + gap)
        w = max(1, int(bar_w * max(row.total, Decimal(0)) / top))
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end" font-size="12">'
            f"{escape(row.label)}</text>"
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="#2d6a4f"/>'
            f'<text x="{label_w + w + 6}" y="{y + 13}" font-size="12">'
            f"{escape(pesos(row.total))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


class _Pdf(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.cell(0, 6, f"Página {self.page_no()}", align="C")


def day_close_pdf(stores: list[StoreClose], title: str, printed: str) -> bytes:
    """The store's day close on paper: every caja's Z, the store's totals, and what differs."""
    pdf = _Pdf(orientation="L", format="Letter")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    pdf.cell(0, 6, printed, new_x="LMARGIN", new_y="NEXT")
    widths = (46, 26, 16, 28, 28, 28, 26, 24, 22, 26, 0)
    headers = ("Caja", "Cierre", "Pagos", "Total Z", "Efectivo", "Tarjeta", "Anulado",
               "Sob./Falt.", "En central", "Total central", "Diferencias")  # fmt: skip
    for store in stores:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 11)
        state = "completo" if store.closed else "incompleto"
        pdf.cell(
            0, 7, f"{store.store_id} {store.name} (cierre {state})", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.set_font("Helvetica", "B", 8)
        for w, h in zip(widths, headers, strict=True):
            pdf.cell(w, 6, h, border=1)
        pdf.ln()
        pdf.set_font("Helvetica", size=8)
        for caja in store.cajas:
            cells = (
                caja.name,
                caja.closed_at.strftime("%H:%M") if caja.closed_at else "sin Z",
                str(caja.payments),
                pesos(caja.total),
                pesos(caja.cash),
                pesos(caja.card),
                pesos(caja.voided),
                pesos(caja.over_short),
                str(caja.central_payments),
                pesos(caja.central_total),
                "; ".join(caja.discrepancies) or "-",
            )
            for w, text in zip(widths, cells, strict=True):
                pdf.cell(w, 6, text, border=1)
            pdf.ln()
        pdf.set_font("Helvetica", "B", 8)
        totals = ("Total farmacia", "", str(store.total("payments")), pesos(store.total("total")),
                  pesos(store.total("cash")), pesos(store.total("card")),
                  pesos(store.total("voided")), pesos(store.total("over_short")),
                  str(store.total("central_payments")), pesos(store.total("central_total")), "")  # fmt: skip
        for w, text in zip(widths, totals, strict=True):
            pdf.cell(w, 6, text, border=1)
        pdf.ln()
    return bytes(pdf.output())
