import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from num2words import num2words

from kiosk import money


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("540", "QUINIENTOS CUARENTA PESOS 00/100 M.N."),
        ("1", "UN PESO 00/100 M.N."),
        ("1000", "MIL PESOS 00/100 M.N."),
        ("21000", "VEINTIÚN MIL PESOS 00/100 M.N."),
        ("21500.50", "VEINTIÚN MIL QUINIENTOS PESOS 50/100 M.N."),
        ("100", "CIEN PESOS 00/100 M.N."),
        ("101", "CIENTO UN PESOS 00/100 M.N."),
        ("0.50", "CERO PESOS 50/100 M.N."),
        ("30000", "TREINTA MIL PESOS 00/100 M.N."),
        ("1000000", "UN MILLÓN DE PESOS 00/100 M.N."),
        ("2001001", "DOS MILLONES MIL UN PESOS 00/100 M.N."),
    ],
)
def test_amounts_are_written_as_mexican_receipts_print_them(amount, words):
    assert money.in_words(Decimal(amount)) == words


def _num2words_apocopated(n: int) -> str:
    # num2words writes "uno" everywhere; before "mil", "millones" and "pesos" Spanish drops
    # the final -o ("veintiún mil", "ciento un pesos").
    text = num2words(n, lang="es").upper()
    text = re.sub(r"VEINTIUNO(?= MIL|$)", "VEINTIÚN", text)
    return re.sub(r"\bUNO(?= MIL|$)", "UN", text)


@given(st.integers(min_value=0, max_value=999_999_999), st.integers(0, 99))
def test_words_agree_with_num2words_for_any_amount(pesos, cents):
    words = money.in_words(Decimal(pesos) + Decimal(cents) / 100)
    assert words.endswith(f" {cents:02d}/100 M.N.")
    stem = re.sub(r" (DE )?PESOS? \d\d/100 M\.N\.$", "", words)
    assert stem == _num2words_apocopated(pesos)


def test_floats_are_refused_everywhere():
    with pytest.raises(TypeError):
        money.to_decimal(0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        money.fmt(12.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        money.round_centavo(1.005)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "rounded"),
    [("1.005", "1.01"), ("1.004999", "1.00"), ("2.675", "2.68"), ("-1.005", "-1.01")],
)
def test_rounding_is_half_up_to_the_centavo(value, rounded):
    assert money.round_centavo(Decimal(value)) == Decimal(rounded)


@pytest.mark.parametrize(
    ("text", "value"),
    [("540", "540.00"), (" $1,540.5 ", "1540.50"), ("30000.00", "30000.00"), ("0.5", "0.50")],
)
def test_typed_amounts_parse_to_centavos(text, value):
    assert money.parse(text) == Decimal(value)


@pytest.mark.parametrize("text", ["", "abc", "1.005", "-5", "1,00", "1e3", "NaN", "١٢"])
def test_malformed_amounts_get_a_spanish_message(text):
    with pytest.raises(money.MoneyError) as err:
        money.parse(text)
    assert re.search(r"importe|Escriba", str(err.value))


@given(st.integers(min_value=-99_999_999_999, max_value=99_999_999_999))
def test_centavos_round_trip_and_format_is_exact(centavos):
    value = money.from_centavos(centavos)
    assert money.to_centavos(value) == centavos
    assert money.parse(money.fmt(value).lstrip("-")) == abs(value)


def test_fractions_of_a_centavo_are_not_hidden():
    with pytest.raises(money.MoneyError):
        money.to_centavos(Decimal("1.005"))


def test_format_uses_thousands_separators_and_two_decimals():
    assert money.fmt(Decimal("30000")) == "$30,000.00"
    assert money.fmt(Decimal("-12.5")) == "-$12.50"
