"""Referencias as the API shows them, and the delta feed that terminals read."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import BigInteger, String, bindparam, select, type_coerce, update

from central.db import Database
from central.models import Counter, Member, ReferenceRow
from central.service import events
from central.service.common import ApiError, iso, retrying
from kiosk import references as refs
from kiosk.rules import Policy


def reference_item(row: ReferenceRow, member_name: str, policy: Policy) -> dict[str, Any]:
    return {
        "reference": row.reference,
        "amount": str(row.amount),
        "issued_on": row.issued_on.isoformat(),
        "issued_at": iso(row.issued_at, policy),
        "status": row.status,
        "member_number": row.member_number,
        "member_name": member_name,
        "loan_id": row.loan_id or "",
        "kind": row.kind,
        "concept": row.concept,
        "quincenas": list(row.quincenas or []),
        "version": row.version,
        "replaced_by": row.replaced_by,
    }


_ANY_UNSEQUENCED = select(ReferenceRow.reference).where(ReferenceRow.change_seq.is_(None)).limit(1)


def assign_pending(db: Database) -> int:
    """Give feed positions to referencias changed by committed payments and voids.

    Done under the feed counter's lock, after those transactions committed: a later commit
    can only get a later position, so a cursor never skips a change.
    """
    with db.reading() as conn:
        if conn.execute(_ANY_UNSEQUENCED).first() is None:
            return 0

    def attempt() -> int:
        with db.write() as s:
            start = s.execute(
                select(Counter.value).where(Counter.name == "feed").with_for_update()
            ).scalar_one()
            pending = (
                s.execute(
                    select(ReferenceRow.reference)
                    .where(ReferenceRow.change_seq.is_(None))
                    .order_by(ReferenceRow.reference)
                )
                .scalars()
                .all()
            )
            if not pending:
                return 0
            s.execute(
                update(ReferenceRow),
                [
                    {"reference": ref, "change_seq": start + i}
                    for i, ref in enumerate(pending, start=1)
                ],
            )
            s.execute(
                update(Counter).where(Counter.name == "feed").values(value=start + len(pending))
            )
            return len(pending)

    return retrying(attempt)


FEED_DEFAULT_PAGE = 500
FEED_MAX_PAGE = 1000

# The feed is the largest answer central gives (a new caja reads every referencia), so it is
# read with one Core statement and written as JSON text without the ORM or pydantic. Columns
# whose types would parse the database's value only for it to be formatted again come back
# raw: centavos as an integer; the date, the UTC time and the quincenas as SQLite's text or
# as PostgreSQL's date, datetime and list (the _wire_* helpers accept both).
_FEED = (
    select(
        ReferenceRow.reference,
        type_coerce(ReferenceRow.amount, BigInteger()),
        type_coerce(ReferenceRow.issued_on, String()),
        type_coerce(ReferenceRow.issued_at, String()),
        ReferenceRow.status,
        ReferenceRow.member_number,
        Member.name,
        ReferenceRow.loan_id,
        ReferenceRow.kind,
        ReferenceRow.concept,
        type_coerce(ReferenceRow.quincenas, String()),
        ReferenceRow.version,
        ReferenceRow.replaced_by,
        ReferenceRow.change_seq,
    )
    .join(Member, Member.number == ReferenceRow.member_number)
    .where(
        ReferenceRow.change_seq > bindparam("since"),
        # Only what a caja may still be asked to take: fichas of the last few days (the
        # offline window), never an expired one. A new caja does not download history.
        ReferenceRow.issued_on >= bindparam("oldest"),
        ReferenceRow.status != refs.CADUCADA,
    )
    .order_by(ReferenceRow.change_seq)
    .limit(bindparam("limit"))
)


def _wire_pesos(centavos: int) -> str:
    """Integer centavos as the API's money text ("540.00"), like ``str(from_centavos(c))``."""
    whole, cents = divmod(abs(centavos), 100)
    return f"{'-' if centavos < 0 else ''}{whole}.{cents:02d}"


def _wire_day(value: str | date) -> str:
    return value if isinstance(value, str) else value.isoformat()


def _wire_moment(value: str | datetime, tz: tzinfo) -> str:
    """A stored naive-UTC time as ISO 8601 in the policy's zone (what :func:`iso` gives)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC).astimezone(tz).isoformat()


def _wire_ints(value: str | list[int] | None) -> list[int]:
    if value is None or value == "[]":
        return []
    return list(json.loads(value) if isinstance(value, str) else value)


def feed_oldest_day(now: datetime, policy: Policy) -> date:
    """The oldest issue date the feed serves: the offline window, in whole days."""
    days = -(-policy.offline_window // timedelta(days=1))
    return policy.local(now).date() - timedelta(days=days)


def expire_slips(db: Database, now: datetime, policy: Policy) -> int:
    """Unpaid fichas of a past day become CADUCADA, by central's clock (SPEC 2.5). Their
    feed position stays: the feed leaves expired fichas out."""
    today = policy.local(now).date()

    def attempt() -> int:
        with db.write() as s:
            expired = s.connection().execute(
                update(ReferenceRow)
                .where(ReferenceRow.status == refs.VIGENTE, ReferenceRow.issued_on < today)
                .values(status=refs.CADUCADA, version=ReferenceRow.version + 1)
                .returning(ReferenceRow.reference, ReferenceRow.loan_id, ReferenceRow.member_number)
            ).all()
            for reference, loan_id, member_number in expired:  # the institute hears of each
                events.record(
                    s,
                    events.SLIP_EXPIRED,
                    {"reference": reference, "loan_id": loan_id, "member_number": member_number},
                    now,
                )
            return len(expired)

    return retrying(attempt)


def feed_json(db: Database, since: int, limit: int, policy: Policy, now: datetime) -> bytes:
    """One page of the delta feed (``sc.FeedOut``) as JSON: the referencias whose change
    position is after ``since``, in that order, and the cursor to ask from next."""
    assign_pending(db)
    with db.reading() as conn:
        fetched = conn.execute(
            _FEED,
            {"since": since, "limit": limit + 1, "oldest": feed_oldest_day(now, policy)},
        ).all()
    more = len(fetched) > limit
    rows = fetched[:limit]
    tz = policy.tz
    items = [
        {
            "reference": reference,
            "amount": _wire_pesos(amount),
            "issued_on": _wire_day(issued_on),
            "issued_at": _wire_moment(issued_at, tz),
            "status": status,
            "member_number": member_number,
            "member_name": member_name,
            "loan_id": loan_id or "",
            "kind": kind,
            "concept": concept,
            "quincenas": _wire_ints(quincenas),
            "version": version,
            "replaced_by": replaced_by,
        }
        for (
            reference,
            amount,
            issued_on,
            issued_at,
            status,
            member_number,
            member_name,
            loan_id,
            kind,
            concept,
            quincenas,
            version,
            replaced_by,
            _seq,
        ) in rows
    ]
    cursor = int(rows[-1][-1]) if rows else since
    page = {"items": items, "next_cursor": cursor, "has_more": more}
    return json.dumps(page, ensure_ascii=False, separators=(",", ":")).encode()


def get_reference(db: Database, text: str, policy: Policy) -> dict[str, Any]:
    try:
        ref = refs.parse(text)
    except refs.InvalidReference as exc:
        raise ApiError(422, exc.code, str(exc)) from None
    with db.read() as s:
        found = s.execute(
            select(ReferenceRow, Member.name)
            .join(Member, Member.number == ReferenceRow.member_number)
            .where(ReferenceRow.reference == str(ref))
        ).first()
    if found is None:
        raise ApiError(404, "NO_ENCONTRADA", "La referencia no existe en el sistema del instituto.")
    return reference_item(found[0], found[1], policy)
