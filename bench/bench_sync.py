"""Sync benchmark, loopback only, bounded in time.

1. Cache refresh: central holds ``--references`` referencias (default 100,000); a fresh caja
   follows the delta feed from the start (target ≤ 5 s).
2. Drain: ``--backlog`` payments (default 10,000) of those referencias wait in the caja's
   outbox (as after a day offline); the sender drains them to central (target ≥ 500/s),
   ``--per-request`` payments per ``POST /v1/payments/batch``. The drain stops at ``--budget``
   seconds and reports the rate reached.
3. Sender ceiling: the same drain against a minimal loopback server that answers 201 at once,
   to separate the sender's own cost from central's.

Central runs in its own process (``central.embedded.CentralProcess``) on a SQLite file, so it
does not share an interpreter with the caja. Each phase also prints the CPU time spent per item
by central's process and by this one (the caja): on a machine shared with other work the wall
time moves with the load, the CPU time much less.

    .venv/bin/python bench/bench_sync.py [--backlog 10000] [--references 100000] [--budget 60]
        [--phases refresh,drain,ceiling] [--page 1000]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from central.clock import ShiftedClock  # noqa: E402
from central.embedded import CentralProcess, EmbeddedCentral, free_port  # noqa: E402
from kiosk import reference_cache  # noqa: E402
from sync.client import CentralClient, record_from_json  # noqa: E402
from sync.outbox import PAYMENTS_PER_REQUEST, OutboxSender  # noqa: E402
from sync.refresher import CacheRefresher  # noqa: E402
from tests.integration.sync_support import (  # noqa: E402
    Terminal,
    bulk_backlog,
    business_clock,
    central_payments,
    make_terminal,
    seed_references,
)

AMOUNT = Decimal("100.00")

STUB = """
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def pay(request):
    body = await request.json()
    return JSONResponse({"payment_uuid": request.headers["idempotency-key"],
                         "status": "APLICADO", "reference": body["reference"]}, 201)

async def pay_batch(request):
    items = (await request.json())["payments"]
    return JSONResponse({"results": [
        {"idempotency_key": i["idempotency_key"], "status": 201,
         "body": {"payment_uuid": i["idempotency_key"], "status": "APLICADO",
                  "reference": i["body"]["reference"]}}
        for i in items]})

app = Starlette(routes=[Route("/v1/payments", pay, methods=["POST"]),
                        Route("/v1/payments/batch", pay_batch, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def line(label: str, value: str) -> None:
    print(f"  {label:<46} {value}", flush=True)


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and its descendants (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    tree, total = {pid}, 0.0
    grew = True
    while grew:
        grew = False
        for child, (parent, _cpu) in stats.items():
            if parent in tree and child not in tree:
                tree.add(child)
                grew = True
    for member in tree:
        total += stats.get(member, (0, 0.0))[1]
    return total


class CpuMeter:
    """CPU spent by central's process and by this one between ``start`` and ``per_item``."""

    def __init__(self, central_pid: int | None) -> None:
        self.central_pid = central_pid

    def start(self) -> None:
        self._central = process_cpu(self.central_pid) if self.central_pid else 0.0
        self._here = time.process_time()

    def per_item(self, items: int) -> str:
        here = time.process_time() - self._here
        text = f"CPU caja {here:.2f} s = {here / max(items, 1) * 1e6:,.0f} µs/item"
        if self.central_pid:
            central = process_cpu(self.central_pid) - self._central
            text += f"; central {central:.2f} s = {central / max(items, 1) * 1e6:,.0f} µs/item"
        return text


def drain(sender: OutboxSender, budget: float, batch: int) -> tuple[int, float, int]:
    started = time.monotonic()
    confirmed = 0
    pending = -1
    while time.monotonic() - started < budget:
        r = sender.drain(batch=batch, deadline_seconds=budget - (time.monotonic() - started))
        confirmed += r.confirmed
        pending = r.pending
        if pending == 0:
            break
        if r.attempted == 0:
            time.sleep(0.05)
    return confirmed, time.monotonic() - started, pending


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=10_000)
    parser.add_argument("--references", type=int, default=100_000)
    parser.add_argument("--budget", type=float, default=60.0, help="segundos máximos por fase")
    parser.add_argument("--workers", type=int, default=8, help="envíos simultáneos del emisor")
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument(
        "--per-request", type=int, default=PAYMENTS_PER_REQUEST, help="pagos por solicitud"
    )
    parser.add_argument("--page", type=int, default=1000, help="referencias por página del feed")
    parser.add_argument("--central-workers", type=int, default=1)
    parser.add_argument("--phases", default="refresh,drain,ceiling")
    args = parser.parse_args()
    phases = set(args.phases.split(","))
    refs_total = max(args.references, args.backlog)

    clock = business_clock()
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp_name:
        tmp = Path(tmp_name)
        url = f"sqlite:///{tmp / 'central.sqlite'}"
        with EmbeddedCentral(db_url=url, clock=clock, seed_demo=True) as setup:
            demo = setup.demo
        caja_entry = next(t for t in demo["terminals"] if t["kind"] == "caja")
        print("== bench_sync: sincronización caja ↔ central (loopback)", flush=True)
        t0 = time.monotonic()
        refs = seed_references(url, refs_total, clock(), amount=AMOUNT)
        line("referencias sembradas en central", f"{len(refs):,} en {time.monotonic() - t0:.1f} s")

        with CentralProcess(url, now=clock(), workers=args.central_workers) as central:
            assert central.process is not None
            cpu = CpuMeter(central.process.pid)
            caja = make_terminal(tmp / "caja.sqlite", clock, caja_entry)
            client = CentralClient(central.base_url, caja.token, timeout=10.0, clock=clock)

            if "refresh" in phases:
                refresh(args, tmp, clock, caja_entry, caja, client, cpu)

            if "drain" in phases:
                backlog = refs[: args.backlog]
                t0 = time.monotonic()
                bulk_backlog(caja, backlog, AMOUNT)
                line(
                    "pagos en cola (un día sin conexión)",
                    f"{len(backlog):,} (preparados en {time.monotonic() - t0:.1f} s)",
                )
                sender = OutboxSender(
                    caja.uow,
                    client,
                    clock,
                    random.Random(1),
                    workers=args.workers,
                    payments_per_request=args.per_request,
                )
                cpu.start()
                confirmed, took, pending = drain(sender, args.budget, args.batch)
                spent = cpu.per_item(confirmed)
                sender.close()
                rate = confirmed / took if took else 0.0
                held = len(central_payments(url))
                ok = "sí" if rate >= 500 else "NO"
                line(
                    "vaciado de la cola hacia central",
                    f"{confirmed:,} confirmados en {took:.1f} s = {rate:,.0f} pagos/s "
                    f"— meta ≥ 500/s: {ok}",
                )
                line("", spent)
                if pending:
                    line("", f"(corte por tiempo: quedaron {pending:,} en cola)")
                line("central tiene (comprobado en su base)", f"{held:,} pagos")
            client.close()
            caja.close()

        if "ceiling" in phases:
            ceiling(args, tmp, clock, caja_entry, refs)
    return 0


def refresh(
    args: argparse.Namespace,
    tmp: Path,
    clock: ShiftedClock,
    caja_entry: dict[str, Any],
    caja: Terminal,
    client: CentralClient,
    cpu: CpuMeter,
) -> None:
    """A fresh caja follows the whole feed; then the same pages, served and stored apart."""
    t0 = time.monotonic()
    cpu.start()
    result = CacheRefresher(caja.uow, client, page_size=args.page).refresh()
    took = time.monotonic() - t0
    ok = "sí" if took <= 5.0 else "NO"
    line(
        "actualización de caché (feed completo)",
        f"{result.records:,} referencias, {result.pages} páginas, {took:.2f} s "
        f"({result.records / took:,.0f}/s) — meta ≤ 5 s: {ok}",
    )
    line("", cpu.per_item(result.records))

    # Where the refresh time goes: central serving the pages, or the caja storing them.
    t0 = time.monotonic()
    cpu.start()
    since: str | None = None
    pages: list[list[dict[str, Any]]] = []
    while True:
        page = client.references(since=since, limit=args.page)
        pages.append(page["items"])
        since = str(page["next_cursor"])
        if not page["has_more"]:
            break
    served = sum(len(p) for p in pages)
    line(
        "  de ello, central sirviendo las páginas",
        f"{time.monotonic() - t0:.2f} s ({len(pages)} páginas de ≤ {args.page})",
    )
    line("", cpu.per_item(served))
    spare = make_terminal(tmp / "caja-cache.sqlite", clock, caja_entry)
    t0 = time.monotonic()
    cpu.start()
    for items in pages:
        reference_cache.upsert(spare.uow(), [record_from_json(i) for i in items], "0")
    line("  de ello, la caja guardando en su caché", f"{time.monotonic() - t0:.2f} s")
    line("", cpu.per_item(served).split(";")[0])
    spare.close()


def ceiling(
    args: argparse.Namespace,
    tmp: Path,
    clock: ShiftedClock,
    caja_entry: dict[str, Any],
    refs: list[str],
) -> None:
    """The sender's own ceiling, against a server that does nothing."""
    port = free_port()
    stub = subprocess.Popen(
        [sys.executable, "-c", STUB, str(port)], env=dict(os.environ, PYTHONPATH=str(ROOT))
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(base + "/", timeout=0.5)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        caja = make_terminal(tmp / "caja-techo.sqlite", clock, caja_entry)
        bulk_backlog(caja, refs[: args.backlog], AMOUNT)
        cpu = CpuMeter(stub.pid)
        with CentralClient(base, caja.token, timeout=10.0, clock=clock) as stub_client:
            sender = OutboxSender(
                caja.uow,
                stub_client,
                clock,
                random.Random(1),
                workers=args.workers,
                payments_per_request=args.per_request,
            )
            cpu.start()
            confirmed, took, pending = drain(sender, args.budget, args.batch)
            spent = cpu.per_item(confirmed)
            sender.close()
        caja.close()
        line(
            "techo del emisor (servidor que solo responde 201)",
            f"{confirmed:,} en {took:.1f} s = {confirmed / took:,.0f} pagos/s",
        )
        line("", spent.replace("central", "servidor mínimo"))
    finally:
        stub.terminate()
        stub.wait(10)


if __name__ == "__main__":
    raise SystemExit(main())
