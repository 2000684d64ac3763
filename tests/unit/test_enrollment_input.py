"""What a person types on the first-run screen, checked and written as central issued it."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from central.enrollment import ALPHABET, normalize
from kiosk import enrollment
from kiosk.ports import Refused
from kiosk.records import Enrolled

codes = st.text(alphabet=ALPHABET, min_size=10, max_size=10)


@given(
    code=codes,
    lower=st.lists(st.booleans(), min_size=10, max_size=10),
    dash=st.sampled_from(["-", "", " ", "–", " - "]),
    around=st.sampled_from(["", " ", "\t", "  "]),
)
def test_any_way_of_typing_an_issued_code_gives_the_code_as_issued(
    code: str, lower: list[bool], dash: str, around: str
) -> None:
    typed = "".join(c.lower() if low else c for c, low in zip(code, lower, strict=True))
    typed = f"{around}{typed[:5]}{dash}{typed[5:]}{around}"
    assert enrollment.normalize_code(typed) == f"{code[:5]}-{code[5:]}"
    # Central reads what is sent as the same code it issued.
    assert normalize(enrollment.normalize_code(typed)) == code


def test_letters_read_as_digits_over_the_phone_become_the_digits() -> None:
    assert enrollment.normalize_code("o1l2i-abcde") == "01121-ABCDE"


@given(text=st.text(min_size=1, max_size=30))
def test_what_cannot_be_a_code_is_refused_in_spanish_before_sending(text: str) -> None:
    squeezed = "".join(text.split()).replace("-", "").upper().translate(str.maketrans("OIL", "011"))
    assume(not (len(squeezed) == 10 and set(squeezed) <= set(ALPHABET)))
    assume(not any(c in "‐‑‒–—" for c in text))
    with pytest.raises(Refused) as refused:
        enrollment.normalize_code(text)
    assert refused.value.code in ("FALTA_CODIGO", "CODIGO_MAL_ESCRITO")
    assert "código de alta" in refused.value.message


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("central.isseg.gob.mx", "https://central.isseg.gob.mx"),
        ("  https://central.isseg.gob.mx/ ", "https://central.isseg.gob.mx"),
        ("HTTPS://central.isseg.gob.mx:8443", "HTTPS://central.isseg.gob.mx:8443"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("http://localhost:9000/", "http://localhost:9000"),
    ],
)
def test_central_address_gets_https_when_none_is_written(typed: str, sent: str) -> None:
    assert enrollment.normalize_url(typed) == sent


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("http://central.isseg.gob.mx", "CENTRAL_SIN_CIFRAR"),
        ("http://10.0.0.5:8765", "CENTRAL_SIN_CIFRAR"),
        ("ftp://central.isseg.gob.mx", "CENTRAL_INVALIDA"),
        ("https://", "CENTRAL_INVALIDA"),
        ("https://central isseg", "CENTRAL_INVALIDA"),
        ("https://central.isseg.gob.mx:puerto", "CENTRAL_INVALIDA"),
        ("https://" + "a" * 300 + ".mx", "CENTRAL_INVALIDA"),
        ("   ", "FALTA_CENTRAL"),
    ],
)
def test_an_address_that_would_not_reach_central_safely_is_refused(typed: str, code: str) -> None:
    with pytest.raises(Refused) as refused:
        enrollment.normalize_url(typed)
    assert refused.value.code == code


def test_both_fields_empty_asks_for_both() -> None:
    with pytest.raises(Refused) as refused:
        enrollment.checked(" ", "  ")
    assert refused.value.code == "FALTAN_DATOS"
    assert "dirección de central y el código" in refused.value.message


def test_the_sentence_names_terminal_and_store_and_the_id_as_centrals_identifier() -> None:
    done = Enrolled(7, "F001", "Farmacia Centro", "Caja 1", "caja", "https://c.mx", "secreto")
    assert enrollment.described(done) == (
        "Esta terminal es Caja 1 de la farmacia F001 «Farmacia Centro»."
    )
    assert "secreto" not in repr(done)
    # "Caja 1" beside "número de terminal 7" read as two numbers for one till.
    assert "identificador en central: 7" in enrollment.details(done)
    assert "número" not in enrollment.details(done)


@pytest.mark.parametrize(
    ("url", "code", "address"),
    [
        ("", "7KQ2M-9XH4D", True),
        ("http://central.isseg.gob.mx", "7KQ2M-9XH4D", True),
        ("central.isseg.gob.mx/?x=1", "7KQ2M-9XH4D", True),
        ("central.isseg.gob.mx", "", False),
        ("central.isseg.gob.mx", "7KQ2M", False),
    ],
)
def test_each_refusal_names_the_field_to_fix(url: str, code: str, address: bool) -> None:
    with pytest.raises(Refused) as refused:
        enrollment.checked(url, code)
    assert enrollment.address_at_fault(refused.value.code) is address
