"""Crash safety for real: a child process takes a payment and SIGKILLs itself at a named point.

Whatever the point, reopening the file shows the whole payment (row, outbox entry, cache mark,
audit line) or none of it, and the file passes PRAGMA integrity_check.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import local_db
from kiosk import failpoints
from local_db.testing import FixedClock, seed_terminal

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent(
    """
    import sys
    from decimal import Decimal
    import local_db
    from kiosk import cashier
    from kiosk.rules import Tender
    from local_db.testing import FixedClock

    db = local_db.open_database(sys.argv[1])
    cashier.take_payment(
        db.unit_of_work(), reference=sys.argv[2], tender=Tender(cash=Decimal("540.00")),
        cashier_id=int(sys.argv[3]), clock=FixedClock(),
    )
    print("pagado")
    """
)


def state(path: Path, reference: str) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        q = {
            "payments": "SELECT count(*) FROM payments WHERE reference = ?",
            "outbox": "SELECT count(*) FROM outbox o JOIN payments p ON o.subject = p.uuid "
            "WHERE p.reference = ?",
            "marked": "SELECT count(*) FROM reference_cache r JOIN payments p "
            "ON r.local_payment_uuid = p.uuid WHERE r.reference = ?",
            "audit": "SELECT count(*) FROM audit_log WHERE action = 'PAGO' "
            "AND json_extract(details, '$.referencia') = ?",
        }
        return {k: conn.execute(sql, (reference,)).fetchone()[0] for k, sql in q.items()}
    finally:
        conn.close()


@pytest.mark.parametrize("point", failpoints.POINTS)
def test_a_payment_killed_at_any_point_is_all_there_or_not_at_all(tmp_path, point):
    path = tmp_path / "caja.sqlite"
    with local_db.open_database(path) as db:
        seeded = seed_terminal(db.unit_of_work(), FixedClock(), references=2)
    reference = seeded.references[0].reference
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    env = {**os.environ, failpoints.ENV: point, "PYTHONPATH": str(ROOT)}
    child = subprocess.run(
        [sys.executable, str(script), str(path), reference, str(seeded.cashier_id)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert "pagado" not in child.stdout

    with local_db.open_database(path) as db:
        assert db.integrity_check() == "ok"
        found = state(path, reference)
        expected = 1 if point == "after_commit" else 0
        assert found == {
            "payments": expected,
            "outbox": expected,
            "marked": expected,
            "audit": expected,
        }
        from kiosk import audit

        assert audit.verify_uow(db.unit_of_work()) is None


def test_without_a_failpoint_the_child_pays(tmp_path):
    path = tmp_path / "caja.sqlite"
    with local_db.open_database(path) as db:
        seeded = seed_terminal(db.unit_of_work(), FixedClock(), references=1)
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != failpoints.ENV}
    env["PYTHONPATH"] = str(ROOT)
    child = subprocess.run(
        [
            sys.executable,
            str(script),
            str(path),
            seeded.references[0].reference,
            str(seeded.cashier_id),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == 0, child.stderr
    assert state(path, seeded.references[0].reference)["payments"] == 1
