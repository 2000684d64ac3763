"""Today's payments as the manager and the reprint picker list them: found by referencia,
affiliate or amount (as shown or as typed), and exported to a CSV that Excel in Spanish opens
right."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from kiosk import money
from kiosk.ports import Payment, UnitOfWork

COLUMNS = (
    "Folio",
    "Fecha",
    "Hora",
    "Referencia",
    "Afiliado",
    "Número de afiliado",
    "Cajero",
    "Importe",
    "Efectivo",
    "Tarjeta",
    "Autorización",
    "Efectivo recibido",  # with the change, what the drawer took: to reconcile it
    "Cambio entregado",
    "Estado",
)


@dataclass(frozen=True, slots=True)
class PaymentRow:
    payment: Payment
    member_name: str  # from the cached referencia ("" if it left the cache)
    member_number: str
    cashier: str  # the cashier's name
    voided: bool

    @property
    def state(self) -> str:
        return "CANCELADO" if self.voided else "COBRADO"


def rows_for_day(uow: UnitOfWork, day: date) -> list[PaymentRow]:
    """The day's payments by folio with affiliate and cashier: four queries, none per row."""
    with uow.reading():
        payments = uow.payments.for_business_date(day)
        members = uow.payments.members_on(day)
        voided = uow.voids.voided_on(day)
        names = {u.id: u.name for u in uow.users.all()}
    return [
        PaymentRow(
            p,
            *members.get(p.uuid, ("", "")),
            cashier=names.get(p.cashier_id, str(p.cashier_id)),
            voided=p.uuid in voided,
        )
        for p in payments
    ]


def _folded(text: str) -> str:
    """Lower case without accents: "Núñez" is found as "nunez"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def matches(row: PaymentRow, text: str) -> bool:
    """Whether ``text`` finds the row: part of its referencia (spaces ignored), part of the
    affiliate's name or number, its folio, or its amount as shown ($1,731.56) or typed
    (1731.56, 1731.5)."""
    needle = text.strip()
    if not needle:
        return True
    p = row.payment
    digits = "".join(needle.split())
    if digits.isdigit() and (digits in p.reference or digits == str(p.folio)):
        return True
    if digits == row.member_number and digits:
        return True
    try:
        if money.parse(needle) in (p.amount, p.cash, p.card):
            return True
    except money.MoneyError:
        pass
    return _folded(needle) in _folded(row.member_name)


def search(rows: Iterable[PaymentRow], text: str) -> list[PaymentRow]:
    return [r for r in rows if matches(r, text)]


def csv_bytes(rows: Sequence[PaymentRow]) -> bytes:
    """UTF-8 with BOM (Excel then reads the accents right), the referencia as text (a bare
    18-digit number becomes 2.61201E+17 in Excel), dates as DD/MM/AAAA."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for r in rows:
        p = r.payment
        writer.writerow(
            [
                p.folio,
                f"{p.paid_at:%d/%m/%Y}",
                f"{p.paid_at:%H:%M}",
                f'="{p.reference}"',
                r.member_name,
                r.member_number,
                r.cashier,
                p.amount,
                p.cash,
                p.card,
                p.card_authorization,
                p.cash_received,
                p.change_given,
                r.state,
            ]
        )
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")
