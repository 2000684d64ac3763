"""A terminal joins central with a one-time code: admin issues it, ``enrolar`` redeems it."""

from __future__ import annotations

import json
import re
import stat
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

import local_db
from central import admin
from central.clock import ShiftedClock
from central.embedded import EmbeddedCentral
from central.enrollment import new_code
from kiosk import settings as settings_module
from kiosk.terminal_state import STORE_ID_KEY, TERMINAL_ID_KEY
from sync import enrollment

pytest_plugins = ["tests.integration.central_support"]


def issue_code(db_url: str, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    argv = ["codigo-de-alta", "--db", db_url, "--tienda", "F001", "--nombre", "Caja 7", *extra]
    assert admin.main(argv) == 0
    out = capsys.readouterr().out
    found = re.search(r"\b([0-9A-Z]{5}-[0-9A-Z]{5})\b", out)
    assert found, out
    assert "Vence el" in out
    return found.group(1)


def test_enrolar_stores_a_private_token_and_the_identity_and_says_what_it_is(
    central: EmbeddedCentral, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    code = issue_code(db_url, capsys)
    data = tmp_path / "caja"
    typed = code.lower().replace("-", " ")  # as read over the phone
    assert (
        enrollment.main(["--central", central.base_url, "--codigo", typed, "--datos", str(data)])
        == 0
    )
    said = capsys.readouterr().out
    assert "«Caja 7» (caja" in said and "tienda F001" in said
    token_file = data / "token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    config = json.loads((data / "config.json").read_text(encoding="utf-8"))
    assert config["terminal_name"] == "Caja 7" and config["central_url"] == central.base_url
    settings = settings_module.load({"ISSEG_DATA_DIR": str(data)})
    assert settings.terminal_token == token_file.read_text().strip()
    headers = {"Authorization": f"Bearer {settings.terminal_token}"}
    assert httpx.get(central.base_url + "/v1/policy", headers=headers).status_code == 200
    db = local_db.open_database(settings.database_file)
    with db.unit_of_work() as uow:
        assert uow.meta.get(STORE_ID_KEY) == "F001"
        assert uow.meta.get(TERMINAL_ID_KEY)
    db.close()


def test_a_code_works_once(
    central: EmbeddedCentral, db_url: str, capsys: pytest.CaptureFixture[str]
):
    code = issue_code(db_url, capsys)
    first = httpx.post(central.base_url + "/v1/enrollments", json={"code": code})
    assert first.status_code == 201 and first.json()["token"]
    again = httpx.post(central.base_url + "/v1/enrollments", json={"code": code})
    assert again.status_code == 409
    assert again.json()["code"] == "CODIGO_USADO" and "nuevo" in again.json()["message"]


def test_a_code_expires_after_24_hours_by_centrals_clock(
    central: EmbeddedCentral, clock: ShiftedClock
):
    with central.app.state.db.write() as s:
        in_time, _ = new_code(s, "F001", "Caja 8", "caja", clock())
        too_late, expires = new_code(s, "F001", "Caja 9", "caja", clock())
    assert expires == clock() + timedelta(hours=24)
    clock.advance(timedelta(hours=23, minutes=59))
    ok = httpx.post(central.base_url + "/v1/enrollments", json={"code": in_time})
    assert ok.status_code == 201
    clock.advance(timedelta(minutes=1))
    late = httpx.post(central.base_url + "/v1/enrollments", json={"code": too_late})
    assert late.status_code == 410 and late.json()["code"] == "CODIGO_VENCIDO"


def test_guessing_is_rate_limited_and_unknown_codes_say_so(central: EmbeddedCentral):
    answers = [
        httpx.post(central.base_url + "/v1/enrollments", json={"code": f"AAAAA-{i:05d}"})
        for i in range(12)
    ]
    assert [a.status_code for a in answers[:10]] == [404] * 10
    assert answers[0].json()["code"] == "CODIGO_INVALIDO"
    assert answers[10].status_code == 429
    assert answers[10].json()["code"] == "DEMASIADOS_INTENTOS"


def test_enrollment_is_in_the_openapi_and_refuses_oversized_codes(central: EmbeddedCentral):
    spec = httpx.get(central.base_url + "/openapi.json").json()
    assert "post" in spec["paths"]["/v1/enrollments"]
    long = httpx.post(central.base_url + "/v1/enrollments", json={"code": "9" * 500})
    assert long.status_code == 422 and long.json()["code"] == "SOLICITUD_INVALIDA"


def test_enrolar_refuses_plain_http_to_another_machine(tmp_path: Path, capsys):
    argv = ["--central", "http://central.isseg.gob.mx", "--codigo", "X", "--datos", str(tmp_path)]
    assert enrollment.main(argv) == 1
    assert "https" in capsys.readouterr().err
    assert not (tmp_path / "token").exists()


WRONG_KIND = (
    "Este código es para un kiosko de autoservicio y esta terminal es una caja: pida al área "
    "de sistemas del ISSEG un código de tipo caja. El código sigue valiendo."
)


def test_a_code_of_the_other_kind_is_refused_before_it_is_spent(
    central: EmbeddedCentral, clock: ShiftedClock
):
    from central.enrollment import EnrollmentCode, code_hash

    with central.app.state.db.write() as s:
        kiosk_code, _ = new_code(s, "F001", "Kiosko 7", "kiosko", clock())
        old_client_code, _ = new_code(s, "F001", "Kiosko 8", "kiosko", clock())
    url = central.base_url + "/v1/enrollments"
    wrong = httpx.post(url, json={"code": kiosk_code, "kind": "caja"})
    assert wrong.status_code == 409
    assert wrong.json()["code"] == "CODIGO_DE_OTRO_TIPO"
    assert wrong.json()["message"] == WRONG_KIND
    with central.app.state.db.write() as s:
        row = s.get(EnrollmentCode, code_hash(kiosk_code))
        assert row is not None and row.used_at is None and row.terminal_id is None
    assert httpx.post(url, json={"code": kiosk_code, "kind": "gerente"}).status_code == 422
    right = httpx.post(url, json={"code": kiosk_code, "kind": "kiosko"})
    assert right.status_code == 201 and right.json()["kind"] == "kiosko"
    assert right.json()["name"] == "Kiosko 7"
    # An older terminal sends no kind: nothing is compared, as before.
    old = httpx.post(url, json={"code": old_client_code})
    assert old.status_code == 201 and old.json()["kind"] == "kiosko"


def test_enrolar_with_tipo_refuses_a_code_of_the_other_kind_and_keeps_it_valid(
    central: EmbeddedCentral, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    code = issue_code(db_url, capsys, "--tipo", "kiosko")
    data = tmp_path / "terminal"
    argv = ["--central", central.base_url, "--codigo", code, "--datos", str(data)]
    assert enrollment.main([*argv, "--tipo", "caja"]) == 1
    assert WRONG_KIND in capsys.readouterr().err
    assert not (data / "token").exists()
    assert enrollment.main([*argv, "--tipo", "kiosko"]) == 0
    assert "(kiosko" in capsys.readouterr().out
    assert stat.S_IMODE((data / "token").stat().st_mode) == 0o600


def test_https_to_a_central_that_speaks_plain_http_says_so(central: EmbeddedCentral):
    """The screen adds https:// to an address typed without it; a central (or a proxy)
    serving plain http on that port is named as such, not as a network problem."""
    plain = central.base_url  # the embedded central serves http on loopback
    assert plain.startswith("http://")
    with pytest.raises(enrollment.EnrollmentError) as refused:
        enrollment.redeem("https://" + plain.removeprefix("http://"), "7KQ2M-9XH4D")
    assert refused.value.code == "CENTRAL_HABLA_HTTP"
    assert "sin cifrar (http)" in refused.value.message


def test_an_enrolled_kiosk_keeps_its_kind_never_asks_for_the_feed_and_diagnoses_clean(
    central: EmbeddedCentral, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    # Central serves referencias to cajas only: a kiosk's diagnostico said "[FALLA]
    # Referencias" for ever, and its first cycle left a 403 in central's log.
    from kiosk import terminal_state
    from kiosk.bootstrap import build
    from sync import diagnostics

    code = issue_code(db_url, capsys, "--tipo", "kiosko")
    data = tmp_path / "kiosko"
    argv = ["--central", central.base_url, "--codigo", code, "--datos", str(data)]
    assert enrollment.main(argv) == 0
    capsys.readouterr()
    terminal = build(settings_module.load({"ISSEG_DATA_DIR": str(data)}), start_sync=False)
    try:
        with terminal.uow.reading() as uow:
            assert terminal_state.terminal_kind(uow) == "kiosko"
        assert terminal.sync is not None
        cycle = terminal.sync.run_once(force=True)
        assert not [e for e in cycle.errors if e.startswith("referencias")], cycle.errors
    finally:
        terminal.close()
    diagnostics.main(["--datos", str(data)])
    out = capsys.readouterr().out
    assert "[ OK ] Referencias: no aplica" in out, out
    # The only problem left is the clock: this embedded central runs on a 2025 test clock.
    assert "1 problema(s): Reloj" in out, out
