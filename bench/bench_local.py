"""Local store benchmark: ``.venv/bin/python bench/bench_local.py [--refs N] [--payments N]``.

On a cache of 1,000,000 referencias (default) prints: cache upsert rate, lookup + rules
p50/p99, take-a-payment commit p50/p99 (synchronous=FULL, real fsync), and the Z figures
over 10,000 payments, each against its target.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import local_db  # noqa: E402
from kiosk import cashier, reference_cache, reports  # noqa: E402
from kiosk.rules import Policy, Tender, check_payment  # noqa: E402
from local_db.testing import FixedClock, reference_records, seed_terminal  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def line(name: str, value: str, target: str, ok: bool) -> None:
    print(f"{name:<44} {value:>22}   objetivo {target:<14} {'OK' if ok else 'NO CUMPLE'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--refs", type=int, default=1_000_000)
    parser.add_argument("--payments", type=int, default=1000, help="payments timed one by one")
    parser.add_argument("--z-payments", type=int, default=10_000)
    parser.add_argument("--lookups", type=int, default=20_000)
    args = parser.parse_args()
    clock = FixedClock()
    today = clock().date()
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        db = local_db.open_database(Path(tmp) / "bench.sqlite")
        uow = db.unit_of_work()
        seed = seed_terminal(uow, clock, references=0)

        # 1. Cache upsert: the delta feed's pages, 10,000 rows per transaction.
        page = 10_000
        elapsed = 0.0
        for start in range(1, args.refs + 1, page):
            records = reference_records(today, min(page, args.refs + 1 - start), start=start)
            t0 = time.perf_counter()
            reference_cache.upsert(uow, records, cursor=str(start))
            elapsed += time.perf_counter() - t0
        rate = args.refs / elapsed
        ok = rate >= 50_000
        failures += not ok
        line(f"upsert de caché ({args.refs:,} filas)", f"{rate:,.0f} filas/s", "≥ 50,000/s", ok)

        # Setup garbage (a million records built and dropped) is not the scan path's: freeze
        # what survives so a gen-2 collection of it does not land inside a timed lookup.
        gc.collect()
        gc.freeze()

        # 2. Lookup + rules, spread over the whole cache.
        policy = Policy()
        tender = Tender(cash=Decimal("540.00"))
        step = max(1, args.refs // args.lookups)
        refs = [r.reference for r in reference_records(today, args.lookups * step)[::step]]
        times, cpu = [], []
        for ref in refs:
            t0, c0 = time.perf_counter(), time.thread_time()
            record = reference_cache.lookup(uow, ref)
            verdict = check_payment(record, tender=tender, now=clock(), policy=policy)
            times.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
            assert verdict.ok, verdict
        p50, p99 = pct(times, 0.5) * 1000, pct(times, 0.99) * 1000
        ok = p99 <= 2.0
        failures += not ok
        line(
            f"búsqueda + reglas ({len(times):,})",
            f"p50 {p50:.3f} / p99 {p99:.3f} ms",
            "p99 ≤ 2 ms",
            ok,
        )
        # CPU time of this thread: what the lookup costs when the machine is not shared.
        print(
            f"{'  (tiempo de CPU del hilo)':<44} p50 {pct(cpu, 0.5) * 1000:.3f} / "
            f"p99 {pct(cpu, 0.99) * 1000:.3f} ms"
        )

        # 3. Take a payment: the whole service, one durable commit each.
        times, cpu = [], []
        for i in range(args.payments):
            ref = refs[i]
            t0, c0 = time.perf_counter(), time.thread_time()
            cashier.take_payment(
                uow,
                reference=ref,
                tender=tender,
                cashier_id=seed.cashier_id,
                clock=clock,
                policy=policy,
            )
            times.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
        p50, p99 = pct(times, 0.5) * 1000, pct(times, 0.99) * 1000
        ok = p99 <= 25.0
        failures += not ok
        line(
            f"cobro con commit FULL ({len(times):,})",
            f"p50 {p50:.2f} / p99 {p99:.2f} ms",
            "p99 ≤ 25 ms",
            ok,
        )
        print(
            f"{'  (tiempo de CPU del hilo; sin la espera de fsync)':<44} "
            f"p50 {pct(cpu, 0.5) * 1000:.2f} / p99 {pct(cpu, 0.99) * 1000:.2f} ms"
        )
        print(
            f"{'  (carga de la máquina, 1 min)':<44} {os.getloadavg()[0]:.1f} "
            f"en {os.cpu_count()} núcleos"
        )

        # 4. Z figures over N payments: top the timed ones up with bulk rows (a third of them
        # split cash + card). At close time central has confirmed nearly everything: all but
        # the last 1% of outbox entries are marked confirmed.
        extra = max(0, args.z_payments - args.payments)
        with uow:
            shift = uow.shifts.open_shift()
            assert shift is not None
            shift_id = shift.id
            first = uow.payments.next_folio()
            rows = []
            for k in range(extra):
                u = str(uuid.uuid4())
                card = 40000 if k % 3 == 0 else 0
                rows.append(
                    (
                        u,
                        first + k,
                        refs[0],
                        54000,
                        54000 - card,
                        card,
                        "AUT1" if card else "",
                        54000 - card,
                        0,
                        seed.cashier_id,
                        shift_id,
                        "T-0001",
                        "2025-03-11T16:30:00.000000+00:00",
                        today.isoformat(),
                    )
                )
            uow.executemany(
                "INSERT INTO payments (uuid, folio, reference, amount_cents, cash_cents, "
                "card_cents, card_authorization, cash_received_cents, change_cents, "
                "cashier_id, shift_id, terminal_id, paid_at, business_date) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            uow.executemany(
                "INSERT INTO outbox (kind, method, path, idempotency_key, subject, payload, "
                "created_at) VALUES ('payment', 'POST', '/v1/payments', ?, ?, '{}', "
                "'2025-03-11T16:30:00.000000+00:00')",
                [(r[0], r[0]) for r in rows],
            )
            total = args.payments + extra
            uow.executemany(
                "UPDATE outbox SET status = 'confirmado', settled_at = created_at "
                "WHERE kind = 'payment' AND id <= ?",
                [(total - total // 100,)],
            )
            uow.commit()
        t0 = time.perf_counter()
        z = reports.day_figures(uow, today)
        ms = (time.perf_counter() - t0) * 1000
        ok = ms <= 300
        failures += not ok
        line(f"cifras Z ({z.payments:,} pagos)", f"{ms:.1f} ms", "≤ 300 ms", ok)
        db.close()
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
