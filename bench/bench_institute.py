"""The institute's side of central: payment applied → webhook delivered, and the event feed.

    ISSEG_TEST_PG_URL=postgresql+psycopg://isseg:isseg@127.0.0.1:5432/isseg_test \
        .venv/bin/python bench/bench_institute.py [--payments 300] [--events 100000]

1. Latency: central (2 workers, as deployed) on loopback; payments sent one at a time by 4
   clients; for each, the time from its 201 to its PAGO_APLICADO webhook reaching a receiver
   on loopback. Target p95 ≤ 1 s.
2. Nothing lost: the receiver now fails 30% of the requests and central (one worker) is
   killed (SIGKILL)
   half-way and started again; every payment's webhook must arrive (duplicates allowed: the
   receiver de-duplicates by event id).
3. The event feed: GET /v1/events read from the start in pages of 5,000 over ``--events``
   events; rows/s.

Without a PostgreSQL URL it runs on a SQLite file (one worker).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from bench_central import NOW, drop_database, scratch_database, seed  # noqa: E402
from sqlalchemy import insert, update  # noqa: E402

from central import db as dbmod  # noqa: E402
from central.embedded import CentralProcess  # noqa: E402
from central.models import Counter, EventRow, WebhookEndpoint  # noqa: E402
from central.service import events  # noqa: E402
from tests.integration.institute_support import Receiver, add_webhook, service_token  # noqa: E402

CLIENTS = 4
TARGET_P95 = 1.0


def _pay_all(
    base_url: str, token: str, refs: list[tuple[str, str]], done: dict[str, float]
) -> None:
    """Pay each referencia (retrying while central is away); ``done[uuid]`` = when its 201 came."""

    def pay(item: tuple[str, str]) -> None:
        reference, amount = item
        key = str(uuid.uuid4())
        body = {"reference": reference, "store_id": "F001", "amount": amount, "cash": amount,
                "card": "0.00", "paid_at": NOW.isoformat(), "cashier": "bench"}  # fmt: skip
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
        with httpx.Client(base_url=base_url, timeout=10) as http:
            while True:
                try:
                    r = http.post("/v1/payments", json=body, headers=headers)
                except httpx.HTTPError:
                    time.sleep(0.2)  # central is restarting: the same key again
                    continue
                if r.status_code in (200, 201):
                    done.setdefault(key, time.monotonic())
                    return
                raise RuntimeError(f"pago rechazado: {r.status_code} {r.text}")

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(pay, refs))


def _latencies(receiver: Receiver, done: dict[str, float]) -> list[float]:
    with receiver.lock:
        arrived = {
            e["data"]["payment_uuid"]: receiver.arrived[eid]
            for eid, e in receiver.acked.items()
            if e["kind"] == "PAGO_APLICADO"
        }
    return [max(0.0, arrived[k] - t) for k, t in done.items() if k in arrived]


def _wait_for(receiver: Receiver, done: dict[str, float], timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(_latencies(receiver, done)) == len(done):
            break
        time.sleep(0.05)
    return len(done) - len(_latencies(receiver, done))


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def measure_feed(db_url: str, count: int) -> float:
    """Rows/s reading ``count`` events from the start through GET /v1/events."""
    database = dbmod.Database(db_url)
    with database.write() as s:
        start = s.query(Counter.value).filter(Counter.name == "events").scalar() or 0
        rows = []
        for n in range(1, count + 1):
            values = events.new_event("PAGO_APLICADO", {"n": n, "amount": "540.00"}, NOW)
            values["seq"] = start + n
            rows.append(values)
        s.execute(insert(EventRow), rows)
        s.execute(update(Counter).where(Counter.name == "events").values(value=start + count))
    database.dispose()
    token = service_token(dbmod.Database(db_url), f"feed-{uuid.uuid4().hex[:6]}", "events")
    with (
        CentralProcess(db_url, now=NOW) as central,
        httpx.Client(base_url=central.base_url, timeout=60) as http,
    ):
        since, read, started = 0, 0, time.perf_counter()
        while True:
            page = http.get(
                "/v1/events",
                params={"since": since, "limit": events.EVENTS_MAX_PAGE},
                headers={"Authorization": f"Bearer {token}"},
            ).json()
            read += len(page["events"])
            since = page["next_cursor"]
            if not page["more"]:
                break
        elapsed = time.perf_counter() - started
    return read / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--payments", type=int, default=300)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args(argv)
    base = os.environ.get("ISSEG_TEST_PG_URL")
    tmp = tempfile.TemporaryDirectory(prefix="isseg-bench-")
    name = None
    if base:
        db_url, name = scratch_database(base)
        workers = 2
    else:
        db_url, workers = f"sqlite:///{Path(tmp.name) / 'central.sqlite'}", 1
    ok = True
    try:
        token, refs = seed(db_url, 2 * args.payments)
        database = dbmod.Database(db_url)
        first, second = refs[: args.payments], refs[args.payments :]

        with Receiver() as receiver:
            endpoint = add_webhook(database, receiver.url)
            with CentralProcess(db_url, now=NOW, workers=workers) as central:
                done: dict[str, float] = {}
                _pay_all(central.base_url, token, first, done)
                lost = _wait_for(receiver, done, 60)
            lat = _latencies(receiver, done)
            p50, p95 = _p(lat, 50), _p(lat, 95)
            print(
                f"pago aplicado → webhook entregado ({len(done)} pagos, {workers} procesos): "
                f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, máx {max(lat) * 1000:.0f} ms; "
                f"perdidos {lost}"
            )
            ok &= p95 <= TARGET_P95 and lost == 0
        with database.write() as s:
            s.execute(
                update(WebhookEndpoint)
                .where(WebhookEndpoint.endpoint_id == endpoint)
                .values(active=False)
            )

        with Receiver(fail_rate=0.3) as receiver:
            add_webhook(database, receiver.url)
            # One worker here: SIGKILL of a multi-worker parent would leave its children.
            central = CentralProcess(db_url, now=NOW).start()
            done = {}
            half = len(second) // 2
            _pay_all(central.base_url, token, second[:half], done)
            central.kill()  # a power cut: the dispatcher's lease lapses, nothing is lost
            restarter = threading.Timer(1.0, central.start)
            restarter.start()
            _pay_all(central.base_url, token, second[half:], done)
            restarter.join()
            lost = _wait_for(receiver, done, 120)
            central.close()
            lat = _latencies(receiver, done)
            print(
                f"receptor que falla 30% y central reiniciada con SIGKILL: {len(done)} pagos, "
                f"{receiver.failed} respuestas 500, perdidos {lost}, repetidos "
                f"{receiver.duplicates} (descartados por event_id); p95 {_p(lat, 95):.2f} s"
            )
            ok &= lost == 0
        database.dispose()

        rate = measure_feed(db_url, args.events)
        print(f"GET /v1/events desde el inicio, páginas de 5,000: {rate:,.0f} eventos/s")
    finally:
        if name and base:
            drop_database(base, name)
        tmp.cleanup()
    print(f"Meta p95 ≤ 1 s y nada perdido: {'sí' if ok else 'no'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
