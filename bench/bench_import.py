"""CSV import rates: afiliados with NIPs (argon2id, hashed in parallel processes) and préstamos.

Run: .venv/bin/python bench/bench_import.py [members] [loans]
     (defaults 100000 and 20000; a smaller member count is projected to 100,000)
Targets: 100,000 afiliados with NIPs in at most 15 minutes; préstamos at 1,000/s or more
(24 quincenas each). On central's SQLite in a temporary folder, or on PostgreSQL when
ISSEG_TEST_PG_URL is set (a fresh database, dropped afterwards).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from central import admin, security  # noqa: E402
from central import db as dbmod  # noqa: E402

MEMBERS_TARGET_S = 15 * 60
LOANS_TARGET = 1000.0


@contextlib.contextmanager
def database(folder: Path) -> Iterator[str]:
    base = os.environ.get("ISSEG_TEST_PG_URL")
    if not base:
        url = f"sqlite:///{folder / 'central.sqlite'}"
        dbmod.upgrade(url)
        yield url
        return
    from tests.integration.central_support import fresh_pg_database

    with fresh_pg_database(base) as url:
        dbmod.upgrade(url)
        yield url


def main() -> int:
    members = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    loans = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        members_csv = folder / "afiliados.csv"
        # As Excel saves it: Windows-1252, semicolons, CRLF.
        members_csv.write_bytes(
            ("numero;nombre;nip\r\n" + "".join(
                f"{300000 + i};Afiliado Número {i} Pérez;{1000 + i % 9000}\r\n"
                for i in range(members)
            )).encode("cp1252")
        )  # fmt: skip
        loans_csv = folder / "prestamos.csv"
        loans_csv.write_text(
            "prestamo,afiliado,tipo,monto,tasa_anual,quincenas,primer_vencimiento,pagadas,"
            "en_nomina,abonos\n"
            + "".join(
                f"B-{i},{300000 + i % members},PERSONAL,{10000 + i % 5000}.00,0.16,24,"
                f"2025-01-15,{i % 10},1,\n"
                for i in range(loans)
            ),
            encoding="utf-8",
        )
        with database(folder) as url:
            where = "PostgreSQL" if not dbmod.is_sqlite(url) else "SQLite"
            start = time.perf_counter()
            assert admin.main(["--db", url, "importar-afiliados", str(members_csv)]) == 0
            member_s = time.perf_counter() - start
            start = time.perf_counter()
            assert admin.main(["--db", url, "importar-prestamos", str(loans_csv)]) == 0
            loan_s = time.perf_counter() - start
            start = time.perf_counter()
            assert admin.main(["--db", url, "importar-prestamos", str(loans_csv)]) == 0
            reload_s = time.perf_counter() - start
    per_100k = member_s / members * 100_000
    loan_rate = loans / loan_s
    print(f"central on {where}, {os.cpu_count()} CPU(s) for hashing, argon2id "
          f"m={security.NIP_MEMORY_KIB} KiB t={security.NIP_PASSES}; load average "
          f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after")  # fmt: skip
    print(f"afiliados with NIP: {members:,} in {member_s:.1f} s = {members / member_s:,.0f}/s; "
          f"100,000 would take {per_100k / 60:.1f} min (target <= {MEMBERS_TARGET_S / 60:.0f} min)")  # fmt: skip
    print(f"préstamos (24 quincenas): {loans:,} in {loan_s:.1f} s = {loan_rate:,.0f}/s "
          f"(target >= {LOANS_TARGET:,.0f}/s); re-import (upsert) {loans / reload_s:,.0f}/s")  # fmt: skip
    ok = per_100k <= MEMBERS_TARGET_S and loan_rate >= LOANS_TARGET
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
