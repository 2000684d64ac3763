"""The reprint queue: printer failures never lose a receipt, and it prints once when back."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest

from kiosk.settings import Settings
from printing import escpos_loader, layouts
from printing.documents import Document
from printing.service import PrintService
from printing.spool import Spool
from tests.integration.printing_support import (
    TcpPrinter,
    free_port_then_closed,
    read_job,
    sample_receipt,
    sample_slip,
)


def rendered(data: Document) -> bytes:
    printer = escpos_loader.dummy("TM-T20II")
    layouts.render(printer, data, 48)
    output: bytes = printer.output
    return output


def network_service(port: int, folder: Path) -> PrintService:
    settings = Settings().with_values(
        {
            "printer_kind": "network",
            "printer_host": "127.0.0.1",
            "printer_port": port,
            "printer_timeout_seconds": 1.0,
        }
    )
    return PrintService.from_settings(settings, Spool(folder))


def test_a_refused_connection_queues_the_receipt_and_it_prints_once_when_the_printer_returns(
    tmp_path: Path,
) -> None:
    port = free_port_then_closed()
    service = network_service(port, tmp_path / "cola")
    receipt = sample_receipt()

    result = service.print_document(receipt, label="Folio C1-000123")

    assert not result.printed and result.queued
    assert result.error == "La impresora rechazó la conexión (¿apagada o sin red?)."
    (job,) = service.pending()
    assert job.payload == rendered(receipt) and job.label == "Folio C1-000123"
    assert job.attempts == 1 and job.last_error == result.error

    printer = TcpPrinter(port=port)
    try:
        assert service.retry_pending() == 1
        assert service.retry_pending() == 0
        assert printer.wait_for_jobs(1) == [rendered(receipt)]
        assert service.pending() == []
    finally:
        printer.close()


def test_a_stalled_printer_queues_the_receipt_and_it_prints_once_when_it_recovers(
    tmp_path: Path,
) -> None:
    stalled = TcpPrinter(mode="stall")
    port = stalled.port
    service = network_service(port, tmp_path / "cola")
    slip = sample_slip()
    try:
        result = service.print_document(slip)
        assert result.queued and not result.printed
        assert result.error == "La impresora no respondió a la consulta de estado."
        assert len(service.pending()) == 1
    finally:
        stalled.close()

    healthy = TcpPrinter(port=port)
    try:
        assert service.retry_pending() == 1
        jobs = healthy.wait_for_jobs(1)
        assert jobs == [rendered(slip)]
        assert sum(len(read_job(job).barcodes) for job in jobs) == 1
    finally:
        healthy.close()


def test_queued_jobs_survive_a_restart_and_print_oldest_first(tmp_path: Path) -> None:
    port = free_port_then_closed()
    folder = tmp_path / "cola"
    first_run = network_service(port, folder)
    receipts = [sample_receipt(folio=f"C1-{n:06d}", amount=Decimal(n)) for n in (1, 2, 3)]
    for receipt in receipts:
        assert first_run.print_document(receipt).queued
    del first_run

    second_run = network_service(port, folder)  # a new Spool object on the same folder
    assert [job.payload for job in second_run.pending()] == [rendered(r) for r in receipts]
    # The oldest blocks the queue: it was tried at each print, the others waited behind it.
    head, *rest = second_run.pending()
    assert head.attempts == 3 and head.last_error
    assert [job.attempts for job in rest] == [0, 0]

    printer = TcpPrinter(port=port)
    try:
        assert second_run.retry_pending() == 3
        assert printer.wait_for_jobs(3) == [rendered(r) for r in receipts]
    finally:
        printer.close()


def test_a_new_document_waits_behind_older_ones_and_all_print_in_order(tmp_path: Path) -> None:
    port = free_port_then_closed()
    service = network_service(port, tmp_path / "cola")
    old = sample_receipt(folio="C1-000001")
    assert service.print_document(old).queued

    printer = TcpPrinter(port=port)
    try:
        new = sample_receipt(folio="C1-000002")
        result = service.print_document(new)
        assert result.printed and not result.queued
        assert printer.wait_for_jobs(2) == [rendered(old), rendered(new)]
    finally:
        printer.close()


def test_printing_from_several_worker_threads_prints_each_receipt_once(tmp_path: Path) -> None:
    printer = TcpPrinter()
    try:
        service = network_service(printer.port, tmp_path / "cola")
        receipts = [sample_receipt(folio=f"C2-{n:06d}") for n in range(6)]
        results = [None] * len(receipts)

        def work(i: int) -> None:
            results[i] = service.print_document(receipts[i])  # type: ignore[call-overload]

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(receipts))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        jobs = printer.wait_for_jobs(len(receipts))
        assert sorted(jobs) == sorted(rendered(r) for r in receipts)
        assert all(r is not None and r.printed for r in results)
        assert service.pending() == []
    finally:
        printer.close()


def test_a_layout_failure_is_reported_not_raised(tmp_path: Path) -> None:
    service = network_service(free_port_then_closed(), tmp_path / "cola")
    result = service.print_document(sample_receipt(reference="no-es-referencia"))
    assert not result.printed and not result.queued
    assert result.error and "No se pudo preparar" in result.error


def assert_whole(job: bytes, data: Document) -> None:
    decoded = read_job(job)
    assert job == rendered(data) and decoded.cuts == 1 and len(decoded.barcodes) == 1


@pytest.mark.parametrize("mode", ["reset", "stop"])
@pytest.mark.parametrize("job_limit", [40, 700, 1400])
def test_a_printer_that_resets_or_stops_reading_mid_job_leaves_the_receipt_queued(
    tmp_path: Path, mode: str, job_limit: int
) -> None:
    receipt = sample_receipt()
    assert job_limit < len(rendered(receipt))
    flaky = TcpPrinter(mode=mode, job_limit=job_limit)
    port = flaky.port
    service = network_service(port, tmp_path / "cola")
    try:
        result = service.print_document(receipt)
        # It answered its status before the job: only the missing answer after it tells.
        assert flaky.status_requests == 2
        assert not result.printed and result.queued
        assert result.message.startswith("No se imprimió; quedó en la cola de reimpresión.")
        assert len(service.pending()) == 1
    finally:
        flaky.close()
    (partial,) = flaky.jobs
    assert len(partial) == job_limit and read_job(partial).cuts == 0

    healthy = TcpPrinter(port=port)
    try:
        assert service.retry_pending() == 1
        (job,) = healthy.wait_for_jobs(1)
        assert_whole(job, receipt)
        assert service.pending() == []
    finally:
        healthy.close()


def test_a_cash_drawer_opens_with_esc_p_only_when_the_settings_say_one_is_wired(
    tmp_path: Path,
) -> None:
    printer = TcpPrinter()
    try:
        without = network_service(printer.port, tmp_path / "a")
        assert without.open_drawer() is None
        time.sleep(0.3)  # nothing would have connected: there is no drawer
        assert printer.jobs == [] and printer.status_requests == 0
        settings = Settings().with_values(
            {"printer_kind": "network", "printer_port": printer.port, "cash_drawer": True}
        )
        with_drawer = PrintService.from_settings(settings, Spool(tmp_path / "b"))
        assert with_drawer.open_drawer() is None
        assert printer.wait_for_jobs(1) == [b"\x1bp\x00\x19\xfa"]
        assert read_job(printer.jobs[0]).drawer_pulses == [(0, 0x19, 0xFA)]
        assert with_drawer.pending() == []  # a pulse is never queued for later
    finally:
        printer.close()
    assert "rechazó" in (with_drawer.open_drawer() or "")


def test_the_printer_state_recovers_by_itself_once_nothing_waits(tmp_path: Path) -> None:
    from kiosk.bootstrap import build

    port = free_port_then_closed()
    settings = Settings().with_values(
        {
            "data_dir": str(tmp_path),
            "central_url": f"http://127.0.0.1:{free_port_then_closed()}",
            "printer_kind": "network",
            "printer_port": port,
            "printer_timeout_seconds": 1.0,
        }
    )
    terminal = build(settings, start_sync=False, defer=True)
    try:
        assert terminal.print_document(sample_receipt()).queued
        assert terminal.status().printer_ok is False
        printer = TcpPrinter(port=port)
        try:
            # Another window on this terminal prints what waited before this one retries.
            other = PrintService.from_settings(settings, Spool(tmp_path / "cola-impresion"))
            assert other.retry_pending() == 1
            assert terminal.retry_prints() == 0
            status = terminal.status()
            assert (status.printer, status.printer_ok, status.reprint_queue) == ("lista", True, 0)
        finally:
            printer.close()
    finally:
        terminal.close()
