"""Demo data: two pharmacies, their cajas and kioskos, three affiliates with loans, and a
ficha issued today for each loan. Running it again keeps the data, rotates the demo tokens
(a token is shown only once, so a re-run must issue new ones) and issues fresh fichas."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central import service as svc
from central.db import Database
from central.models import Counter, LoanRow, Member, Store, Terminal
from kiosk import loans as loanlib
from kiosk.rules import Policy

STORES = [("F001", "Farmacia ISSEG Guanajuato Centro"), ("F002", "Farmacia ISSEG León")]
TERMINALS = [
    ("F001", "Caja 1", "caja"),
    ("F001", "Caja 2", "caja"),
    ("F001", "Kiosko 1", "kiosko"),
    ("F002", "Caja 1", "caja"),
    ("F002", "Kiosko 1", "kiosko"),
]
MEMBERS = [
    ("100001", "María Guadalupe Hernández López", "1234"),
    ("100002", "José Luis Ramírez Torres", "2468"),
    ("100003", "Ana Sofía Martínez García", "1357"),
]
# For "¿Cuánto me prestan?": monthly base salary, contributing since, sex, birth, pensioner.
PROFILES = {
    "100001": ("18500.00", date(2008, 2, 1), "M", date(1975, 6, 12), False),
    "100002": ("24000.00", date(2019, 9, 16), "H", date(1988, 3, 3), False),
    "100003": ("12800.00", date(1990, 1, 8), "M", date(1962, 10, 21), True),
}
# loan id, member, kind, principal, annual rate, term, paid, in payroll, today's ficha
LOANS: list[tuple[str, str, str, str, str, int, int, int, str]] = [
    ("P-100001-1", "100001", "PERSONAL", "30000.00", "0.16", 24, 4, 1, "QUINCENAL"),
    ("P-100001-2", "100001", "COMPLEMENTARIO", "10000.00", "0.16", 12, 9, 1, "LIQUIDACION"),
    ("P-100002-1", "100002", "PERSONAL", "60000.00", "0.16", 48, 20, 1, "QUINCENAL"),
    ("P-100003-1", "100003", "PERSONAL", "15000.00", "0.17", 24, 2, 0, "RENOVACION"),
]


DEMO_MARK = "demo"  # a row of the counters table: this database was created by seed_demo


class NotADemoDatabase(Exception):
    """The database holds data the demo did not create: it is not touched."""


def _claim_for_demo(s: Session) -> None:
    if s.get(Counter, DEMO_MARK) is not None:
        return
    for model in (Store, Terminal, Member, LoanRow):
        if s.execute(select(model).limit(1)).first() is not None:
            raise NotADemoDatabase(
                "Esta base de datos ya tiene datos que no son de demostración: seed-demo no la "
                "modifica (renombraría afiliados, cambiaría NIP y tokens). Use una base nueva."
            )
    s.add(Counter(name=DEMO_MARK, value=1))
    s.flush()


def seed_demo(db: Database, now: datetime, policy: Policy) -> dict[str, Any]:
    """Fill a new database with the demo, or refresh one the demo created; raises
    :class:`NotADemoDatabase` for any other."""
    today = policy.local(now).date()
    out: dict[str, Any] = {
        "stores": [],
        "terminals": [],
        "members": [],
        "loans": [],
        "references": [],
    }
    with db.write() as s:
        _claim_for_demo(s)
        for store_id, name in STORES:
            svc.ensure_store(s, store_id, name)
            out["stores"].append({"store_id": store_id, "name": name})
        for store_id, name, kind in TERMINALS:
            terminal, token = svc.enroll_terminal(s, store_id, name, kind, now, reactivate=True)
            out["terminals"].append(
                {
                    "terminal_id": terminal.terminal_id,
                    "store_id": store_id,
                    "name": name,
                    "kind": kind,
                    "token": token,
                }
            )
        for number, name, nip in MEMBERS:
            m = svc.upsert_member(s, number, name, nip)
            salary, since, sex, born, pensioner = PROFILES[number]
            m.monthly_salary, m.contribution_start = Decimal(salary), since
            m.sex, m.birth_date, m.pensioner = sex, born, pensioner
            out["members"].append({"number": number, "name": name, "nip": nip})
        for loan_id, member, kind, principal, rate, term, paid, payroll, _ in LOANS:
            if s.get(LoanRow, loan_id) is None:
                first_due = today - timedelta(days=15 * (paid + payroll))
                loan = loanlib.loan_from_schedule(
                    loan_id,
                    Decimal(principal),
                    Decimal(rate),
                    term,
                    first_due,
                    paid,
                    payroll,
                    kind=kind,
                )
                svc.add_loan(s, member, loan)
            out["loans"].append(
                {
                    "loan_id": loan_id,
                    "member_number": member,
                    "kind": kind,
                    "principal": principal,
                    "annual_rate": rate,
                    "quincenas": term,
                    "paid": paid,
                    "in_payroll": payroll,
                }
            )
    for loan_id, member, *_rest, slip_kind in LOANS:
        with db.write() as s:
            loaded = svc.load_loan(s, loan_id)
            assert loaded is not None
            options = loanlib.payment_options(loaded[1])
            numbers = [item.number for item in options.pending[:1]]
            try:
                row, _ = svc.issue_slip(
                    s,
                    member_number=member,
                    loan_id=loan_id,
                    kind=slip_kind,
                    now=now,
                    policy=policy,
                    quincenas=numbers,
                )
            except svc.ApiError:
                continue  # e.g. the loan was settled by an earlier demo payment
            out["references"].append(
                {
                    "reference": row.reference,
                    "amount": str(row.amount),
                    "issued_on": row.issued_on.isoformat(),
                    "loan_id": loan_id,
                    "member_number": member,
                    "kind": row.kind,
                    "concept": row.concept,
                }
            )
    return out
