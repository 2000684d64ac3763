"""The kiosk's ``SlipPrinter``: a ficha central issued, laid out and printed."""

from __future__ import annotations

from collections.abc import Callable

from kiosk.kiosk_flow import KINDS, IssuedSlip
from kiosk.records import PrintOutcome
from kiosk.rules import Policy
from printing.documents import SlipData


def slip_data(slip: IssuedSlip, policy: Policy, store_name: str) -> SlipData:
    return SlipData(
        store_name=store_name,
        member_name=slip.member_name,
        member_number=slip.member_number,
        loan_id=slip.loan_id,
        kind=KINDS.get(slip.kind, slip.kind),
        amount=slip.amount,
        reference=slip.reference,
        issued_on=slip.issued_on,
        valid_hours=f"de {policy.window_start:%H:%M} a {policy.window_end:%H:%M} horas",
        cash_cap=policy.cash_cap,
        quincenas=tuple(str(n) for n in slip.quincenas),
        concept=slip.concept,
        replaces_reference=slip.replaced,
    )


class KioskSlipPrinter:
    def __init__(self, print_document: Callable[[SlipData], PrintOutcome], store_name: str) -> None:
        self._print = print_document
        self._store = store_name

    def print_slip(self, slip: IssuedSlip, policy: Policy) -> bool:
        return self._print(slip_data(slip, policy, self._store)).printed
