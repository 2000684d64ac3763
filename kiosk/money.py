"""Money as ``Decimal`` pesos: parsing, rounding, formatting and amounts in words.

Floats are refused everywhere: a float cannot hold most centavo amounts exactly, and a
cashier's drawer must add up to the centavo.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

CENTAVO = Decimal("0.01")
ZERO = Decimal("0.00")
# The smallest coin in circulation (SPEC 2.4): cash changes hands in multiples of it.
SMALLEST_COIN = Decimal("0.10")
# Far above anything a pharmacy till handles, far below what Decimal's context can hold: an
# amount past it is a mistake (a barcode in a money field), never arithmetic to attempt.
MAX_AMOUNT = Decimal("999999999.99")
_MAX_INTEGER_DIGITS = 9


class MoneyError(ValueError):
    """A malformed amount; ``str()`` is a Spanish message for the person who typed it."""


def to_decimal(value: Decimal | int | str) -> Decimal:
    """Coerce to Decimal, refusing floats and booleans (a programming error)."""
    if isinstance(value, (bool, float)):
        raise TypeError("el dinero nunca se maneja como float; use Decimal o centavos enteros")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        return parse(value)
    raise TypeError(f"tipo de importe no soportado: {type(value).__name__}")


def round_centavo(value: Decimal) -> Decimal:
    """Round half up to the centavo, as the institute does."""
    if not isinstance(value, Decimal):
        raise TypeError("round_centavo espera Decimal")
    return value.quantize(CENTAVO, rounding=ROUND_HALF_UP)


def round_up_centavo(value: Decimal) -> Decimal:
    """Round towards +infinity to the centavo (renewal: "redondeado hacia arriba")."""
    return value.quantize(CENTAVO, rounding=ROUND_CEILING)


def to_centavos(value: Decimal) -> int:
    """Exact integer centavos; refuses fractions of a centavo instead of hiding them."""
    q = value * 100
    if q != q.to_integral_value():
        raise MoneyError(f"El importe {value} tiene fracciones de centavo.")
    return int(q)


def from_centavos(centavos: int) -> Decimal:
    return (Decimal(centavos) / 100).quantize(CENTAVO)


_AMOUNT_RE = re.compile(r"^\$?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]{1,2})?$")


def parse(text: str) -> Decimal:
    """Parse what a person types: ``540``, ``540.5``, ``$1,540.50``. At most two decimals.

    Raises MoneyError with a Spanish message; never returns a negative amount.
    """
    if not isinstance(text, str):
        raise TypeError("parse espera texto")
    cleaned = text.strip().replace(" ", "")
    if not cleaned:
        raise MoneyError("Escriba un importe.")
    if cleaned.startswith("-"):
        raise MoneyError("El importe no puede ser negativo.")
    if not _AMOUNT_RE.match(cleaned):
        raise MoneyError(
            f"«{text.strip()[:20]}» no es un importe válido: use números con hasta dos decimales."
        )
    digits = cleaned.lstrip("$").replace(",", "")
    if len(digits.split(".")[0].lstrip("0")) > _MAX_INTEGER_DIGITS:
        raise MoneyError(
            f"«{text.strip()[:20]}» es demasiado grande para ser un importe "
            "(¿se escaneó un código en este campo?)."
        )
    try:
        value = Decimal(digits)
    except InvalidOperation as exc:  # pragma: no cover - the regex already filters
        raise MoneyError(f"«{text.strip()[:20]}» no es un importe válido.") from exc
    return value.quantize(CENTAVO)


def checked(value: object, what: str = "El importe") -> Decimal:
    """``value`` as an amount a person could have meant: a finite ``Decimal`` (or text that
    parses), not negative, in whole centavos, at most ``MAX_AMOUNT``. Anything else raises
    MoneyError with a Spanish message naming ``what``, never ``InvalidOperation``."""
    if isinstance(value, str):
        value = parse(value)
    if not isinstance(value, Decimal) or not value.is_finite():
        raise MoneyError(f"{what} no es un importe válido.")
    if value < 0:
        raise MoneyError(f"{what} no puede ser negativo.")
    if value > MAX_AMOUNT:
        raise MoneyError(f"{what} ({value:.0f}) es demasiado grande para ser un importe.")
    if value != value.quantize(CENTAVO):
        raise MoneyError(f"{what} tiene fracciones de centavo.")
    return value


def round_up_to_coin(value: Decimal) -> Decimal:
    """Up to the next multiple of ``SMALLEST_COIN``: change the drawer can actually give,
    rounded in the affiliate's favour."""
    coins = (value / SMALLEST_COIN).to_integral_value(rounding=ROUND_CEILING)
    return (coins * SMALLEST_COIN).quantize(CENTAVO)


def fmt(value: Decimal) -> str:
    """``Decimal("30000")`` → ``$30,000.00``; negatives as ``-$12.50``."""
    v = round_centavo(to_decimal(value))
    sign = "-" if v < 0 else ""
    return f"{sign}${abs(v):,.2f}"


_UNITS = [
    "",
    "UN",
    "DOS",
    "TRES",
    "CUATRO",
    "CINCO",
    "SEIS",
    "SIETE",
    "OCHO",
    "NUEVE",
    "DIEZ",
    "ONCE",
    "DOCE",
    "TRECE",
    "CATORCE",
    "QUINCE",
    "DIECISÉIS",
    "DIECISIETE",
    "DIECIOCHO",
    "DIECINUEVE",
    "VEINTE",
    "VEINTIÚN",
    "VEINTIDÓS",
    "VEINTITRÉS",
    "VEINTICUATRO",
    "VEINTICINCO",
    "VEINTISÉIS",
    "VEINTISIETE",
    "VEINTIOCHO",
    "VEINTINUEVE",
]
_TENS = ["", "", "", "TREINTA", "CUARENTA", "CINCUENTA", "SESENTA", "SETENTA", "OCHENTA", "NOVENTA"]
_HUNDREDS = [
    "",
    "CIENTO",
    "DOSCIENTOS",
    "TRESCIENTOS",
    "CUATROCIENTOS",
    "QUINIENTOS",
    "SEISCIENTOS",
    "SETECIENTOS",
    "OCHOCIENTOS",
    "NOVECIENTOS",
]


def _under_thousand(n: int) -> str:
    """Words for 0 < n < 1000 in the apocopated form used before "PESOS" and "MIL"."""
    if n == 100:
        return "CIEN"
    hundreds, rest = divmod(n, 100)
    parts = [_HUNDREDS[hundreds]] if hundreds else []
    if rest:
        if rest < 30:
            parts.append(_UNITS[rest])
        else:
            tens, units = divmod(rest, 10)
            parts.append(_TENS[tens] + (f" Y {_UNITS[units]}" if units else ""))
    return " ".join(parts)


def _integer_words(n: int) -> str:
    if n == 0:
        return "CERO"
    groups: list[str] = []
    millions, rest = divmod(n, 1_000_000)
    thousands, units = divmod(rest, 1000)
    if millions:
        if millions >= 1000:
            raise MoneyError("Importe fuera de rango.")
        groups.append("UN MILLÓN" if millions == 1 else f"{_under_thousand(millions)} MILLONES")
    if thousands:
        groups.append("MIL" if thousands == 1 else f"{_under_thousand(thousands)} MIL")
    if units:
        groups.append(_under_thousand(units))
    return " ".join(groups)


def in_words(value: Decimal) -> str:
    """Amount in words as Mexican receipts print it.

    ``540`` → ``QUINIENTOS CUARENTA PESOS 00/100 M.N.``; ``1`` → ``UN PESO 00/100 M.N.``;
    ``1000000`` → ``UN MILLÓN DE PESOS 00/100 M.N.`` ("de" after an exact million).
    """
    v = round_centavo(to_decimal(value))
    if v < 0:
        raise MoneyError("El importe no puede ser negativo.")
    centavos = to_centavos(v)
    pesos, cents = divmod(centavos, 100)
    words = _integer_words(pesos)
    if pesos == 1:
        unit = "PESO"
    elif pesos and pesos % 1_000_000 == 0:
        unit = "DE PESOS"
    else:
        unit = "PESOS"
    return f"{words} {unit} {cents:02d}/100 M.N."
