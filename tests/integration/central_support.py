"""Fixtures and helpers for central's tests: a real server on loopback over a clean database.

Every test runs on SQLite and, when ``ISSEG_TEST_PG_URL`` is set (for example
``postgresql+psycopg://isseg:isseg@127.0.0.1:5432/isseg_test``), again on PostgreSQL, each
time in a database of its own (PostgreSQL: a fresh database created and dropped around it).
Central's clock is a fixed business-day moment, so the tests pass at any hour or day.
"""

from __future__ import annotations

import os
import time
import uuid
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from central import db as dbmod
from central.clock import ShiftedClock
from central.embedded import EmbeddedCentral

MX = ZoneInfo("America/Mexico_City")
# A Tuesday, not a holiday, in the middle of the payment window.
BUSINESS_NOW = datetime(2025, 6, 10, 10, 0, tzinfo=MX)
PG_ENV = "ISSEG_TEST_PG_URL"


def _pg_url() -> str | None:
    return os.environ.get(PG_ENV) or None


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated central database (as after ``isseg-farmacia central migrar``)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'central.sqlite'}"
        dbmod.upgrade(url)
        yield url
        return
    base = _pg_url()
    if base is None:
        pytest.skip(f"PostgreSQL: defina {PG_ENV} para correr estas pruebas también ahí")
    with fresh_pg_database(base) as url:
        dbmod.upgrade(url)
        yield url


class fresh_pg_database:  # noqa: N801 - used like a function
    """A new, empty PostgreSQL database next to the one in ``base``; dropped afterwards."""

    def __init__(self, base: str) -> None:
        self.base = make_url(base)
        self.name = f"isseg_t_{uuid.uuid4().hex[:12]}"

    def _admin(self) -> Any:
        return create_engine(self.base, isolation_level="AUTOCOMMIT", poolclass=NullPool)

    def __enter__(self) -> str:
        engine = self._admin()
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        engine.dispose()
        return self.base.set(database=self.name).render_as_string(hide_password=False)

    def __exit__(self, *exc: object) -> None:
        engine = self._admin()
        try:
            for attempt in range(20):
                try:
                    with engine.connect() as conn:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
                    return
                except DBAPIError:
                    # A backend of another role (autovacuum, a monitor) still on it: wait.
                    if attempt == 19:
                        warnings.warn(f"no se pudo borrar la base {self.name}", stacklevel=2)
                    time.sleep(0.25)
        finally:
            engine.dispose()


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock(BUSINESS_NOW, frozen=True)


@pytest.fixture
def central_options() -> dict[str, Any]:
    """Extra ``create_app`` options; a test overrides it with ``pytest.mark.parametrize``."""
    return {}


@pytest.fixture
def central(
    db_url: str, clock: ShiftedClock, central_options: dict[str, Any]
) -> Iterator[EmbeddedCentral]:
    with EmbeddedCentral(db_url, clock=clock, seed_demo=True, **central_options) as server:
        yield server


class Api:
    """Thin httpx helpers over a running central and its demo data."""

    def __init__(self, server: EmbeddedCentral, clock: ShiftedClock) -> None:
        self.server = server
        self.clock = clock
        self.http = httpx.Client(base_url=server.base_url, timeout=30)
        self.demo = server.demo

    def close(self) -> None:
        self.http.close()

    def token(self, store_id: str = "F001", kind: str = "caja") -> str:
        return next(
            t["token"]
            for t in self.demo["terminals"]
            if t["store_id"] == store_id and t["kind"] == kind
        )

    def auth(self, token: str, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", **headers}

    def login(self, number: str = "100001", nip: str = "1234", store_id: str = "F001") -> str:
        r = self.http.post(
            "/v1/kiosk/sessions",
            headers=self.auth(self.token(store_id, "kiosko")),
            json={"member_number": number, "nip": nip},
        )
        assert r.status_code == 201, r.text
        return str(r.json()["session_token"])

    def slip(self, session: str, **body: Any) -> httpx.Response:
        return self.http.post("/v1/kiosk/slips", headers=self.auth(session), json=body)

    def loans(self, session: str) -> dict[str, Any]:
        r = self.http.get("/v1/kiosk/loans", headers=self.auth(session))
        assert r.status_code == 200, r.text
        return dict(r.json())

    def payment_body(
        self, reference: str, amount: str, store_id: str = "F001", **extra: Any
    ) -> dict[str, Any]:
        body = {
            "reference": reference,
            "store_id": store_id,
            "amount": amount,
            "cash": amount,
            "card": "0.00",
            "paid_at": self.clock().isoformat(),
            "cashier": "cajero1",
        }
        body.update(extra)
        return body

    def pay(
        self,
        body: dict[str, Any],
        key: str | None = None,
        token: str | None = None,
    ) -> httpx.Response:
        return self.http.post(
            "/v1/payments",
            headers=self.auth(
                token or self.token(body["store_id"]), **{"Idempotency-Key": key or new_key()}
            ),
            json=body,
        )

    def reference(self, reference: str, store_id: str = "F001") -> dict[str, Any]:
        r = self.http.get(f"/v1/references/{reference}", headers=self.auth(self.token(store_id)))
        assert r.status_code == 200, r.text
        return dict(r.json())


def new_key() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def api(central: EmbeddedCentral, clock: ShiftedClock) -> Iterator[Api]:
    client = Api(central, clock)
    yield client
    client.close()
