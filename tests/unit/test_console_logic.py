"""The console's pure parts: terminal alerts, money as Mexico writes it, the chart, roles."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from central.console.auth import PERMISSIONS, Staff
from central.console.exports import bar_chart, pesos
from central.console.queries import Row
from central.console.seams import Health, alerts
from kiosk.rules import Policy

MX = ZoneInfo("America/Mexico_City")
TUESDAY_NOON = datetime(2025, 6, 10, 12, 0, tzinfo=MX)
SUNDAY_NOON = datetime(2025, 6, 8, 12, 0, tzinfo=MX)


def test_money_unsent_for_over_an_hour_is_an_alert() -> None:
    health = Health(
        last_seen_at=TUESDAY_NOON,
        queue=3,
        oldest_pending_at=TUESDAY_NOON - timedelta(hours=1, minutes=1),
    )
    assert alerts(health, TUESDAY_NOON, Policy()) == [
        "Pagos sin enviar desde 10/06 10:59 (3 en cola)"
    ]
    recent = Health(
        last_seen_at=TUESDAY_NOON, queue=3, oldest_pending_at=TUESDAY_NOON - timedelta(minutes=59)
    )
    assert alerts(recent, TUESDAY_NOON, Policy()) == []


def test_silence_is_an_alert_only_in_business_hours() -> None:
    quiet = Health(last_seen_at=TUESDAY_NOON - timedelta(minutes=6))
    assert alerts(quiet, TUESDAY_NOON, Policy()) == ["Sin latido desde 11:54"]
    sunday = Health(last_seen_at=SUNDAY_NOON - timedelta(hours=5))
    assert alerts(sunday, SUNDAY_NOON, Policy()) == []
    night = TUESDAY_NOON.replace(hour=23)
    assert alerts(Health(last_seen_at=night - timedelta(hours=2)), night, Policy()) == []
    assert alerts(None, TUESDAY_NOON, Policy()) == []


def test_pesos_are_written_as_in_mexico() -> None:
    assert pesos(Decimal("92831986.14")) == "$92,831,986.14"
    assert pesos(Decimal("-20")) == "-$20.00"
    assert pesos("0.5") == "$0.50"


def test_the_chart_has_one_bar_per_row_sized_by_amount_and_escapes_labels() -> None:
    svg = bar_chart([Row("<b>", Decimal("100"), 1), Row("dos", Decimal("50"), 1)], "Título")
    assert svg.count("<rect") == 2
    assert 'width="420"' in svg and 'width="210"' in svg
    assert "&lt;b&gt;" in svg and "<b>" not in svg
    assert bar_chart([], "vacío") == ""


def test_each_kind_of_change_belongs_to_one_role() -> None:
    changes = ["revocar_terminal", "codigos_alta", "resolver_caso", "cambiar_politica",
               "restablecer_nip", "desbloquear"]  # fmt: skip
    for change in changes:
        holders = [role for role, perms in PERMISSIONS.items() if change in perms]
        assert len(holders) == 1, change
    soporte = Staff(1, "s", "S", "soporte", "t", "h")
    assert soporte.may("restablecer_nip") and not soporte.may("resolver_caso")
    assert not Staff(1, "x", "X", "desconocido", "t", "h").may("ver")
