"""Import python-escpos lazily, with its capabilities cache in a folder we own.

escpos parses a large YAML/JSON printer database at import time (~0.3 s) and, unless told
where, pickles it into a fresh temporary folder on every start. Pointing
ESCPOS_CAPABILITIES_PICKLE_DIR at a persistent, writable folder makes later starts fast and
stops the temporary folders piling up on a kiosk that runs for months.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

_ENV = "ESCPOS_CAPABILITIES_PICKLE_DIR"


def _cache_dir() -> Path:
    try:
        import platformdirs

        base = Path(platformdirs.user_cache_dir("caja-isseg", "ISSEG"))
    except Exception:  # pragma: no cover - platformdirs is a dependency
        base = Path(tempfile.gettempdir()) / "caja-isseg"
    return base / "escpos"


def _prepare_env() -> None:
    current = os.environ.get(_ENV)
    if current and os.access(current, os.W_OK):
        return
    for candidate in (_cache_dir(), Path(tempfile.gettempdir()) / "caja-isseg-escpos"):
        try:
            candidate.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(candidate, os.W_OK):
            os.environ[_ENV] = str(candidate)
            return


def printers() -> ModuleType:
    """``escpos.printer``, imported on first use."""
    _prepare_env()
    import escpos.printer

    module: ModuleType = escpos.printer
    return module


def dummy(profile: str | None = None) -> Any:
    """A fresh in-memory printer for building a job's bytes."""
    return printers().Dummy(profile=profile)


def profile_names() -> set[str]:
    _prepare_env()
    from escpos.capabilities import CAPABILITIES

    return set(CAPABILITIES["profiles"])
