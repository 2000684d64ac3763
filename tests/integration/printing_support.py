"""Test helpers for printing: an ESC/POS reader written from Epson's command reference,
independent of printing/ (it does not import it), and sample documents.

Only the commands a receipt printer job may contain are known; anything else fails the
test, so a layout cannot slip an unexpected byte sequence past the checks.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from printing.documents import DropData, ReceiptData, ReportData, SlipData, VoidData

# Epson "Character code table" numbers (ESC t n) to Python codecs.
EPSON_CODE_PAGES = {0: "cp437", 2: "cp850", 16: "cp1252", 19: "cp858", 40: "iso8859_15"}
FONT_A_DOTS = 12


@dataclass
class Line:
    text: str
    width_multiplier: int
    bold: bool
    align: int

    @property
    def columns(self) -> int:
        """Width in font A columns."""
        return len(self.text) * self.width_multiplier


@dataclass
class Job:
    lines: list[Line] = field(default_factory=list)
    barcodes: list[tuple[int, bytes]] = field(default_factory=list)  # (m, data)
    code_page_selects: list[int] = field(default_factory=list)
    cuts: int = 0
    drawer_pulses: list[tuple[int, int, int]] = field(default_factory=list)  # ESC p m t1 t2
    text_bytes: bytearray = field(default_factory=bytearray)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def read_job(data: bytes) -> Job:
    """Walk an ESC/POS stream command by command (Epson TM-T20II command lengths)."""
    job = Job()
    codec = "cp437"
    width_mul = 1
    bold = False
    align = 0
    current = bytearray()
    i = 0

    def end_line() -> None:
        nonlocal current
        job.lines.append(Line(bytes(current).decode(codec), width_mul, bold, align))
        current = bytearray()

    while i < len(data):
        b = data[i]
        if b == 0x0A:
            end_line()
            i += 1
        elif b == 0x1B:
            cmd = chr(data[i + 1])
            if cmd == "@":
                codec, width_mul, bold, align = "cp437", 1, False, 0
                i += 2
            elif cmd == "2":
                i += 2
            elif cmd == "p":
                job.drawer_pulses.append((data[i + 2], data[i + 3], data[i + 4]))
                i += 5
            elif cmd in "t!EaM-d3{GJ":
                n = data[i + 2]
                if cmd == "t":
                    job.code_page_selects.append(n)
                    codec = EPSON_CODE_PAGES[n]
                elif cmd == "!":
                    width_mul = 2 if n & 0x20 else 1
                    bold = bool(n & 0x08)
                    assert not n & 0x01, "font B is not expected"
                elif cmd == "E":
                    bold = bool(n & 1)
                elif cmd == "a":
                    align = n
                elif cmd == "M":
                    assert n in (0, 48), "font B is not expected"
                elif cmd == "d":
                    for _ in range(n):
                        end_line()
                i += 3
            else:
                raise AssertionError(f"unexpected ESC {cmd!r} at {i}")
        elif b == 0x1D:
            cmd = chr(data[i + 1])
            if cmd == "!":
                width_mul = (data[i + 2] >> 4) + 1
                i += 3
            elif cmd in "BbhwHf":
                i += 3
            elif cmd == "V":
                m = data[i + 2]
                i += 4 if m in (65, 66) else 3
                job.cuts += 1
            elif cmd == "k":
                m = data[i + 2]
                if m <= 6:
                    end = data.index(0, i + 3)
                    job.barcodes.append((m, data[i + 3 : end]))
                    i = end + 1
                else:
                    n = data[i + 3]
                    job.barcodes.append((m, data[i + 4 : i + 4 + n]))
                    i += 4 + n
            elif cmd == "v":
                xb = data[i + 4] + 256 * data[i + 5]
                yd = data[i + 6] + 256 * data[i + 7]
                i += 8 + xb * yd
            else:
                raise AssertionError(f"unexpected GS {cmd!r} at {i}")
        elif b < 0x20:
            raise AssertionError(f"unexpected control byte {b:#04x} at {i}")
        else:
            current.append(b)
            job.text_bytes.append(b)
            i += 1
    if current:
        end_line()
    return job


def decode_code128(data: bytes) -> str:
    """GS k m=73 data to the characters it encodes, per Epson's reference.

    The data must begin with a code-set selection: ``{A``, ``{B`` or ``{C``. In sets A and B
    each byte is one character; in set C each byte 0-99 is a pair of digits. ``{`` (0x7B)
    starts a two-byte escape: ``{A``/``{B``/``{C`` switch set, ``{S`` shifts, ``{1``-``{4``
    are FNC1-4, ``{{`` is a literal ``{``.
    """
    assert len(data) >= 2 and data[0] == 0x7B and data[1] in b"ABC", "no code-set selector"
    code_set = chr(data[1])
    out: list[str] = []
    i = 2
    while i < len(data):
        byte = data[i]
        if byte == 0x7B:
            escape = chr(data[i + 1])
            if escape in "ABC":
                code_set = escape
            elif escape == "{":
                out.append("{")
            elif escape not in "S1234":
                raise AssertionError(f"bad escape {{{escape}")
            i += 2
            continue
        if code_set == "C":
            assert byte <= 99, f"code set C byte out of range: {byte}"
            out.append(f"{byte:02d}")
        elif code_set == "B":
            assert 0x20 <= byte <= 0x7F
            out.append(chr(byte))
        else:
            assert byte <= 0x5F
            out.append(chr(byte))
        i += 1
    return "".join(out)


MX = ZoneInfo("America/Mexico_City")


def sample_receipt(**changes: object) -> ReceiptData:
    from kiosk.references import issue
    from printing.documents import ReceiptData

    values: dict[str, object] = {
        "store_name": "Farmacia ISSEG León Centro",
        "folio": "C1-000123",
        "paid_at": datetime(2025, 11, 21, 14, 5, tzinfo=MX),
        "terminal": "Caja 1",
        "cashier": "María Peña",
        "member_name": "José Ñúñez Ibáñez",
        "member_number": "12341234",
        "loan_id": "PP-2025-0001",
        "kind": "installment",
        "concept": "Quincenas 3 y 4 de 24",
        "reference": issue(date(2025, 11, 21), 42),
        "amount": Decimal("540.00"),
        "cash_applied": Decimal("540.00"),
        "cash_received": Decimal("600.00"),
        "change": Decimal("60.00"),
    }
    values.update(changes)
    return ReceiptData(**values)  # type: ignore[arg-type]


def sample_slip(**changes: object) -> SlipData:
    from kiosk.references import issue
    from printing.documents import SlipData

    values: dict[str, object] = {
        "store_name": "Farmacia ISSEG León Centro",
        "member_name": "Ana Belén Muñoz Güemes",
        "member_number": "98765432",
        "loan_id": "CC-2024-0777",
        "kind": "installment",
        "amount": Decimal("1080.50"),
        "reference": issue(date(2025, 11, 24), 9_876_543_210),
        "issued_on": date(2025, 11, 24),
        "quincenas": ("3/24", "4/24"),
        "issued_at": datetime(2025, 11, 24, 9, 30, tzinfo=MX),
    }
    values.update(changes)
    return SlipData(**values)  # type: ignore[arg-type]


def sample_void(**changes: object) -> VoidData:
    from kiosk.references import issue
    from printing.documents import VoidData

    values: dict[str, object] = {
        "store_name": "Farmacia ISSEG León Centro",
        "folio": "CAN-0007",
        "voided_at": datetime(2025, 11, 21, 15, 0, tzinfo=MX),
        "terminal": "Caja 1",
        "cashier": "María Peña",
        "manager": "Víctor Ortíz",
        "original_folio": "C1-000123",
        "reference": issue(date(2025, 11, 21), 42),
        "member_name": "José Ñúñez Ibáñez",
        "member_number": "12341234",
        "amount": Decimal("540.00"),
        "reason": "Se cobró a otro afiliado por error",
        "cash_refunded": Decimal("540.00"),
    }
    values.update(changes)
    return VoidData(**values)  # type: ignore[arg-type]


def sample_drop(**changes: object) -> DropData:
    from printing.documents import DropData

    values: dict[str, object] = {
        "store_name": "Farmacia ISSEG León Centro",
        "folio": "12",
        "at": datetime(2025, 11, 21, 13, 0, tzinfo=MX),
        "terminal": "Caja 1",
        "shift": "7",
        "cashier": "María Peña",
        "dropped_by": "Víctor Ortíz",
        "amount": Decimal("30000.00"),
    }
    values.update(changes)
    return DropData(**values)  # type: ignore[arg-type]


def sample_report(kind: str = "Z", **changes: object) -> ReportData:
    from kiosk.references import issue
    from printing.documents import (
        DenominationCount,
        MethodTotal,
        ReportData,
        ReportLine,
        ShiftSummary,
    )

    ref = issue(date(2025, 11, 21), 42)
    values: dict[str, object] = {
        "kind": kind,
        "store_name": "Farmacia ISSEG León Centro",
        "terminal": "Caja 1",
        "business_date": date(2025, 11, 21),
        "generated_at": datetime(2025, 11, 21, 21, 59, tzinfo=MX),
        "cashier": "María Peña",
        "manager": "Víctor Ortíz",
        "opened_at": datetime(2025, 11, 21, 7, 0, tzinfo=MX),
        "totals_by_method": (
            MethodTotal("Efectivo", 10, Decimal("5400.00")),
            MethodTotal("Tarjeta", 2, Decimal("2500.00")),
        ),
        "payments_count": 12,
        "payments_total": Decimal("7900.00"),
        "opening_float": Decimal("1000.00"),
        "cash_taken": Decimal("5600.00"),
        "change_given": Decimal("200.00"),
        "cash_drops": Decimal("3000.00"),
        "denominations": (
            DenominationCount(Decimal("500"), 4),
            DenominationCount(Decimal("200"), 2),
            DenominationCount(Decimal("0.50"), 3, "moneda"),
        ),
        "counted_cash": Decimal("2401.50"),
        "shifts": (ShiftSummary("Caja 1", "María Peña", 12, Decimal("7900.00"), Decimal("1.50")),),
        "voids": (ReportLine("C1-000099", ref, Decimal("540.00"), note="Error de captura"),),
        "reprints": (ReportLine("C1-000100", ref, Decimal("120.00")),),
        "unconfirmed": (ReportLine("C1-000101", ref, Decimal("300.00")),),
    }
    values.update(changes)
    return ReportData(**values)  # type: ignore[arg-type]


# -- fake printers ---------------------------------------------------------------------------

STATUS_OK = 0x12  # DLE EOT answer with only the fixed bits set: all fine
STATUS_PAPER_END = 0x72  # DLE EOT 4: bits 5-6 paper end
STATUS_OFFLINE = 0x1A  # DLE EOT 1: bit 3 off-line


def _is_status_request(chunk: bytes) -> bool:
    return len(chunk) == 3 and chunk[:2] == b"\x10\x04" and chunk[2] in (1, 2, 3, 4)


def split_status_request(chunk: bytes) -> tuple[bytes, int | None]:
    """The job bytes of a chunk and the DLE EOT n that ends it, if any: TCP may deliver the
    question asked after a job in the same read as the job's last bytes."""
    if len(chunk) >= 3 and _is_status_request(chunk[-3:]):
        return chunk[:-3], chunk[-1]
    return chunk, None


class TcpPrinter:
    """A raw TCP port-9100 "printer" on 127.0.0.1: records each connection's job bytes.

    ``mode``: "ok" answers status requests and reads everything; "stall" accepts and then
    never reads nor answers; "paper_end"/"offline" answer with that status; "reset" and
    "stop" answer the status asked before a job, then after ``job_limit`` bytes of it reset
    the connection (a printer rebooting) or stop reading it (a printer hung).
    """

    def __init__(self, port: int = 0, mode: str = "ok", job_limit: int = 200) -> None:
        self.mode = mode
        self.job_limit = job_limit
        self.jobs: list[bytes] = []
        self.status_requests = 0
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", port))
        self._server.listen(8)
        self._server.settimeout(0.1)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                continue
            if self.mode == "stall":
                self._held.append(conn)
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        job = bytearray()
        conn.settimeout(0.2)
        with conn:
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                data, request = split_status_request(chunk)
                if self.mode in ("reset", "stop") and len(job) + len(data) >= self.job_limit:
                    job.extend(data[: self.job_limit - len(job)])
                    self._misbehave(conn)
                    break
                job.extend(data)
                if request is not None:
                    self.status_requests += 1
                    answer = STATUS_OK
                    if self.mode == "paper_end" and request == 4:
                        answer = STATUS_PAPER_END
                    if self.mode == "offline" and request == 1:
                        answer = STATUS_OFFLINE
                    conn.sendall(bytes([answer]))
        if job:
            self.jobs.append(bytes(job))

    def _misbehave(self, conn: socket.socket) -> None:
        if self.mode == "reset":
            # SO_LINGER 0: close() sends RST, as a printer that reboots mid-job does.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        self._stop.wait()  # "stop": hold the connection, read nothing more

    def wait_for_jobs(self, count: int, timeout: float = 5.0) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while len(self.jobs) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)  # let a duplicate, if any, arrive before the caller counts
        return list(self.jobs)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._server.close()
        for conn in self._held:
            conn.close()


def free_port_then_closed() -> int:
    """A loopback port nobody listens on (connections to it are refused)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port: int = probe.getsockname()[1]
    probe.close()
    return port


class PtyPrinter:
    """The far end of a pty pair acting as a serial printer: answers DLE EOT, records bytes."""

    def __init__(self, status: int = STATUS_OK) -> None:
        self.master, self.slave = os.openpty()
        self.device = os.ttyname(self.slave)
        self.status = status
        self.received = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        import select

        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                break
            data, request = split_status_request(chunk)
            self.received.extend(data)
            if request is not None:
                os.write(self.master, bytes([self.status]))

    def wait_for(self, size: int, timeout: float = 5.0) -> bytes:
        deadline = time.monotonic() + timeout
        while len(self.received) < size and time.monotonic() < deadline:
            time.sleep(0.02)
        return bytes(self.received)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        os.close(self.master)
        os.close(self.slave)
