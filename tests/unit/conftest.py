"""Shared fixtures of the unit tier: the in-memory unit of work and the tests' one clock."""

from __future__ import annotations

from typing import Any

import pytest

from local_db.testing import FixedClock, seed_terminal
from tests.unit.test_services_fake_uow import FakeUnitOfWork


@pytest.fixture
def clock() -> FixedClock:
    """A business morning (Tuesday 11 March 2025, 10:30 in Mexico City), frozen."""
    return FixedClock()


@pytest.fixture
def fake_uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def world(fake_uow: FakeUnitOfWork, clock: FixedClock) -> tuple[FakeUnitOfWork, FixedClock, Any]:
    """A seeded terminal (people, identity, three of today's referencias, an open shift)."""
    s = seed_terminal(fake_uow, clock, references=3)
    fake_uow.log.clear()
    return fake_uow, clock, s
