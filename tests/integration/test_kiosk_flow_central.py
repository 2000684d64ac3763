"""Every kiosk action through the core's service, without Qt: the real central on loopback
(KioskLink over CentralClient), the real printing service writing ESC/POS to a file."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kiosk import kiosk_flow as kf
from kiosk.rules import Policy
from kiosk.settings import Settings
from printing.kiosk_slips import KioskSlipPrinter
from printing.service import PrintService
from printing.spool import Spool
from sync.client import CentralClient
from sync.kiosk_link import KioskLink
from tests.integration.printing_support import decode_code128, read_job
from tests.integration.sync_faults import fault_proxy
from tests.integration.sync_support import business_clock, central_on_loopback, terminal_entry


@pytest.fixture(scope="module")
def clock():
    return business_clock()


@pytest.fixture(scope="module")
def central(clock):
    with central_on_loopback(clock) as c:
        yield c


def kiosk(central, clock, tmp_path, base_url: str | None = None) -> kf.KioskService:
    client = CentralClient(
        base_url or central.base_url, terminal_entry(central, kind="kiosko")["token"], clock=clock
    )
    settings = Settings().with_values(
        {"printer_kind": "file", "printer_path": str(tmp_path / "impresora.bin")}
    )
    printer = PrintService.from_settings(settings, Spool(tmp_path / "cola"))
    return kf.KioskService(
        KioskLink(lambda: client),
        KioskSlipPrinter(printer.print_document, "Farmacia ISSEG Guanajuato Centro"),
        clock,
        Policy,
    )


def test_a_visit_logs_in_reviews_prints_reloads_reads_history_simulates_and_logs_out(
    central, clock, tmp_path
) -> None:
    member = central.demo["members"][1]
    svc = kiosk(central, clock, tmp_path)
    visit = svc.log_in(member["number"], member["nip"])
    assert visit.session.member_name == member["name"]
    loan = next(ln for ln in visit.loans if ln.can_prepay)
    summary = svc.review(kf.choose(loan, kf.ABONO, amount=str(loan.min_prepayment)))
    assert summary.amount == loan.min_prepayment
    printed = svc.print_slip(visit.session, summary.choice)
    assert printed.printed and printed.slip.amount == loan.min_prepayment
    _m, code = read_job((tmp_path / "impresora.bin").read_bytes()).barcodes[-1]
    assert decode_code128(code) == printed.slip.reference
    again = svc.reload(visit.session).loan(loan.loan_id)
    assert again.current is not None and again.current.reference == printed.slip.reference
    history = {h.loan_id: h for h in svc.history(visit.session)}
    assert printed.slip.reference in [s.reference for s in history[loan.loan_id].slips_today]
    sim = svc.simulate(visit.session)
    assert sim.monthly_salary == Decimal("24000.00") and sim.years_contributed is not None
    svc.log_out(visit.session)
    with pytest.raises(kf.Refused):
        svc.reload(visit.session)


def test_a_wrong_nip_is_a_login_refusal_with_the_attempts_left(central, clock, tmp_path) -> None:
    svc = kiosk(central, clock, tmp_path)
    with pytest.raises(kf.LoginRefused) as refused:
        svc.log_in(central.demo["members"][2]["number"], "0000")
    assert refused.value.code == "CREDENCIALES_INCORRECTAS"
    text = kf.login_message(refused.value, Policy())
    assert text.startswith("Número de afiliado o NIP incorrecto.")


def test_offline_is_a_typed_unreachable_not_a_guess(central, clock, tmp_path) -> None:
    port = int(central.base_url.rsplit(":", 1)[1])
    with fault_proxy("127.0.0.1", port) as proxy:
        svc = kiosk(central, clock, tmp_path, proxy.base_url)
        proxy.down()
        with pytest.raises(kf.Unreachable) as down:
            svc.log_in("100001", "1234")
    assert down.value.message == kf.UNREACHABLE_MESSAGE


def test_a_locked_account_says_until_when_and_whom_to_call(central, clock, tmp_path) -> None:
    svc = kiosk(central, clock, tmp_path)
    number = central.demo["members"][0]["number"]
    refusals = []
    for _ in range(6):
        with pytest.raises(kf.LoginRefused) as refused:
            svc.log_in(number, "0000")
        refusals.append(refused.value)
    assert refusals[-1].code == "AFILIADO_BLOQUEADO"
    text = kf.login_message(refusals[-1], Policy())
    assert text.startswith("Por su seguridad el acceso está bloqueado")
    assert "473 735 1400" in text
