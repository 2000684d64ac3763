"""The console command reaches each part: what a person types, in a fresh process."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import local_db
from local_db.testing import FixedClock, seed_terminal


def isseg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_verificar_bitacora_reports_an_intact_log_then_the_first_edited_entry(tmp_path: Path):
    path = tmp_path / "caja.sqlite"
    db = local_db.open_database(path)
    seed_terminal(db.unit_of_work(), FixedClock())
    db.close()
    ok = isseg("admin", "verificar-bitacora", "--db", str(path))
    assert ok.returncode == 0, ok.stderr
    assert "íntegra" in ok.stdout
    conn = sqlite3.connect(path)
    # The app's triggers forbid edits; someone with the file in hand can drop them.
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("UPDATE audit_log SET actor = 'intruso' WHERE id = 2")
    conn.commit()
    conn.close()
    broken = isseg("admin", "verificar-bitacora", "--db", str(path))
    assert broken.returncode == 1
    assert "registro 2" in broken.stdout + broken.stderr


def test_seed_demo_json_lists_stores_terminals_members_and_loans(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    migrated = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "central", "migrar"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "ISSEG_CENTRAL_DB": url},
    )  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr
    out = isseg("admin", "seed-demo", "--json", "--db", url)
    assert out.returncode == 0, out.stderr
    demo = json.loads(out.stdout)
    for key in ("stores", "terminals", "members", "loans"):
        assert demo[key], key
    assert all(t["token"] for t in demo["terminals"])
    assert all(m["nip"] for m in demo["members"])
