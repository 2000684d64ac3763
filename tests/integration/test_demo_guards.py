"""The demo never touches real data (issue 13): seed-demo refuses a database it did not
create, demo --datos refuses a till's folder, and enrolar does not bring a revoked terminal
back without being asked to."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import local_db
from central import admin
from central import db as dbmod
from kiosk import terminal_state
from local_db.testing import FixedClock, seed_terminal
from tests.integration.test_cli_wiring import isseg


def _url(tmp_path: Path) -> str:
    """A migrated, empty central database (administration never migrates by itself)."""
    url = f"sqlite:///{tmp_path / 'central.sqlite'}"
    dbmod.upgrade(url)
    return url


def test_seed_demo_refuses_a_database_with_real_affiliates(tmp_path: Path, capsys) -> None:
    url = _url(tmp_path)
    members = tmp_path / "afiliados.csv"
    members.write_text("numero,nombre,nip\n100001,Persona Real,9876\n", encoding="utf-8")
    assert admin.main(["--db", url, "importar-afiliados", str(members)]) == 0
    assert admin.main(["--db", url, "seed-demo"]) == 1
    assert "no son de demostración" in capsys.readouterr().err
    with sqlite3.connect(tmp_path / "central.sqlite") as conn:
        assert conn.execute("SELECT name FROM members").fetchall() == [("Persona Real",)]
        assert conn.execute("SELECT count(*) FROM terminals").fetchone() == (0,)


def test_seed_demo_runs_again_on_its_own_database(tmp_path: Path) -> None:
    url = _url(tmp_path)
    assert admin.main(["--db", url, "seed-demo"]) == 0
    assert admin.main(["--db", url, "seed-demo"]) == 0


def test_enrolar_does_not_reactivate_a_revoked_terminal_without_the_flag(
    tmp_path: Path, capsys
) -> None:
    url = _url(tmp_path)
    enroll = [
        "--db",
        url,
        "enrolar",
        "--tienda",
        "F009",
        "--nombre",
        "Kiosko 1",
        "--tipo",
        "kiosko",
    ]
    assert admin.main(enroll) == 0
    assert admin.main(["--db", url, "revocar", "1"]) == 0
    capsys.readouterr()
    assert admin.main(enroll) == 1
    assert "dada de baja" in capsys.readouterr().err
    with sqlite3.connect(tmp_path / "central.sqlite") as conn:
        assert conn.execute("SELECT revoked_at IS NOT NULL FROM terminals").fetchone() == (1,)
    assert admin.main([*enroll, "--reactivar"]) == 0


def test_demo_refuses_a_tills_data_folder(tmp_path: Path) -> None:
    folder = tmp_path / "caja"
    folder.mkdir()
    db = local_db.open_database(folder / "terminal.sqlite")
    uow = db.unit_of_work()
    seed_terminal(uow, FixedClock())
    terminal_state.set_identity(uow, terminal_id="7", store_id="F003", actor="gerente")
    db.close()
    before = (folder / "terminal.sqlite").read_bytes()
    out = isseg("demo", "--datos", str(folder))
    assert out.returncode == 2 and "caja real" in out.stderr
    assert (folder / "terminal.sqlite").read_bytes() == before
