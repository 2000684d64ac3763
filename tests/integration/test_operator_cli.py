"""Central's command line as a fresh operator met it (issue 14's install trial): every
mistake answered with one Spanish line that says what to do, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from central import db as dbmod
from central import operations
from central.embedded import ROOT, free_port

pytest_plugins = ["tests.integration.central_support"]


def isseg(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != operations.DB_ENV}
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", *args],
        input=stdin, capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**clean, **(env or {})},
    )  # fmt: skip


def no_traceback(out: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in out.stderr + out.stdout, out.stderr


@pytest.fixture
def sqlite_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'central.sqlite'}"
    dbmod.upgrade(url)
    return url


def test_a_piped_password_without_the_flag_names_contrasena_stdin(sqlite_db: str) -> None:
    argv = ["admin", "usuario-consola", "--db", sqlite_db, "--usuario", "mlopez",
            "--nombre", "María López", "--rol", "soporte"]  # fmt: skip
    refused = isseg(*argv, stdin="Una-clave-larga-2026\n")
    assert refused.returncode == 2
    assert "--contrasena-stdin" in refused.stderr
    no_traceback(refused)
    done = isseg(*argv, "--contrasena-stdin", stdin="Una-clave-larga-2026\n")
    assert done.returncode == 0, done.stderr
    assert "mlopez" in done.stdout


COMMANDS = [("central", "migrar"), ("central", "--port", "0"), ("admin", "terminales")]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_an_unreachable_database_is_one_spanish_line_and_postgresql_urls_mean_psycopg(
    command: tuple[str, ...],
) -> None:
    # postgresql:// without a driver: SQLAlchemy alone would look for psycopg2 (not shipped).
    url = f"postgresql://isseg:clave@127.0.0.1:{free_port()}/isseg"
    out = isseg(*command, env={operations.DB_ENV: url})
    assert out.returncode == 2
    no_traceback(out)
    assert "el servidor de la base de datos no responde" in out.stderr, out.stderr
    assert "clave" not in out.stderr  # the password is never printed


def test_an_unknown_kind_of_database_url_is_named(sqlite_db: str) -> None:
    out = isseg("admin", "terminales", "--db", "mysql://isseg@127.0.0.1/isseg")
    assert out.returncode == 2
    no_traceback(out)
    assert "no es válida" in out.stderr and "postgresql+psycopg://" in out.stderr


def _pg_base() -> str:
    from tests.integration.central_support import PG_ENV

    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL: defina {PG_ENV}")
    return base


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_wrong_database_password_is_one_spanish_line(command: tuple[str, ...]) -> None:
    wrong = make_url(_pg_base()).set(password="no-es-la-clave")
    url = wrong.render_as_string(hide_password=False)
    out = isseg(*command, env={operations.DB_ENV: url})
    assert out.returncode == 2
    no_traceback(out)
    assert "el usuario o la contraseña no son correctos" in out.stderr, out.stderr
    assert "no-es-la-clave" not in out.stderr


def test_a_postgres_url_is_accepted_for_migrar_and_admin() -> None:
    from tests.integration.central_support import fresh_pg_database

    with fresh_pg_database(_pg_base()) as url:
        plain = "postgres://" + url.split("://", 1)[1]  # as psql and hosting panels write it
        migrated = isseg("central", "migrar", env={operations.DB_ENV: plain})
        assert migrated.returncode == 0, migrated.stderr
        assert "migrada de vacía" in migrated.stdout
        listed = isseg("admin", "terminales", env={operations.DB_ENV: plain})
        assert listed.returncode == 0, listed.stderr
        assert "No hay terminales" in listed.stdout


@pytest.mark.parametrize("where", ["antes", "después"])
def test_env_file_goes_before_or_after_any_admin_subcommand(
    sqlite_db: str, tmp_path: Path, where: str
) -> None:
    env_file = tmp_path / "central.env"
    env_file.write_text(f"ISSEG_CENTRAL_DB={sqlite_db}\n", encoding="utf-8")
    csv = tmp_path / "afiliados.csv"
    csv.write_text("numero,nombre,nip\n123456,Ana Pérez,4321\n", encoding="utf-8")
    flag = ["--env-file", str(env_file)]
    for sub in (["terminales"], ["importar-afiliados", str(csv), "--validar"]):
        argv = ["admin", *flag, *sub] if where == "antes" else ["admin", *sub, *flag]
        out = isseg(*argv)
        assert out.returncode == 0, (argv, out.stderr)
        no_traceback(out)


def test_terminales_has_a_header_and_says_when_there_are_none(sqlite_db: str) -> None:
    empty = isseg("admin", "terminales", "--db", sqlite_db)
    assert empty.returncode == 0
    assert empty.stdout.startswith("No hay terminales dadas de alta")
    made = isseg("admin", "enrolar", "--db", sqlite_db, "--tienda", "F101", "--nombre", "Caja 1",
                 "--nombre-tienda", "Farmacia ISSEG León")  # fmt: skip
    assert made.returncode == 0, made.stderr
    lines = isseg("admin", "terminales", "--db", sqlite_db).stdout.splitlines()
    assert lines[0].split("\t") == ["Número", "Tienda", "Tipo", "Nombre", "Estado"]
    assert lines[1].split("\t")[1:] == ["F101", "caja", "Caja 1", "activa"]


def test_a_code_for_an_unknown_store_says_how_to_create_it(sqlite_db: str) -> None:
    argv = ["admin", "codigo-de-alta", "--db", sqlite_db, "--tienda", "F101", "--nombre", "Caja 1"]
    refused = isseg(*argv)
    assert refused.returncode == 1
    assert "La tienda F101 no existe" in refused.stderr
    assert '--nombre-tienda "' in refused.stderr
    created = isseg(*argv, "--nombre-tienda", "Farmacia ISSEG León")
    assert created.returncode == 0, created.stderr


def test_central_help_names_migrar() -> None:
    out = isseg("central", "--help")
    assert out.returncode == 0
    assert "isseg-farmacia central migrar" in " ".join(out.stdout.split())
