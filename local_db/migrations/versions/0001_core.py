"""Core tables: meta, referencia cache, users, shifts, payments, outbox, audit log.

Money is integer centavos; instants are UTC ISO 8601 text; dates are ISO text.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "reference_cache",
        sa.Column("reference", sa.Text, primary_key=True),
        sa.Column("amount_cents", sa.Integer, nullable=False),
        sa.Column("issued_on", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("member_number", sa.Text, nullable=False, server_default=""),
        sa.Column("member_name", sa.Text, nullable=False, server_default=""),
        sa.Column("loan_id", sa.Text, nullable=False, server_default=""),
        sa.Column("kind", sa.Text, nullable=False, server_default=""),
        sa.Column("concept", sa.Text, nullable=False, server_default=""),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("local_payment_uuid", sa.Text, nullable=True),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("pin_hash", sa.Text, nullable=False),
        sa.Column("failed_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.Text, nullable=True),
        sa.Column("active", sa.Integer, nullable=False, server_default="1"),
        sa.CheckConstraint("role IN ('cajero', 'gerente')", name="ck_users_role"),
    )
    op.create_table(
        "shifts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("terminal_id", sa.Text, nullable=False),
        sa.Column("cashier_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("opening_float_cents", sa.Integer, nullable=False),
        sa.Column("opened_at", sa.Text, nullable=False),
        sa.Column("business_date", sa.Text, nullable=False, index=True),
        sa.Column("closed_at", sa.Text, nullable=True),
        sa.Column("closed_by", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("expected_cents", sa.Integer, nullable=True),
        sa.Column("counted_cents", sa.Integer, nullable=True),
        sa.Column("over_short_cents", sa.Integer, nullable=True),
        sa.CheckConstraint("opening_float_cents >= 0", name="ck_shifts_float"),
    )
    # One open shift per terminal (the file is the terminal): a unique index over the
    # constant "is open" so a second open shift is impossible, not merely checked for.
    op.execute(
        "CREATE UNIQUE INDEX ux_shifts_one_open ON shifts ((closed_at IS NULL)) "
        "WHERE closed_at IS NULL"
    )
    op.create_table(
        "payments",
        sa.Column("uuid", sa.Text, primary_key=True),
        sa.Column("folio", sa.Integer, nullable=False, unique=True),
        sa.Column("reference", sa.Text, nullable=False, index=True),
        sa.Column("amount_cents", sa.Integer, nullable=False),
        sa.Column("cash_cents", sa.Integer, nullable=False),
        sa.Column("card_cents", sa.Integer, nullable=False),
        sa.Column("card_authorization", sa.Text, nullable=False, server_default=""),
        sa.Column("cash_received_cents", sa.Integer, nullable=False),
        sa.Column("change_cents", sa.Integer, nullable=False),
        sa.Column("cashier_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("shift_id", sa.Integer, sa.ForeignKey("shifts.id"), nullable=False, index=True),
        sa.Column("terminal_id", sa.Text, nullable=False),
        sa.Column("paid_at", sa.Text, nullable=False),
        sa.Column("business_date", sa.Text, nullable=False, index=True),
        # The arithmetic of a payment, enforced by the file itself.
        sa.CheckConstraint(
            "cash_cents >= 0 AND card_cents >= 0 AND amount_cents = cash_cents + card_cents",
            name="ck_payments_split",
        ),
        sa.CheckConstraint(
            "change_cents = cash_received_cents - cash_cents AND change_cents >= 0",
            name="ck_payments_change",
        ),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.Text, nullable=False, unique=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="pendiente"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
        sa.Column("next_attempt_at", sa.Text, nullable=True),
        sa.Column("response", sa.Text, nullable=True),
        sa.Column("rejection_code", sa.Text, nullable=False, server_default=""),
        sa.Column("rejection_message", sa.Text, nullable=False, server_default=""),
        sa.Column("settled_at", sa.Text, nullable=True),
        sa.CheckConstraint(
            "status IN ('pendiente', 'confirmado', 'rechazado')", name="ck_outbox_status"
        ),
    )
    op.create_index("ix_outbox_status_id", "outbox", ["status", "id"])
    op.create_index("ix_outbox_kind_subject", "outbox", ["kind", "subject"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.Text, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
    )
    # Append-only through the application's own connection. The hash chain is what catches
    # someone who drops these triggers with another tool.
    op.execute(
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'la bitácora solo admite registros nuevos'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'la bitácora solo admite registros nuevos'); END"
    )


def downgrade() -> None:
    for table in ("audit_log", "outbox", "payments", "shifts", "users", "reference_cache", "meta"):
        op.drop_table(table)
