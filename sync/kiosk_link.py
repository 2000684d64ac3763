"""Central's kiosk endpoints as the core's ``KioskCentral``: typed records in, typed records
out, and every failure turned into the core's ``Unreachable`` / ``LoginRefused`` / ``Refused``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from kiosk import kiosk_flow as kf
from kiosk.ports import Refused
from kiosk.simulator import Profile
from sync.client import AuthError, CentralClient, Offline, ProtocolError, Rejected

T = TypeVar("T")


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except Offline:
        raise kf.Unreachable() from None
    except (AuthError, Rejected) as exc:
        raise _refusal(exc) from None
    except ProtocolError:
        raise kf.Unreachable(
            "El instituto respondió algo inesperado: intente más tarde o pregunte en caja."
        ) from None


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


class KioskLink:
    """The kiosk terminal's ``KioskCentral`` over its ``CentralClient``."""

    def __init__(self, client: Callable[[], CentralClient | None]) -> None:
        self._client = client

    def _call(self, fn: Callable[[CentralClient], T]) -> T:
        client = self._client()
        if client is None:
            raise kf.Unreachable()
        with _translated():
            return fn(client)

    def login(self, member_number: str, nip: str) -> kf.Session:
        s = self._call(lambda c: c.kiosk_login(member_number, nip))
        return kf.Session(s.token, s.member_number or member_number, s.member_name)

    def loans(self, session: kf.Session) -> kf.Loans:
        return kf.loans_from_json(self._call(lambda c: c.kiosk_loans(session.token)))

    def issue_slip(self, session: kf.Session, choice: kf.Choice) -> kf.IssuedSlip:
        body = self._call(
            lambda c: c.kiosk_issue_slip(
                session.token,
                loan_id=choice.loan.loan_id,
                kind=choice.kind,
                quincenas=choice.quincenas,
                amount=choice.amount if choice.kind == kf.ABONO else None,
            )
        )
        return kf.slip_from_json(body, session)

    def logout(self, session: kf.Session) -> None:
        self._call(lambda c: c.kiosk_logout(session.token))

    def history(self, session: kf.Session) -> tuple[kf.LoanHistory, ...]:
        return kf.history_from_json(self._call(lambda c: c.kiosk_history(session.token)))

    def profile(self, session: kf.Session) -> Profile:
        body = self._call(lambda c: c.kiosk_profile(session.token))
        salary = body.get("monthly_salary")
        return Profile(
            monthly_salary=Decimal(str(salary)) if salary is not None else None,
            contribution_start=_day(body.get("contribution_start")),
            sex=str(body["sex"]) if body.get("sex") else None,
            birth_date=_day(body.get("birth_date")),
            pensioner=bool(body.get("pensioner")),
            has_debts=bool(body.get("has_debts")),
        )


def _refusal(exc: AuthError | Rejected) -> Refused:
    """A refused login carries its attempts left or its lockout's end; others are plain."""
    body: Mapping[str, Any] = exc.body if isinstance(exc.body, Mapping) else {}
    if exc.code not in ("CREDENCIALES_INCORRECTAS", "AFILIADO_BLOQUEADO"):
        return Refused(exc.code, exc.message)
    left = body.get("attempts_left")
    until = body.get("locked_until")
    return kf.LoginRefused(
        exc.code,
        exc.message,
        attempts_left=left if isinstance(left, int) else None,
        locked_until=datetime.fromisoformat(str(until)) if until else None,
    )
