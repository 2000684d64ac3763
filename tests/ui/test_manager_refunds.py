"""The manager's screen hands back a refund the institute decided, against the real central."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from central.service import cases
from kiosk import cashier, reference_cache, shifts
from kiosk.rules import Tender
from tests.ui.conftest import MANAGER_PIN, add_people, demo_terminal
from ui.manager import ManagerWindow


def test_a_refund_decided_by_the_institute_leaves_the_drawer_and_the_alerts(
    qtbot: Any, online_terminal: Any, runner: Any, central: Any, proxy: Any, clock: Any,
    tmp_path: Path,
) -> None:  # fmt: skip
    t = online_terminal
    _, person = add_people(t, clock)
    shifts.open_shift(t.uow, cashier_id=person.id, opening_float=Decimal("500.00"), clock=clock)
    ref = next(r for r in central.demo["references"] if r["kind"] == "QUINCENAL")
    amount = Decimal(ref["amount"])
    qtbot.waitUntil(
        lambda: reference_cache.lookup(t.uow, ref["reference"]) is not None, timeout=10000
    )
    # This caja loses its link; meanwhile the ficha is paid at the other store.
    proxy.down()
    other = demo_terminal(central, "caja", "F002")
    body = {"reference": ref["reference"], "store_id": "F002", "amount": ref["amount"],
            "cash": ref["amount"], "card": "0.00", "paid_at": clock().isoformat()}  # fmt: skip
    paid = httpx.post(
        central.base_url + "/v1/payments",
        json=body,
        headers={"Authorization": f"Bearer {other['token']}", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert paid.status_code == 201, paid.text
    cashier.take_payment(
        t.uow, reference=ref["reference"], tender=Tender(cash=amount), cashier_id=person.id,
        clock=clock,
    )  # fmt: skip
    proxy.up()
    def rejected() -> int:
        with t.uow.reading() as uow:
            return len(uow.outbox.rejected())

    qtbot.waitUntil(lambda: rejected() == 1, timeout=15000)
    state = central.app.state
    case = cases.list_cases(state.db, state.policy)[0]
    decided = cases.resolve_case(
        state.db, case["case_id"], "DEVOLUCION", "finanzas.ana", "Cobro doble", clock(),
        state.policy,
    )  # fmt: skip
    assert decided.status == 201

    w = ManagerWindow(t, runner, status_poll_ms=100)
    qtbot.addWidget(w)
    w.show()
    w.login.username.setText("gerente")
    w.login.pin.setText(MANAGER_PIN)
    w.login.submit()
    qtbot.waitUntil(lambda: w.refund_list.rowCount() == 1, timeout=10000)
    assert w.alerts.rowCount() == 1
    before = shifts.shift_status(t.uow, blind=False).expected_cash
    w.refund_list.setCurrentCell(0, 0)
    w.refund_button.click()
    qtbot.waitUntil(lambda: "Devolución de" in w.message.text(), timeout=10000)
    assert shifts.shift_status(t.uow, blind=False).expected_cash == before - amount
    qtbot.waitUntil(
        lambda: w.alerts.rowCount() == 0 and w.refund_list.rowCount() == 0, timeout=10000
    )
    printed = (tmp_path / "impresora.bin").read_bytes()
    assert b"DEVOLUCI" in printed and b"firma del afiliado" in printed
    # Central learns the money went back: nothing is due at this store any more.
    qtbot.waitUntil(
        lambda: cases.store_refunds(state.db, "F001", state.policy) == [], timeout=15000
    )
