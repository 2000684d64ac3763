"""Python's cyclic garbage collection, run only on the GUI thread (Anki's aqt does the same).

Why: left automatic, a collection runs in whichever thread happens to allocate — the sync
engine, a task-pool worker, the embedded central of the demo — and may free a cycle that holds
a Qt object. Its C++ destructor then takes a Qt lock in that thread and waits for the GIL,
while the GUI thread holds the GIL and waits for the same lock: the till freezes for good.
CI saw exactly this (a kiosk window's constructor blocked in ``QObject::~QObject`` while the
central thread's collection held the lock). Reference counting still frees everything that is
not in a cycle at once; only the cycle collector moves to a timer on the GUI thread.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class GarbageCollector(QObject):
    """Turns off automatic collection and collects every ``interval_ms`` on the thread that
    owns it."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = 1000) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.disable()
        # What exists by now (modules, classes, Qt's wrappers) lives as long as the app:
        # frozen, a full collection looks only at what came later (110 ms -> 0.1 ms with
        # the demo's central loaded).
        gc.freeze()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect)
        self._timer.start()

    def collect(self) -> int:
        """The unreachable objects found on this tick. The youngest generation every tick
        (cheap, and it frees a screen's cycles soon even when the count has since fallen);
        the older ones when CPython's thresholds say so."""
        counts = gc.get_count()
        found = gc.collect(0)
        if counts[1] >= self.thresholds[1]:
            found += gc.collect(1)
            if counts[2] >= self.thresholds[2]:
                found += gc.collect(2)
        return found
