"""End to end, with real parts only: a ficha the institute's portal asked for (POST /v1/slips)
is scanned and paid at a caja; the institute's webhook receiver, which refused it twice,
gets it; the affiliate's email reaches an SMTP server; the same ficha paid again at a caja of
another store becomes a case, which the institute resolves as a refund; that store hands the
money back, its drawer's expected count drops by it, its alert goes away, the voucher prints
and central learns it was paid."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from central.embedded import EmbeddedCentral
from central.service import webhooks
from central.service.notices import SmtpSettings
from kiosk import cashier, refunds, shifts
from kiosk.references import parse
from printing import escpos_loader, layouts
from printing.documents import RefundData
from sync.outbox import OutboxSender
from sync.refresher import CacheRefresher
from tests.integration.central_support import new_key
from tests.integration.institute_support import (
    Receiver,
    SmtpSink,
    add_webhook,
    service_token,
    wait_until,
)
from tests.integration.printing_support import read_job
from tests.integration.sync_support import business_clock, make_terminal, terminal_entry

pytest_plugins = ["tests.integration.central_support"]


def _sync(terminal: Any, base_url: str) -> tuple[Any, OutboxSender]:
    client = terminal.client(base_url)
    CacheRefresher(terminal.uow, client).refresh()
    return client, OutboxSender(terminal.uow, client, terminal.clock, random.Random(15))


def test_a_portal_ficha_paid_twice_ends_in_a_refund_the_drawer_reflects(
    db_url: str, tmp_path: Path
) -> None:
    clock = business_clock()
    with (
        SmtpSink() as smtp,
        Receiver(fail_first=2, kind="PAGO_APLICADO") as receiver,
        EmbeddedCentral(
            db_url, clock=clock, seed_demo=True, smtp=SmtpSettings("127.0.0.1", smtp.port)
        ) as central,
    ):
        db = central.app.state.db
        http = httpx.Client(base_url=central.base_url, timeout=10)
        token = service_token(db, "portal", "slips", "members_loans", "cases", "events")
        auth = {"Authorization": f"Bearer {token}"}
        add_webhook(db, receiver.url)
        member = {"version": 1, "name": "José Luis Ramírez Torres", "email": "jose@example.mx",
                  "phone": "4771234567"}  # fmt: skip
        assert http.put("/v1/members/100002", json=member, headers=auth).status_code == 200
        loan = http.get("/v1/loans/P-100002-1", headers=auth).json()
        first = next(i["number"] for i in loan["installments"] if i["state"] == "PENDIENTE")
        slip = http.post(
            "/v1/slips",
            json={"member_number": "100002", "loan_id": "P-100002-1", "kind": "QUINCENAL",
                  "quincenas": [first], "channel": "PORTAL"},
            headers={**auth, "Idempotency-Key": new_key()},
        )  # fmt: skip
        assert slip.status_code == 201, slip.text
        ficha = slip.json()
        amount = Decimal(ficha["amount"])

        # Both stores' cajas have the ficha in their cache (F002 then loses its link).
        f001 = make_terminal(tmp_path / "f001.sqlite", clock, terminal_entry(central, "F001"))
        f002 = make_terminal(tmp_path / "f002.sqlite", clock, terminal_entry(central, "F002"))
        _, sender1 = _sync(f001, central.base_url)
        client2, sender2 = _sync(f002, central.base_url)
        try:
            # Scanned and paid at F001.
            verdict = cashier.check(f001.uow(), f"{ficha['reference']}\r\n", clock=clock)
            assert verdict.ok, verdict.message
            scanned = parse(ficha["reference"])
            paid = f001.pay(str(scanned), amount)
            assert sender1.drain(ignore_backoff=True).confirmed == 1

            # The institute hears of it at once, though its endpoint failed twice first.
            wait_until(lambda: len(receiver.of_kind("PAGO_APLICADO")) == 1)
            event = receiver.of_kind("PAGO_APLICADO")[0]
            assert event["data"]["payment_uuid"] == paid.uuid
            assert receiver.failed == 2

            def logged() -> tuple[str, int]:
                d = next(d for d in webhooks.delivery_log(db) if d["event_id"] == event["event_id"])
                return d["status"], d["attempts"]

            wait_until(lambda: logged() == ("ENTREGADO", 3))
            # And the affiliate gets an email.
            wait_until(lambda: len(smtp.messages) == 1)
            assert smtp.messages[0]["To"] == "jose@example.mx"
            mail = smtp.messages[0].get_payload(decode=True)
            assert isinstance(mail, bytes) and paid.uuid in mail.decode()

            # F002, from its stale cache, takes the same ficha: central refuses it, a case.
            second = f002.pay(str(scanned), amount)
            assert sender2.drain(ignore_backoff=True).rejected == 1
            with f002.uow().reading() as uow:
                assert [e.subject for e in uow.outbox.rejected()] == [second.uuid]
            cases = http.get("/v1/cases", params={"abiertos": True}, headers=auth).json()["cases"]
            assert [c["payment_uuid"] for c in cases] == [second.uuid]
            decision = {"action": "DEVOLUCION", "resolved_by": "finanzas.ana",
                        "reason": "Pagada antes en F001"}  # fmt: skip
            path = f"/v1/cases/{cases[0]['case_id']}/resolution"
            r = http.post(path, json=decision, headers=auth)
            assert r.status_code == 201, r.text

            # F002's manager sees it, hands the money back; the drawer's count drops by it.
            before = shifts.shift_status(f002.uow(), blind=False).expected_cash
            due = refunds.still_due(f002.uow(), client2.refunds())
            assert [(d.case_id, d.amount) for d in due] == [(cases[0]["case_id"], amount)]
            refunds.pay_refund(f002.uow(), due[0], user_id=f002.manager_id, clock=clock)
            after = shifts.shift_status(f002.uow(), blind=False).expected_cash
            assert before - after == amount
            with f002.uow().reading() as uow:
                assert uow.outbox.rejected() == []
            assert refunds.still_due(f002.uow(), client2.refunds()) == []
            assert sender2.drain(ignore_backoff=True).confirmed == 1
            assert client2.refunds() == []
            wait_until(lambda: len(receiver.of_kind("DEVOLUCION_ENTREGADA")) == 1)

            # The voucher the affiliate signs, as printed bytes read back.
            printer = escpos_loader.dummy("TM-T20II")
            layouts.render(printer, RefundData(
                store_name="Farmacia ISSEG León", case_id=due[0].case_id, refunded_at=clock(),
                terminal="Caja 1", manager="Gerente", original_folio=second.uuid,
                reference=due[0].reference, paid_at=due[0].paid_at, amount=amount,
                reason=due[0].reason, resolved_by=due[0].resolved_by))  # fmt: skip
            text = read_job(printer.output).text
            assert "DEVOLUCIÓN AL AFILIADO" in text and "firma del afiliado" in text
        finally:
            sender1.close()
            sender2.close()
            f001.close()
            f002.close()
            http.close()
