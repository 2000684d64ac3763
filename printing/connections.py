"""Printer connections from settings, and the printer's status where it can answer.

Kinds: ``file`` (the demo's printer: appends the bytes to a file and writes a PNG preview of
each ticket next to it), ``network`` (raw TCP, port 9100), ``usb``, ``serial`` and ``win32``
(a Windows printer queue, RAW). escpos is imported only when a printer is opened.
"""

from __future__ import annotations

import contextlib
import socket
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.settings import Settings
from printing import escpos_loader, preview

KINDS = ("file", "network", "usb", "serial", "win32")
BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)

OK = "ok"
NO_PAPER = "sin_papel"
OFFLINE = "fuera_de_linea"
UNKNOWN = "desconocido"

STATUS_MESSAGES = {
    OK: "Impresora lista.",
    NO_PAPER: "La impresora no tiene papel.",
    OFFLINE: "La impresora está fuera de línea (tapa abierta, error o apagada).",
    UNKNOWN: "No se conoce el estado de la impresora.",
}

# ESC/POS real-time status requests (Epson: DLE EOT n).
_PRINTER_STATUS = b"\x10\x04\x01"
_PAPER_STATUS = b"\x10\x04\x04"


class PrinterConfigError(ValueError):
    """Printer settings that cannot work; ``str()`` is a Spanish message."""


class PrinterUnavailable(RuntimeError):
    """The connection cannot be made on this machine; ``str()`` is Spanish."""


def validate(settings: Settings) -> None:
    """Refuse settings that cannot work, with a message a technician can act on."""
    kind = settings.printer_kind
    if kind not in KINDS:
        raise PrinterConfigError(
            f"Tipo de impresora desconocido: «{kind}». Use file, network, usb, serial o win32."
        )
    if settings.paper_width_mm not in (58, 80):
        raise PrinterConfigError(
            f"Ancho de papel no soportado: {settings.paper_width_mm} mm. Use 58 u 80."
        )
    if not 0 < settings.printer_timeout_seconds <= 60:
        raise PrinterConfigError(
            "El tiempo de espera de la impresora debe ser mayor que 0 y de hasta 60 segundos."
        )
    if settings.printer_profile not in escpos_loader.profile_names():
        raise PrinterConfigError(
            f"Perfil de impresora desconocido: «{settings.printer_profile}». "
            "Use un modelo de la base de python-escpos, por ejemplo TM-T20II."
        )
    if kind == "network":
        if not settings.printer_host.strip():
            raise PrinterConfigError("Falta la dirección (host) de la impresora de red.")
        if not 1 <= settings.printer_port <= 65535:
            raise PrinterConfigError(
                f"Puerto de impresora inválido: {settings.printer_port}. "
                "Debe estar entre 1 y 65535 (normalmente 9100)."
            )
    elif kind == "usb":
        for name, value in (
            ("fabricante (vendor id)", settings.printer_usb_vendor),
            ("producto (product id)", settings.printer_usb_product),
        ):
            if not 0x0001 <= value <= 0xFFFF:
                raise PrinterConfigError(
                    f"Identificador USB de {name} inválido: {value:#06x}. "
                    "Debe estar entre 0x0001 y 0xFFFF."
                )
    elif kind == "serial":
        if not settings.printer_serial_device.strip():
            raise PrinterConfigError("Falta el puerto serie de la impresora (p. ej. COM1).")
        if settings.printer_serial_baudrate not in BAUDRATES:
            raise PrinterConfigError(
                f"Velocidad serie no soportada: {settings.printer_serial_baudrate}. "
                f"Use una de: {', '.join(str(b) for b in BAUDRATES)}."
            )
    elif kind == "win32" and not settings.printer_win32_name.strip():
        raise PrinterConfigError("Falta el nombre de la impresora de Windows.")


def output_file(settings: Settings) -> Path:
    return (
        Path(settings.printer_path)
        if settings.printer_path
        else (settings.data_path / "impresora.bin")
    )


def open_printer(settings: Settings) -> Any:
    """An escpos printer for the settings, not yet connected (it connects on first use).

    Raises PrinterConfigError for bad settings and PrinterUnavailable when the connection
    kind cannot work on this machine (Win32 outside Windows).
    """
    validate(settings)
    printer_module = escpos_loader.printers()
    profile = settings.printer_profile
    timeout = settings.printer_timeout_seconds
    kind = settings.printer_kind
    if kind == "file":
        return _preview_file_class()(
            output_file(settings), preview.paper_pixels(settings.paper_width_mm), profile=profile
        )
    if kind == "network":
        return printer_module.Network(
            settings.printer_host.strip(), settings.printer_port, timeout=timeout, profile=profile
        )
    if kind == "usb":
        if not printer_module.Usb.is_usable():
            raise PrinterUnavailable(
                "La impresora USB necesita la biblioteca pyusb (y libusb) en este equipo."
            )
        return printer_module.Usb(
            settings.printer_usb_vendor,
            settings.printer_usb_product,
            timeout=int(timeout * 1000),  # pyusb counts milliseconds
            profile=profile,
        )
    if kind == "serial":
        return printer_module.Serial(
            settings.printer_serial_device.strip(),
            baudrate=settings.printer_serial_baudrate,
            timeout=timeout,
            profile=profile,
        )
    if not printer_module.Win32Raw.is_usable():
        raise PrinterUnavailable(
            "La impresora de Windows (win32) solo funciona en Windows con pywin32 instalado."
        )
    return printer_module.Win32Raw(settings.printer_win32_name.strip(), profile=profile)


_PREVIEW_FILE: Any = None


def _preview_file_class() -> Any:
    """escpos's File printer that appends, and draws each ticket as PNG when closed."""
    global _PREVIEW_FILE
    if _PREVIEW_FILE is not None:
        return _PREVIEW_FILE
    base = escpos_loader.printers().File

    class PreviewFile(base):  # type: ignore[misc, valid-type]
        def __init__(self, path: Path, paper_px: int, **kwargs: Any) -> None:
            super().__init__(str(path), **kwargs)
            self.paper_px = paper_px
            self.previews: list[Path] = []
            self._job = bytearray()

        def open(self, raise_not_found: bool = True) -> None:
            if self._device:
                self.close()
            path = Path(self.devfile)
            path.parent.mkdir(parents=True, exist_ok=True)
            # Append: the demo's "paper" keeps every ticket, like a real roll.
            self.device = open(path, "ab")  # noqa: SIM115 - closed in close()

        def _raw(self, msg: bytes) -> None:
            super()._raw(msg)
            self._job.extend(msg)

        def close(self) -> None:
            if not self._device:
                return
            super().close()
            job, self._job = bytes(self._job), bytearray()
            if job:
                stem = Path(self.devfile)
                stem = stem.with_name(f"{stem.stem}-{datetime.now():%Y%m%d-%H%M%S-%f}")
                self.previews.extend(preview.write_previews(job, stem, self.paper_px))

    _PREVIEW_FILE = PreviewFile
    return PreviewFile


def can_report_status(printer: Any) -> bool:
    """Whether this connection can read an answer from the printer at all."""
    reader = getattr(type(printer), "_read", None)
    base = escpos_loader.printers().Dummy._read  # inherited from Escpos: NotImplementedError
    return reader is not None and reader is not base


def _ask(printer: Any, request: bytes) -> int | None:
    """Send one DLE EOT request; the status byte, or None if nothing (valid) came back."""
    try:
        printer._raw(request)
        answer = printer._read()
    except (TimeoutError, OSError, NotImplementedError, AssertionError, ValueError):
        return None
    except Exception:  # noqa: BLE001 - drivers raise their own types (usb.core.USBError...)
        return None
    if not answer:
        return None
    byte = answer[-1] if isinstance(answer, (bytes, bytearray)) else int(answer[-1])
    # Every DLE EOT answer has bit 0 = 0, bit 1 = 1, bit 4 = 1, bit 7 = 0.
    return byte if byte & 0x93 == 0x12 else None


def _limit_timeout(printer: Any, seconds: float) -> Any:
    """Shorten the read timeout for a status question; return what to restore."""
    device = getattr(printer, "_device", None)
    if isinstance(device, socket.socket):
        previous = device.gettimeout()
        device.settimeout(seconds)
        return previous
    if device is not None and hasattr(device, "timeout") and hasattr(device, "is_open"):
        previous = device.timeout
        device.timeout = seconds
        return previous
    return None


def _restore_timeout(printer: Any, previous: Any) -> None:
    device = getattr(printer, "_device", None)
    if previous is None or device is None:
        return
    if isinstance(device, socket.socket):
        device.settimeout(previous)
    elif hasattr(device, "timeout"):
        device.timeout = previous


def query_status(printer: Any, timeout: float = 1.0) -> str:
    """``ok`` | ``sin_papel`` | ``fuera_de_linea`` | ``desconocido``.

    Asks the printer itself (DLE EOT 4 for paper, DLE EOT 1 for on-line) rather than
    escpos's paper_status()/is_online(), which report "paper fine" when nothing answers.
    Connections that cannot read (file, Win32 queue) are always ``desconocido``. The printer
    must already be open (``printer.open()``).
    """
    if not can_report_status(printer):
        return UNKNOWN
    try:
        previous = _limit_timeout(printer, timeout)
    except Exception:  # noqa: BLE001
        return UNKNOWN
    try:
        paper = _ask(printer, _PAPER_STATUS)
        if paper is None:
            return UNKNOWN
        if paper & 0x60:
            return NO_PAPER
        online = _ask(printer, _PRINTER_STATUS)
        if online is None:
            return UNKNOWN
        return OFFLINE if online & 0x08 else OK
    finally:
        with contextlib.suppress(Exception):
            _restore_timeout(printer, previous)
