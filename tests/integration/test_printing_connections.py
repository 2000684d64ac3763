"""Each printer connection kind from settings, against something real where it can run here."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from kiosk.settings import Settings
from printing import connections, escpos_loader, layouts
from printing.documents import Document
from printing.service import PrintService
from printing.spool import Spool
from tests.integration.printing_support import (
    STATUS_OFFLINE,
    STATUS_PAPER_END,
    PtyPrinter,
    TcpPrinter,
    read_job,
    sample_receipt,
    sample_slip,
)


def rendered(data: Document, width: int = 48) -> bytes:
    printer = escpos_loader.dummy("TM-T20II")
    layouts.render(printer, data, width)
    output: bytes = printer.output
    return output


@pytest.fixture
def tcp_printer() -> Iterator[TcpPrinter]:
    printer = TcpPrinter()
    yield printer
    printer.close()


def network_settings(port: int, **more: object) -> Settings:
    return Settings().with_values(
        {
            "printer_kind": "network",
            "printer_host": "127.0.0.1",
            "printer_port": port,
            "printer_timeout_seconds": 1.0,
            **more,
        }
    )


def test_the_file_printer_appends_the_bytes_and_draws_a_png_of_each_ticket(tmp_path: Path) -> None:
    settings = Settings().with_values(
        {"printer_kind": "file", "printer_path": str(tmp_path / "impresora.bin")}
    )
    service = PrintService.from_settings(settings, Spool(tmp_path / "cola"))
    slip = sample_slip()
    first = service.print_document(slip)
    second = service.print_document(sample_receipt())
    assert first.printed and second.printed
    written = (tmp_path / "impresora.bin").read_bytes()
    assert written == rendered(slip) + rendered(sample_receipt())
    pngs = sorted(tmp_path.glob("impresora-*.png"))
    assert len(pngs) == 2
    assert Image.open(pngs[0]).width == 576
    assert service.pending() == []


@pytest.mark.parametrize("paper_mm,pixels", [(80, 576), (58, 384)])
def test_the_png_preview_of_a_ficha_scans_to_its_referencia(
    tmp_path: Path, paper_mm: int, pixels: int
) -> None:
    settings = Settings().with_values(
        {
            "printer_kind": "file",
            "printer_path": str(tmp_path / "demo.bin"),
            "paper_width_mm": paper_mm,
        }
    )
    slip = sample_slip()
    result = PrintService.from_settings(settings, Spool(tmp_path / "cola")).print_document(slip)
    assert result.printed
    (png,) = tmp_path.glob("demo-*.png")
    image = Image.open(png)
    assert image.width == pixels
    found = zxingcpp.read_barcodes(image)
    assert [r.text for r in found] == [slip.reference]
    assert found[0].format == zxingcpp.BarcodeFormat.Code128


def test_a_network_printer_receives_exactly_the_rendered_job(
    tmp_path: Path, tcp_printer: TcpPrinter
) -> None:
    service = PrintService.from_settings(network_settings(tcp_printer.port), Spool(tmp_path))
    receipt = sample_receipt()
    result = service.print_document(receipt)
    assert result.printed and not result.queued and result.error is None
    assert tcp_printer.wait_for_jobs(1) == [rendered(receipt)]
    # Paper, then on-line, before the job; and both again after it, to confirm it arrived.
    assert tcp_printer.status_requests == 4


@pytest.mark.parametrize(
    "mode,status", [("ok", "ok"), ("paper_end", "sin_papel"), ("offline", "fuera_de_linea")]
)
def test_the_network_printer_status_is_read_from_its_answer(
    tmp_path: Path, mode: str, status: str
) -> None:
    printer = TcpPrinter(mode=mode)
    try:
        service = PrintService.from_settings(network_settings(printer.port), Spool(tmp_path))
        assert service.printer_status() == status
    finally:
        printer.close()


def test_a_printer_that_does_not_answer_is_unknown_never_ok(tmp_path: Path) -> None:
    printer = TcpPrinter(mode="stall")
    try:
        escpos_printer = connections.open_printer(network_settings(printer.port))
        escpos_printer.open()
        assert connections.query_status(escpos_printer, timeout=0.3) == "desconocido"
        # escpos's own paper_status() would have called this "paper adequate" (2).
        escpos_printer.close()
    finally:
        printer.close()


def test_a_printer_out_of_paper_gets_nothing_and_the_receipt_waits(tmp_path: Path) -> None:
    printer = TcpPrinter(mode="paper_end")
    try:
        service = PrintService.from_settings(network_settings(printer.port), Spool(tmp_path))
        result = service.print_document(sample_receipt())
        assert not result.printed and result.queued
        assert result.error == "La impresora no tiene papel."
        assert printer.wait_for_jobs(0, timeout=0.3) == []
        assert len(service.pending()) == 1
    finally:
        printer.close()


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="pty pairs need a POSIX system")
def test_a_serial_printer_on_a_pty_receives_the_job(tmp_path: Path) -> None:
    far_end = PtyPrinter()
    try:
        settings = Settings().with_values(
            {
                "printer_kind": "serial",
                "printer_serial_device": far_end.device,
                "printer_serial_baudrate": 19200,
                "printer_timeout_seconds": 1.0,
            }
        )
        service = PrintService.from_settings(settings, Spool(tmp_path))
        slip = sample_slip()
        expected = rendered(slip)
        result = service.print_document(slip)
        assert result.printed, result
        assert far_end.wait_for(len(expected)) == expected
        assert read_job(expected).barcodes
    finally:
        far_end.close()


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="pty pairs need a POSIX system")
def test_a_serial_printer_reporting_offline_queues_the_job(tmp_path: Path) -> None:
    far_end = PtyPrinter(status=STATUS_OFFLINE | STATUS_PAPER_END & 0x12)
    try:
        settings = Settings().with_values(
            {
                "printer_kind": "serial",
                "printer_serial_device": far_end.device,
                "printer_timeout_seconds": 1.0,
            }
        )
        result = PrintService.from_settings(settings, Spool(tmp_path)).print_document(sample_slip())
        assert result.queued and not result.printed
        assert "fuera de línea" in (result.error or "")
    finally:
        far_end.close()


def test_usb_settings_are_validated_and_handed_to_escpos() -> None:
    with pytest.raises(connections.PrinterConfigError, match="fabricante"):
        connections.open_printer(
            Settings().with_values({"printer_kind": "usb", "printer_usb_vendor": 0})
        )
    with pytest.raises(connections.PrinterConfigError, match="producto"):
        connections.open_printer(
            Settings().with_values({"printer_kind": "usb", "printer_usb_product": 0x1_0000})
        )
    settings = Settings().with_values(
        {
            "printer_kind": "usb",
            "printer_usb_vendor": "0x0416",
            "printer_usb_product": "0x5011",
            "printer_timeout_seconds": 2,
        }
    )
    if not escpos_loader.printers().Usb.is_usable():
        with pytest.raises(connections.PrinterUnavailable, match="pyusb"):
            connections.open_printer(settings)
        pytest.skip("pyusb no está instalado: escpos.printer.Usb no puede usarse aquí")
    printer = connections.open_printer(settings)
    assert type(printer).__name__ == "Usb"
    assert printer.usb_args == {"idVendor": 0x0416, "idProduct": 0x5011}
    assert printer.timeout == 2000
    assert printer.profile.profile_data["name"] == "TM-T20II"


def test_a_usb_printer_that_is_not_there_leaves_the_receipt_queued(tmp_path: Path) -> None:
    settings = Settings().with_values({"printer_kind": "usb"})
    result = PrintService.from_settings(settings, Spool(tmp_path)).print_document(sample_receipt())
    assert result.queued and not result.printed and result.error


def test_win32_settings_are_validated_and_refused_clearly_outside_windows(tmp_path: Path) -> None:
    with pytest.raises(connections.PrinterConfigError, match="nombre de la impresora"):
        connections.open_printer(Settings().with_values({"printer_kind": "win32"}))
    settings = Settings().with_values(
        {"printer_kind": "win32", "printer_win32_name": "EPSON TM-T20II Receipt"}
    )
    if escpos_loader.printers().Win32Raw.is_usable():  # pragma: no cover - Windows only
        printer = connections.open_printer(settings)
        assert printer.printer_name == "EPSON TM-T20II Receipt"
        assert connections.query_status(printer) == "desconocido"
        return
    with pytest.raises(connections.PrinterUnavailable, match="solo funciona en Windows"):
        connections.open_printer(settings)
    result = PrintService.from_settings(settings, Spool(tmp_path)).print_document(sample_slip())
    assert result.queued and "Windows" in (result.error or "")


@pytest.mark.parametrize(
    "values,message",
    [
        ({"printer_kind": "bluetooth"}, "Tipo de impresora desconocido"),
        ({"paper_width_mm": 76}, "Ancho de papel"),
        ({"printer_timeout_seconds": 0}, "tiempo de espera"),
        ({"printer_profile": "NoExiste-9000"}, "Perfil de impresora desconocido"),
        ({"printer_kind": "network", "printer_host": " "}, "Falta la dirección"),
        ({"printer_kind": "network", "printer_port": 70000}, "Puerto de impresora"),
        ({"printer_kind": "serial", "printer_serial_device": ""}, "puerto serie"),
        ({"printer_kind": "serial", "printer_serial_baudrate": 1234}, "Velocidad serie"),
    ],
)
def test_bad_printer_settings_are_refused_in_spanish(
    values: dict[str, object], message: str
) -> None:
    with pytest.raises(connections.PrinterConfigError, match=message):
        connections.open_printer(Settings().with_values(values))


def test_the_file_printer_cannot_report_status(tmp_path: Path) -> None:
    settings = Settings().with_values(
        {"printer_kind": "file", "printer_path": str(tmp_path / "x.bin")}
    )
    printer = connections.open_printer(settings)
    printer.open()
    assert connections.query_status(printer) == "desconocido"
    printer.close()
