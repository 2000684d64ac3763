"""Central's accepted payments per second on PostgreSQL, 2 uvicorn workers, 50 clients.

    ISSEG_TEST_PG_URL=postgresql+psycopg://isseg:isseg@127.0.0.1:5432/isseg_test \
        .venv/bin/python bench/bench_central.py [--payments 6000] [--seconds 20]

Targets: ≥ 1,000 accepted payments/s with p95 ≤ 100 ms. Beside it, as the ceiling, the raw
rate of one-row INSERT + COMMIT transactions on the same database from 50 connections.
Everything runs on loopback in a scratch database that is dropped at the end; bounded in
count and time. It also prints the CPU each accepted payment cost in the server, the load
generator and PostgreSQL, since all three share the same cores. Without a PostgreSQL URL it says so and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from sqlalchemy import create_engine, insert, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from central import db as dbmod  # noqa: E402
from central import service as svc  # noqa: E402
from central.embedded import start_subprocess  # noqa: E402
from central.models import (  # noqa: E402
    Counter,
    InstallmentRow,
    LoanRow,
    ReferenceRow,
)
from kiosk import loans as loanlib  # noqa: E402
from kiosk import references as refs  # noqa: E402

MX = ZoneInfo("America/Mexico_City")
NOW = datetime(2025, 6, 10, 10, 0, tzinfo=MX)  # a business day, inside the window
CLIENTS = 50
WARMUP = 500  # payments sent before timing starts
PROCESSES = 1  # one asyncio process drives all 50 connections; its CPU is reported


def scratch_database(base: str) -> tuple[str, str]:
    url = make_url(base)
    name = f"isseg_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False), name


def drop_database(base: str, name: str) -> None:
    admin = create_engine(make_url(base), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def seed(db_url: str, count: int) -> tuple[str, list[tuple[str, str]]]:
    """A caja token and ``count`` VIGENTE referencias issued today, each on its own loan."""
    dbmod.upgrade(db_url)
    database = dbmod.Database(db_url)
    template = loanlib.loan_from_schedule(
        "X", Decimal("5000.00"), Decimal("0.16"), 6, date(2025, 6, 15)
    )
    first = template.installments[0]
    with database.write() as s:
        _, token = svc.enroll_terminal(s, "F001", "Caja 1", "caja", NOW)
        svc.upsert_member(s, "100001", "Afiliado de prueba", "1234")
    loans, items, references = [], [], []
    for n in range(1, count + 1):
        loan_id = f"B-{n}"
        loans.append({
            "loan_id": loan_id, "member_number": "100001", "kind": "PERSONAL",
            "principal": template.principal, "annual_rate": template.annual_rate,
            "installment": template.installment, "prepayments": Decimal("0.00"),
            "status": "ACTIVO",
        })  # fmt: skip
        for item in template.installments:
            items.append({
                "loan_id": loan_id, "number": item.number, "due_date": item.due_date,
                "amount": item.amount, "principal": item.principal, "state": item.state,
            })  # fmt: skip
        reference = str(refs.issue(NOW.date(), n))
        references.append({
            "reference": reference, "loan_id": loan_id, "member_number": "100001",
            "kind": "QUINCENAL", "concept": f"Pago quincenal, quincena 1, préstamo {loan_id}",
            "amount": first.amount, "quincenas": [1], "issued_on": NOW.date(),
            "issued_at": NOW, "status": "VIGENTE", "replaced_by": None, "version": 1,
            "change_seq": n,
        })  # fmt: skip
    with database.write() as s:
        s.execute(insert(LoanRow), loans)
        s.execute(insert(InstallmentRow), items)
        s.execute(insert(ReferenceRow), references)
        s.execute(update(Counter).where(Counter.name == "feed").values(value=count))
    database.dispose()
    return token, [(str(r["reference"]), str(r["amount"])) for r in references]


class _Connection:
    """A keep-alive HTTP/1.1 connection that only POSTs JSON and reads the status.

    httpx spent ~8 ms of CPU per request here, more than the server: on a machine the load
    generator shares with the server, that measured the client. This costs a small fraction.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, headers: dict[str, str], body: bytes) -> int:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}", "", ""]
        self.writer.write("\r\n".join(lines).encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _drive(
    base_url: str, token: str, work: list[tuple[str, str]], clients: int, seconds: float
) -> tuple[list[float], dict[int, int]]:
    latencies: list[float] = []
    codes: dict[int, int] = {}
    queue = list(reversed(work))
    deadline = time.monotonic() + seconds
    url = httpx.URL(base_url)
    paid_at = NOW.isoformat()

    async def worker() -> None:
        conn = _Connection(url.host, url.port or 80)
        try:
            while queue and time.monotonic() < deadline:
                reference, amount = queue.pop()
                body = json.dumps({
                    "reference": reference, "store_id": "F001", "amount": amount,
                    "cash": amount, "card": "0.00", "paid_at": paid_at,
                }).encode()  # fmt: skip
                headers = {
                    "Authorization": f"Bearer {token}",
                    "Idempotency-Key": str(uuid.uuid4()),
                }
                start = time.perf_counter()
                status = await conn.post("/v1/payments", headers, body)
                elapsed = time.perf_counter() - start
                codes[status] = codes.get(status, 0) + 1
                if status == 201:
                    latencies.append(elapsed)
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies, codes


def _client_process(args: tuple[str, str, list[tuple[str, str]], int, float]) -> tuple:
    base_url, token, work, clients, seconds = args
    before = time.process_time()
    latencies, codes = asyncio.run(_drive(base_url, token, work, clients, seconds))
    return latencies, codes, time.process_time() - before


def _cpu_seconds(match: Callable[[int, str], bool]) -> float:
    """User + system CPU of the live processes ``match(pid, cmdline)`` picks (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if match(int(entry.name), cmdline):
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def _tree(root: int) -> set[int]:
    """``root`` and all its descendants."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
            except OSError:
                continue
    found = {root}
    grew = True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in found} - found
        grew = bool(more)
        found |= more
    return found


@dataclass
class CentralRun:
    rate: float
    p95_ms: float
    accepted: int
    codes: dict[int, int]
    wall: float
    cpu: dict[str, float]  # seconds of CPU: server, clients, postgres


def _wait_until_idle(pid: int, timeout: float = 60.0) -> None:
    """Wait until the server's processes stop using CPU: /v1/health answers as soon as the
    first worker is up, while the second may still be importing for seconds on a busy machine."""
    tree = _tree(pid)
    deadline = time.monotonic() + timeout
    last = _cpu_seconds(lambda p, _c: p in tree)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = _cpu_seconds(lambda p, _c: p in tree)
        if now - last < 0.05:
            return
        last = now


def measure_central(
    db_url: str,
    token: str,
    work: list[tuple[str, str]],
    seconds: float,
    server_args: Sequence[str] = (),
) -> CentralRun:
    server = start_subprocess(db_url, now=NOW, workers=2, server_args=server_args)
    db_name = make_url(db_url).database or ""
    assert server.process is not None
    _wait_until_idle(server.process.pid)
    server_pids = _tree(server.process.pid)

    def of_server(pid: int, _cmd: str) -> bool:
        return pid in server_pids

    def of_postgres(_pid: int, cmd: str) -> bool:
        return cmd.startswith("postgres:") and f" {db_name} " in cmd

    try:
        base = server.base_url
        per = CLIENTS // PROCESSES
        warmup, timed = work[:WARMUP], work[WARMUP:]
        chunks = [timed[i::PROCESSES] for i in range(PROCESSES)]
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(PROCESSES) as pool:
            # Untimed warm-up: the client processes, both workers' database connections and
            # their prepared statements.
            pool.map(_client_process, [(base, token, warmup, CLIENTS, 10.0)])
            server_cpu, pg_cpu = _cpu_seconds(of_server), _cpu_seconds(of_postgres)
            start = time.perf_counter()
            results = pool.map(_client_process, [(base, token, c, per, seconds) for c in chunks])
            wall = time.perf_counter() - start
            server_cpu = _cpu_seconds(of_server) - server_cpu
            pg_cpu = _cpu_seconds(of_postgres) - pg_cpu
    finally:
        server.close()
    latencies = [x for lat, _, _ in results for x in lat]
    codes: dict[int, int] = {}
    for _, c, _ in results:
        for k, v in c.items():
            codes[k] = codes.get(k, 0) + v
    p95 = statistics.quantiles(latencies, n=20)[18] * 1000 if len(latencies) > 20 else 0.0
    cpu = {"servidor": server_cpu, "clientes": sum(r[2] for r in results), "postgres": pg_cpu}
    return CentralRun(len(latencies) / wall, p95, len(latencies), codes, wall, cpu)


def measure_raw_inserts(db_url: str, seconds: float) -> float:
    import psycopg

    dsn = dbmod.libpq_dsn(db_url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE bench_raw (id uuid PRIMARY KEY, reference text UNIQUE, "
            "amount bigint, paid_at timestamptz)"
        )
    done = [0] * CLIENTS
    deadline = time.monotonic() + seconds

    def worker(i: int) -> None:
        with psycopg.connect(dsn) as conn:
            n = 0
            while time.monotonic() < deadline:
                conn.execute(
                    "INSERT INTO bench_raw VALUES (%s, %s, %s, now())",
                    (uuid.uuid4(), f"{i}-{n}", 137440),
                )
                conn.commit()
                n += 1
            done[i] = n

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--payments", type=int, default=6000, help="referencias a pagar (más las de calentamiento)"
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="tope de tiempo")
    parser.add_argument("--raw-seconds", type=float, default=5.0)
    parser.add_argument(
        "--server-args",
        default="",
        help='opciones extra del servidor, p. ej. "--http h11 --loop asyncio" para comparar',
    )
    args = parser.parse_args(argv)
    base = os.environ.get("ISSEG_BENCH_PG_URL") or os.environ.get("ISSEG_TEST_PG_URL")
    if not base:
        print("bench_central: sin PostgreSQL (defina ISSEG_TEST_PG_URL); se omite.")
        return 0
    db_url, name = scratch_database(base)
    try:
        t0 = time.perf_counter()
        token, work = seed(db_url, args.payments + WARMUP)
        print(f"Preparadas {len(work)} referencias en {time.perf_counter() - t0:.1f} s")
        run = measure_central(db_url, token, work, args.seconds, args.server_args.split())
        raw = measure_raw_inserts(db_url, args.raw_seconds)
    finally:
        drop_database(base, name)
    ok = "sí" if run.rate >= 1000 and run.p95_ms <= 100 else "no"
    server = f", {args.server_args}" if args.server_args else ""
    print(
        f"central (PostgreSQL, 2 procesos{server}, {CLIENTS} clientes): {run.rate:,.0f} pagos "
        f"aceptados/s, p95 {run.p95_ms:.1f} ms, {run.accepted} aceptados, códigos {run.codes}"
    )
    per = max(run.accepted, 1)
    split = ", ".join(f"{k} {1000 * v / per:.2f} ms" for k, v in run.cpu.items())
    busy = sum(run.cpu.values()) / (run.wall * (os.cpu_count() or 1))
    print(
        f"CPU por pago aceptado: {split} "
        f"(en {run.wall:.1f} s, {os.cpu_count()} núcleos ocupados al {100 * busy:.0f}% por esto)"
    )
    print(f"INSERT+COMMIT directo, misma base, {CLIENTS} conexiones: {raw:,.0f} filas/s (techo)")
    print(f"Meta ≥ 1,000/s y p95 ≤ 100 ms: {ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
