"""The console in Firefox: Debian's firefox-esr over its own WebDriver BiDi agent (see
firefox_bidi). One browser, one walk through the console, as a person would: sign in, every
page, a case resolved with the htmx form, a CSV download, Hoy refreshing itself, the close
printed. No page may break its Content-Security-Policy or log an error.
``ISSEG_CONSOLE_SHOTS=<folder>`` also saves a screenshot of every page (ff-*.png)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from central.clock import ShiftedClock
from central.embedded import EmbeddedCentral
from tests.integration.central_support import BUSINESS_NOW, Api
from tests.integration.console_support import PASSWORD, STAFF, a_day_of_payments, add_staff
from tests.integration.firefox_bidi import FIREFOX, Firefox

pytestmark = pytest.mark.skipif(
    not Path(FIREFOX).exists(), reason="falta firefox-esr de Debian (apt-get install firefox-esr)"
)


@pytest.fixture
def firefox(tmp_path: Path) -> Iterator[Firefox]:
    browser = Firefox(tmp_path / "perfil", tmp_path / "descargas")
    yield browser
    browser.close()


def test_the_console_in_firefox(firefox: Firefox, tmp_path: Path) -> None:
    folder = os.environ.get("ISSEG_CONSOLE_SHOTS")

    def shot(name: str) -> None:
        assert firefox.csp_violations() == [], name
        # Nothing wider than the window: a wide table wraps or scrolls inside the page.
        assert firefox.js("document.documentElement.scrollWidth <= innerWidth"), name
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            firefox.screenshot(Path(folder) / f"ff-{name}.png")

    clock = ShiftedClock(BUSINESS_NOW, frozen=True)
    with EmbeddedCentral(
        f"sqlite:///{tmp_path / 'central.sqlite'}", clock, seed_demo=True
    ) as server:
        api = Api(server, clock)
        add_staff(api)
        day = a_day_of_payments(api)
        # localhost: Firefox, like chromium, keeps Secure cookies over plain http only there.
        base = server.base_url.replace("127.0.0.1", "localhost")
        ff = firefox

        ff.goto(f"{base}/consola/")
        assert ff.url().endswith("/consola/entrar")
        shot("00-entrar")
        ff.type_into("input[name=usuario]", STAFF["finanzas"])
        ff.type_into("input[name=contrasena]", PASSWORD)
        ff.click("button[type=submit]")
        ff.wait_until(lambda: ff.url().endswith("/consola/hoy"), "Hoy")
        total = sum(Decimal(p["amount"]) for p in day.paid)
        assert ff.text("#hoy-total") == f"${total:,.2f}"
        assert ff.text("#hoy-pagos") == "3"
        shot("01-hoy")

        # Hoy asks for its table again by itself (htmx, every few seconds): no reload.
        ref = api.demo["references"][3]
        assert api.pay(api.payment_body(ref["reference"], ref["amount"], "F002")).status_code == 201
        ff.wait_until(lambda: ff.text("#hoy-pagos") == "4", "4 pagos en Hoy sin recargar")

        for number, (name, text) in enumerate(day.pages().items(), start=2):
            ff.click(f"nav a[href='/consola/{name}']")
            ff.wait_until(lambda n=name: ff.url().endswith(f"/consola/{n}"), name)  # type: ignore[misc]
            assert text in ff.text("main"), name
            shot(f"0{number}-{name}")

        ff.goto(f"{base}/consola/reportes?vista=tienda&desde=2025-06-01&hasta=2025-06-30")
        assert ff.js("document.querySelectorAll('svg.grafica rect').length") == 2
        shot("08-reporte-tienda")

        # The CSV, downloaded as a person does: a click, saved without asking.
        ff.goto(f"{base}/consola/reportes")
        ff.click("a.boton[href^='/consola/reportes.csv']")
        folder_in = tmp_path / "descargas"
        saved = folder_in / "reporte-mensual.csv"

        def downloaded() -> bool:
            # Firefox makes the file empty first and writes into a .part beside it.
            parts = list(folder_in.glob("*.part"))
            return saved.exists() and saved.stat().st_size > 0 and not parts

        ff.wait_until(downloaded, "la descarga del CSV")
        text = saved.read_bytes().decode("utf-8")
        assert text.startswith("\ufeffEtiquetas de fila,Suma de MONTO,Cuenta de MONTO\r\n")
        assert "Total general" in text

        # The close prints to a PDF in Firefox (what the print style sheet hides is checked
        # in Chromium, which can emulate print media).
        ff.goto(f"{base}/consola/cierre")
        pdf = ff.print_pdf()
        assert pdf.startswith(b"%PDF") and len(pdf) > 1000
        if folder:
            (Path(folder) / "ff-cierre-impreso.pdf").write_bytes(pdf)

        # A case resolved with the htmx form (its CSRF token goes in a header).
        ff.goto(f"{base}/consola/casos")
        find_row = (
            "[...document.querySelectorAll('tr')].find(r => r.innerText.includes("
            f"'{day.case_reference}'))"
        )
        ff.js(f"{find_row}.querySelector('select[name=accion]').value = 'RECHAZO'")
        ff.js(f"{find_row}.querySelector('input[name=motivo]').id = 'motivo-prueba'")
        ff.js(f"{find_row}.querySelector('button').id = 'resolver-prueba'")
        ff.type_into("#motivo-prueba", "Ficha inexistente; se devolvió el efectivo")
        ff.click("#resolver-prueba")
        ff.wait_until(lambda: ff.js("!!document.querySelector('p.aviso')"), "el aviso del caso")
        assert "motivo registrado" in ff.text("p.aviso")
        assert "resuelto" in ff.js(f"{find_row}.innerText")
        assert ff.url().endswith("/consola/casos")  # htmx swapped the page; no navigation
        shot("09-caso-resuelto")

        # Affiliates are soporte's: out, and in again as soporte.
        ff.click("form.salir button")
        ff.wait_until(lambda: ff.url().endswith("/consola/entrar"), "la salida")
        ff.type_into("input[name=usuario]", STAFF["soporte"])
        ff.type_into("input[name=contrasena]", PASSWORD)
        ff.click("button[type=submit]")
        ff.wait_until(lambda: ff.url().endswith("/consola/hoy"), "Hoy de soporte")
        # An affiliate found as the name is typed, accents and case aside.
        ff.click("nav a[href='/consola/afiliados']")
        ff.wait_until(lambda: ff.url().endswith("/consola/afiliados"), "Afiliados")
        shot("10-afiliados-vacio")
        ff.type_into("input[name=q]", "Hernandez")  # no accent, as people type
        ff.wait_until(lambda: ff.js("!!document.querySelector('#resultados a')"), "resultados")
        assert "100001" in ff.text("#resultados")
        shot("11-afiliados")
        ff.click("#resultados a")
        ff.wait_until(lambda: ff.url().endswith("/consola/afiliados/100001"), "el afiliado")
        shot("12-afiliado")

        assert ff.console_errors() == []
        api.close()
