"""Telling a barcode scanner from a person at the keyboard.

The scanner is a keyboard wedge: it types a whole code in a burst, a few milliseconds a key,
and ends it with Enter. A person types far slower. A screen records when each key arrived in
a field and asks, on Enter, whether the digits just typed were a scan: in a money field a
scan is never an amount (the cashier scanned while the cash field had focus).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

# Scanners emulate 5-15 ms a key; the fastest typists stay above 50 ms between keys.
MAX_KEY_GAP = 0.035
# The shortest barcode a pharmacy sees is an EAN-8; amounts are typed, never this fast.
MIN_SCAN_DIGITS = 8


def scanned_code(keys: Sequence[tuple[str, float]], enter_at: float) -> str | None:
    """The code a scanner typed, or None when a person typed it.

    ``keys`` are (character, seconds) in the order they arrived; ``enter_at`` is when Enter
    came. A scan is the trailing run of at least ``MIN_SCAN_DIGITS`` digits, each key (and
    the Enter) within ``MAX_KEY_GAP`` of the one before.
    """
    run: list[str] = []
    later = enter_at
    for char, at in reversed(keys):
        if not char.isdigit() or not char.isascii() or later - at > MAX_KEY_GAP or at > later:
            break
        run.append(char)
        later = at
    return "".join(reversed(run)) if len(run) >= MIN_SCAN_DIGITS else None


@dataclass
class KeyLog:
    """The keys typed into one field with their times, for ``scanned_code``. Bounded: only the
    last keys matter."""

    keys: list[tuple[str, float]] = field(default_factory=list)
    limit: int = 64

    def typed(self, text: str, at: float) -> None:
        self.keys.extend((char, at) for char in text)
        del self.keys[: -self.limit]

    def enter(self, at: float) -> str | None:
        """Enter was pressed: the scanned code, if it was a scan. Starts over either way."""
        code = scanned_code(self.keys, at)
        self.keys.clear()
        return code
