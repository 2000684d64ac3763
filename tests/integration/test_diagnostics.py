"""``isseg-farmacia diagnostico`` against a real central on loopback and real files."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from central.embedded import EmbeddedCentral
from kiosk import reference_cache, terminal_state
from kiosk import settings as settings_module
from kiosk.bootstrap import build
from kiosk.records import MEXICO_CITY
from sync import diagnostics


def terminal_folder(tmp_path: Path, central: EmbeddedCentral, token: str) -> Path:
    data = tmp_path / "caja"
    data.mkdir()
    config = {"central_url": central.base_url, "terminal_token": token, "printer_kind": "file"}
    (data / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return data


def refreshed(data: Path) -> None:
    terminal = build(settings_module.load({"ISSEG_DATA_DIR": str(data)}), start_sync=False)
    try:
        terminal.sync.refresher.refresh()
    finally:
        terminal.close()


@pytest.fixture
def central():
    with EmbeddedCentral(seed_demo=True) as server:
        yield server


def caja_token(central: EmbeddedCentral) -> str:
    return next(t["token"] for t in central.demo["terminals"] if t["kind"] == "caja")


def test_a_healthy_terminal_passes_every_check(central, tmp_path, capsys):
    data = terminal_folder(tmp_path, central, caja_token(central))
    refreshed(data)
    assert diagnostics.main(["--datos", str(data)]) == 0
    out = capsys.readouterr().out
    for name in ("Base de datos: íntegra", "Pagos por enviar: ninguno", "Referencias: actualizadas",
                 "Impresora", "Central:", "Token: válido", "Reloj: diferencia"):  # fmt: skip
        assert f"[ OK ] {name}" in out, out
    assert "FALLA" not in out


def test_a_refused_token_is_a_failure_and_a_first_download_not_yet_made_is_a_notice(
    central, tmp_path, capsys
):
    # Enrolled (or configured) but never opened: the till has never heard from central, so
    # an empty cache is not a fault of its own; the Token line says what is wrong.
    data = terminal_folder(tmp_path, central, "token-que-no-existe")
    build(settings_module.load({"ISSEG_DATA_DIR": str(data)}), start_sync=False).close()
    assert diagnostics.main(["--datos", str(data)]) == 1
    out = capsys.readouterr().out
    assert "[FALLA] Token: central lo rechazó (401)" in out
    assert "[AVISO] Referencias: aún no se han descargado" in out
    assert "1 problema(s): Token" in out


def test_a_till_that_has_heard_from_central_but_never_refreshed_fails_referencias(
    central, tmp_path, capsys
):
    data = terminal_folder(tmp_path, central, caja_token(central))
    terminal = build(settings_module.load({"ISSEG_DATA_DIR": str(data)}), start_sync=False)
    try:
        terminal_state.note_central_time(terminal.uow, datetime.now(MEXICO_CITY))
    finally:
        terminal.close()
    assert diagnostics.main(["--datos", str(data)]) == 1
    out = capsys.readouterr().out
    assert "[FALLA] Referencias: nunca se han actualizado desde central" in out


def test_times_are_shown_in_mexico_city(central, tmp_path, capsys):
    data = terminal_folder(tmp_path, central, caja_token(central))
    refreshed(data)
    settings = settings_module.load({"ISSEG_DATA_DIR": str(data)})
    terminal = build(settings, start_sync=False)
    try:
        at = reference_cache.last_refreshed(terminal.uow)
    finally:
        terminal.close()
    assert at is not None
    before = datetime.now(MEXICO_CITY)
    assert diagnostics.main(["--datos", str(data)]) == 0
    after = datetime.now(MEXICO_CITY)
    out = capsys.readouterr().out
    assert f"({at.astimezone(MEXICO_CITY):%d/%m %H:%M})" in out
    assert "UTC" not in out
    shown = {
        f"Todo en orden ({t:%d/%m/%Y %H:%M}, hora del centro de México)." for t in (before, after)
    }
    assert any(line in out for line in shown), out


def test_central_away_and_a_damaged_database_are_reported(central, tmp_path, capsys):
    data = terminal_folder(tmp_path, central, caja_token(central))
    refreshed(data)
    central.stop()
    db = data / "terminal.sqlite"
    # Damage a page in the middle of the file, as a failing disk would.
    raw = bytearray(db.read_bytes())
    page = 4096
    raw[page * 3 : page * 3 + 100] = b"\xff" * 100
    db.write_bytes(bytes(raw))
    assert diagnostics.main(["--datos", str(data)]) == 1
    out = capsys.readouterr().out
    assert "[FALLA] Base de datos: DAÑADA" in out
    assert "[FALLA] Central: sin conexión" in out
