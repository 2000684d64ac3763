from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.references import ReferenceRecord, issue
from kiosk.rules import Policy, Tender, check_payment

MX = ZoneInfo("America/Mexico_City")
MONDAY = date(2026, 11, 23)  # an ordinary business day
AMOUNT = Decimal("540.00")
POLICY = Policy()


def record(day: date = MONDAY, amount: Decimal = AMOUNT, **kw) -> ReferenceRecord:
    return ReferenceRecord(reference=issue(day, 1), amount=amount, issued_on=day, **kw)


def at(day: date, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm, ss), tzinfo=MX)


def verdict(rec=None, *, cash=AMOUNT, card=Decimal("0.00"), now=None, policy=POLICY, **kw):
    return check_payment(
        rec if rec is not None else record(),
        tender=Tender(cash=cash, card=card),
        now=now or at(MONDAY, 12),
        policy=policy,
        **kw,
    )


def test_a_valid_ficha_paid_exactly_in_cash_on_its_day_is_accepted():
    v = verdict()
    assert v.ok and v.code == "ACEPTADA"


@pytest.mark.parametrize(
    ("hh", "mm", "ss", "ok"),
    [
        (6, 59, 59, False),
        (7, 0, 0, True),
        (21, 59, 59, True),
        (22, 0, 0, False),
        (23, 30, 0, False),
    ],
)
def test_the_window_opens_at_seven_and_closes_at_ten(hh, mm, ss, ok):
    v = verdict(now=at(MONDAY, hh, mm, ss))
    assert v.ok is ok
    if not ok:
        assert v.code == "FUERA_DE_HORARIO"
        assert "07:00" in v.message and "22:00" in v.message


def test_the_day_after_issue_the_ficha_has_expired():
    v = verdict(now=at(MONDAY + timedelta(days=1), 9))
    assert (v.ok, v.code) == (False, "CADUCADA")


def test_a_ficha_dated_after_today_points_at_the_clock():
    v = verdict(record(MONDAY + timedelta(days=1)), now=at(MONDAY, 9))
    assert (v.ok, v.code) == (False, "FECHA_FUTURA")
    assert "hora" in v.message


@pytest.mark.parametrize("day", [date(2026, 11, 21), date(2026, 11, 22)])
def test_weekends_are_not_business_days(day):
    v = verdict(record(day), now=at(day, 12))
    assert (v.ok, v.code) == (False, "DIA_INHABIL")


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 11, 16),  # third Monday of November, Revolution day
        date(2026, 12, 25),
        date(2027, 1, 1),
        date(2027, 2, 1),  # first Monday of February, Constitution day
        date(2026, 9, 16),
    ],
)
def test_mexican_official_holidays_are_not_business_days(day):
    assert day.weekday() < 5
    v = verdict(record(day), now=at(day, 12))
    assert (v.ok, v.code) == (False, "DIA_INHABIL")


def test_an_institute_non_working_day_from_central_closes_the_window():
    policy = Policy.from_dict({"non_working_days": [MONDAY.isoformat()]})
    assert verdict(policy=policy).code == "DIA_INHABIL"
    assert verdict().ok


@pytest.mark.parametrize(
    ("amount", "ok"),
    [(Decimal("539.99"), False), (Decimal("540.00"), True), (Decimal("540.01"), False)],
)
def test_the_amount_must_be_exact_to_the_centavo(amount, ok):
    v = verdict(cash=amount)
    assert v.ok is ok
    if not ok:
        assert v.code == "MONTO_DISTINTO" and "$540.00" in v.message


@pytest.mark.parametrize(
    ("cash", "ok"),
    [(Decimal("29999.99"), True), (Decimal("30000.00"), True), (Decimal("30000.01"), False)],
)
def test_the_cash_part_is_capped_at_thirty_thousand(cash, ok):
    total = Decimal("45000.00")
    v = verdict(record(amount=total), cash=cash, card=total - cash)
    assert v.ok is ok
    if not ok:
        assert v.code == "EXCEDE_TOPE_EFECTIVO" and "$30,000.00" in v.message


def test_card_is_not_capped():
    v = verdict(record(amount=Decimal("90000.00")), cash=Decimal(0), card=Decimal("90000.00"))
    assert v.ok


def test_the_cap_comes_from_central_policy():
    policy = Policy.from_dict({"cash_cap": "500.00"})
    assert verdict(policy=policy).code == "EXCEDE_TOPE_EFECTIVO"


@pytest.mark.parametrize(
    ("cash", "card"),
    [(Decimal("-1.00"), Decimal("541.00")), (Decimal("540.001"), Decimal("0"))],
)
def test_negative_or_sub_centavo_tenders_are_refused(cash, card):
    assert verdict(cash=cash, card=card).code == "MONTO_INVALIDO"


@pytest.mark.parametrize("status", ["PAGADA", "SUSTITUIDA", "CANCELADA", "CADUCADA"])
def test_a_referencia_that_is_not_vigente_is_refused_with_its_status(status):
    v = verdict(record(status=status))
    assert (v.ok, v.code) == (False, status)
    assert v.message


def test_an_unknown_referencia_is_refused_and_the_offline_message_says_why():
    online = check_payment(None, tender=Tender(cash=AMOUNT), now=at(MONDAY, 9), policy=POLICY)
    offline = check_payment(
        None, tender=Tender(cash=AMOUNT), now=at(MONDAY, 9), policy=POLICY, online=False
    )
    assert online.code == offline.code == "NO_ENCONTRADA"
    assert "Sin conexión" in offline.message and "Sin conexión" not in online.message


def test_a_referencia_this_terminal_already_took_is_paid_even_if_central_still_says_vigente():
    v = verdict(record(local_payment_uuid="0f0e"))
    assert (v.ok, v.code) == (False, "PAGADA")


def test_rules_apply_in_the_institutes_order():
    # Paid, expired, out of hours and short: the status is the first thing the cashier hears.
    v = verdict(record(status="PAGADA"), cash=Decimal(1), now=at(MONDAY + timedelta(1), 23))
    assert v.code == "PAGADA"
    v = verdict(cash=Decimal(1), now=at(MONDAY + timedelta(1), 23))
    assert v.code == "CADUCADA"
    v = verdict(cash=Decimal(1), now=at(MONDAY, 23))
    assert v.code == "FUERA_DE_HORARIO"


def test_a_clock_far_from_centrals_refuses_payments():
    assert verdict(clock_skew=timedelta(minutes=4, seconds=59)).ok
    v = verdict(clock_skew=timedelta(minutes=-6))
    assert (v.ok, v.code) == (False, "RELOJ_DESFASADO")


def test_naive_datetimes_are_a_programming_error():
    with pytest.raises(ValueError, match="zona horaria"):
        verdict(now=datetime(2026, 11, 23, 12, 0))


def test_the_same_instant_in_another_time_zone_gets_the_same_verdict():
    # 04:30 UTC on Tuesday is 22:30 Monday in Mexico City: closed, not "Tuesday morning".
    late = datetime(2026, 11, 24, 4, 30, tzinfo=UTC)
    assert verdict(now=late).code == "FUERA_DE_HORARIO"
    # 13:00 UTC Monday is 07:00 in Mexico City: open.
    assert verdict(now=datetime(2026, 11, 23, 13, 0, tzinfo=UTC)).ok
    tokyo = datetime(2026, 11, 24, 3, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # 12:00 Monday in MX
    assert verdict(now=tokyo).ok


@given(
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    st.integers(min_value=-12 * 60, max_value=14 * 60),
)
def test_the_verdict_depends_only_on_the_instant_not_its_zone(instant, offset_minutes):
    other = instant.astimezone(timezone(timedelta(minutes=offset_minutes)))
    day = instant.astimezone(MX).date()
    rec = record(day)
    a = verdict(rec, now=instant)
    b = verdict(rec, now=other)
    assert (a.ok, a.code) == (b.ok, b.code)
    local = instant.astimezone(MX)
    expected_open = POLICY.is_business_day(day) and time(7) <= local.time() < time(22)
    assert a.ok is expected_open


def test_policy_round_trips_through_what_central_sends():
    policy = replace(
        POLICY,
        window_start=time(8, 30),
        non_working_days=frozenset({date(2026, 12, 24)}),
        cash_cap=Decimal("25000.00"),
        version=3,
    )
    assert Policy.from_dict(policy.to_dict()) == policy


@pytest.mark.parametrize(
    "bad",
    [
        {"window_start": "23:00"},
        {"business_weekdays": [7]},
        {"timezone": "Mars/Olympus"},
        {"cash_cap": "mucho"},
    ],
)
def test_a_bad_policy_from_central_is_refused(bad):
    with pytest.raises((ValueError, KeyError)):  # ZoneInfoNotFoundError is a KeyError
        Policy.from_dict(bad)


def test_the_kiosk_knows_how_long_until_the_window_closes():
    assert POLICY.closes_in(at(MONDAY, 21, 45)) == timedelta(minutes=15)
    assert POLICY.closes_in(at(MONDAY, 22, 0)) is None
    assert POLICY.next_business_day(date(2026, 11, 13)) == date(2026, 11, 17)  # skips Mon 16
