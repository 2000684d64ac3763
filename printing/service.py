"""Print documents through the durable queue, without ever raising into the payment path.

Every document is rendered to bytes first (escpos Dummy), queued durably, then sent. On
success the job leaves the queue; on any failure (no printer, refused, stalled, no paper,
timeout) it stays queued with its last error and prints, oldest first and once, when
``retry_pending()`` is called (a timer or the cashier's "reimprimir pendientes").

Blocking I/O with short timeouts: call it from a worker thread, never from the GUI thread.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from printing import connections, escpos_loader, layouts
from printing.documents import Document
from printing.spool import Spool, SpoolJob

log = logging.getLogger(__name__)

# ESC p m t1 t2: a pulse on drawer pin 2 (m=0), 50 ms on, 500 ms off (Epson's usual values).
DRAWER_PULSE = b"\x1bp\x00\x19\xfa"


@dataclass(frozen=True, slots=True)
class PrintResult:
    """What happened to one document. ``error`` is Spanish, for the screen."""

    printed: bool
    queued: bool
    error: str | None = None
    job_id: str | None = None

    @property
    def message(self) -> str:
        if self.printed:
            return "Impreso."
        if self.queued:
            return f"No se imprimió; quedó en la cola de reimpresión. {self.error or ''}".strip()
        return f"No se pudo imprimir ni guardar en la cola. {self.error or ''}".strip()


def _describe(exc: BaseException) -> str:
    """A short Spanish reason for a failed attempt (the technical detail goes to the log)."""
    # escpos wraps socket/serial errors in its own DeviceNotFoundError: look underneath.
    inner = exc.__cause__ or exc.__context__
    if type(exc).__name__ == "DeviceNotFoundError" and isinstance(inner, OSError):
        exc = inner
    if isinstance(exc, connections.PrinterConfigError | connections.PrinterUnavailable):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return "La impresora no respondió a tiempo."
    if isinstance(exc, ConnectionRefusedError):
        return "La impresora rechazó la conexión (¿apagada o sin red?)."
    if isinstance(exc, ConnectionError):
        return "Se perdió la conexión con la impresora."
    name = type(exc).__name__
    if name == "NoBackendError":
        return "Falta el controlador USB (libusb) en este equipo."
    if name in ("DeviceNotFoundError", "USBNotFoundError"):
        return "No se encontró la impresora o no se pudo conectar."
    if isinstance(exc, OSError):  # a file printer's path that is a folder, a port in use...
        return "No se pudo escribir en la impresora; revise su conexión o configuración."
    return "La impresora no aceptó el trabajo."  # the class name goes to the log, not the screen


_UNCONFIRMED = {
    connections.UNKNOWN: "La impresora no confirmó que recibió el trabajo; se reintentará.",
    connections.NO_PAPER: "Se acabó el papel durante la impresión; se reintentará.",
    connections.OFFLINE: "La impresora quedó fuera de línea durante la impresión; se reintentará.",
}


class PrinterNotReady(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PrintService:
    """``open_printer`` builds a fresh, unopened escpos printer for each attempt."""

    def __init__(
        self,
        open_printer: Callable[[], Any],
        spool: Spool,
        *,
        profile: str = "TM-T20II",
        width: int = layouts.DEFAULT_WIDTH,
        status_timeout: float = 0.5,
        confirm_timeout: float = 5.0,
        cash_drawer: bool = False,
    ) -> None:
        self._open_printer = open_printer
        self.spool = spool
        self.profile = profile
        self.width = width
        self.status_timeout = status_timeout
        # After a job the printer may still be busy taking it in: wait longer than for the
        # status question before it.
        self.confirm_timeout = confirm_timeout
        self.cash_drawer = cash_drawer
        # One job on the wire at a time, so a drain never prints a job twice.
        self._send_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any, spool: Spool) -> PrintService:
        from printing.layouts import columns_for

        profile_columns = None
        try:
            escpos_loader.printers()
            from escpos.capabilities import get_profile

            profile_columns = get_profile(settings.printer_profile).get_columns("a")
        except Exception:  # noqa: BLE001 - validated again when the printer opens
            pass
        return cls(
            lambda: connections.open_printer(settings),
            spool,
            profile=settings.printer_profile,
            width=columns_for(settings.paper_width_mm, profile_columns),
            confirm_timeout=settings.printer_timeout_seconds,
            cash_drawer=settings.cash_drawer,
        )

    # -- building ------------------------------------------------------------------------
    def render(self, data: Document) -> bytes:
        """The complete ESC/POS job for a document (no printer involved)."""
        printer = escpos_loader.dummy(self.profile)
        layouts.render(printer, data, self.width)
        output: bytes = printer.output
        return output

    # -- printing ------------------------------------------------------------------------
    def print_document(self, data: Document, *, label: str = "") -> PrintResult:
        """Render, queue and print one document. Never raises."""
        try:
            payload = self.render(data)
        except Exception as exc:  # noqa: BLE001 - a layout bug must not break a payment
            log.exception("no se pudo preparar el documento")
            return PrintResult(False, False, f"No se pudo preparar el documento ({exc}).")
        return self.print_bytes(layouts.document_kind(data), payload, label=label)

    def print_bytes(self, kind: str, payload: bytes, *, label: str = "") -> PrintResult:
        """Queue and print an already rendered job. Never raises."""
        try:
            job = self.spool.add(kind, payload, label=label)
        except Exception as exc:  # noqa: BLE001
            log.exception("no se pudo guardar el trabajo en la cola")
            # Without a queue entry, still try the printer once: the paper is what matters.
            try:
                with self._send_lock:
                    self._send(payload)
                return PrintResult(True, False, None)
            except Exception as send_exc:  # noqa: BLE001
                return PrintResult(False, False, f"{exc} {_describe(send_exc)}")
        # Older jobs first: the queue is a queue, and this one joins its end.
        _, error = self._drain()
        try:
            still_queued = self.spool.get(job.id) is not None
        except Exception:  # noqa: BLE001
            still_queued = True
        if not still_queued:
            return PrintResult(True, False, None, job.id)
        return PrintResult(False, True, error or "Quedó en espera en la cola.", job.id)

    def open_drawer(self) -> str | None:
        """Pulse the cash drawer wired to the printer (ESC p), when the settings say one is
        there. Never queued (a drawer opening later, on its own, would be worse than not at
        all) and never raises: None when it opened or there is none, else the reason."""
        if not self.cash_drawer:
            return None
        try:
            with self._send_lock:
                self._send(DRAWER_PULSE)
        except PrinterNotReady as exc:
            return exc.message
        except Exception as exc:  # noqa: BLE001
            log.warning("no se pudo abrir el cajón: %r", exc)
            return _describe(exc)
        return None

    def retry_pending(self) -> int:
        """Print queued jobs oldest first, stopping at the first failure. Never raises.

        Returns how many printed.
        """
        return self._drain()[0]

    def pending(self) -> list[SpoolJob]:
        try:
            return self.spool.pending()
        except Exception:  # noqa: BLE001
            log.exception("no se pudo leer la cola de impresión")
            return []

    def printer_status(self) -> str:
        """The printer's status right now (opens and closes a connection). Never raises."""
        printer = None
        try:
            printer = self._open_printer()
            printer.open()
            return connections.query_status(printer, self.status_timeout)
        except Exception:  # noqa: BLE001
            return connections.UNKNOWN
        finally:
            _close_quietly(printer)

    # -- internals -----------------------------------------------------------------------
    def _drain(self) -> tuple[int, str | None]:
        """Send queued jobs oldest first; stop at the first failure and return its reason."""
        printed = 0
        try:
            with self._send_lock:
                for job in self.spool.pending():
                    error = self._attempt(job)
                    if error is not None:
                        return printed, error
                    printed += 1
        except Exception as exc:  # noqa: BLE001 - the queue folder itself failing
            log.exception("no se pudo leer la cola de impresión")
            return printed, str(exc)
        return printed, None

    def _attempt(self, job: SpoolJob) -> str | None:
        """Send one job; None when it printed (and left the queue), else the reason."""
        try:
            self._send(job.payload)
        except PrinterNotReady as exc:
            self.spool.record_failure(job.id, exc.message)
            return exc.message
        except Exception as exc:  # noqa: BLE001
            log.warning("falló la impresión de %s: %r", job.id, exc)
            reason = _describe(exc)
            self.spool.record_failure(job.id, reason)
            return reason
        self.spool.remove(job.id)
        return None

    def _send(self, payload: bytes) -> None:
        printer = self._open_printer()
        try:
            printer.open()
            status = connections.query_status(printer, self.status_timeout)
            if status in (connections.NO_PAPER, connections.OFFLINE):
                raise PrinterNotReady(connections.STATUS_MESSAGES[status])
            if status == connections.UNKNOWN and connections.can_report_status(printer):
                # It could have answered and did not: it is stalled or not a printer.
                raise PrinterNotReady("La impresora no respondió a la consulta de estado.")
            printer._raw(payload)
            if connections.can_report_status(printer):
                # Bytes handed to a socket are not paper: a printer that resets or stops
                # reading mid-job loses the rest silently (escpos's close() swallows it). Only
                # an answer that comes after the whole job says it got there.
                after = connections.query_status(printer, self.confirm_timeout)
                if after != connections.OK:
                    raise PrinterNotReady(
                        _UNCONFIRMED.get(after, _UNCONFIRMED[connections.UNKNOWN])
                    )
            # Win32 queues print on close, and a file flushes there: a failure here counts.
            printer.close()
        except BaseException:
            _close_quietly(printer)
            raise


def _close_quietly(printer: Any) -> None:
    if printer is None:
        return
    with contextlib.suppress(Exception):
        printer.close()
