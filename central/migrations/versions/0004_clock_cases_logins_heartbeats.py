"""Central's clock and limits (issue 13): case kinds on the reconciliation list, the
terminal's folio on payments, kiosk login attempts, heartbeats and audit heads.

Revision ID: sec13_0003
Revises: 0002
Create Date: 2026-12-01

"""

from collections.abc import Sequence
from importlib import import_module

import sqlalchemy as sa
from alembic import op

revision: str = "sec13_0003"
down_revision: str | Sequence[str] | None = "kiosk12_0003_member_profile"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _apply_function(with_folio: bool) -> str:
    """Migration 0002's isseg_apply_payments, writing the payment's folio when asked."""
    base = import_module("central.migrations.versions.0002_pg_payment_function").APPLY
    text = base.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
    if not with_folio:
        return str(text)
    for old, new in (
        ("loan_status varchar)", "loan_status varchar, folio bigint)"),
        ("response_body, effect\n", "response_body, effect, folio\n"),
        ("v.response_body, v.effect\n", "v.response_body, v.effect, v.folio\n"),
    ):
        if old not in text:
            raise RuntimeError(f"isseg_apply_payments cambió: falta {old!r}")
        text = text.replace(old, new)
    return str(text)


def upgrade() -> None:
    with op.batch_alter_table("reconciliation") as batch:
        batch.alter_column("payment_uuid", existing_type=sa.String(length=36), nullable=True)
        batch.add_column(
            sa.Column(
                "kind", sa.String(length=30), server_default="REFUSED_PAYMENT", nullable=False
            )
        )
        batch.add_column(sa.Column("terminal_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("detail", sa.JSON(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_reconciliation_terminal_id_terminals"),
            "terminals",
            ["terminal_id"],
            ["terminal_id"],
        )
        batch.create_index("ix_reconciliation_terminal_kind", ["terminal_id", "kind"])
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("folio", sa.BigInteger(), nullable=True))
        batch.create_index("ix_payments_terminal_folio", ["terminal_id", "folio"])
    op.create_table(
        "login_attempts",
        sa.Column("member_number", sa.String(length=20), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("member_number", name=op.f("pk_login_attempts")),
    )
    op.create_table(
        "kiosk_login_windows",
        sa.Column("terminal_id", sa.Integer(), nullable=False),
        sa.Column("minute", sa.DateTime(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["terminal_id"],
            ["terminals.terminal_id"],
            name=op.f("fk_kiosk_login_windows_terminal_id_terminals"),
        ),
        sa.PrimaryKeyConstraint("terminal_id", name=op.f("pk_kiosk_login_windows")),
    )
    op.create_table(
        "terminal_heartbeats",
        sa.Column("terminal_id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("queue_depth", sa.Integer(), nullable=False),
        sa.Column("oldest_pending_seconds", sa.Integer(), nullable=True),
        sa.Column("clock_skew_seconds", sa.Integer(), nullable=True),
        sa.Column("printer_state", sa.String(length=100), nullable=False),
        sa.Column("cache_age_seconds", sa.Integer(), nullable=True),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        sa.Column("audit_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["terminal_id"],
            ["terminals.terminal_id"],
            name=op.f("fk_terminal_heartbeats_terminal_id_terminals"),
        ),
        sa.PrimaryKeyConstraint("terminal_id", name=op.f("pk_terminal_heartbeats")),
    )
    op.create_table(
        "audit_heads",
        sa.Column("terminal_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["terminal_id"],
            ["terminals.terminal_id"],
            name=op.f("fk_audit_heads_terminal_id_terminals"),
        ),
        sa.PrimaryKeyConstraint("terminal_id", "seq", name=op.f("pk_audit_heads")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_apply_function(with_folio=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_apply_function(with_folio=False))
    op.drop_table("audit_heads")
    op.drop_table("terminal_heartbeats")
    op.drop_table("kiosk_login_windows")
    op.drop_table("login_attempts")
    with op.batch_alter_table("payments") as batch:
        batch.drop_index("ix_payments_terminal_folio")
        batch.drop_column("folio")
    with op.batch_alter_table("reconciliation") as batch:
        batch.drop_index("ix_reconciliation_terminal_kind")
        batch.drop_constraint(
            batch.f("fk_reconciliation_terminal_id_terminals"), type_="foreignkey"
        )
        batch.drop_column("detail")
        batch.drop_column("terminal_id")
        batch.drop_column("kind")
        batch.alter_column("payment_uuid", existing_type=sa.String(length=36), nullable=False)
