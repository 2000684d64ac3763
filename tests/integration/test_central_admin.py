"""central's admin command line on a real database."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from central import admin
from central import service as svc
from central.db import Database
from central.embedded import EmbeddedCentral
from central.models import Member
from kiosk import loans as loanlib

pytest_plugins = ["tests.integration.central_support"]

MEMBERS_CSV = """numero,nombre,nip
200001,Laura Pérez Gómez,4321
20000X,Nombre Con Número Malo,1111
200002,,2222
200003,Pedro Sánchez Ruiz,12
200004,Rosa Elena Díaz,5678
"""

LOANS_CSV = """prestamo,afiliado,tipo,monto,tasa_anual,quincenas,primer_vencimiento,pagadas,en_nomina,abonos
P-1,200001,PERSONAL,30000.00,0.16,24,2025-01-15,3,1,
P-2,999999,PERSONAL,10000.00,0.16,24,2025-01-15,0,0,
P-3,200004,PERSONAL,10000.00,0.16,24,2025-02-30,0,0,
P-4,200004,PERSONAL,-5,0.16,24,2025-01-15,0,0,
P-5,200004,PERSONAL,10000.00,0.16,12,2025-01-15,10,5,
P-6,200004,COMPLEMENTARIO,12000.50,0.17,36,2025-03-31,0,0,500.00
P-1,200004,PERSONAL,1000.00,0.16,6,2025-01-15,0,0,
"""


def test_csv_imports_skip_bad_rows_by_line_and_keep_the_good_ones(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    members = tmp_path / "afiliados.csv"
    members.write_text(MEMBERS_CSV, encoding="utf-8")
    loans = tmp_path / "prestamos.csv"
    loans.write_text(LOANS_CSV, encoding="utf-8")

    assert admin.main(["--db", db_url, "importar-afiliados", str(members)]) == 1
    out = capsys.readouterr()
    assert "2 importados, 3 renglones con error" in out.out
    assert [line.split(":")[0] for line in out.err.splitlines()] == [
        "línea 3", "línea 4", "línea 5",
    ]  # fmt: skip

    assert admin.main(["--db", db_url, "importar-prestamos", str(loans)]) == 1
    out = capsys.readouterr()
    assert "2 importados, 5 renglones con error" in out.out
    assert [line.split(":")[0] for line in out.err.splitlines()] == [
        "línea 3", "línea 4", "línea 5", "línea 6", "línea 8",
    ]  # fmt: skip

    db = Database(db_url)
    try:
        with db.read() as s:
            loaded = svc.load_loan(s, "P-1")
            assert loaded is not None
            row, loan = loaded
            assert row.member_number == "200001"  # the duplicate P-1 line did not touch it
            expected = loanlib.loan_from_schedule(
                "P-1", Decimal("30000.00"), Decimal("0.16"), 24, date(2025, 1, 15), 3, 1
            )
            assert loan.installments == expected.installments
            p6 = svc.load_loan(s, "P-6")
            assert p6 is not None and p6[1].prepayments == Decimal("500.00")
            assert svc.load_loan(s, "P-5") is None
        assert svc.count(db, Member) == 2
    finally:
        db.dispose()


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
