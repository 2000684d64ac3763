"""What a terminal leaves on its disk (issue 13): a private data folder, no token in a repr,
and a referencia cache that keeps only live fichas, so a year-old till holds what a
week-old one holds."""

from __future__ import annotations

import stat
from datetime import date, timedelta
from pathlib import Path

import pytest

import local_db
from kiosk import reference_cache
from kiosk.settings import Settings
from local_db.testing import reference_records


@pytest.mark.skipif(not hasattr(stat, "S_IMODE"), reason="POSIX modes")
def test_the_data_folder_is_0700_and_the_database_0600(tmp_path: Path) -> None:
    folder = tmp_path / "datos"
    db = local_db.open_database(folder / "terminal.sqlite")
    try:
        reference_cache.upsert(db.unit_of_work(), reference_records(date(2025, 3, 11), 3))
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        for path in folder.iterdir():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    finally:
        db.close()


def test_the_token_is_not_in_the_settings_repr() -> None:
    settings = Settings().with_values({"terminal_token": "secreto-de-la-caja"})
    assert "secreto-de-la-caja" not in repr(settings)
    assert settings.terminal_token == "secreto-de-la-caja"


def _year_of_fichas(path: Path, days: int, per_day: int) -> int:
    """Fill the cache as a till would over ``days`` days (each day's fichas, then the daily
    pruning); the rows it holds at the end."""
    db = local_db.open_database(path)
    try:
        uow = db.unit_of_work()
        start = date(2025, 1, 6)
        for n in range(days):
            day = start + timedelta(days=n)
            reference_cache.upsert(uow, reference_records(day, per_day, start=n * per_day + 1))
            reference_cache.prune(uow, day)
        with uow.reading():
            return uow.references.count()
    finally:
        db.close()


def test_a_year_old_till_holds_what_a_week_old_one_holds(tmp_path: Path) -> None:
    week = _year_of_fichas(tmp_path / "semana.sqlite", 8, 50)
    year = _year_of_fichas(tmp_path / "anio.sqlite", 365, 50)
    assert week == year == (reference_cache.KEEP_DAYS + 1) * 50
