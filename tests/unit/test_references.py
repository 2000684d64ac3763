from datetime import date
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kiosk import references
from kiosk.references import InvalidReference, ReferenceRecord, issue, parse

dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
serials = st.integers(min_value=0, max_value=references.MAX_SERIAL)


def _iso7064_valid(digits: str) -> bool:
    # Independent check: ISO 7064 MOD 97-10 computed digit by digit (Horner), not via int().
    remainder = 0
    for ch in digits:
        remainder = (remainder * 10 + int(ch)) % 97
    return remainder == 1


@given(dates, serials)
def test_an_issued_referencia_parses_back_with_its_date_and_serial(day, serial):
    ref = issue(day, serial)
    assert len(ref) == 18 and ref.isdigit()
    assert _iso7064_valid(ref)
    parsed = parse(ref)
    assert parsed == ref
    assert parsed.issued_on == day
    assert parsed.serial == serial


@given(dates, serials, st.data())
def test_check_digits_catch_every_single_digit_substitution(day, serial, data):
    ref = issue(day, serial)
    pos = data.draw(st.integers(0, 17))
    new = data.draw(st.sampled_from("0123456789"))
    assume(new != ref[pos])
    typo = ref[:pos] + new + ref[pos + 1 :]
    with pytest.raises(InvalidReference):
        parse(typo)


@given(dates, serials, st.integers(0, 16))
def test_check_digits_catch_every_adjacent_transposition(day, serial, pos):
    ref = issue(day, serial)
    assume(ref[pos] != ref[pos + 1])
    swapped = ref[:pos] + ref[pos + 1] + ref[pos] + ref[pos + 2 :]
    with pytest.raises(InvalidReference):
        parse(swapped)


def test_every_substitution_and_transposition_of_one_referencia_is_caught_exhaustively():
    ref = issue(date(2026, 11, 23), 42)
    for pos in range(18):
        for digit in "0123456789":
            if digit != ref[pos]:
                assert not _iso7064_valid(ref[:pos] + digit + ref[pos + 1 :])
    for pos in range(17):
        if ref[pos] != ref[pos + 1]:
            assert not _iso7064_valid(ref[:pos] + ref[pos + 1] + ref[pos] + ref[pos + 2 :])


@pytest.mark.parametrize("wrapping", ["\r\n", "\n", " ", "\t", "  \r\n"])
def test_parse_strips_what_a_scanner_adds(wrapping):
    ref = issue(date(2026, 11, 23), 7)
    assert parse(" " + ref + wrapping) == ref


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "No se leyó"),
        ("12345", "18 dígitos"),
        ("7501055300075", "código de barras de un producto"),  # a medicine's EAN-13
        ("7501055300076", "18 dígitos"),  # 13 digits, not a product code either
        ("2611230000000007ab", "solo lleva dígitos"),
        ("２６１１２３００００００００７", "solo lleva dígitos"),  # full-width digits
        ("261123 0000000007 00", "solo lleva dígitos"),
    ],
)
def test_malformed_referencias_get_a_spanish_message(text, fragment):
    with pytest.raises(InvalidReference) as err:
        parse(text)
    assert fragment in str(err.value)


def test_a_referencia_with_an_impossible_date_is_refused():
    body = "261340" + "0000000001"  # month 13
    with pytest.raises(InvalidReference, match="fecha"):
        parse(body + references.check_digits(body))


@given(st.text(max_size=40))
def test_parse_never_raises_anything_but_its_own_error(text):
    try:
        result = parse(text)
    except InvalidReference:
        return
    assert _iso7064_valid(result)


def test_grouped_digits_read_back_to_the_same_referencia():
    ref = issue(date(2026, 11, 23), 12345)
    assert ref.grouped().replace(" ", "") == ref


def test_a_record_refuses_float_amounts_and_unknown_statuses():
    ref = issue(date(2026, 11, 23), 1)
    with pytest.raises(TypeError):
        ReferenceRecord(reference=ref, amount=540.0, issued_on=date(2026, 11, 23))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ReferenceRecord(reference=ref, amount=Decimal(1), issued_on=date(2026, 11, 23), status="X")
