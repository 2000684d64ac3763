"""Referencias de pago: format, check digits, and what the local cache knows of one.

Format (18 ASCII digits, nothing else, because a keyboard-wedge scanner types digits
reliably and little else)::

    YYMMDD  SSSSSSSSSS  CC
    issue   serial      check digits (ISO 7064 MOD 97-10 over the first 16 digits)

* ``YYMMDD`` is the local date (America/Mexico_City) the ficha was issued: a ficha is valid
  only that day, and the date can be read without a lookup.
* ``SSSSSSSSSS`` is a serial that central assigns (unique per issue day).
* ``CC`` makes the whole number ≡ 1 (mod 97). MOD 97-10 catches every single-digit
  substitution and every transposition of adjacent digits, check digits included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

LENGTH = 18
SERIAL_DIGITS = 10
MAX_SERIAL = 10**SERIAL_DIGITS - 1

VIGENTE = "VIGENTE"
PAGADA = "PAGADA"
SUSTITUIDA = "SUSTITUIDA"
CANCELADA = "CANCELADA"
CADUCADA = "CADUCADA"
STATUSES = (VIGENTE, PAGADA, SUSTITUIDA, CANCELADA, CADUCADA)

# What a scanner may wrap around the digits: spaces, tabs, CR/LF.
_WRAPPING = " \t\r\n"
_DIGITS = re.compile(r"[0-9]+")


class InvalidReference(ValueError):
    """A malformed referencia. ``str()`` is the Spanish message for the cashier."""

    code = "REFERENCIA_INVALIDA"


class Reference(str):
    """A well-formed referencia: a ``str`` of 18 digits that also knows its parts."""

    @property
    def issued_on(self) -> date:
        return _date_of(self[:6])

    @property
    def serial(self) -> int:
        return int(self[6:16])

    def grouped(self) -> str:
        """Digits grouped for reading aloud and typing: ``261122 00000 00042 87``."""
        return f"{self[:6]} {self[6:11]} {self[11:16]} {self[16:]}"


def check_digits(body: str) -> str:
    """The two MOD 97-10 check digits for a string of digits."""
    return f"{98 - (int(body) * 100) % 97:02d}"


def _date_of(yymmdd: str) -> date:
    return date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6]))


def issue(issued_on: date, serial: int) -> Reference:
    """Build the referencia for ``serial`` issued on local date ``issued_on``."""
    if not 2000 <= issued_on.year <= 2099:
        raise ValueError("la fecha de emisión debe estar entre 2000 y 2099")
    if not 0 <= serial <= MAX_SERIAL:
        raise ValueError(f"el folio debe estar entre 0 y {MAX_SERIAL}")
    body = f"{issued_on:%y%m%d}{serial:0{SERIAL_DIGITS}d}"
    return Reference(body + check_digits(body))


def _is_product_code(digits: str) -> bool:
    """An EAN-8, UPC-A or EAN-13 with a right GS1 check digit: what a pharmacy's scanner
    reads off a box of medicine."""
    if len(digits) not in (8, 12, 13):
        return False
    body = [int(d) for d in reversed(digits[:-1])]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(body))
    return (10 - total % 10) % 10 == int(digits[-1])


def parse(text: str) -> Reference:
    """Validate what the scanner or the cashier typed; raise InvalidReference otherwise."""
    if not isinstance(text, str):
        raise InvalidReference("La referencia debe ser texto.")
    cleaned = text.strip(_WRAPPING)
    if not cleaned:
        raise InvalidReference("No se leyó ninguna referencia. Escanee o escriba la ficha.")
    if not _DIGITS.fullmatch(cleaned):
        raise InvalidReference(
            "La referencia solo lleva dígitos del 0 al 9. Revise lo escaneado o escrito."
        )
    if len(cleaned) != LENGTH:
        if _is_product_code(cleaned):
            raise InvalidReference(
                "Se leyó el código de barras de un producto, no una ficha de pago del ISSEG. "
                "Escanee el código de la ficha."
            )
        raise InvalidReference(
            f"La referencia debe tener {LENGTH} dígitos y se leyeron {len(cleaned)}."
        )
    if int(cleaned) % 97 != 1:
        raise InvalidReference(
            "Los dígitos verificadores no coinciden: la referencia está mal escrita o mal leída."
        )
    try:
        _date_of(cleaned[:6])
    except ValueError:
        raise InvalidReference("La referencia no contiene una fecha de emisión válida.") from None
    return Reference(cleaned)


@dataclass(frozen=True, slots=True)
class ReferenceRecord:
    """What the terminal's cache knows of one referencia (mirrors central's feed).

    ``local_payment_uuid`` is this terminal's own knowledge that it took the payment: it is
    kept apart from central's ``status`` so that a delta feed still saying VIGENTE (central has
    not received the payment yet) can never make a referencia payable twice here.
    """

    reference: str
    amount: Decimal
    issued_on: date
    status: str = VIGENTE
    member_number: str = ""
    member_name: str = ""
    loan_id: str = ""
    kind: str = ""
    concept: str = ""
    version: int = 0
    local_payment_uuid: str | None = field(default=None)

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError("ReferenceRecord.amount debe ser Decimal")
        if self.status not in STATUSES:
            raise ValueError(f"estado de referencia desconocido: {self.status}")
