"""central's admin command line on a real database."""

from __future__ import annotations

import json

import httpx
import pytest

from central import admin
from central.embedded import EmbeddedCentral

pytest_plugins = ["tests.integration.central_support"]

def test_an_enrolled_terminal_gets_a_working_token_printed_once(
    db_url: str, clock, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["enrolar", "--db", db_url, "--tienda", "F009", "--nombre", "Caja 3", "--json"]
    assert admin.main(argv) == 0
    enrolled = json.loads(capsys.readouterr().out)
    assert enrolled["store_id"] == "F009" and enrolled["kind"] == "caja"
    with EmbeddedCentral(db_url, clock=clock) as central:
        headers = {"Authorization": f"Bearer {enrolled['token']}"}
        assert httpx.get(central.base_url + "/v1/policy", headers=headers).status_code == 200


def test_seed_demo_json_lists_everything_needed_to_drive_the_api(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert admin.main(["--db", db_url, "seed-demo", "--json"]) == 0
    demo = json.loads(capsys.readouterr().out)
    assert {t["kind"] for t in demo["terminals"]} == {"caja", "kiosko"}
    assert all(t["token"] for t in demo["terminals"])
    assert all(m["nip"] for m in demo["members"])
    assert len(demo["references"]) == len(demo["loans"])
    # A second run rotates the tokens (they are shown only once) and keeps the data.
    assert admin.main(["--db", db_url, "seed-demo", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert {t["token"] for t in again["terminals"]}.isdisjoint(
        t["token"] for t in demo["terminals"]
    )
    assert [loan["loan_id"] for loan in again["loans"]] == [x["loan_id"] for x in demo["loans"]]


def test_conciliacion_says_when_there_is_nothing_to_reconcile(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:

    assert admin.main(["--db", db_url, "conciliacion"]) == 0
    assert "No hay cobros por conciliar" in capsys.readouterr().out
