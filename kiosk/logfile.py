"""The terminal's log: a rotating file in the platform's log folder (5 × 2 MB), so a kiosk
that fails at 3 a.m. leaves its reason behind. The screens and the terminal's commands
(enrolar, diagnostico) write to the same file: support reads one place."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path


def log_folder() -> Path:
    import platformdirs

    return Path(platformdirs.user_log_dir("caja-isseg", "ISSEG"))


def log_to_file() -> Path:
    folder = log_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "caja-isseg.log"
    root = logging.getLogger()
    if not any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    return path


def log_to_file_quietly() -> Path | None:
    """For a command: a log folder that cannot be written must not stop it."""
    try:
        return log_to_file()
    except OSError:
        return None
