"""The institute's web console: its users, sessions and audit; indexes for its day views and
affiliate pages; on PostgreSQL, statistics that let the monthly report run in parallel.

Revision ID: console16_0003_console
Revises: ops14_0003_enrollment_codes
Create Date: 2026-12-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "console16_0003_console"
down_revision: str | Sequence[str] | None = "ops14_0003_enrollment_codes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Exactly the expression central.console.queries groups by on PostgreSQL (policy time zone).
LOCAL_MONTH = "date_trunc('month', timezone('America/Mexico_City', timezone('UTC', paid_at)))"


def upgrade() -> None:
    op.create_table(
        "console_users",
        sa.Column("user_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_console_users")),
        sa.UniqueConstraint("username", name=op.f("uq_console_users_username")),
    )
    op.create_table(
        "console_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["console_users.user_id"],
            name=op.f("fk_console_sessions_user_id_console_users"),
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_console_sessions")),
    )
    op.create_index(
        op.f("ix_console_sessions_user_id"), "console_sessions", ["user_id"], unique=False
    )
    op.create_table(
        "console_audit",
        sa.Column("audit_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("username", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("remote", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("audit_id", name=op.f("pk_console_audit")),
    )
    op.create_index(op.f("ix_console_audit_at"), "console_audit", ["at"], unique=False)
    op.create_index("ix_payments_paid_at", "payments", ["paid_at"], unique=False)
    op.create_index(
        "ix_closings_business_date", "closings", ["business_date", "store_id"], unique=False
    )
    op.create_index(
        "ix_payment_references_member_number",
        "payment_references",
        ["member_number"],
        unique=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        # The monthly report groups every payment by its local month. Without statistics on
        # that expression the planner guesses a group per row and aggregates in one process;
        # with them it knows there are a few hundred and splits the scan across workers.
        op.execute(f"CREATE STATISTICS st_payments_local_month ON ({LOCAL_MONTH}) FROM payments")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS IF EXISTS st_payments_local_month")
    op.drop_index("ix_payment_references_member_number", table_name="payment_references")
    op.drop_index("ix_closings_business_date", table_name="closings")
    op.drop_index("ix_payments_paid_at", table_name="payments")
    op.drop_index(op.f("ix_console_audit_at"), table_name="console_audit")
    op.drop_table("console_audit")
    op.drop_index(op.f("ix_console_sessions_user_id"), table_name="console_sessions")
    op.drop_table("console_sessions")
    op.drop_table("console_users")
