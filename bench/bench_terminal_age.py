"""A terminal must not slow down with age: ``.venv/bin/python bench/bench_terminal_age.py``.

Builds a year-old terminal (1,000,000 cached referencias, 300,000 payments in its history,
2,000 today) and a week-old one, and prints side by side, each against its target:
the X and Z figures (≤ 50 ms), the manager's refresh (≤ 200 ms), the status bar's counts
(≤ 2 ms) and a payment's CPU time against a bare SQLite insert-and-commit measured in the
same run on the same disk (≤ 3×). Exits non-zero on a miss.

The databases are generated with executemany and cached under /tmp keyed by ``VERSION``
(bump it when the schema or the generator changes); each run works on a copy.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import local_db  # noqa: E402
from kiosk import reports, shifts  # noqa: E402
from kiosk.app import Terminal  # noqa: E402
from kiosk.ports import MEXICO_CITY  # noqa: E402
from kiosk.references import issue  # noqa: E402
from kiosk.rules import Tender  # noqa: E402
from kiosk.settings import Settings  # noqa: E402
from local_db.testing import FixedClock, seed_terminal  # noqa: E402

VERSION = "2"
# Tuesday 11 March 2025, 18:00: a business day with its 2,000 payments taken since 07:00.
NOW = datetime(2025, 3, 11, 18, 0, tzinfo=MEXICO_CITY)
AMOUNT_CENTS = 54_000


@dataclass(frozen=True)
class Age:
    label: str
    days: int
    references: int
    history: int  # payments before today
    today: int


YEAR = Age("un año", 365, 1_000_000, 300_000, 2_000)
WEEK = Age("una semana", 7, 20_000, 5_800, 2_000)


def ts(value: datetime) -> str:  # as local_db stores it
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def build(path: Path, age: Age) -> None:
    """The terminal's database at ``age``: the schema by its migrations, people and identity
    by the services, the history by executemany."""
    clock = FixedClock(NOW)
    db = local_db.open_database(path)
    seed = seed_terminal(db.unit_of_work(), clock, references=0, open_shift=False)
    db.close()
    today = NOW.date()
    first_day = today - timedelta(days=age.days)
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    per_day_refs = age.references // (age.days + 1)
    per_day_paid = age.history // age.days

    def refs() -> Iterator[tuple[object, ...]]:
        for d in range(age.days + 1):
            day = first_day + timedelta(days=d)
            for serial in range(1, per_day_refs + 1):
                yield (
                    str(issue(day, serial)),
                    AMOUNT_CENTS,
                    day.isoformat(),
                    "VIGENTE",
                    f"A{serial:07d}",
                    "AFILIADO DE PRUEBA",
                    f"P{serial}",
                    "quincenal",
                    "Pago quincenal",
                    1,
                )

    con.executemany(
        "INSERT INTO reference_cache (reference, amount_cents, issued_on, status, "
        "member_number, member_name, loan_id, kind, concept, version) "
        "VALUES (?,?,?,?,?,?,?,?,?,?)",
        refs(),
    )
    folio = 0
    shift_rows, pay_rows, out_rows, void_rows, audit_rows, marks = [], [], [], [], [], []
    for d in range(age.days + 1):
        day = first_day + timedelta(days=d)
        # The last three days are as busy as today: the Z is timed on each of them.
        n = age.today if (today - day).days < 3 else per_day_paid
        opened = datetime.combine(day, datetime.min.time(), MEXICO_CITY) + timedelta(hours=7)
        shift_id = d + 1
        closed = None if day == today else ts(opened + timedelta(hours=15))
        shift_rows.append(
            (shift_id, "T-0001", seed.cashier_id, 50_000, ts(opened), day.isoformat(), closed)
        )
        step = timedelta(hours=10) / max(n, 1)
        for i in range(n):
            folio += 1
            pid = str(uuid.UUID(int=folio))
            ref = str(issue(day, i + 1))
            at = opened + step * i
            cash = AMOUNT_CENTS if i % 3 else 0
            pay_rows.append(
                (
                    pid,
                    folio,
                    ref,
                    AMOUNT_CENTS,
                    cash,
                    AMOUNT_CENTS - cash,
                    "" if cash else "A1",
                    cash,
                    0,
                    seed.cashier_id,
                    shift_id,
                    "T-0001",
                    ts(at),
                    day.isoformat(),
                )
            )
            marks.append((pid, ref))
            body = {"reference": ref, "store_id": "F-01", "amount": "540.00"}
            # Today: the last 100 are still waiting for central.
            status = "pendiente" if day == today and i >= n - 100 else "confirmado"
            out_rows.append(
                ("payment", "POST", "/v1/payments", pid, pid, json.dumps(body), ts(at), status)
            )
            audit_rows.append(
                (folio, ts(at), "cajero", "pago", json.dumps({"uuid": pid}), "0" * 64, "0" * 64)
            )
            if i % 100 == 7:
                void_rows.append(
                    (
                        pid,
                        "cobro duplicado",
                        seed.manager_id,
                        seed.cashier_id,
                        ts(at),
                        day.isoformat(),
                    )
                )
    con.executemany(
        "INSERT INTO shifts (id, terminal_id, cashier_id, opening_float_cents, opened_at, "
        "business_date, closed_at) VALUES (?,?,?,?,?,?,?)",
        shift_rows,
    )
    con.executemany(
        "INSERT INTO payments (uuid, folio, reference, amount_cents, cash_cents, card_cents, "
        "card_authorization, cash_received_cents, change_cents, cashier_id, shift_id, "
        "terminal_id, paid_at, business_date) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        pay_rows,
    )
    con.executemany("UPDATE reference_cache SET local_payment_uuid = ? WHERE reference = ?", marks)
    con.executemany(
        "INSERT INTO outbox (kind, method, path, idempotency_key, subject, payload, "
        "created_at, status) VALUES (?,?,?,?,?,?,?,?)",
        out_rows,
    )
    con.executemany(
        "INSERT INTO voids (payment_uuid, reason, manager_id, requested_by, at, business_date) "
        "VALUES (?,?,?,?,?,?)",
        void_rows,
    )
    # The history's audit lines come after the seed's (their ids follow the last one).
    last = con.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0]
    con.executemany(
        "INSERT INTO audit_log (id, at, actor, action, details, prev_hash, hash) "
        "VALUES (?,?,?,?,?,?,?)",
        [(last + r[0], *r[1:]) for r in audit_rows],
    )
    con.commit()
    con.execute("ANALYZE")
    con.close()


def cached(age: Age) -> Path:
    path = Path(tempfile.gettempdir()) / f"isseg-bench-edad-{VERSION}-{age.days}d.sqlite"
    if not path.exists():
        t0 = time.perf_counter()
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        build(partial, age)
        partial.rename(path)
        print(f"  (base de {age.label} generada en {time.perf_counter() - t0:.0f} s: {path})")
    return path


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


class BareInsert:
    """One INSERT + COMMIT with the terminal's settings straight on sqlite3, on the same disk:
    the floor a payment's CPU is compared with. Timed in turn with the payments, so both see
    the same machine."""

    def __init__(self, folder: Path) -> None:
        self.con = sqlite3.connect(folder / "bare.sqlite", isolation_level=None)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA synchronous=FULL")
        self.con.execute("CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY, n INTEGER, at TEXT)")

    def __call__(self) -> float:
        c0 = time.thread_time()
        self.con.execute("BEGIN IMMEDIATE")
        self.con.execute("INSERT INTO t VALUES (?,?,?)", (str(uuid.uuid4()), 54_000, "x"))
        self.con.execute("COMMIT")
        return time.thread_time() - c0


def measure(age: Age, work: Path, payments: int) -> dict[str, float]:
    copy = work / f"{age.days}d.sqlite"
    shutil.copyfile(cached(age), copy)
    db = local_db.open_database(copy)
    clock = FixedClock(NOW)
    settings = Settings().with_values({"data_dir": str(work / f"datos-{age.days}")})
    t = Terminal(settings=settings, uow_factory=db.unit_of_work, clock=clock)
    gc.collect()
    gc.freeze()
    out: dict[str, float] = {}

    def x_report() -> reports.DayReport:
        return reports.day_report(
            t.uow, kind="X", store_name="F", terminal_name="T", manager="G", clock=clock
        )

    x = x_report()
    assert x.figures.payments > 0 and len(x.figures.unconfirmed) == 100, x.figures.payments
    out["x"] = median_ms(x_report, 7)
    view = t.manager_view(blind=False)
    assert len(view.rows) == age.today, len(view.rows)
    out["manager"] = median_ms(lambda: t.manager_view(blind=False), 5)
    assert t.status().pending == 100
    out["status"] = median_ms(t.status, 50)
    # Payments: today's referencias not paid yet, taken through the service.
    fresh = [str(issue(NOW.date(), age.today + 1 + i)) for i in range(payments)]
    cashier_id = view.cashiers[0].id
    tender = Tender(cash=Decimal("540.00"))
    cpu, bare_cpu = [], []
    bare = BareInsert(work)
    for ref in fresh:
        bare_cpu.append(bare())
        c0 = time.thread_time()
        t.pay(
            reference=ref,
            tender=tender,
            cashier_id=cashier_id,
            cash_received=Decimal("540.00"),
            card_authorization="",
        )
        cpu.append(time.thread_time() - c0)
    out["pay_cpu"] = statistics.median(cpu) * 1000
    out["bare_cpu"] = statistics.median(bare_cpu) * 1000
    bare.con.close()
    # Z: the day close needs the shift closed; then the close and its report, once.
    manager_id = next(u.id for u in view.people if u.role == "gerente")
    shifts.close_shift(t.uow, pieces={"b500": 1}, closed_by=manager_id, clock=clock)
    # A day closes once: the Z is timed on today and the two days before (as busy, not
    # closed yet), the clock at each day's evening, and the median taken.
    z = []
    for back in (2, 1, 0):
        clock.now = NOW - timedelta(days=back)
        t0 = time.perf_counter()
        figures = reports.close_day(t.uow, closed_by=manager_id, clock=clock)
        reports.day_report(
            t.uow,
            kind="Z",
            store_name="F",
            terminal_name="T",
            manager="G",
            clock=clock,
            figures=figures,
        )
        z.append(time.perf_counter() - t0)
        assert figures.payments > 1_900, figures.payments
    out["z"] = statistics.median(z) * 1000
    gc.unfreeze()
    db.close()
    copy.unlink()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--payments", type=int, default=300, help="payments timed one by one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=Path(tempfile.gettempdir())) as tmp:
        work = Path(tmp)
        week = measure(WEEK, work, args.payments)
        year = measure(YEAR, work, args.payments)
    rows = [
        ("X (cifras + reporte)", "x", 50.0, "ms"),
        ("Z (cierre del día + reporte)", "z", 50.0, "ms"),
        ("refresco del gerente", "manager", 200.0, "ms"),
        ("conteos de la barra de estado", "status", 2.0, "ms"),
    ]
    print(f"{'':<34} {'una semana':>12} {'un año':>12}   objetivo")
    failures = 0
    for name, key, limit, unit in rows:
        ok = year[key] <= limit and week[key] <= limit
        failures += not ok
        print(
            f"{name:<34} {week[key]:>9.2f} {unit} {year[key]:>9.2f} {unit}   ≤ {limit:g} {unit}"
            f"  {'OK' if ok else 'NO CUMPLE'}"
        )
    ratios = {k: d["pay_cpu"] / d["bare_cpu"] for k, d in (("week", week), ("year", year))}
    print(f"{'CPU de un cobro':<34} {week['pay_cpu']:>9.3f} ms {year['pay_cpu']:>9.3f} ms")
    print(
        f"{'CPU de INSERT+COMMIT en sqlite3':<34} {week['bare_cpu']:>9.3f} ms "
        f"{year['bare_cpu']:>9.3f} ms"
    )
    ok = max(ratios.values()) <= 3.0
    failures += not ok
    print(
        f"{'  cobro / INSERT+COMMIT':<34} {ratios['week']:>11.1f}× {ratios['year']:>11.1f}×"
        f"   ≤ 3×  {'OK' if ok else 'NO CUMPLE'}"
    )
    print(f"{'  (carga de la máquina, 1 min)':<34} {os.getloadavg()[0]:.1f} en {os.cpu_count()}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
