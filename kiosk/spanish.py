"""Spanish agreement for the few counted phrases people read: "Le queda 1 intento"."""

from __future__ import annotations


def counted(n: int, one: str, many: str) -> str:
    """``1 intento`` / ``3 intentos`` / ``0 intentos``."""
    return f"{n} {one if n == 1 else many}"


def attempts_left(n: int) -> str:
    """``Le queda 1 intento.`` / ``Le quedan 2 intentos.``"""
    return f"Le {'queda' if n == 1 else 'quedan'} {counted(n, 'intento', 'intentos')}."
