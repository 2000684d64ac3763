"""The console's server time per page over 1,000,000 payments and 100 stores on PostgreSQL.

    ISSEG_TEST_PG_URL=postgresql+psycopg://isseg:isseg@127.0.0.1:5432/isseg_test \
        .venv/bin/python bench/bench_console.py [--payments 1000000] [--stores 100]

Seeds a scratch database with COPY (stores with three cajas each, one referencia per payment,
payments spread from October 2017 to the benchmark's day, that day's Z of every caja, every
caja's latest heartbeat, 100,000 affiliates with accented names and a few hundred open
cases), then asks the console, in process, for every page as a signed-in user and times the
answers (the median of several, and the slowest). Targets: every page ≤ 300 ms, the
monthly report over all the payments and the PDF of all the stores' day close ≤ 1 s. Exits non-zero on a miss; without a PostgreSQL URL
it says so and exits 0. The scratch database is dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from bench_central import drop_database, scratch_database  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from central import db as dbmod  # noqa: E402
from central.app import create_app  # noqa: E402
from central.console.auth import create_user  # noqa: E402
from central.models import fold_name  # noqa: E402

MX = ZoneInfo("America/Mexico_City")
NOW = datetime(2025, 6, 10, 12, 0, tzinfo=MX)
FIRST = datetime(2017, 10, 2, 8, 0, tzinfo=MX)
TODAY_SHARE = 0.005  # of the payments fall on the benchmark's day
CAJAS = 3
KINDS = ("QUINCENAL", "ABONO", "RENOVACION", "LIQUIDACION")
PASSWORD = "banco-de-pruebas-consola"
PAGE_MS, MONTHLY_MS = 300.0, 1000.0
# The affiliates' search by name runs over 100,000 members with accented names.
MEMBERS = 100_000
GIVEN = ("María", "José", "Ramón", "Inés", "Guadalupe", "Jesús", "Sofía", "Andrés", "Mónica")
SURNAMES = ("López", "Hernández", "Núñez", "Pérez", "Martínez", "Gómez", "Ibáñez", "Ruiz")
# What a search must find: member 12345 is "Sofía Pérez Ibáñez 12345", number 212345.
FOUND = {
    "/consola/afiliados?q=maria%20lopez": "María López",
    "/consola/afiliados?q=SOFIA%20PEREZ%20IBANEZ%2012345": "/consola/afiliados/212345",
}
# The day close of all 100 stores in one PDF (300 cajas, about 8 pages) is a document, not a
# page: the console links each store's own PDF, which has the page target.
ALL_STORES_PDF_MS = 1000.0


def seed(db_url: str, payments: int, stores: int) -> None:
    rng = random.Random(16)
    dbmod.upgrade(db_url)
    now_utc = NOW.astimezone(UTC).replace(tzinfo=None)
    span = (NOW.replace(hour=0) - FIRST).total_seconds()
    with psycopg.connect(dbmod.libpq_dsn(db_url)) as conn, conn.cursor() as cur:
        with cur.copy("COPY stores (store_id, name) FROM STDIN") as cp:
            for s in range(1, stores + 1):
                cp.write_row((f"S{s:03d}", f"Farmacia ISSEG {s:03d}"))
        with cur.copy(
            "COPY terminals (terminal_id, store_id, name, kind, token_hash, created_at) FROM STDIN"
        ) as cp:
            for s in range(stores):
                for c in range(CAJAS):
                    tid = s * CAJAS + c + 1
                    cp.write_row((tid, f"S{s + 1:03d}", f"Caja {c + 1}", "caja",
                                  uuid.uuid4().hex * 2, now_utc))  # fmt: skip
        cur.execute("SELECT setval('terminals_terminal_id_seq', %s)", (stores * CAJAS,))
        members = max(MEMBERS, payments // 100)
        with cur.copy(
            "COPY members (number, name, name_folded, nip_hash, failed_attempts) FROM STDIN"
        ) as cp:
            for m in range(members):
                name = (f"{GIVEN[m % len(GIVEN)]} {SURNAMES[m // 7 % len(SURNAMES)]} "
                        f"{SURNAMES[m // 131 % len(SURNAMES)]} {m}")  # fmt: skip
                cp.write_row((f"{200000 + m}", name, fold_name(name), "x", 0))
        terminals = stores * CAJAS
        today_from = span - 36_000  # the last 10 hours before noon
        with (
            cur.copy(
                "COPY payment_references (reference, member_number, kind, concept, amount, "
                "quincenas, issued_on, issued_at, status, version) FROM STDIN"
            ) as refs,
        ):
            rows = []
            for i in range(payments):
                offset = (
                    rng.uniform(today_from, span - 1)
                    if rng.random() < TODAY_SHARE
                    else rng.uniform(0, today_from)
                )
                paid = FIRST + timedelta(seconds=offset)
                amount = rng.randint(50_00, 15_000_00)
                tid = rng.randint(1, terminals)
                reference = f"{i:018d}"
                kind = KINDS[i % len(KINDS)]
                refs.write_row((reference, f"{200000 + i % members}", kind, kind, amount, "[]",
                                paid.date(), paid.astimezone(UTC).replace(tzinfo=None),
                                "PAGADA", 1))  # fmt: skip
                rows.append((reference, tid, amount, paid))
        with cur.copy(
            "COPY payments (payment_uuid, reference, store_id, terminal_id, amount, cash, card, "
            "paid_at, received_at, cashier, status, request_hash, response_code, "
            "response_body, effect) FROM STDIN"
        ) as cp:
            for n, (reference, tid, amount, paid) in enumerate(rows):
                card = amount if n % 5 == 0 else 0
                at = paid.astimezone(UTC).replace(tzinfo=None)
                status = "ANULADO" if n % 200 == 0 else "APLICADO"
                cp.write_row((str(uuid.UUID(int=n + 1)), reference,
                              f"S{(tid - 1) // CAJAS + 1:03d}", tid, amount, amount - card, card,
                              at, at, "cajero", status, "", 201, "{}", "{}"))  # fmt: skip
        # Every caja's latest heartbeat (one row each, as POST /v1/heartbeat keeps them): one in
        # ten with money waiting two hours, one in twenty silent since the morning.
        with cur.copy(
            "COPY terminal_heartbeats (terminal_id, received_at, sent_at, version, queue_depth, "
            "oldest_pending_seconds, clock_skew_seconds, printer_state, cache_age_seconds, "
            "audit_seq, audit_hash) FROM STDIN"
        ) as cp:
            for tid in range(1, terminals + 1):
                seen = now_utc - timedelta(hours=3 if tid % 20 == 0 else 0, seconds=40)
                waiting = 7200 if tid % 10 == 0 else None
                cp.write_row((tid, seen, seen, "1.0.0", 3 if waiting else 0, waiting, 1,
                              "LISTA", 600, tid, "0" * 64))  # fmt: skip
        with cur.copy(
            "COPY closings (closing_uuid, store_id, terminal_id, kind, business_date, "
            "closed_at, received_at, request_hash, report) FROM STDIN"
        ) as cp:
            for tid in range(1, terminals + 1):
                report = {"payments": 10, "total": "1000.00", "cash_total": "1000.00",
                          "card_total": "0.00", "voided_total": "0.00", "over_short": "0.00",
                          "unconfirmed": []}  # fmt: skip
                cp.write_row((str(uuid.uuid4()), f"S{(tid - 1) // CAJAS + 1:03d}", tid, "DIA",
                              NOW.date(), now_utc, now_utc, "", json.dumps(report)))  # fmt: skip
        cur.execute(
            "INSERT INTO reconciliation (payment_uuid, reason_code, message, created_at, resolved)"
            " SELECT payment_uuid, 'PAGADA', 'La referencia ya estaba pagada.', received_at,"
            " false FROM payments ORDER BY paid_at DESC LIMIT 300"
        )
        conn.commit()
    with psycopg.connect(dbmod.libpq_dsn(db_url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def measure(db_url: str, runs: int) -> list[tuple[str, float, float, float]]:
    app = create_app(db_url, clock=lambda: NOW, dispatch=False)  # no webhooks to deliver here
    database = app.state.db
    for role, user in (("finanzas", "fin"), ("soporte", "sop")):
        create_user(database, user, f"Banco {role}", role, PASSWORD, NOW)
    clients = {}
    for user in ("fin", "sop"):
        client = TestClient(app, base_url="https://testserver")
        form = client.get("/consola/entrar").text
        csrf = form.split('name="csrf" value="')[1].split('"')[0]
        client.post("/consola/entrar", data={"usuario": user, "contrasena": PASSWORD, "csrf": csrf})
        clients[user] = client
    pages = [
        ("fin", "/consola/hoy", PAGE_MS),
        ("fin", "/consola/hoy/tabla", PAGE_MS),
        ("fin", "/consola/terminales", PAGE_MS),
        ("fin", "/consola/cierre", PAGE_MS),
        ("fin", "/consola/cierre?tienda=S042", PAGE_MS),
        ("fin", "/consola/cierre.pdf?tienda=S042", PAGE_MS),
        ("fin", "/consola/cierre.pdf", ALL_STORES_PDF_MS),
        ("fin", "/consola/casos", PAGE_MS),
        ("fin", "/consola/reportes?vista=mensual", MONTHLY_MS),
        ("fin", "/consola/reportes.csv?vista=mensual", MONTHLY_MS),
        ("fin", "/consola/reportes.xlsx?vista=mensual", MONTHLY_MS),
        ("fin", "/consola/reportes?vista=tienda", PAGE_MS),
        ("fin", "/consola/reportes?vista=tipo", PAGE_MS),
        ("fin", "/consola/reportes?vista=metodo", PAGE_MS),
        ("fin", "/consola/reportes?vista=canal", PAGE_MS),
        ("fin", "/consola/politica", PAGE_MS),
        ("sop", "/consola/afiliados?q=maria%20lopez", PAGE_MS),  # many: the first 50
        ("sop", "/consola/afiliados?q=SOFIA%20PEREZ%20IBANEZ%2012345", PAGE_MS),
        ("sop", "/consola/afiliados?q=nadie%20se%20llama%20asi", PAGE_MS),  # every row read
        ("sop", "/consola/afiliados?q=2001", PAGE_MS),
        ("sop", "/consola/afiliados/200123", PAGE_MS),
    ]
    out = []
    for user, path, target in pages:
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            r = clients[user].get(path)
            times.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 200:
                raise SystemExit(f"{path}: {r.status_code} {r.text[:300]}")
            if path in FOUND and FOUND[path] not in r.text:
                raise SystemExit(f"{path}: no encontró {FOUND[path]}")
        out.append((path, statistics.median(times), max(times), target))
    database.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5, help="veces que se pide cada página")
    args = parser.parse_args(argv)
    base = os.environ.get("ISSEG_BENCH_PG_URL") or os.environ.get("ISSEG_TEST_PG_URL")
    if not base:
        print("bench_console: sin PostgreSQL (defina ISSEG_TEST_PG_URL); se omite.")
        return 0
    db_url, name = scratch_database(base)
    try:
        t0 = time.perf_counter()
        seed(db_url, args.payments, args.stores)
        print(f"Sembrados {args.payments:,} pagos en {args.stores} farmacias "
              f"({args.stores * CAJAS} cajas) en {time.perf_counter() - t0:.1f} s")  # fmt: skip
        results = measure(db_url, args.runs)
    finally:
        drop_database(base, name)
    missed = 0
    for path, median, slowest, target in results:
        ok = median <= target
        missed += not ok
        print(f"{path:52s} mediana {median:7.1f} ms  peor {slowest:7.1f} ms  "
              f"meta ≤ {target:.0f} ms: {'sí' if ok else 'NO'}")  # fmt: skip
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
