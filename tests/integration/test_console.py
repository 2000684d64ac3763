"""The console's pages and actions through its HTTP surface, over the real central (SQLite and
PostgreSQL); the browser tests are in test_console_browser.py."""

from __future__ import annotations

import csv
import io
import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select

from central import admin, imports
from central.console import auth
from central.console.models import ConsoleAudit, ConsoleUser
from central.console.notify import SmtpNotifier
from central.embedded import free_port
from central.models import Payment, Reconciliation, ReferenceRow, Terminal
from kiosk.rules import Policy
from tests.integration.central_support import BUSINESS_NOW, Api
from tests.integration.console_support import (
    PASSWORD,
    STAFF,
    a_day_of_payments,
    add_staff,
    csrf_in,
    signed_in,
)
from tests.integration.institute_support import service_token

pytest_plugins = ["tests.integration.central_support"]


@pytest.fixture
def staffed(api: Api) -> Api:
    add_staff(api)
    return api


def audit_actions(api: Api) -> list[tuple[str, str, str]]:
    with api.server.app.state.db.read() as s:
        rows = s.execute(select(ConsoleAudit).order_by(ConsoleAudit.audit_id)).scalars()
        return [(a.username, a.action, a.target) for a in rows]


def test_a_page_without_a_session_sends_to_sign_in(staffed: Api) -> None:
    from starlette.testclient import TestClient

    client = TestClient(staffed.server.app, base_url="https://testserver")
    r = client.get("/consola/hoy", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/consola/entrar"


def test_the_session_cookie_is_secure_httponly_and_samesite(staffed: Api) -> None:
    from starlette.testclient import TestClient

    client = TestClient(staffed.server.app, base_url="https://testserver")
    form = client.get("/consola/entrar")
    r = client.post(
        "/consola/entrar",
        data={"usuario": "olga", "contrasena": PASSWORD, "csrf": csrf_in(form.text)},
        follow_redirects=False,
    )
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and "consola=" in v)
    assert {"Secure", "HttpOnly", "SameSite=strict"} <= {p.strip() for p in cookie.split(";")}


def test_five_wrong_passwords_lock_the_account_with_every_attempt_audited(staffed: Api) -> None:
    from starlette.testclient import TestClient

    client = TestClient(staffed.server.app, base_url="https://testserver")
    answers = []
    for _ in range(auth.MAX_FAILURES + 1):
        form = client.get("/consola/entrar")
        answers.append(
            client.post(
                "/consola/entrar",
                data={
                    "usuario": "olga",
                    "contrasena": "no-es-la-clave",
                    "csrf": csrf_in(form.text),
                },
            ).status_code
        )
    assert answers == [401] * auth.MAX_FAILURES + [423]
    form = client.get("/consola/entrar")
    right = client.post(
        "/consola/entrar",
        data={"usuario": "olga", "contrasena": PASSWORD, "csrf": csrf_in(form.text)},
    )
    assert right.status_code == 423 and "bloqueada" in right.text
    actions = [a for u, a, _ in audit_actions(staffed) if u == "olga"]
    assert actions == ["ENTRADA_FALLIDA"] * auth.MAX_FAILURES + ["ENTRADA_BLOQUEADA"] * 2
    staffed.clock.advance(auth.LOCKOUT + timedelta(seconds=1))
    assert signed_in(staffed, "operador").get("/consola/hoy").status_code == 200


def test_unknown_user_and_wrong_password_get_the_same_answer(staffed: Api) -> None:
    from starlette.testclient import TestClient

    client = TestClient(staffed.server.app, base_url="https://testserver")
    bodies = []
    for user in ("olga", "nadie"):
        form = client.get("/consola/entrar")
        r = client.post(
            "/consola/entrar",
            data={"usuario": user, "contrasena": "x" * 12, "csrf": csrf_in(form.text)},
        )
        bodies.append((r.status_code, "Usuario o contraseña incorrectos." in r.text))
    assert bodies == [(401, True), (401, True)]


def test_concurrent_wrong_passwords_cannot_outrun_the_lockout(staffed: Api) -> None:
    db, now = staffed.server.app.state.db, staffed.clock()
    outcomes: list[int] = []

    def guess() -> None:
        try:
            auth.sign_in(db, "olga", "adivinanza-equivocada", now)
        except auth.Refused as refused:
            outcomes.append(refused.status)

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count(401) == auth.MAX_FAILURES  # each checked guess was counted
    with pytest.raises(auth.Refused) as locked:
        auth.sign_in(db, "olga", PASSWORD, now)
    assert locked.value.status == 423


def test_an_idle_session_ends(staffed: Api) -> None:
    client = signed_in(staffed, "operador")
    staffed.clock.advance(auth.SESSION_IDLE + timedelta(seconds=1))
    r = client.get("/consola/hoy", follow_redirects=False)
    assert r.status_code == 303


def test_a_change_without_the_csrf_token_is_refused_and_changes_nothing(staffed: Api) -> None:
    client = signed_in(staffed, "operador")
    terminal_id = staffed.demo["terminals"][0]["terminal_id"]
    r = client.post(f"/consola/terminales/{terminal_id}/revocar")
    assert r.status_code == 403 and "token de seguridad" in r.text
    forged = client.post(f"/consola/terminales/{terminal_id}/revocar", data={"csrf": "otro"})
    assert forged.status_code == 403
    with staffed.server.app.state.db.read() as s:
        assert s.get(Terminal, terminal_id).revoked_at is None
    assert staffed.http.get("/v1/policy", headers=staffed.auth(staffed.token())).status_code == 200


def test_revoking_a_terminal_stops_its_token_and_is_audited(api: Api) -> None:
    add_staff(api)
    client = signed_in(api, "operador")
    page = client.get("/consola/terminales")
    terminal = api.demo["terminals"][1]
    r = client.post(
        f"/consola/terminales/{terminal['terminal_id']}/revocar", data={"csrf": csrf_in(page.text)}
    )
    assert r.status_code == 200 and "revocada" in r.text
    with api.server.app.state.db.read() as s:
        assert s.get(Terminal, terminal["terminal_id"]).revoked_at == api.clock()
    assert ("olga", "REVOCAR_TERMINAL", str(terminal["terminal_id"])) in audit_actions(api)
    refused = api.http.get("/v1/policy", headers=api.auth(terminal["token"]))
    assert refused.status_code == 401 and refused.json()["code"] == "TOKEN_REVOCADO"


def test_soporte_is_refused_a_finanzas_action(staffed: Api) -> None:
    a_day_of_payments(staffed)
    client = signed_in(staffed, "soporte")
    token = csrf_in(client.get("/consola/hoy").text)
    case_id = _open_case(staffed)
    r = client.post(
        f"/consola/casos/{case_id}/resolver",
        data={"csrf": token, "accion": "RECHAZO", "motivo": "No procede el cobro"},
    )
    assert r.status_code == 403 and "no permite" in r.text
    assert client.get("/consola/casos").status_code == 403
    with staffed.server.app.state.db.read() as s:
        assert s.get(Reconciliation, case_id).resolved is False


def _open_case(api: Api) -> int:
    with api.server.app.state.db.read() as s:
        return int(
            s.execute(
                select(Reconciliation.reconciliation_id).where(Reconciliation.resolved.is_(False))
            ).scalar_one()
        )


def test_finanzas_rejects_a_case_with_its_reason_audited(staffed: Api) -> None:
    a_day_of_payments(staffed)
    client = signed_in(staffed, "finanzas")
    case_id = _open_case(staffed)
    token = csrf_in(client.get("/consola/casos").text)
    short = client.post(
        f"/consola/casos/{case_id}/resolver", data={"csrf": token, "accion": "RECHAZO"}
    )
    assert short.status_code == 400 and "motivo" in short.text
    r = client.post(
        f"/consola/casos/{case_id}/resolver",
        data={"csrf": token, "accion": "RECHAZO", "motivo": "Ficha inexistente; se devolvió"},
    )
    assert r.status_code == 200, r.text
    again = client.post(
        f"/consola/casos/{case_id}/resolver",
        data={"csrf": token, "accion": "RECHAZO", "motivo": "Otra vez el mismo caso"},
    )
    assert again.status_code == 409
    with staffed.server.app.state.db.read() as s:
        assert s.get(Reconciliation, case_id).resolved is True
        line = s.execute(
            select(ConsoleAudit).where(ConsoleAudit.action == "RESOLVER_CASO")
        ).scalar_one()
    assert (line.username, line.target) == ("fernando", str(case_id))
    assert line.detail == {"accion": "RECHAZO", "motivo": "Ficha inexistente; se devolvió"}


def test_today_shows_each_store_and_caja_and_what_is_unconfirmed(staffed: Api) -> None:
    day = a_day_of_payments(staffed)
    html = signed_in(staffed, "operador").get("/consola/hoy/tabla").text
    total = sum(Decimal(p["amount"]) for p in day.paid)
    assert '<strong id="hoy-pagos">3</strong>' in html
    assert f"${total:,.2f}" in html
    assert "Total F001" in html and "Total F002" in html
    assert day.case_reference in html  # the refused payment waits for a person


def test_the_day_close_combines_the_cajas_and_flags_what_differs(staffed: Api) -> None:
    a_day_of_payments(staffed)
    client = signed_in(staffed, "finanzas")
    html = client.get(f"/consola/cierre?fecha={BUSINESS_NOW.date().isoformat()}").text
    f001 = html[html.index("F001") : html.index("F002")]
    assert "cierre incompleto" in f001  # Caja 2 sent no Z
    assert "El Z no coincide con lo recibido en central" in f001
    assert "Faltante" in f001
    pdf = client.get(f"/consola/cierre.pdf?fecha={BUSINESS_NOW.date().isoformat()}")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    one = client.get(f"/consola/cierre.pdf?fecha={BUSINESS_NOW.date().isoformat()}&tienda=F002")
    assert one.content.startswith(b"%PDF-") and len(one.content) < len(pdf.content)
    assert "cierre-2025-06-10-F002.pdf" in one.headers["content-disposition"]
    assert client.get("/consola/cierre.pdf?tienda=F999").status_code == 404
    only = client.get("/consola/cierre?tienda=F002").text
    assert "F002" in only and "F001 Farmacia" not in only
    assert client.get("/consola/cierre?fecha=ayer").status_code == 400


def _pay_at(api: Api, moment: datetime, amount: str, status: str = "APLICADO") -> None:
    """A payment row at an exact moment (the monthly report reads what central stored)."""
    terminal = api.demo["terminals"][0]
    reference = api.demo["references"][0]["reference"]
    with api.server.app.state.db.write() as s:
        s.execute(
            insert(Payment).values(
                payment_uuid=f"00000000-0000-4000-8000-{abs(hash((moment, amount))) % 10**12:012d}",
                reference=reference,
                store_id=terminal["store_id"],
                terminal_id=terminal["terminal_id"],
                amount=Decimal(amount),
                cash=Decimal(amount),
                card=Decimal("0"),
                paid_at=moment,
                received_at=moment,
                cashier="",
                status=status,
                request_hash="",
                response_code=201,
                response_body={},
                effect={},
            )
        )


def test_the_monthly_report_is_by_local_year_and_month_with_sum_and_count(staffed: Api) -> None:
    # 2018-12-01 03:00 UTC is still 30 November in Guanajuato; 2019-01-01 05:59 UTC is 31
    # December 23:59 there. A voided payment is not counted.
    _pay_at(staffed, datetime(2018, 12, 1, 3, 0, tzinfo=UTC), "100.00")
    _pay_at(staffed, datetime(2018, 12, 15, 18, 0, tzinfo=UTC), "200.50")
    _pay_at(staffed, datetime(2019, 1, 1, 5, 59, tzinfo=UTC), "300.25")
    _pay_at(staffed, datetime(2019, 1, 10, 18, 0, tzinfo=UTC), "1000.00")
    _pay_at(staffed, datetime(2019, 1, 11, 18, 0, tzinfo=UTC), "999.00", status="ANULADO")
    client = signed_in(staffed, "finanzas")
    rows = list(
        csv.reader(io.StringIO(client.get("/consola/reportes.csv").content.decode("utf-8-sig")))
    )
    assert rows == [
        ["Etiquetas de fila", "Suma de MONTO", "Cuenta de MONTO"],
        ["2018", "600.75", "3"],
        ["   noviembre", "100.00", "1"],
        ["   diciembre", "500.75", "2"],
        ["2019", "1000.00", "1"],
        ["   enero", "1000.00", "1"],
        ["Total general", "1600.75", "4"],
    ]
    html = client.get("/consola/reportes?vista=mensual").text
    assert "<svg" in html and "$1,600.75" in html
    assert html.count("<rect") == 3  # one bar a month: nov 2018, dic 2018, ene 2019
    assert "nov 2018" in html and "ene 2019" in html


def test_the_csv_opens_in_a_spanish_excel(staffed: Api) -> None:
    a_day_of_payments(staffed)
    body = signed_in(staffed, "operador").get("/consola/reportes.csv?vista=tipo").content
    assert body.startswith("\ufeff".encode())  # Excel reads UTF-8 (accents) only with the BOM
    text = body.decode("utf-8-sig")
    assert "\r\n" in text
    assert text.splitlines()[0] == "Tipo de pago,Suma de MONTO,Cuenta de MONTO"
    assert "Liquidación" in text


def test_the_xlsx_has_numbers_as_money(staffed: Api) -> None:
    day = a_day_of_payments(staffed)
    client = signed_in(staffed, "operador")
    r = client.get("/consola/reportes.xlsx?vista=tienda")
    assert r.headers["content-disposition"] == 'attachment; filename="reporte-tienda.xlsx"'
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert values[0] == ["Farmacia", "Suma de MONTO", "Cuenta de MONTO"]
    total = sum(Decimal(p["amount"]) for p in day.paid)
    assert values[-1][0] == "Total general"
    assert Decimal(str(values[-1][1])) == total and values[-1][2] == 3
    assert sheet.cell(3, 2).number_format == '"$"#,##0.00'
    assert not sheet.cell(3, 1).font.bold  # a flat list: only the headers and total stand out


def test_reports_by_method_and_channel(staffed: Api) -> None:
    day = a_day_of_payments(staffed)
    client = signed_in(staffed, "operador")
    rows = list(
        csv.reader(
            io.StringIO(
                client.get("/consola/reportes.csv?vista=metodo").content.decode("utf-8-sig")
            )
        )
    )
    card = Decimal(day.paid[2]["amount"]) - 100
    cash = sum(Decimal(p["amount"]) for p in day.paid) - card
    assert rows[1] == ["Efectivo", f"{cash:.2f}", "3"]
    assert rows[2] == ["Tarjeta", f"{card:.2f}", "1"]
    channel = list(
        csv.reader(
            io.StringIO(client.get("/consola/reportes.csv?vista=canal").content.decode("utf-8-sig"))
        )
    )
    assert channel[1][0] == "Kiosco" and channel[1][2] == "3"
    assert (
        client.get("/consola/reportes?vista=canal&desde=2025-06-10&hasta=2025-06-01").status_code
        == 400
    )


@pytest.fixture
def smtp() -> Iterator[tuple[int, list[Any]]]:
    """A real SMTP server on loopback: (its port, the messages it received)."""
    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            received.append(envelope)
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, received
    controller.stop()


def test_a_nip_reset_mails_a_new_nip_that_opens_the_kiosk(
    staffed: Api, smtp: tuple[int, list[Any]]
) -> None:
    port, received = smtp
    seams = staffed.server.app.state.console.seams
    seams.notifier = SmtpNotifier("127.0.0.1", port)
    seams.member_email = lambda _s, number: f"afiliado{number}@correo.example"
    client = signed_in(staffed, "soporte")
    page = client.get("/consola/afiliados/100001")
    r = client.post("/consola/afiliados/100001/nip", data={"csrf": csrf_in(page.text)})
    assert r.status_code == 200 and "NIP nuevo enviado a af…@correo.example" in r.text
    (mail,) = received
    assert mail.rcpt_tos == ["afiliado100001@correo.example"]
    text = mail.content.decode()
    nip = text.split("Su nuevo NIP es: ")[1][:4]
    assert nip.isdigit() and nip not in r.text
    old = staffed.http.post(
        "/v1/kiosk/sessions",
        headers=staffed.auth(staffed.token("F001", "kiosko")),
        json={"member_number": "100001", "nip": "1234"},
    )
    assert old.status_code == 401 or nip == "1234"
    assert staffed.login("100001", nip)


def test_a_nip_reset_that_cannot_be_mailed_keeps_the_old_nip(staffed: Api) -> None:
    seams = staffed.server.app.state.console.seams
    seams.notifier = SmtpNotifier("127.0.0.1", 1, timeout=2)  # nothing listens there
    seams.member_email = lambda _s, number: "alguien@correo.example"
    client = signed_in(staffed, "soporte")
    page = client.get("/consola/afiliados/100002")
    r = client.post("/consola/afiliados/100002/nip", data={"csrf": csrf_in(page.text)})
    assert r.status_code == 502 and "el NIP no cambió" in r.text
    assert staffed.login("100002", "2468")
    assert "RESTABLECER_NIP" not in [a for _, a, _ in audit_actions(staffed)]


def test_a_nip_reset_without_an_email_on_record_is_refused(staffed: Api) -> None:
    staffed.server.app.state.console.seams.notifier = SmtpNotifier("127.0.0.1", 1)
    client = signed_in(staffed, "soporte")
    page = client.get("/consola/afiliados/100003")
    r = client.post("/consola/afiliados/100003/nip", data={"csrf": csrf_in(page.text)})
    assert r.status_code == 400 and "no tiene correo" in r.text
    assert staffed.login("100003", "1357")


def test_soporte_finds_an_affiliate_and_unlocks_the_kiosk(staffed: Api) -> None:
    kiosk = staffed.auth(staffed.token("F001", "kiosko"))
    wrong = {"member_number": "100002", "nip": "0000"}
    answers = [staffed.http.post("/v1/kiosk/sessions", headers=kiosk, json=wrong) for _ in range(5)]
    assert answers[-1].status_code == 423  # locked out by real wrong NIPs at a kiosk
    client = signed_in(staffed, "soporte")
    by_name = client.get("/consola/afiliados?q=ramírez").text
    assert "100002" in by_name and "bloqueado" in by_name
    assert "100002" in client.get("/consola/afiliados?q=1000").text
    page = client.get("/consola/afiliados/100002")
    assert "P-100002-1" in page.text
    r = client.post("/consola/afiliados/100002/desbloquear", data={"csrf": csrf_in(page.text)})
    assert r.status_code == 200 and "sin bloqueo" in r.text
    assert staffed.login("100002", "2468")
    assert ("sofia", "DESBLOQUEAR_AFILIADO", "100002") in audit_actions(staffed)
    assert signed_in(staffed, "finanzas").get("/consola/afiliados").status_code == 403


def test_a_name_is_found_whatever_its_accents_and_case(staffed: Api) -> None:
    db = staffed.server.app.state.db
    # Central's own writes keep the folded name: the institute's CSV import (new and updated
    # rows), its PUT /v1/members, and the demo's upsert (100001 María Guadalupe Hernández López).
    imports.load_members(db, [imports.MemberLine(2, "300001", "José Ángel Núñez Peña", "1234")])
    svc = {"Authorization": f"Bearer {service_token(db, 'nombres', 'members_loans')}"}
    contact = {"email": "maria@example.mx", "phone": "4731234567"}
    body = {"version": 1, "name": "MARÍA  LÓPEZ Ibáñez", "nip": "4321", **contact}
    assert staffed.http.put("/v1/members/300002", json=body, headers=svc).status_code == 201
    client = signed_in(staffed, "soporte")

    def found(text: str) -> list[str]:
        page = client.get("/consola/afiliados", params={"q": text}).text
        return re.findall(r'href="/consola/afiliados/(\d+)"', page)

    assert found("Maria lopez") == ["300002"]
    assert found("maria lopez ibanez") == ["300002"]
    assert found("jose angel NUNEZ") == ["300001"]
    assert found("HERNANDEZ") == ["100001"]
    assert found("María") == ["100001", "300002"]
    # A rename through the import's bulk update is followed; the old name no longer matches.
    imports.load_members(db, [imports.MemberLine(2, "300001", "José Ángel Núñez Ávila", "")])
    assert found("nunez avila") == ["300001"] and found("pena") == []
    body = {"version": 2, "name": "Mariana Ruiz", **contact}
    assert staffed.http.put("/v1/members/300002", json=body, headers=svc).status_code == 200
    assert found("maria lopez") == [] and found("MARIANA") == ["300002"]
    # LIKE's own characters are searched as text, not as wildcards.
    assert found("%") == [] and found("_") == []


def test_every_page_answers_for_every_role_it_is_meant_for(staffed: Api) -> None:
    a_day_of_payments(staffed)
    pages = {
        "operador": ["hoy", "terminales", "cierre", "casos", "reportes", "politica"],
        "finanzas": ["hoy", "terminales", "cierre", "casos", "reportes", "politica"],
        "soporte": ["hoy", "terminales", "cierre", "reportes", "politica", "afiliados"],
    }
    for role, names in pages.items():
        client = signed_in(staffed, role)
        for name in names:
            r = client.get(f"/consola/{name}")
            assert r.status_code == 200, (role, name, r.text)
            assert r.headers["content-security-policy"].startswith("default-src 'self'")


def test_the_admin_command_creates_a_console_user(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("una-clave-bastante-larga\n"))
    args = ["--db", db_url, "usuario-consola", "--usuario", "mlopez", "--nombre", "María López",
            "--rol", "finanzas", "--contrasena-stdin"]  # fmt: skip
    assert admin.main(args) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("corta\n"))
    assert admin.main([*args[:4], "otro", *args[5:]]) == 1
    assert "contraseña" in capsys.readouterr().err
    from central.db import Database

    db = Database(db_url)
    try:
        with db.read() as s:
            users = s.execute(select(ConsoleUser.username, ConsoleUser.role)).all()
        assert [tuple(u) for u in users] == [("mlopez", "finanzas")]
        assert (
            auth.sign_in(db, "mlopez", "una-clave-bastante-larga", BUSINESS_NOW)[1].role
            == "finanzas"
        )
    finally:
        db.dispose()


def test_the_kind_report_reads_the_referencias_kind(staffed: Api) -> None:
    day = a_day_of_payments(staffed)
    with staffed.server.app.state.db.read() as s:
        kinds = {
            r.kind
            for r in s.execute(
                select(ReferenceRow).where(
                    ReferenceRow.reference.in_([p["reference"] for p in day.paid])
                )
            ).scalars()
        }
    html = (
        signed_in(staffed, "operador")
        .get(f"/consola/reportes?vista=tipo&desde={date(2025, 6, 1)}&hasta={date(2025, 6, 30)}")
        .text
    )
    labels = {
        "QUINCENAL": "Pago quincenal",
        "LIQUIDACION": "Liquidación",
        "RENOVACION": "Pago para renovación",
    }
    for kind in kinds:
        assert labels[kind] in html


def _heartbeat(api: Api, token: str, **fields: Any) -> None:
    body = {
        "sent_at": api.clock().isoformat(),
        "version": "1.4.2",
        "queue_depth": 0,
        "printer_state": "lista",
        "audit_head": {"seq": 0, "hash": "0" * 64},
        **fields,
    }
    r = api.http.post("/v1/heartbeat", headers=api.auth(token), json=body)
    assert r.status_code == 200, r.text


def test_the_terminals_page_shows_each_heartbeat_and_its_alerts(staffed: Api) -> None:
    caja1, caja2 = staffed.demo["terminals"][0], staffed.demo["terminals"][1]
    _heartbeat(staffed, caja2["token"])
    silent_since = staffed.clock()
    staffed.clock.advance(timedelta(minutes=19))
    _heartbeat(staffed, caja1["token"], queue_depth=7, oldest_pending_seconds=7200,
               clock_skew_seconds=-3, printer_state="sin papel", cache_age_seconds=720)  # fmt: skip
    unsent_since = staffed.clock() - timedelta(hours=2)
    local = Policy().local
    html = signed_in(staffed, "operador").get("/consola/terminales").text
    assert "1.4.2" in html and "sin papel" in html and "-3 s" in html and "12 min" in html
    assert f"Pagos sin enviar desde {local(unsent_since):%d/%m %H:%M} (7 en cola)" in html
    assert f"Sin latido desde {local(silent_since):%H:%M}" in html
    assert html.count("sin latido") == len(staffed.demo["terminals"]) - 2


def test_an_operador_issues_an_enrollment_code_that_enrolls_a_terminal_once(staffed: Api) -> None:
    operador = signed_in(staffed, "operador")
    token = csrf_in(operador.get("/consola/terminales").text)
    page = operador.post(
        "/consola/terminales/codigos",
        data={"csrf": token, "tienda": "F001", "nombre": "Caja 3", "tipo": "caja"},
    )
    assert page.status_code == 200 and "Código de alta para F001 Caja 3" in page.text
    code = re.search(r"Caja 3: ([0-9A-Z]{5}-[0-9A-Z]{5})", page.text)
    assert code is not None
    # The expiry in the codes table is Mexico City's time (the operator read UTC there).
    expires = (staffed.clock() + timedelta(hours=24)).astimezone(ZoneInfo("America/Mexico_City"))
    listed = operador.get("/consola/terminales").text
    assert re.search(rf"Caja 3</td><td>caja</td><td>{expires:%d/%m/%Y %H}:\d\d<", listed), listed
    enrolled = staffed.http.post("/v1/enrollments", json={"code": code.group(1)})
    assert enrolled.status_code == 201, enrolled.text
    again = staffed.http.post("/v1/enrollments", json={"code": code.group(1)})
    assert again.status_code != 201
    assert (STAFF["operador"], "CODIGO_DE_ALTA", "F001") in audit_actions(staffed)


def test_finanzas_changes_the_policy_as_a_new_version_that_terminals_are_served(
    staffed: Api,
) -> None:
    finanzas = signed_in(staffed, "finanzas")
    page = finanzas.get("/consola/politica").text
    before = staffed.http.get("/v1/policy", headers=staffed.auth(staffed.token())).json()
    r = finanzas.post(
        "/consola/politica",
        data={
            "csrf": csrf_in(page),
            "window_start": "08:00",
            "window_end": "21:00",
            "cash_cap": "20000.00",
            "non_working_days": "2025-06-20",
        },  # fmt: skip
    )
    assert r.status_code == 200 and f"versión {before['version'] + 1} vigente" in r.text
    served = staffed.http.get("/v1/policy", headers=staffed.auth(staffed.token())).json()
    assert served["version"] == before["version"] + 1 and served["cash_cap"] == "20000.00"
    assert served["non_working_days"] == ["2025-06-20"]
    assert (STAFF["finanzas"], "CAMBIAR_POLITICA", str(served["version"])) in audit_actions(staffed)
    operador = signed_in(staffed, "operador")
    token = csrf_in(operador.get("/consola/terminales").text)
    assert operador.post("/consola/politica", data={"csrf": token}).status_code == 403
