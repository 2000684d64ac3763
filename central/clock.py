"""Clocks for central. Tests run at any hour, but the payment rules need business hours:
they inject a clock that reads a chosen business-day moment."""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timedelta


class ShiftedClock:
    """Starts at ``start`` and advances with real time; ``advance()`` jumps ahead."""

    def __init__(self, start: datetime, *, frozen: bool = False) -> None:
        if start.tzinfo is None:
            raise ValueError("se requiere una hora con zona horaria")
        self._start = start
        self._origin = time.monotonic()
        self._extra = timedelta()
        self._frozen = frozen
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            elapsed = (
                timedelta() if self._frozen else timedelta(seconds=time.monotonic() - self._origin)
            )
            return self._start + elapsed + self._extra

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._extra += delta


def clock_from_env() -> ShiftedClock | None:
    """``ISSEG_CENTRAL_NOW=<ISO 8601 with offset>`` makes a subprocess central start its
    clock at that moment (used by tests that kill and restart central)."""
    value = os.environ.get("ISSEG_CENTRAL_NOW", "")
    if not value:
        return None
    return ShiftedClock(datetime.fromisoformat(value))
