"""The one settings registry: every setting, its default and what it is for.

Values come from (later wins): the defaults below, a JSON file (``ISSEG_CONFIG`` or
``config.json`` in the data folder), and environment variables ``ISSEG_<NAME>``.
"""

from __future__ import annotations

import difflib
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

# The terminal's token, written by ``isseg-farmacia enrolar`` (0600) in the data folder.
TOKEN_FILE = "token"


def default_data_dir() -> Path:
    # platformdirs is tiny and has no Qt/SQL/HTTP: fine in the core.
    import platformdirs

    if sys.platform == "win32":
        # Machine-wide (C:\ProgramData\ISSEG\caja-isseg): every cashier's Windows account
        # shares one database and one outbox.
        return Path(platformdirs.site_data_dir("caja-isseg", "ISSEG"))
    return Path(platformdirs.user_data_dir("caja-isseg", "ISSEG"))


@dataclass(frozen=True)
class Settings:
    # Where the terminal keeps its database, receipts and logs.
    data_dir: str = ""
    # Local SQLite file; empty means <data_dir>/terminal.sqlite.
    db_path: str = ""
    # Central API base URL and this terminal's token (issued at enrollment).
    central_url: str = "http://127.0.0.1:8765"
    # Never shown: not in repr() (tracebacks and logs print settings), not on screen.
    terminal_token: str = field(default="", repr=False)
    # The institute's CA certificate (PEM) for central's HTTPS; empty: the system's store.
    ca_bundle: str = ""
    http_timeout_seconds: float = 3.0
    sync_interval_seconds: float = 5.0
    # Printer: file | network | usb | serial | win32
    printer_kind: str = "file"
    printer_path: str = ""  # file printer: output file; empty = <data_dir>/impresora.bin
    printer_host: str = "127.0.0.1"
    printer_port: int = 9100
    printer_usb_vendor: int = 0x04B8
    printer_usb_product: int = 0x0202
    printer_serial_device: str = "/dev/ttyUSB0"
    printer_serial_baudrate: int = 9600
    printer_win32_name: str = ""
    printer_profile: str = "TM-T20II"
    paper_width_mm: int = 80
    printer_timeout_seconds: float = 5.0
    # A cash drawer wired to the printer's drawer port: cash payments open it (ESC p).
    cash_drawer: bool = False
    # Screens.
    cashier_idle_lock_minutes: float = 5.0  # fractions allowed (a test locks in seconds)
    manager_idle_lock_minutes: float = 5.0
    kiosk_idle_seconds: int = 60
    kiosk_idle_warning_seconds: int = 15
    kiosk_member_number_digits: int = 6  # the keypad moves to the NIP after these
    # Store and terminal identity shown on tickets.
    # Blind count: the cashier counts the drawer before seeing the expected figure.
    blind_count: bool = True
    store_name: str = "Farmacia ISSEG"
    terminal_name: str = "Caja 1"

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir) if self.data_dir else default_data_dir()

    @property
    def database_file(self) -> Path:
        return Path(self.db_path) if self.db_path else self.data_path / "terminal.sqlite"

    def with_values(self, values: Mapping[str, Any]) -> Settings:
        known = [f.name for f in fields(self)]
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(_unknown_message(unknown, known))
        converted: dict[str, Any] = {}
        for name, raw in values.items():
            kind = type(getattr(self, name))
            if kind is bool and not _is_boolean(raw):
                raise ValueError(
                    f"{name} debe ser true o false (sin comillas en config.json), no {raw!r}"
                )
            try:
                converted[name] = _convert(kind, raw)
            except (TypeError, ValueError):
                raise ValueError(f"valor inválido para {name}: {raw!r}") from None
        if converted.get("ca_bundle"):
            _check_ca_bundle(converted["ca_bundle"])
        return replace(self, **converted)


def _unknown_message(unknown: list[str], known: list[str]) -> str:
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        if close:
            hints.append(f"¿quiso decir {close[0]} en lugar de {name}?")
    text = f"configuración desconocida: {', '.join(unknown)}. "
    if hints:
        return text + " ".join(hints)
    return text + "Los nombres válidos son: " + ", ".join(known) + "."


# Text that means a boolean: environment variables (ISSEG_CASH_DRAWER=true). In config.json
# the JSON literals true/false; "si" is refused rather than guessed at.
_TRUE, _FALSE = ("true", "1"), ("false", "0")


def _is_boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return True
    return isinstance(raw, str) and raw.strip().lower() in _TRUE + _FALSE


def _check_ca_bundle(path: str) -> None:
    """The institute's CA must be a readable PEM file: a wrong path would otherwise show up
    only as "certificate not trusted" at the first payment."""
    try:
        text = Path(path).read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        raise ValueError(f"ca_bundle: no existe el archivo {path}") from None
    except OSError as exc:  # a folder, no permission: the OS's words name which
        raise ValueError(f"ca_bundle: no se pudo leer {path} ({exc.strerror})") from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ValueError(
            f"ca_bundle: {path} no es un certificado PEM (-----BEGIN CERTIFICATE-----)"
        )


def _convert(kind: type, raw: Any) -> Any:
    # Environment values are text: "0x04B8" is an int, and "false" must not become True.
    if kind is bool and isinstance(raw, str):
        return raw.strip().lower() in _TRUE
    if kind is int and isinstance(raw, str):
        return int(raw, 0)
    return kind(raw)


def environment(data_dir: str | None = None, config: str | None = None) -> dict[str, str]:
    """This process's environment with a command's ``--datos`` and ``--config`` applied."""
    env = dict(os.environ)
    if data_dir:
        env["ISSEG_DATA_DIR"] = data_dir
    if config:
        env["ISSEG_CONFIG"] = config
    return env


def load(env: Mapping[str, str] | None = None, path: Path | None = None) -> Settings:
    env = os.environ if env is None else env
    settings = Settings()
    if "ISSEG_DATA_DIR" in env:
        settings = settings.with_values({"data_dir": env["ISSEG_DATA_DIR"]})
    config = path or Path(env.get("ISSEG_CONFIG", "") or settings.data_path / "config.json")
    if config.is_file():
        settings = settings.with_values(json.loads(config.read_text(encoding="utf-8")))
    prefix = "ISSEG_"
    names = {f.name for f in fields(Settings)}
    overrides = {
        k[len(prefix) :].lower(): v
        for k, v in env.items()
        if k.startswith(prefix) and k[len(prefix) :].lower() in names
    }
    if overrides:
        settings = settings.with_values(overrides)
    token_file = settings.data_path / TOKEN_FILE
    if not settings.terminal_token and token_file.is_file():
        settings = settings.with_values({"terminal_token": token_file.read_text("utf-8").strip()})
    return settings
