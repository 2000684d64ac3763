"""Running central as an operator does: migrations only when told, its database from the
environment, liveness, readiness and Prometheus metrics across workers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from alembic import command

from central import db as dbmod
from central import operations
from central.embedded import ROOT, CentralProcess
from central.models import Member

pytest_plugins = ["tests.integration.central_support"]


def central(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != operations.DB_ENV}
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "central", *args],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env={**clean, **(env or {})},
    )  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    from tests.integration.central_support import PG_ENV, fresh_pg_database

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'central.sqlite'}"
        return
    if not os.environ.get(PG_ENV):
        pytest.skip(f"PostgreSQL: defina {PG_ENV}")
    with fresh_pg_database(os.environ[PG_ENV]) as url:
        yield url


def test_central_without_a_database_refuses_to_start_and_names_the_variable():
    out = central("--port", "0")
    assert out.returncode == 2
    assert "ISSEG_CENTRAL_DB" in out.stderr and "Traceback" not in out.stderr


def test_central_and_admin_refuse_an_unmigrated_database_and_say_to_run_migrar(empty_db: str):
    out = central("--port", "0", env={operations.DB_ENV: empty_db})
    assert out.returncode == 2
    assert "isseg-farmacia central migrar" in out.stderr
    admin = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "admin", "terminales", "--db", empty_db],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert admin.returncode == 2 and "central migrar" in admin.stderr
    assert dbmod.schema_revisions(empty_db)[0] is None  # nothing was created


def test_a_database_one_revision_behind_is_refused_with_both_revisions(empty_db: str):
    command.upgrade(dbmod.alembic_config(empty_db), "0001")
    with pytest.raises(dbmod.SchemaBehind) as behind:
        dbmod.require_current(empty_db)
    head = dbmod.schema_revisions(empty_db)[1]
    assert "0001" in str(behind.value) and head in str(behind.value)
    assert "migrar" in str(behind.value)


def test_migration_0008_folds_the_names_already_loaded_and_new_inserts_get_theirs(
    empty_db: str,
) -> None:
    command.upgrade(dbmod.alembic_config(empty_db), "inst15_0003_institute")
    engine = sa.create_engine(empty_db)
    members = "INSERT INTO members (number, name, nip_hash, failed_attempts) VALUES "
    with engine.begin() as conn:
        conn.execute(
            sa.text(members + "('1', 'María  LÓPEZ', 'x', 0), ('2', 'Ñoño Ávila', 'x', 0)")
        )
    dbmod.upgrade(empty_db)
    with engine.begin() as conn:
        conn.execute(sa.insert(Member).values(number="3", name="Inés Güemes", nip_hash="x"))
        folded = conn.execute(sa.text("SELECT number, name_folded FROM members ORDER BY number"))
        assert folded.all() == [("1", "maria lopez"), ("2", "nono avila"), ("3", "ines guemes")]
    engine.dispose()


def test_two_migrations_at_once_both_succeed_one_after_the_other(empty_db: str):
    with ThreadPoolExecutor(2) as pool:
        runs = list(
            pool.map(lambda _: central("migrar", env={operations.DB_ENV: empty_db}), [1, 2])
        )
    assert [r.returncode for r in runs] == [0, 0], [r.stderr for r in runs]
    said = " ".join(r.stdout for r in runs)
    assert "migrada de vacía" in said and "ya estaba" in said
    dbmod.require_current(empty_db)


def test_the_environment_file_gives_the_database_and_the_real_environment_wins(tmp_path: Path):
    env_file = tmp_path / "central.env"
    env_file.write_text(
        "# central\nISSEG_CENTRAL_DB='sqlite:///desde-archivo.sqlite'\nexport OTRA=1\n",
        encoding="utf-8",
    )
    environ: dict[str, str] = {}
    operations.load_env_file(env_file, environ)
    assert operations.database_url(environ) == "sqlite:///desde-archivo.sqlite"
    assert environ["OTRA"] == "1"
    environ = {operations.DB_ENV: "sqlite:///real.sqlite"}
    operations.load_env_file(env_file, environ)
    assert operations.database_url(environ) == "sqlite:///real.sqlite"
    env_file.write_text("ISSEG_CENTRAL_DB\n", encoding="utf-8")
    with pytest.raises(operations.SettingsError, match="línea 1"):
        operations.load_env_file(env_file, {})


def health_count(metrics: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("isseg_central_request_seconds_count") and 'route="/v1/health"' in line
    )


def test_two_workers_answer_live_ready_and_add_up_their_metrics(db_url: str):
    with CentralProcess(db_url, workers=2) as proc:
        base = proc.base_url
        assert httpx.get(base + "/v1/health/live").json() == {"status": "ok"}
        ready = httpx.get(base + "/v1/health/ready")
        assert ready.status_code == 200 and ready.json()["status"] == "ok"
        before = health_count(httpx.get(base + "/metrics").text)
        # New connections spread over both workers; each counts only its own.
        for _ in range(20):
            with httpx.Client() as client:
                client.get(base + "/v1/health")
                client.post(base + "/v1/payments", json={})  # no token: refused
        text = httpx.get(base + "/metrics").text
    assert health_count(text) - before == 20
    assert 'isseg_central_payments_total{result="autorizacion"} 20.0' in text
    assert "isseg_central_db_pool_in_use" in text
    assert "isseg_central_feed_lag_rows 0.0" in text


def test_the_access_log_is_on_by_default(db_url: str, tmp_path: Path):
    log = tmp_path / "central.log"
    with log.open("wb") as sink:
        proc = CentralProcess(db_url)
        proc.output = sink
        with proc:
            httpx.get(proc.base_url + "/v1/health/live")
    assert 'GET /v1/health/live HTTP/1.1" 200' in log.read_text()
