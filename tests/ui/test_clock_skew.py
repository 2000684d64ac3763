"""The terminal's clock against central's: shown past a minute, payments refused past the
policy's limit (five minutes by default)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from kiosk import shifts
from tests.ui.conftest import add_people, cache_reference, demo_terminal, enrolled, make_settings
from tests.ui.test_cashier import login, scan
from ui.cashier import CashierWindow


@pytest.fixture
def behind_central(request: Any, clock: Any) -> Iterator[Any]:
    """Central on loopback whose clock runs ``request.param`` minutes behind this terminal."""
    from central.embedded import EmbeddedCentral

    lag = timedelta(minutes=request.param)
    c = EmbeddedCentral(clock=lambda: clock() - lag, seed_demo=True).start()
    yield c
    c.stop()


@pytest.mark.parametrize(
    ("behind_central", "shown", "refused"),
    [(2, "Reloj 2 min adelantado", False), (10, "Reloj 10 min adelantado", True)],
    indirect=["behind_central"],
)
def test_a_clock_skew_is_shown_and_past_the_limit_payments_are_refused(
    qtbot: Any,
    tmp_path: Any,
    clock: Any,
    runner: Any,
    behind_central: Any,
    shown: str,
    refused: bool,
) -> None:
    enrollment = demo_terminal(behind_central)
    settings = make_settings(
        tmp_path, central_url=behind_central.base_url, terminal_token=enrollment["token"]
    )
    t = enrolled(settings, clock, enrollment)
    try:
        _, person = add_people(t, clock)
        shifts.open_shift(t.uow, cashier_id=person.id, opening_float=Decimal("0"), clock=clock)
        record = cache_reference(t, 9_000_061, "150.00", clock)
        w = CashierWindow(t, runner, status_poll_ms=100)
        qtbot.addWidget(w)
        w.show()
        login(qtbot, w)
        qtbot.waitUntil(lambda: w.pages.currentWidget() is w.work, timeout=5000)
        qtbot.waitUntil(lambda: shown in w.status.clock.text(), timeout=10000)
        assert w.status.clock.isVisible()
        assert ("no se reciben pagos" in w.status.clock.text()) is refused
        verdict = scan(qtbot, w, record.reference)
        if refused:
            assert verdict.code == "RELOJ_DESFASADO"
            assert w.verdict_panel.headline.text() == "✘ NO SE PUEDE COBRAR"
            assert "minutos del instituto" in w.verdict_panel.reason.text()
            assert not w.tender.isEnabled()
        else:
            assert verdict.ok
        w.close()
    finally:
        runner.shutdown()
        t.close()


def test_a_skew_under_a_minute_is_not_shown() -> None:
    from ui.status import skew_text

    assert skew_text(timedelta(seconds=59)) == ""
    assert skew_text(None) == ""
    assert skew_text(timedelta(minutes=-3)) == "Reloj 3 min atrasado"
