"""Users (Argon2id PINs, lockout, reset, first run) and the hash-chained audit log."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from kiosk import audit, cashier, terminal_state, users
from kiosk.ports import Refused
from kiosk.rules import Policy, Tender
from local_db import admin
from local_db.testing import (
    CASHIER_PIN,
    FAST_HASHER,
    MANAGER_PIN,
    FixedClock,
    seed_terminal,
)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


def login(uow, clock, username="cajero", pin=CASHIER_PIN):
    return users.login(uow, username, pin, hasher=FAST_HASHER, clock=clock)


def test_first_run_creates_the_first_manager_once(uow, clock):
    assert users.needs_first_manager(uow)
    m = users.create_first_manager(
        uow, username="gerente", name="Ana", pin=MANAGER_PIN, hasher=FAST_HASHER, clock=clock
    )
    assert m.role == "gerente" and not users.needs_first_manager(uow)
    with pytest.raises(Refused) as exc:
        users.create_first_manager(
            uow, username="otro", name="B", pin="9999", hasher=FAST_HASHER, clock=clock
        )
    assert exc.value.code == "YA_CONFIGURADO"


def test_pins_are_stored_as_argon2id_hashes(db, uow, clock):
    seed_terminal(uow, clock, references=0, open_shift=False)
    conn = sqlite3.connect(db.path)
    hashes = [r[0] for r in conn.execute("SELECT pin_hash FROM users")]
    conn.close()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(MANAGER_PIN in h or CASHIER_PIN in h for h in hashes)


def test_a_short_or_non_numeric_pin_is_refused(uow, clock):
    for pin in ("12", "abcd", "123456789"):
        with pytest.raises(Refused) as exc:
            users.create_first_manager(
                uow, username="gg", name="G", pin=pin, hasher=FAST_HASHER, clock=clock
            )
        assert exc.value.code == "NIP_INVALIDO"


def test_the_right_pin_logs_in_and_is_audited(uow, clock):
    seed_terminal(uow, clock, references=0, open_shift=False)
    user = login(uow, clock)
    assert user.username == "cajero"
    with uow.reading():
        assert uow.audit.last().action == "INICIO_SESION"


def test_five_wrong_pins_lock_the_user_for_five_minutes(uow, clock):
    seed_terminal(uow, clock, references=0, open_shift=False)
    for i in range(4):
        with pytest.raises(Refused) as exc:
            login(uow, clock, pin="0000")
        assert exc.value.code == "CREDENCIALES_INVALIDAS"
        left = 4 - i
        assert exc.value.message.endswith(
            "Le queda 1 intento." if left == 1 else f"Le quedan {left} intentos."
        )
    with pytest.raises(Refused) as exc:
        login(uow, clock, pin="0000")
    assert exc.value.code == "USUARIO_BLOQUEADO"
    with pytest.raises(Refused) as exc:
        login(uow, clock)  # the right PIN, still locked
    assert exc.value.code == "USUARIO_BLOQUEADO"
    clock.advance(minutes=4, seconds=59)
    with pytest.raises(Refused):
        login(uow, clock)
    clock.advance(seconds=1)
    assert login(uow, clock).username == "cajero"
    with uow.reading():
        failed = [e for e in uow.audit.all() if e.action == "INICIO_FALLIDO"]
    assert len(failed) == 7


def test_a_manager_resets_a_pin_and_lifts_the_lockout(uow, clock):
    seed_terminal(uow, clock, references=0, open_shift=False)
    for _ in range(5):
        with pytest.raises(Refused):
            login(uow, clock, pin="0000")
    with pytest.raises(Refused) as exc:
        users.reset_pin(
            uow,
            manager="cajero",
            manager_pin=CASHIER_PIN,
            username="cajero",
            new_pin="8642",
            hasher=FAST_HASHER,
            clock=clock,
        )
    assert exc.value.code in ("USUARIO_BLOQUEADO", "REQUIERE_GERENTE")
    users.reset_pin(
        uow,
        manager="gerente",
        manager_pin=MANAGER_PIN,
        username="cajero",
        new_pin="8642",
        hasher=FAST_HASHER,
        clock=clock,
    )
    assert login(uow, clock, pin="8642").username == "cajero"
    with pytest.raises(Refused):
        login(uow, clock)  # the old PIN


def test_a_cashier_cannot_create_users(uow, clock):
    seed_terminal(uow, clock, references=0, open_shift=False)
    with pytest.raises(Refused) as exc:
        users.create_user(
            uow,
            manager="cajero",
            manager_pin=CASHIER_PIN,
            username="x1",
            name="X",
            pin="1111",
            hasher=FAST_HASHER,
            clock=clock,
        )
    assert exc.value.code == "REQUIERE_GERENTE"


def test_the_default_hasher_is_argon2id_and_verifies():
    h = users.DEFAULT_HASHER.hash("2468")
    assert h.startswith("$argon2id$")
    assert users.DEFAULT_HASHER.verify(h, "2468")
    assert not users.DEFAULT_HASHER.verify(h, "2469")


# --- audit -----------------------------------------------------------------------------


@pytest.fixture
def busy_log(db, uow, clock):
    s = seed_terminal(uow, clock, references=3)
    login(uow, clock)
    for r in s.references:
        cashier.take_payment(
            uow,
            reference=r.reference,
            tender=Tender(cash=Decimal("540.00")),
            cashier_id=s.cashier_id,
            clock=clock,
        )
    terminal_state.save_policy(uow, Policy(cash_cap=Decimal("20000.00")), clock=clock)
    return db


def actions(uow) -> list[str]:
    with uow.reading():
        return [e.action for e in uow.audit.all()]


def test_every_sensitive_action_leaves_a_line(busy_log, uow):
    got = actions(uow)
    for action in (
        "ALTA_USUARIO",
        "CAMBIO_CONFIGURACION",
        "APERTURA_TURNO",
        "INICIO_SESION",
        "PAGO",
    ):
        assert action in got
    assert got.count("PAGO") == 3


def test_an_intact_chain_verifies(busy_log, capsys):
    assert admin.main(["verificar-bitacora", "--db", str(busy_log.path)]) == 0
    assert "íntegra" in capsys.readouterr().out


def test_the_app_cannot_update_or_delete_the_log(busy_log):
    conn = sqlite3.connect(busy_log.path)
    with pytest.raises(sqlite3.IntegrityError, match="solo admite"):
        conn.execute("UPDATE audit_log SET actor = 'x' WHERE id = 1")
    with pytest.raises(sqlite3.IntegrityError, match="solo admite"):
        conn.execute("DELETE FROM audit_log WHERE id = 1")
    conn.close()


def tamper(path: Path, *sql: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("DROP TRIGGER audit_log_no_delete")
    for statement in sql:
        conn.execute(statement)
    conn.commit()
    conn.close()


def count_rows(path: Path) -> int:
    conn = sqlite3.connect(path)
    n = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    conn.close()
    return n


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_editing_any_row_is_detected(busy_log, capsys, where):
    n = count_rows(busy_log.path)
    row = {"first": 1, "middle": n // 2, "last": n}[where]
    details = json.dumps({"importe": "1.00"})
    tamper(busy_log.path, f"UPDATE audit_log SET details = '{details}' WHERE id = {row}")
    assert admin.main(["verificar-bitacora", "--db", str(busy_log.path)]) == 1
    assert f"registro {row}" in capsys.readouterr().out


def test_editing_a_row_and_recomputing_its_hash_breaks_the_next_link(busy_log, uow):
    with uow.reading():
        e = uow.audit.all()[3]
    forged = audit.entry_hash(e.prev_hash, e.id, e.at, "intruso", e.action, e.details)
    tamper(
        busy_log.path,
        f"UPDATE audit_log SET actor = 'intruso', hash = '{forged}' WHERE id = {e.id}",
    )
    broken = audit.verify_uow(uow)
    assert broken is not None and broken.entry_id == e.id + 1


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_deleting_any_row_is_detected(busy_log, capsys, where):
    n = count_rows(busy_log.path)
    row = {"first": 1, "middle": n // 2, "last": n}[where]
    tamper(busy_log.path, f"DELETE FROM audit_log WHERE id = {row}")
    assert admin.main(["verificar-bitacora", "--db", str(busy_log.path)]) == 1
    assert "ALTERADA" in capsys.readouterr().out


def test_deleting_the_whole_log_is_detected(busy_log):
    tamper(busy_log.path, "DELETE FROM audit_log")
    assert admin.main(["verificar-bitacora", "--db", str(busy_log.path)]) == 1


def test_the_verifier_reports_an_unopenable_file(tmp_path, capsys):
    assert admin.main(["verificar-bitacora", "--db", str(tmp_path / "no-existe.sqlite")]) == 2
    assert "No existe" in capsys.readouterr().err


def test_each_local_lockout_lasts_twice_the_one_before(uow, clock):
    seed_terminal(uow, clock, references=0, open_shift=False)
    lasted = []
    for _ in range(3):
        for _ in range(5):
            with pytest.raises(Refused) as exc:
                login(uow, clock, pin="0000")
        assert exc.value.code == "USUARIO_BLOQUEADO"
        with uow.reading():
            until = uow.users.by_username("cajero").locked_until
        lasted.append(until - clock())
        clock.now = until
    assert lasted == [timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=20)]
    assert login(uow, clock).username == "cajero"
