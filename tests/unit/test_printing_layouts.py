"""Layouts checked on the real ESC/POS bytes python-escpos's Dummy printer collects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk import money
from kiosk.references import Reference, issue
from printing import escpos_loader, layouts
from printing.barcodes import code128_data
from printing.documents import Document, ReceiptData, SlipData
from tests.integration.printing_support import (
    EPSON_CODE_PAGES,
    decode_code128,
    read_job,
    sample_drop,
    sample_receipt,
    sample_report,
    sample_slip,
    sample_void,
)

WIDTHS = [48, 42, 32]
CODE128 = 73


def render(data: Document, width: int = 48, profile: str = "TM-T20II") -> bytes:
    printer = escpos_loader.dummy(profile)
    layouts.render(printer, data, width)
    output: bytes = printer.output
    return output


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("make", [sample_receipt, sample_slip])
def test_the_barcode_in_the_stream_decodes_to_the_referencia(
    make: Callable[[], Any], width: int
) -> None:
    data = make()
    job = read_job(render(data, width))
    assert len(job.barcodes) == 1
    m, payload = job.barcodes[0]
    assert m == CODE128
    assert decode_code128(payload) == data.reference
    Reference(decode_code128(payload))  # and what it decodes to is a valid referencia


def test_code_set_c_carries_each_pair_of_digits_in_one_byte() -> None:
    reference = issue(date(2025, 11, 21), 1_234_567_890)
    payload = read_job(render(sample_receipt(reference=reference))).barcodes[0][1]
    assert payload[:2] == b"{C"
    assert len(payload) == 2 + 9
    assert all(byte <= 99 for byte in payload[2:])


def test_an_odd_number_of_digits_ends_in_code_set_b() -> None:
    assert decode_code128(code128_data("12345").encode()) == "12345"
    assert decode_code128(code128_data("7").encode()) == "7"


def test_a_receipt_carries_what_the_affiliate_needs_as_proof() -> None:
    data = sample_receipt()
    text = read_job(render(data)).text
    assert "COMPROBANTE DE PAGO" in text
    assert data.folio in text
    assert "21/11/2025 14:05" in text
    assert "José Ñúñez Ibáñez" in text
    assert "****1234" in text
    assert data.member_number not in text  # never the whole affiliate number
    assert Reference(data.reference).grouped() in text
    assert "$540.00" in text
    assert "QUINIENTOS CUARENTA PESOS 00/100 M.N." in text.replace("\n", " ")
    assert "$600.00" in text and "$60.00" in text
    assert "Pago quincenal" in text
    assert "REIMPRESIÓN" not in text


def test_a_receipt_says_whether_central_already_confirmed_the_payment() -> None:
    online = read_job(render(sample_receipt(confirmed_online=True))).text.replace("\n", " ")
    offline = read_job(render(sample_receipt(confirmed_online=False))).text.replace("\n", " ")
    assert "Pago aplicado en línea" in online
    assert "se enviará" not in online
    assert "Pago registrado; se enviará al restablecer la conexión" in offline
    assert "aplicado en línea" not in offline


def test_a_reprint_is_marked_with_its_count() -> None:
    text = read_job(render(sample_receipt(reprint_count=2))).text
    assert "REIMPRESIÓN 2" in text


def test_a_card_payment_shows_the_card_amount_and_authorization() -> None:
    data = sample_receipt(
        cash_applied=Decimal("0"),
        cash_received=Decimal("0"),
        change=Decimal("0"),
        card_amount=Decimal("540.00"),
        card_authorization="A1B2C3",
    )
    text = read_job(render(data)).text
    assert "Tarjeta:" in text and "A1B2C3" in text
    assert "Cambio" not in text


def test_a_ficha_tells_when_how_much_and_where_it_can_be_paid() -> None:
    data = sample_slip()
    text = read_job(render(data)).text.replace("\n", " ")
    assert "FICHA DE PAGO" in text
    assert "Válida únicamente el 24/11/2025 por el monto exacto" in text
    assert Reference(data.reference).grouped() in text
    assert "$1,080.50" in text
    assert money.in_words(data.amount) in text
    assert "$30,000.00" in text
    assert "07:00 a 22:00" in text
    assert "días hábiles" in text
    assert "sin comisión" in text
    assert "3/24, 4/24" in text


@pytest.mark.parametrize("width", WIDTHS)
def test_a_ficha_that_replaces_another_names_the_old_referencia_on_one_line(width: int) -> None:
    old = issue(date(2025, 11, 24), 5)
    lines = [
        line.text.strip()
        for line in read_job(render(sample_slip(replaces_reference=old), width)).lines
    ]
    at = lines.index(old.grouped())  # whole, on a line of its own
    assert " ".join(lines[:at]).endswith("Esta ficha sustituye a la referencia")
    assert lines[at + 1] == "que ya no puede pagarse."


@pytest.mark.parametrize(
    "kind,label",
    [
        ("QUINCENAL", "Pago quincenal"),
        ("ABONO", "Abono a capital"),
        ("RENOVACION", "Renovación"),
        ("LIQUIDACION", "Liquidación"),
        ("installment", "Pago quincenal"),
    ],
)
def test_receipts_and_fichas_print_the_kind_in_spanish_with_its_accents(
    kind: str, label: str
) -> None:
    for data in (sample_receipt(kind=kind), sample_slip(kind=kind)):
        text = read_job(render(data)).text
        assert f"Tipo de pago:{label:>{48 - len('Tipo de pago:')}}" in text
        assert kind not in text.replace(label, "")


def test_a_void_shows_the_original_folio_reason_and_amount() -> None:
    job = read_job(render(sample_void()))
    assert [decode_code128(data) for _, data in job.barcodes] == [sample_void().reference]
    text = job.text.replace("\n", " ")
    assert "CANCELACIÓN DE PAGO" in text
    assert "C1-000123" in text and "CAN-0007" in text
    assert "Se cobró a otro afiliado por error" in text
    assert "QUINIENTOS CUARENTA PESOS 00/100 M.N." in text


def test_a_z_report_shows_expected_counted_and_the_shortage() -> None:
    data = sample_report("Z")
    text = read_job(render(data)).text
    expected = Decimal("1000.00") + Decimal("5600.00") - Decimal("200.00") - Decimal("3000.00")
    assert f"Efectivo esperado:{money.fmt(expected):>30}" in text
    assert "$2,401.50" in text
    assert "FALTANTE:" in text and money.fmt(expected - Decimal("2401.50")) in text
    for title in ("CANCELACIONES (1)", "REIMPRESIONES (1)", "PAGOS SIN CONFIRMAR POR CENTRAL"):
        assert title in text
    assert "Billete $500.00 x 4" in text and "Moneda $0.50 x 3" in text
    assert "Firma del gerente" in text


def test_an_x_report_with_a_surplus_says_sobrante_and_has_no_signatures() -> None:
    data = sample_report("X", counted_cash=Decimal("3410.00"))
    text = read_job(render(data)).text
    assert "REPORTE X" in text
    assert "SOBRANTE:" in text and "$10.00" in text
    assert "Firma" not in text


def test_every_ticket_ends_with_one_cut() -> None:
    for data in (
        sample_receipt(),
        sample_slip(),
        sample_void(),
        sample_report(),
        sample_report("TURNO"),
        sample_drop(),
    ):
        assert read_job(render(data)).cuts == 1


@pytest.mark.parametrize("letter", list("ñÑáéíóúÁÉÍÓÚüÜ¿¡"))
def test_spanish_letters_go_out_in_the_selected_code_page(letter: str) -> None:
    output = render(sample_receipt(member_name=f"Prueba {letter} Fin"))
    job = read_job(output)
    # Only one code page select, before any text, and it is one the TM-T20II has for Spanish.
    assert len(job.code_page_selects) == 1
    codec = EPSON_CODE_PAGES[job.code_page_selects[0]]
    assert output.index(b"\x1bt") < output.index(b"INSTITUTO")
    assert f"Prueba {letter} Fin".encode(codec) in output
    assert f"Prueba {letter} Fin" in job.text


def test_n_with_tilde_is_byte_a4_after_esc_t_19_on_a_tm_t20ii() -> None:
    output = render(sample_receipt(member_name="Peña"))
    assert b"\x1bt\x13" in output  # ESC t 19 = PC858 in Epson's table
    assert b"Pe\xa4a" in output


def test_control_characters_in_a_name_cannot_inject_printer_commands() -> None:
    clean = read_job(render(sample_receipt(member_name="Ana")))
    dirty = read_job(render(sample_receipt(member_name="Ana\x1d V\x00\x1b@")))
    assert dirty.cuts == clean.cuts == 1
    assert len(dirty.code_page_selects) == 1


def test_letters_outside_the_code_page_degrade_to_their_base_letter() -> None:
    text = read_job(render(sample_receipt(member_name="Łukasz Đoković"))).text
    assert "Lukasz" in text and "okovic" in text


names = st.text(
    alphabet=st.sampled_from(
        "abcdefghijklmnopqrstuvwxyzñáéíóúüÑÁÉÍÓÚ ABCDEFGHIJKLMNOPQRSTUVWXYZ-.'"
    ),
    min_size=1,
    max_size=140,
)
amounts = st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("999999.99"), places=2, allow_nan=False
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    width=st.sampled_from(WIDTHS),
    name=names,
    store=names,
    cashier=names,
    amount=amounts,
    reprints=st.integers(min_value=0, max_value=999),
    online=st.booleans(),
)
def test_no_line_is_ever_wider_than_the_paper(
    width: int, name: str, store: str, cashier: str, amount: Decimal, reprints: int, online: bool
) -> None:
    documents: list[Document] = [
        sample_receipt(
            member_name=name,
            store_name=store,
            cashier=cashier,
            amount=amount,
            cash_applied=amount,
            cash_received=amount,
            reprint_count=reprints,
            confirmed_online=online,
            concept=name,
        ),
        sample_slip(member_name=name, store_name=store, amount=amount, quincenas=(name,)),
        sample_void(member_name=name, manager=cashier, amount=amount, reason=name),
        sample_report(cashier=name, manager=cashier, payments_total=amount),
        sample_report("TURNO", cashier=name, rounding=amount, drops=sample_report().reprints),
        sample_drop(cashier=name, dropped_by=cashier, store_name=store, amount=amount),
    ]
    for data in documents:
        job = read_job(render(data, width))
        widest = max(job.lines, key=lambda line: line.columns)
        assert widest.columns <= width, widest
        if isinstance(data, ReceiptData | SlipData):
            assert decode_code128(job.barcodes[0][1]) == data.reference


def test_a_profile_without_hardware_barcodes_gets_the_barcode_as_an_image() -> None:
    from escpos.capabilities import get_profile

    profile = get_profile("TM-T20II")
    printer = escpos_loader.dummy("TM-T20II")
    printer.profile = profile
    profile.profile_data = {
        **profile.profile_data,
        "features": {**profile.profile_data["features"], "barcodeA": False, "barcodeB": False},
    }
    layouts.render_slip(printer, sample_slip(), 48)
    output = printer.output
    assert b"\x1dk" not in output
    assert b"\x1dv0" in output  # GS v 0 raster image


def test_columns_follow_the_paper_and_the_profile() -> None:
    assert layouts.columns_for(58) == 32
    assert layouts.columns_for(80) == 48
    assert layouts.columns_for(80, 42) == 42
    with pytest.raises(ValueError, match="Ancho de papel"):
        layouts.columns_for(76)


def test_member_numbers_are_masked_to_their_last_four_digits() -> None:
    assert layouts.mask_member_number("0012341234") == "****1234"
    assert layouts.mask_member_number("123") == "****"


def test_empty_report_lists_agree_with_their_titles() -> None:
    text = read_job(render(sample_report(voids=(), reprints=(), unconfirmed=()))).text
    assert "CANCELACIONES (0)\nNinguna." in text
    assert "REIMPRESIONES (0)\nNinguna." in text
    assert "PAGOS SIN CONFIRMAR POR CENTRAL (0)\nNinguno." in text


def test_a_drop_slip_says_how_much_in_figures_and_words_and_who_signs() -> None:
    text = read_job(render(sample_drop())).text.replace("\n", " ")
    assert "RETIRO DE EFECTIVO" in text and "$30,000.00" in text
    assert "TREINTA MIL PESOS 00/100 M.N." in text
    assert "Víctor Ortíz" in text and "Entregó (cajero):" in text and "Recibió (gerente):" in text


def test_the_z_lists_card_payments_with_their_authorizations_for_the_bank_batch() -> None:
    from printing.documents import ReportLine

    ref = sample_report().voids[0].reference
    line = ReportLine("C1-000102", ref, Decimal("2500.00"), note="Autorización: 0A12BC")
    text = read_job(render(sample_report(card_payments=(line,)))).text
    assert "PAGOS CON TARJETA (1)" in text
    assert "Folio C1-000102" in text and "$2,500.00" in text and "Autorización: 0A12BC" in text
