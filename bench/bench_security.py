"""Security figures of issue 13: ``.venv/bin/python bench/bench_security.py``.

Against the real central (SQLite; also PostgreSQL when ISSEG_TEST_PG_URL is set):

* wrong NIPs checked in a burst of 40 concurrent logins for one affiliate (≤ 5, the lockout);
* failed logins one kiosk gets checked in a minute, out of 300 tried (≤ the policy's 10);
* central's memory (RSS of its process) before and after an 800 MB body sent without a token,
  and after a 800 MB body streamed without a length with a valid token (both refused unread);

and on a terminal's SQLite file: the referencia cache after a simulated year of 2,000 fichas a
day (pruned daily) against the same after a week.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import local_db  # noqa: E402
from central.clock import ShiftedClock  # noqa: E402
from central.embedded import CentralProcess, EmbeddedCentral  # noqa: E402
from kiosk import reference_cache  # noqa: E402
from local_db.testing import reference_records  # noqa: E402
from tests.integration.central_support import BUSINESS_NOW, fresh_pg_database  # noqa: E402

BODY = 800 * 1024 * 1024


def line(name: str, value: str, target: str, ok: bool) -> bool:
    print(f"{name:<58} {value:>16}   objetivo {target:<10} {'OK' if ok else 'NO CUMPLE'}")
    return ok


def logins(url: str) -> list[bool]:
    results = []
    with EmbeddedCentral(url, clock=ShiftedClock(BUSINESS_NOW, frozen=True), seed_demo=True) as c:
        kiosk = next(t["token"] for t in c.demo["terminals"] if t["kind"] == "kiosko")
        headers = {"Authorization": f"Bearer {kiosk}"}

        def wrong(_: int) -> int:
            with httpx.Client(base_url=c.base_url, timeout=60) as h:
                body = {"member_number": "100001", "nip": "9999"}
                return h.post("/v1/kiosk/sessions", headers=headers, json=body).status_code

        with ThreadPoolExecutor(max_workers=40) as pool:
            codes = list(pool.map(wrong, range(40)))
        # Four 401s and the fifth attempt, which locked the number (its 423 says "hasta").
        checked = codes.count(401) + 1
        results.append(line(f"  NIP revisados en ráfaga de 40 ({url.split(':')[0]})",
                            f"{checked} de 40", "≤ 5", checked <= 5))  # fmt: skip
        other = next(t["token"] for t in c.demo["terminals"] if t["kind"] == "kiosko"
                     and t["token"] != kiosk)  # fmt: skip
        with httpx.Client(base_url=c.base_url, timeout=60) as h:
            tried = [
                h.post("/v1/kiosk/sessions", headers={"Authorization": f"Bearer {other}"},
                       json={"member_number": f"8{n:05d}", "nip": "1111"}).status_code
                for n in range(300)
            ]  # fmt: skip
        failed = tried.count(401) + tried.count(423)
        results.append(line("  inicios fallidos revisados por kiosko y minuto (de 300)",
                            f"{failed} ({tried.count(429)}×429)", "≤ 10", failed <= 10))  # fmt: skip
    return results


def rss_kib(pid: int) -> int:
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmRSS:"):
            return int(row.split()[1])
    raise RuntimeError("sin VmRSS")


def push(port: int, head: str, chunked: bool) -> str:
    """Send ``head`` then up to 800 MB; the status line central answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode() + b"\r\n")
        block = b"x" * (1024 * 1024)
        try:
            for _ in range(BODY // len(block)):
                if chunked:
                    sock.sendall(f"{len(block):x}\r\n".encode() + block + b"\r\n")
                else:
                    sock.sendall(block)
        except OSError:
            pass  # central answered and closed: the rest is never read
        try:
            return sock.recv(200).split(b"\r\n", 1)[0].decode()
        except OSError:
            return "(conexión cerrada)"


def memory(url: str | None) -> list[bool]:
    results = []
    with CentralProcess(url) as central:
        pid = central.process.pid  # type: ignore[union-attr]
        key = uuid.uuid4()
        before = rss_kib(pid)
        status = push(central.port, "POST /v1/payments HTTP/1.1\r\nHost: x\r\n"
                      f"Content-Type: application/json\r\nIdempotency-Key: {key}\r\n"
                      f"Content-Length: {BODY}\r\n", chunked=False)  # fmt: skip
        after = rss_kib(pid)
        grew = (after - before) / 1024
        results.append(line(f"  RSS de central, 800 MB sin token: {status}",
                            f"{before / 1024:.0f}→{after / 1024:.0f} MB", "+≤ 50 MB",
                            grew <= 50))  # fmt: skip
        status = push(central.port, "POST /v1/closings HTTP/1.1\r\nHost: x\r\n"
                      "Content-Type: application/json\r\nAuthorization: Bearer x\r\n"
                      "Transfer-Encoding: chunked\r\n", chunked=True)  # fmt: skip
        last = rss_kib(pid)
        results.append(line(f"  RSS de central, 800 MB sin largo, token falso: {status}",
                            f"{after / 1024:.0f}→{last / 1024:.0f} MB", "+≤ 50 MB",
                            (last - before) / 1024 <= 50))  # fmt: skip
    return results


def cache_year() -> list[bool]:
    sizes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, days in (("semana", 8), ("año", 365)):
            path = Path(tmp) / f"{label}.sqlite"
            db = local_db.open_database(path)
            uow = db.unit_of_work()
            start = date(2025, 1, 6)
            for n in range(days):
                day = start + timedelta(days=n)
                reference_cache.upsert(uow, reference_records(day, 2000, start=n * 2000 + 1))
                reference_cache.prune(uow, day)
            with uow.reading():
                rows = uow.references.count()
            db.close()
            sizes[label] = (rows, path.stat().st_size)
    (week_rows, week), (year_rows, year) = sizes["semana"], sizes["año"]
    return [
        line("  caché tras una semana (2,000 fichas al día)",
             f"{week_rows} / {week / 1e6:.1f} MB", "", True),
        line("  caché tras un año simulado", f"{year_rows} / {year / 1e6:.1f} MB",
             "= semana", year_rows == week_rows),
    ]  # fmt: skip


def main() -> int:
    ok = []
    print("Inicios de sesión en el kiosko")
    with tempfile.TemporaryDirectory() as tmp:
        ok += logins(f"sqlite:///{Path(tmp) / 'central.sqlite'}")
    pg = os.environ.get("ISSEG_TEST_PG_URL")
    if pg:
        with fresh_pg_database(pg) as url:
            ok += logins(url)
    print("Memoria de central ante cuerpos enormes")
    ok += memory(None)
    print("Caché de referencias de una caja")
    ok += cache_year()
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
