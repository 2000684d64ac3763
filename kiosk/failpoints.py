"""Crash points for the crash-safety tests: ``ISSEG_FAILPOINT=<name>`` kills the process there.

The kill is a real SIGKILL (or ``os._exit`` where there is no SIGKILL), so no ``finally``,
no rollback and no flush runs: exactly what a power cut leaves behind.
"""

from __future__ import annotations

import os
import signal

ENV = "ISSEG_FAILPOINT"
POINTS = (
    "after_payment_insert",
    "after_outbox_insert",
    "before_mark_cache",
    "after_mark_cache",
    "after_commit",
)


# Read once: the crash tests start a fresh process with it set, and a payment passes five
# points (an environment lookup each was measurable on the payment path).
ARMED = os.environ.get(ENV)


def hit(name: str) -> None:
    if name != ARMED:
        return
    kill = getattr(signal, "SIGKILL", None)
    if kill is not None:
        os.kill(os.getpid(), kill)
    os._exit(137)  # pragma: no cover - Windows, or if the signal is somehow ignored
