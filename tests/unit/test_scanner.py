"""A scanner's burst of digits and Enter is told apart from a person typing an amount."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from kiosk.scanner import MAX_KEY_GAP, MIN_SCAN_DIGITS, KeyLog, scanned_code


def typed(text: str, start: float, gap: float) -> list[tuple[str, float]]:
    return [(char, start + i * gap) for i, char in enumerate(text)]


def test_an_ean13_typed_at_8_ms_a_key_then_enter_is_a_scan():
    keys = typed("7501055300075", 10.0, 0.008)
    assert scanned_code(keys, keys[-1][1] + 0.008) == "7501055300075"


def test_an_amount_typed_by_a_person_is_not_a_scan():
    keys = typed("7000.00", 10.0, 0.12)
    assert scanned_code(keys, keys[-1][1] + 0.2) is None
    keys = typed("75010553", 10.0, 0.09)  # eight digits, but at a person's pace
    assert scanned_code(keys, keys[-1][1] + 0.1) is None


def test_a_scan_after_what_the_cashier_typed_is_the_scanned_digits_alone():
    keys = typed("500", 1.0, 0.2) + typed("261201000000000943", 5.0, 0.008)
    assert scanned_code(keys, 5.0 + 18 * 0.008) == "261201000000000943"


def test_a_pause_before_enter_means_a_person_pressed_it():
    keys = typed("7501055300075", 10.0, 0.008)
    assert scanned_code(keys, keys[-1][1] + 0.5) is None


@given(st.text("0123456789", min_size=1, max_size=40), st.floats(0.001, 0.2))
def test_a_burst_is_a_scan_exactly_when_long_and_fast_enough(digits, gap):
    assume(abs(gap - MAX_KEY_GAP) > 1e-6)
    keys = typed(digits, 100.0, gap)
    expected = digits if len(digits) >= MIN_SCAN_DIGITS and gap < MAX_KEY_GAP else None
    assert scanned_code(keys, keys[-1][1] + gap) == expected


def test_the_key_log_starts_over_at_each_enter_and_stays_bounded():
    log = KeyLog()
    for i, char in enumerate("7501055300075"):
        log.typed(char, 1.0 + i * 0.008)
    assert log.enter(1.0 + 13 * 0.008) == "7501055300075"
    assert log.enter(2.0) is None and log.keys == []
    log.typed("1" * 500, 3.0)
    assert len(log.keys) == log.limit
