"""The institute's CSV files: detected encoding and separator, all or nothing, upserts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from central import admin, imports
from central import service as svc
from central.db import Database
from central.models import InstallmentRow, LoanRow, Member
from central.security import verify_nip
from kiosk import loans as loanlib
from tests.integration.central_support import Api

pytest_plugins = ["tests.integration.central_support"]

MEMBERS_OK = "numero,nombre,nip\n200001,Laura Pérez Gómez,4321\n200004,Rosa Elena Díaz,5678\n"
MEMBERS_BAD = """numero,nombre,nip
200001,Laura Pérez Gómez,4321
20000X,Nombre Con Número Malo,1111
200002,,2222
200003,Pedro Sánchez Ruiz,12
200004,Rosa Elena Díaz,5678
200001,Laura Otra Vez,4321
"""
LOANS_HEADER = "prestamo,afiliado,tipo,monto,tasa_anual,quincenas,primer_vencimiento,pagadas,en_nomina,abonos\n"
LOANS_BAD = (
    LOANS_HEADER
    + """P-1,200001,PERSONAL,30000.00,0.16,24,2025-01-15,3,1,
P-2,999999,PERSONAL,10000.00,0.16,24,2025-01-15,0,0,
P-3,200004,PERSONAL,10000.00,0.16,24,2025-02-30,0,0,
P-4,200004,PERSONAL,-5,0.16,24,2025-01-15,0,0,
P-5,200004,PERSONAL,10000.00,0.16,12,2025-01-15,10,5,
P-6,200004,COMPLEMENTARIO,12000.50,0.17,36,2025-03-31,0,0,500.00
P-1,200004,PERSONAL,1000.00,0.16,6,2025-01-15,0,0,
"""
)


def run(db_url: str, *args: str) -> int:
    return admin.main(["--db", db_url, *args])


def counts(db_url: str) -> tuple[int, int, int]:
    db = Database(db_url)
    try:
        with db.read() as s:
            return tuple(  # type: ignore[return-value]
                s.scalar(select(func.count()).select_from(m))
                for m in (Member, LoanRow, InstallmentRow)
            )
    finally:
        db.dispose()


def test_a_file_with_bad_lines_reports_every_one_and_loads_nothing(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    members = tmp_path / "afiliados.csv"
    members.write_text(MEMBERS_BAD, encoding="utf-8")
    assert run(db_url, "importar-afiliados", str(members)) == 1
    out = capsys.readouterr()
    assert [line.split(":")[0] for line in out.err.splitlines()] == [
        "línea 3", "línea 4", "línea 5", "línea 7",
    ]  # fmt: skip
    assert "ya aparece en la línea 2" in out.err
    assert "No se cargó nada" in out.out
    assert counts(db_url) == (0, 0, 0)


def test_excel_files_in_windows_1252_with_semicolons_load_with_their_accents(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    excel = tmp_path / "afiliados.csv"
    excel.write_bytes(MEMBERS_OK.replace(",", ";").replace("\n", "\r\n").encode("cp1252"))
    assert run(db_url, "importar-afiliados", str(excel)) == 0
    assert "2 nuevos, 0 actualizados (Windows-1252, separado por «;»)" in capsys.readouterr().out
    bom = tmp_path / "afiliados-bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + "numero,nombre,nip\n200001,Laura Pérez G.,\n".encode())
    assert run(db_url, "importar-afiliados", str(bom)) == 0
    assert "0 nuevos, 1 actualizados (UTF-8 con BOM" in capsys.readouterr().out
    db = Database(db_url)
    try:
        with db.read() as s:
            laura = s.get(Member, "200001")
            assert laura is not None and laura.name == "Laura Pérez G."
            assert verify_nip(laura.nip_hash, "4321")  # an empty NIP keeps the old one
            assert s.get(Member, "200004").name == "Rosa Elena Díaz"  # type: ignore[union-attr]
    finally:
        db.dispose()


def test_validar_only_checks(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    members = tmp_path / "afiliados.csv"
    members.write_text(MEMBERS_OK, encoding="utf-8")
    assert run(db_url, "importar-afiliados", str(members), "--validar") == 0
    assert "2 línea(s) correctas" in capsys.readouterr().out
    assert counts(db_url) == (0, 0, 0)


def test_bad_loan_lines_are_all_reported_and_nothing_is_loaded(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    (tmp_path / "a.csv").write_text(MEMBERS_OK, encoding="utf-8")
    assert run(db_url, "importar-afiliados", str(tmp_path / "a.csv")) == 0
    (tmp_path / "p.csv").write_text(LOANS_BAD, encoding="utf-8")
    capsys.readouterr()
    assert run(db_url, "importar-prestamos", str(tmp_path / "p.csv")) == 1
    err = capsys.readouterr().err
    assert [line.split(":")[0] for line in err.splitlines()] == [
        "línea 3", "línea 4", "línea 5", "línea 6", "línea 8",
    ]  # fmt: skip
    assert counts(db_url) == (2, 0, 0)


def test_reimporting_loans_advances_payroll_states_and_duplicates_nothing(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    (tmp_path / "a.csv").write_text(MEMBERS_OK, encoding="utf-8")
    assert run(db_url, "importar-afiliados", str(tmp_path / "a.csv")) == 0
    loans = tmp_path / "p.csv"
    line = "P-1,200001,PERSONAL,30000.00,0.16,24,2025-01-15,{paid},{payroll},{extra}\n"
    loans.write_text(LOANS_HEADER + line.format(paid=3, payroll=1, extra=""), encoding="utf-8")
    assert run(db_url, "importar-prestamos", str(loans)) == 0
    assert counts(db_url) == (2, 1, 24)
    db = Database(db_url)
    try:
        # Installment 10 is paid at a pharmacy meanwhile: the institute's file does not know.
        with db.write() as s:
            s.execute(
                update(InstallmentRow)
                .where(InstallmentRow.loan_id == "P-1", InstallmentRow.number == 10)
                .values(state=loanlib.PAID)
            )
        loans.write_text(
            LOANS_HEADER + line.format(paid=5, payroll=2, extra="100.00"), encoding="utf-8"
        )
        capsys.readouterr()
        assert run(db_url, "importar-prestamos", str(loans)) == 0
        assert "0 nuevos, 1 actualizados" in capsys.readouterr().out
        assert counts(db_url) == (2, 1, 24)
        with db.read() as s:
            loaded = svc.load_loan(s, "P-1")
            assert loaded is not None
            states = [i.state for i in loaded[1].installments]
            assert states[:5] == [loanlib.PAID] * 5
            assert states[5:7] == [loanlib.IN_PAYROLL] * 2
            assert states[9] == loanlib.PAID  # never goes back
            assert states.count(loanlib.PENDING) == 24 - 8
            assert loaded[1].prepayments == Decimal("100.00")
            expected = loanlib.loan_from_schedule(
                "P-1", Decimal("30000.00"), Decimal("0.16"), 24, date(2025, 1, 15)
            )
            assert [i.amount for i in loaded[1].installments] == [
                i.amount for i in expected.installments
            ]
    finally:
        db.dispose()


def test_a_loan_cannot_change_its_terms_on_reimport(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    (tmp_path / "a.csv").write_text(MEMBERS_OK, encoding="utf-8")
    assert run(db_url, "importar-afiliados", str(tmp_path / "a.csv")) == 0
    loans = tmp_path / "p.csv"
    loans.write_text(
        LOANS_HEADER + "P-1,200001,,30000.00,0.16,24,2025-01-15,,,\n", encoding="utf-8"
    )
    assert run(db_url, "importar-prestamos", str(loans)) == 0
    loans.write_text(
        LOANS_HEADER + "P-1,200001,,31000.00,0.16,24,2025-01-15,,,\n", encoding="utf-8"
    )
    capsys.readouterr()
    assert run(db_url, "importar-prestamos", str(loans)) == 1
    assert "ya existe con otras condiciones" in capsys.readouterr().err


def test_the_formats_are_in_the_help(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit):
        admin.main(["importar-prestamos", "--help"])
    out = capsys.readouterr().out
    assert "Windows-1252" in out and "primer_vencimiento AAAA-MM-DD" in out


def test_an_imported_members_nip_opens_a_kiosk_session_and_a_wrong_one_does_not(
    db_url: str, api: Api, tmp_path: Path
):
    (tmp_path / "a.csv").write_text(MEMBERS_OK, encoding="utf-8")
    assert run(db_url, "importar-afiliados", str(tmp_path / "a.csv")) == 0
    kiosk = api.auth(api.token("F001", "kiosko"))
    for number, nip, status in (("200001", "4321", 201), ("200004", "4321", 401)):
        r = api.http.post(
            "/v1/kiosk/sessions", headers=kiosk, json={"member_number": number, "nip": nip}
        )
        assert r.status_code == status, r.text
    assert r.json()["code"] == "CREDENCIALES_INCORRECTAS"


def test_nips_hashed_in_parallel_processes_each_verify_only_their_own_nip():
    nips = [f"{1000 + 37 * n}" for n in range(24)]
    hashes = imports.hash_nips(nips, workers=2)  # 24 >= 4 per worker: the process pool
    assert len(set(hashes)) == len(nips)  # a salt of its own each
    assert all(verify_nip(h, nip) for h, nip in zip(hashes, nips, strict=True))
    assert not any(verify_nip(h, nip) for h, nip in zip(hashes, nips[1:] + nips[:1], strict=True))
