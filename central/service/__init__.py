"""Central's business operations, independent of HTTP: the FastAPI routes and the admin
command line both call these, as ``from central import service as svc``; ``svc.X``.

One module per concern: :mod:`.common` (refusals, answers, principals, helpers), :mod:`.auth`,
:mod:`.feed` (referencias and the delta feed), :mod:`.loans`, :mod:`.slips` (fichas),
:mod:`.payments`, :mod:`.voids`, :mod:`.closings`, :mod:`.kiosk` (member sessions),
:mod:`.admin`; the institute's side: :mod:`.accounts`, :mod:`.events`,
:mod:`.inbound`, :mod:`.policy`, :mod:`.cases`, :mod:`.webhooks`, :mod:`.notices`.

Every refusal is an :class:`ApiError` with an HTTP status, an uppercase Spanish ``code`` and a
Spanish ``message``.
"""

from central.service.admin import (
    TERMINAL_KINDS,
    count,
    enroll_terminal,
    ensure_store,
    upsert_member,
)
from central.service.auth import AUTH_CACHE_TTL, TokenCache, authenticate, bearer_digest
from central.service.cases import list_cases
from central.service.closings import ClosingRequest, record_closing
from central.service.common import (
    APPLIED,
    REFUSED,
    VOIDED,
    ApiError,
    Clock,
    Outcome,
    SessionPrincipal,
    TerminalPrincipal,
    canonical_hash,
    iso,
    next_seq,
    retrying,
    utcnow,
)
from central.service.feed import (
    FEED_DEFAULT_PAGE,
    FEED_MAX_PAGE,
    assign_pending,
    expire_slips,
    feed_json,
    get_reference,
    reference_item,
)
from central.service.heartbeats import (
    Head,
    Heartbeat,
    audit_heads,
    check_head,
    record_heartbeat,
)
from central.service.kiosk import (
    MAX_NIP_FAILURES,
    NIP_LOCKOUT,
    SESSION_MAX_AGE,
    kiosk_history,
    kiosk_profile,
    kiosk_slip,
    login,
    logout,
    member_loans,
    touch_session,
)
from central.service.loans import LOAN_ACTIVE, LOAN_SETTLED, add_loan, load_loan, to_domain
from central.service.payments import (
    Acceptance,
    PaymentRequest,
    Received,
    Refusal,
    Retry,
    judge_payment,
    payment_batch,
    payment_digest,
    record_payment,
)
from central.service.reconciliation import CASE_KINDS, open_case
from central.service.slips import SLIP_KINDS, issue_slip
from central.service.voids import VoidRequest, void_payment

__all__ = [
    "Clock",
    "APPLIED",
    "VOIDED",
    "REFUSED",
    "ApiError",
    "Outcome",
    "TerminalPrincipal",
    "SessionPrincipal",
    "utcnow",
    "iso",
    "canonical_hash",
    "retrying",
    "next_seq",
    "AUTH_CACHE_TTL",
    "TokenCache",
    "bearer_digest",
    "authenticate",
    "reference_item",
    "assign_pending",
    "FEED_DEFAULT_PAGE",
    "FEED_MAX_PAGE",
    "feed_json",
    "expire_slips",
    "get_reference",
    "LOAN_ACTIVE",
    "LOAN_SETTLED",
    "to_domain",
    "load_loan",
    "add_loan",
    "SLIP_KINDS",
    "issue_slip",
    "PaymentRequest",
    "payment_digest",
    "Retry",
    "Received",
    "Refusal",
    "Acceptance",
    "judge_payment",
    "payment_batch",
    "record_payment",
    "VoidRequest",
    "void_payment",
    "ClosingRequest",
    "record_closing",
    "MAX_NIP_FAILURES",
    "NIP_LOCKOUT",
    "SESSION_MAX_AGE",
    "login",
    "touch_session",
    "logout",
    "member_loans",
    "kiosk_history",
    "kiosk_profile",
    "kiosk_slip",
    "Head",
    "Heartbeat",
    "audit_heads",
    "check_head",
    "record_heartbeat",
    "CASE_KINDS",
    "open_case",
    "list_cases",
    "TERMINAL_KINDS",
    "ensure_store",
    "enroll_terminal",
    "upsert_member",
    "count",
]
