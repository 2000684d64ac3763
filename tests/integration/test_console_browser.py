"""The console in a real browser: Debian's chromium driven by Playwright (its own browser
download is not used). ``ISSEG_CONSOLE_SHOTS=<folder>`` also saves a screenshot of every page.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from central.clock import ShiftedClock
from central.embedded import EmbeddedCentral
from tests.integration.central_support import BUSINESS_NOW, Api
from tests.integration.console_support import (
    PASSWORD,
    STAFF,
    Day,
    a_day_of_payments,
    add_staff,
)

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--lang=es-MX",
]

playwright_api = pytest.importorskip("playwright.sync_api", reason="falta playwright (pip)")
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="falta chromium de Debian (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    profile = tempfile.mkdtemp(prefix="isseg-chromium-")
    with playwright_api.sync_playwright() as p:
        # A persistent context is the only way to hand chromium its own empty profile folder.
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=FLAGS,
            headless=True,
            viewport={"width": 1366, "height": 900},
            locale="es-MX",
            accept_downloads=True,
        )
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[Api, Day, str]]:
    clock = ShiftedClock(BUSINESS_NOW, frozen=True)
    with EmbeddedCentral(f"sqlite:///{tmp_path / 'central.sqlite'}", clock, seed_demo=True) as server:
        api = Api(server, clock)
        add_staff(api)
        day = a_day_of_payments(api)
        # localhost, not 127.0.0.1: chromium keeps Secure cookies over plain http only there.
        yield api, day, server.base_url.replace("127.0.0.1", "localhost")
        api.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    browser.clear_cookies()
    tab = browser.new_page()
    yield tab
    tab.close()


def sign_in(page: Any, base: str, role: str) -> None:
    page.goto(f"{base}/consola/")
    assert page.url.endswith("/consola/entrar")
    page.fill("input[name=usuario]", STAFF[role])
    page.fill("input[name=contrasena]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/consola/hoy")


def shot(page: Any, name: str) -> None:
    folder = os.environ.get("ISSEG_CONSOLE_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_signing_in_and_every_page(page: Any, console: tuple[Api, Day, str]) -> None:
    api, day, base = console
    page.goto(f"{base}/consola/entrar")
    shot(page, "00-entrar")
    page.fill("input[name=usuario]", "olga")
    page.fill("input[name=contrasena]", "equivocada-123")
    page.click("button[type=submit]")
    assert page.inner_text("p.error") == "Usuario o contraseña incorrectos."
    sign_in(page, base, "operador")
    total = sum(Decimal(p["amount"]) for p in day.paid)
    assert page.inner_text("#hoy-total") == f"${total:,.2f}"
    shot(page, "01-hoy")
    for number, (name, text) in enumerate(day.pages().items(), start=2):
        page.click(f"nav a[href='/consola/{name}']")
        page.wait_for_url(f"**/consola/{name}")
        assert text in page.inner_text("main"), name
        shot(page, f"0{number}-{name}")
    page.goto(f"{base}/consola/reportes?vista=tienda&desde=2025-06-01&hasta=2025-06-30")
    assert page.locator("svg.grafica rect").count() == 2  # one bar per store
    shot(page, "07-reporte-tienda")
    page.goto(f"{base}/consola/cierre")
    page.emulate_media(media="print")
    assert not page.is_visible("header.barra")  # the print stylesheet drops the navigation
    page.emulate_media(media="screen")


def test_today_refreshes_itself(page: Any, console: tuple[Api, Day, str]) -> None:
    api, day, base = console
    sign_in(page, base, "finanzas")
    assert page.inner_text("#hoy-pagos") == "3"
    ref = api.demo["references"][3]
    assert api.pay(api.payment_body(ref["reference"], ref["amount"], "F002")).status_code == 201
    # No reload: htmx fetches the table again every few seconds.
    playwright_api.expect(page.locator("#hoy-pagos")).to_have_text("4", timeout=15_000)


def test_finanzas_resolves_a_case(page: Any, console: tuple[Api, Day, str]) -> None:
    api, day, base = console
    sign_in(page, base, "finanzas")
    page.goto(f"{base}/consola/casos")
    row = page.locator("tr", has_text=day.case_reference)
    row.locator("select[name=accion]").select_option("RECHAZO")
    row.locator("input[name=motivo]").fill("Ficha inexistente; se devolvió el efectivo")
    row.locator("button").click()  # an htmx request: the CSRF token goes in its header
    page.wait_for_selector("p.aviso")
    assert "motivo registrado" in page.inner_text("p.aviso")
    assert "resuelto" in page.locator("tr", has_text=day.case_reference).inner_text()
    shot(page, "08-caso-resuelto")


def test_an_export_downloads(page: Any, console: tuple[Api, Day, str], tmp_path: Path) -> None:
    _api, _day, base = console
    sign_in(page, base, "operador")
    page.goto(f"{base}/consola/reportes")
    with page.expect_download() as download:
        page.click("a.boton:has-text('CSV')")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "reporte-mensual.csv"
    text = saved.read_bytes().decode("utf-8")
    assert text.startswith("\ufeffEtiquetas de fila,Suma de MONTO,Cuenta de MONTO\r\n")
    assert "Total general" in text


def test_a_request_without_the_csrf_token_is_refused(
    page: Any, console: tuple[Api, Day, str]
) -> None:
    api, _day, base = console
    sign_in(page, base, "operador")
    terminal = api.demo["terminals"][0]["terminal_id"]
    # The browser's own cookies, no token: what a forged cross-site form would send.
    r = page.request.post(f"{base}/consola/terminales/{terminal}/revocar", form={"x": "1"})
    assert r.status == 403
    assert "token de seguridad" in r.text()
    page.goto(f"{base}/consola/terminales")
    assert page.locator("button.peligro").count() == len(api.demo["terminals"])


def test_soporte_is_refused_a_finanzas_action(page: Any, console: tuple[Api, Day, str]) -> None:
    _api, _day, base = console
    sign_in(page, base, "soporte")
    assert page.locator("nav a[href='/consola/casos']").count() == 0
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    r = page.request.post(
        f"{base}/consola/casos/1/resolver",
        form={"csrf": token, "accion": "RECHAZO", "motivo": "Intento de soporte"},
    )
    assert r.status == 403 and "no permite" in r.text()
    page.goto(f"{base}/consola/afiliados")
    page.fill("input[name=q]", "hernández")
    page.wait_for_selector("#resultados a")  # htmx searches as the name is typed
    assert "100001" in page.inner_text("#resultados")
    shot(page, "09-afiliados")
    page.click("#resultados a")
    page.wait_for_url("**/consola/afiliados/100001")
    shot(page, "10-afiliado")
