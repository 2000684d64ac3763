"""POST /v1/payments on PostgreSQL: payments received together are decided and written
together, in two statements, without a thread.

The Core path (:func:`central.service.payments.record_payment`) sends each statement on its
own and runs in the thread pool: about nine round trips and two thread hops per payment, and
each round trip costs both processes more CPU than the SQL in it. Here, on the worker's event
loop, the payments waiting at that moment (up to :data:`BATCH_MAX`) go as one batch:

1. one statement reads their referencias, loans and installments, with each one's stamp (the
   versions of those rows, see migration 0002);
2. :func:`central.service.payments.judge_payment` applies the same rules and loan arithmetic
   as the Core path to each;
3. one call of ``isseg_apply_payments`` writes them, one subtransaction each: it locks the loan
   and writes only if the stamp is unchanged, so each decision was made on exactly the rows it
   writes over. The batch commits once (group commit), before any answer is sent.

Under load a batch forms by itself while the previous one is in the database; a lone payment
is a batch of one. Only the plain case is taken here: an applicable payment of a referencia
with a loan. Anything else (a refusal, a replay, a second payment, an unknown referencia, rows
changed meanwhile, a database error, a lost connection) has written nothing and is answered by
the Core path, so refusals, the reconciliation list and the conflict answers keep one
implementation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

import psycopg
from psycopg import pq
from psycopg.types.json import Json

from central import service as svc
from central.db import libpq_dsn
from central.models import naive_utc
from kiosk.money import from_centavos, to_centavos

log = logging.getLogger(__name__)


class _Ref(NamedTuple):
    """The columns :func:`central.service.payments.judge_payment` reads, as the Core path types them."""

    reference: str
    loan_id: str
    member_number: str
    kind: str
    concept: str
    amount: Decimal
    quincenas: list[int]
    issued_on: date
    status: str
    member_name: str
    loan_kind: str
    principal: Decimal
    annual_rate: Decimal
    installment: Decimal
    prepayments: Decimal
    loan_status: str


class _Item(NamedTuple):
    number: int
    due_date: date
    amount: Decimal
    principal: Decimal
    state: str


_READ = """
SELECT r.reference, r.loan_id, r.member_number, r.kind, r.concept, r.amount, r.quincenas,
       r.issued_on, r.status, m.name, l.kind, l.principal, l.annual_rate, l.installment,
       l.prepayments, l.status, i.numbers, i.due_dates, i.amounts, i.principals, i.states,
       isseg_payment_stamp(r.reference)
FROM payment_references r
JOIN members m ON m.number = r.member_number
JOIN loans l ON l.loan_id = r.loan_id
CROSS JOIN LATERAL (
    SELECT array_agg(number ORDER BY number) AS numbers,
           array_agg(due_date ORDER BY number) AS due_dates,
           array_agg(amount ORDER BY number) AS amounts,
           array_agg(principal ORDER BY number) AS principals,
           array_agg(state ORDER BY number) AS states
    FROM loan_installments WHERE loan_id = r.loan_id
) i
WHERE r.reference = ANY(%s)
"""
_APPLY = "SELECT payment_uuid, applied FROM isseg_apply_payments(%s)"
# For each (terminal, folio): the time of that terminal's payment just before the folio
# (payments.service.judge_payment's previous_paid_at), one index probe each.
_PREVIOUS = """
SELECT t.terminal_id, t.folio, (
    SELECT p.paid_at FROM payments p
    WHERE p.terminal_id = t.terminal_id AND p.folio < t.folio
    ORDER BY p.folio DESC LIMIT 1)
FROM unnest(%s::integer[], %s::bigint[]) AS t(terminal_id, folio)
"""

# Payments per batch: each is a subtransaction, and PostgreSQL tracks up to 64 of them per
# transaction before every other session's snapshots get slower.
BATCH_MAX = 32
# Batches of one worker in the database at once. One measured best on two shared cores
# (bench/bench_central.py: 1,224 payments/s against 1,074/s with two lanes and 999/s with
# three): the batches grow, and each costs a statement less per payment.
LANES = 1


def _ref(row: Sequence[Any]) -> tuple[_Ref, list[_Item], str]:
    (reference, loan_id, member, kind, concept, amount, quincenas, issued_on, status, name,
     loan_kind, principal, rate, installment, prepayments, loan_status, numbers, due_dates,
     amounts, principals, states, stamp) = row  # fmt: skip
    ref = _Ref(
        reference, loan_id, member, kind, concept, from_centavos(amount), quincenas or [],
        issued_on, status, name, loan_kind, from_centavos(principal), Decimal(rate),
        from_centavos(installment), from_centavos(prepayments), loan_status,
    )  # fmt: skip
    items = [
        _Item(n, due, from_centavos(a), from_centavos(p), state)
        for n, due, a, p, state in zip(
            numbers or [],
            due_dates or [],
            amounts or [],
            principals or [],
            states or [],
            strict=True,
        )
    ]
    return ref, items, stamp


def _given(items: list[_Item]) -> Callable[[str], list[_Item]]:
    return lambda _loan: items


def _item_json(stamp: str, decision: svc.Acceptance) -> dict[str, Any]:
    v = decision.values
    return {
        "stamp": stamp,
        "payment_uuid": v["payment_uuid"],
        "reference": decision.reference,
        "store_id": v["store_id"],
        "terminal_id": v["terminal_id"],
        "amount": to_centavos(v["amount"]),
        "cash": to_centavos(v["cash"]),
        "card": to_centavos(v["card"]),
        "paid_at": naive_utc(v["paid_at"]).isoformat(),
        "received_at": naive_utc(v["received_at"]).isoformat(),
        "cashier": v["cashier"],
        "folio": v["folio"],
        "status": v["status"],
        "request_hash": v["request_hash"],
        "response_code": v["response_code"],
        "response_body": v["response_body"],
        "effect": v["effect"],
        "paid_now": decision.paid_now,
        "prepayments": to_centavos(decision.prepayments),
        "loan_status": decision.loan_status,
        "event_id": decision.event["event_id"],
        "event_payload": decision.event["payload"],
    }


@dataclass
class _Waiting:
    key: str
    req: svc.PaymentRequest
    rx: svc.Received
    digest: str
    answer: asyncio.Future[svc.Outcome | None]


class PgPayments:
    """The batches of one worker process, and their connections (one per lane)."""

    def __init__(self, db_url: str) -> None:
        self._dsn = libpq_dsn(db_url)
        self._waiting: list[_Waiting] = []
        self._lanes: set[asyncio.Task[None]] = set()
        self._idle: list[psycopg.AsyncConnection[Any]] = []

    async def record(
        self, key: str, req: svc.PaymentRequest, rx: svc.Received
    ) -> svc.Outcome | None:
        """The answer to an applied payment, or None: then nothing was written, and the
        Core path must answer."""
        digest = svc.payment_digest(req, rx.who)
        answer: asyncio.Future[svc.Outcome | None] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(key, req, rx, digest, answer))
        if len(self._lanes) < LANES:
            self._lanes.add(asyncio.create_task(self._lane()))
        return await answer

    async def _lane(self) -> None:
        """Takes batches until nobody is waiting."""
        try:
            while self._waiting:
                batch = self._waiting[:BATCH_MAX]
                del self._waiting[:BATCH_MAX]
                await self._answer(batch)
        finally:
            # Here, not in a done-callback: a request arriving between this lane's last look
            # at the queue and a callback would find the lane still counted, and wait forever.
            self._lanes.discard(asyncio.current_task())  # type: ignore[arg-type]

    async def _answer(self, batch: list[_Waiting]) -> None:
        outcomes: list[svc.Outcome | None] = [None] * len(batch)
        try:
            conn = self._idle.pop() if self._idle else await self._connect()
            try:
                outcomes = await self._apply(conn, batch)
            finally:
                self._give_back(conn)
        except psycopg.Error:
            pass  # nothing of the batch was committed; the Core path answers each
        except Exception:
            # Not expected; the Core path still answers each payment, and it is logged.
            log.exception("pago por lotes: se responde por la ruta general")
        finally:
            for waiting, outcome in zip(batch, outcomes, strict=True):
                if not waiting.answer.done():  # its request may have been cancelled
                    waiting.answer.set_result(outcome)

    async def _apply(
        self, conn: psycopg.AsyncConnection[Any], batch: list[_Waiting]
    ) -> list[svc.Outcome | None]:
        wanted = list({w.req.reference for w in batch})
        rows = await (await conn.execute(_READ, (wanted,))).fetchall()
        found = {row[0]: _ref(row) for row in rows}
        folios = [(w.rx.who.terminal_id, w.req.folio) for w in batch if w.req.folio is not None]
        previous: dict[tuple[int, int], datetime] = {}
        if folios:
            terminals, numbers = zip(*folios, strict=True)
            cur = await conn.execute(_PREVIOUS, (list(terminals), list(numbers)))
            previous = {(t, f): at.replace(tzinfo=UTC) for t, f, at in await cur.fetchall() if at}
        decided: dict[str, tuple[str, dict[str, Any], svc.Outcome]] = {}
        for w in batch:
            if w.key in decided or w.req.reference not in found:
                # A key sent twice at once: the Core path answers the second after this
                # batch commits (a replay, or a key reused). An unknown referencia, or one
                # without a loan: the Core path refuses or handles it.
                continue
            ref, installments, stamp = found[w.req.reference]
            try:
                decision = svc.judge_payment(
                    w.rx,
                    w.key,
                    w.req,
                    w.digest,
                    ref,
                    _given(installments),
                    previous.get((w.rx.who.terminal_id, w.req.folio or 0)),
                )
            except svc.Retry:
                continue  # already paid: the Core path answers the replay or the 409
            if isinstance(decision, svc.Acceptance):  # a refusal goes to the Core path
                outcome = svc.Outcome(201, decision.body)
                decided[w.key] = (ref.loan_id, _item_json(stamp, decision), outcome)
        if not decided:
            return [None] * len(batch)
        # Every batch locks its loans in the same order, so two batches never deadlock.
        payload = [item for _, item, _ in sorted(decided.values(), key=lambda d: d[0])]
        written = await (await conn.execute(_APPLY, (Json(payload),))).fetchall()
        applied = {key for key, ok in written if ok}
        answers: list[svc.Outcome | None] = []
        for w in batch:
            entry = decided.pop(w.key, None)  # popped: a second sender of the key gets None
            answers.append(entry[2] if entry and w.key in applied else None)
        return answers

    def _give_back(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Healthy connections go back to the pool (they are in autocommit: each statement
        is its own transaction, so none is left open); a broken one is dropped."""
        if conn.closed:
            return
        if conn.info.transaction_status != pq.TransactionStatus.IDLE:
            conn.pgconn.finish()
            return
        self._idle.append(conn)

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(self._dsn, autocommit=True)

    async def close(self) -> None:
        while self._idle:
            await self._idle.pop().close()
