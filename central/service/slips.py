"""Fichas: issuing one for a loan (whether it can still be paid today is
``kiosk.rules.payable_today``, shared with the kiosk's summary)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.models import Member, ReferenceRow
from central.service import events
from central.service.common import ApiError, next_seq
from central.service.feed import reference_item
from central.service.loans import load_loan
from kiosk import loans as loanlib
from kiosk import references as refs
from kiosk.rules import Policy

SLIP_KINDS = ("QUINCENAL", "ABONO", "RENOVACION", "LIQUIDACION")
KIOSK = "KIOSKO"
CHANNELS = (KIOSK, "PORTAL", "TELEFONO")

_CONCEPTS = {
    "QUINCENAL": "Pago quincenal",
    "ABONO": "Abono a capital",
    "RENOVACION": "Pago para renovación",
    "LIQUIDACION": "Liquidación",
}


def _quincenas_text(numbers: Sequence[int]) -> str:
    ordered = sorted(numbers)
    if len(ordered) == 1:
        return f"quincena {ordered[0]}"
    return "quincenas " + ", ".join(str(n) for n in ordered[:-1]) + f" y {ordered[-1]}"


def issued_today(s: Session, member_number: str, today: date) -> int:
    """Fichas issued to the affiliate today, every channel's."""
    return int(
        s.execute(
            select(func.count())
            .select_from(ReferenceRow)
            .where(ReferenceRow.member_number == member_number, ReferenceRow.issued_on == today)
        ).scalar_one()
    )


def refuse_past_daily_limit(s: Session, member_number: str, today: date, policy: Policy) -> None:
    """At most ``policy.max_daily_slips`` fichas per affiliate per day, counting every
    channel's (each one enters the feed every till downloads); called before an affiliate's
    own request (the kiosk; the portal and phone line too), not by the demo or admin tools.
    The member's row is locked first, so two concurrent requests cannot both take the last."""
    s.get(Member, member_number, with_for_update=True)
    issued = issued_today(s, member_number, today)
    if issued >= policy.max_daily_slips:
        raise ApiError(
            422,
            "LIMITE_DE_FICHAS",
            f"Ya generó {issued} fichas hoy, el máximo por afiliado al día. Pague la ficha "
            "vigente de su préstamo en caja o genere otra mañana.",
        )


def issue_slip(
    s: Session,
    *,
    member_number: str,
    loan_id: str,
    kind: str,
    now: datetime,
    policy: Policy,
    quincenas: Sequence[int] | None = None,
    amount: Decimal | None = None,
    channel: str = KIOSK,
    request: tuple[str, str] | None = None,
) -> tuple[ReferenceRow, str | None]:
    """Issue a ficha dated today, for any channel (kiosk, portal, phone line); the loan's
    previous VIGENTE ficha becomes SUSTITUIDA. Both are events, in this transaction.
    ``request`` is the Idempotency-Key and fingerprint of an institute request.

    Returns the new referencia's row and the replaced referencia (or None).
    """
    if kind not in SLIP_KINDS:
        raise ApiError(422, "TIPO_DE_PAGO_INVALIDO", "Tipo de pago desconocido.")
    loaded = load_loan(s, loan_id, lock=True)
    if loaded is None or loaded[0].member_number != member_number:
        raise ApiError(404, "PRESTAMO_NO_ENCONTRADO", "No se encontró ese préstamo del afiliado.")
    _, loan = loaded
    chosen: list[int] = []
    try:
        if kind == "QUINCENAL":
            chosen = sorted(quincenas or [])
            total = loanlib.installment_payment(loan, chosen)
            concept = f"{_CONCEPTS[kind]}, {_quincenas_text(chosen)}, préstamo {loan_id}"
        elif kind == "ABONO":
            if amount is None:
                raise ApiError(422, "FALTA_IMPORTE", "Escriba el importe del abono a capital.")
            total = loanlib.prepayment(loan, amount)
            concept = f"{_CONCEPTS[kind]}, préstamo {loan_id}"
        elif kind == "RENOVACION":
            total = loanlib.renewal_amount(loan)
            if total == 0:
                raise ApiError(
                    422,
                    "RENOVACION_SIN_PAGO",
                    "Su préstamo ya está pagado al 50%: puede renovarlo sin hacer un pago.",
                )
            concept = f"{_CONCEPTS[kind]}, préstamo {loan_id}"
        else:
            total = loanlib.payoff_amount(loan)
            if total == 0:
                raise ApiError(
                    422,
                    "SIN_SALDO_POR_LIQUIDAR",
                    "No queda saldo por liquidar: las quincenas restantes ya están en nómina.",
                )
            concept = f"{_CONCEPTS[kind]}, préstamo {loan_id}"
    except loanlib.LoanError as exc:
        raise ApiError(422, exc.code, exc.message) from None
    today = policy.local(now).date()
    serial = next_seq(s)
    old_rows = (
        s.execute(
            select(ReferenceRow)
            .where(ReferenceRow.loan_id == loan_id, ReferenceRow.status == refs.VIGENTE)
            .with_for_update()
        )
        .scalars()
        .all()
    )
    reference = str(refs.issue(today, serial))
    replaced: str | None = None
    for old in old_rows:
        old.status = refs.SUSTITUIDA
        old.replaced_by = reference
        old.version += 1
        old.change_seq = next_seq(s)
        replaced = old.reference
        events.record(
            s,
            events.SLIP_SUPERSEDED,
            {
                "reference": old.reference,
                "replaced_by": reference,
                "loan_id": loan_id,
                "member_number": member_number,
            },
            now,
        )
    s.flush()
    row = ReferenceRow(
        reference=reference,
        loan_id=loan_id,
        member_number=member_number,
        kind=kind,
        concept=concept,
        amount=total,
        quincenas=chosen,
        issued_on=today,
        issued_at=now,
        status=refs.VIGENTE,
        replaced_by=None,
        version=1,
        change_seq=next_seq(s),
        channel=channel,
        request_key=request[0] if request else None,
        request_hash=request[1] if request else None,
    )
    s.add(row)
    s.flush()
    member_name = s.execute(select(Member.name).where(Member.number == member_number)).scalar_one()
    events.record(
        s,
        events.SLIP_ISSUED,
        {**reference_item(row, member_name, policy), "channel": channel, "replaced": replaced},
        now,
    )
    return row, replaced
