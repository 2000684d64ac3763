"""Initial schema: stores, terminals, members, loans, referencias, payments, closings.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "counters",
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_counters")),
    )
    op.create_table(
        "members",
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("nip_hash", sa.String(length=200), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_members")),
    )
    op.create_table(
        "stores",
        sa.Column("store_id", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_stores")),
    )
    op.create_table(
        "loans",
        sa.Column("loan_id", sa.String(length=30), nullable=False),
        sa.Column("member_number", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("annual_rate", sa.String(length=20), nullable=False),
        sa.Column("installment", sa.BigInteger(), nullable=False),
        sa.Column("prepayments", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_number"], ["members.number"], name=op.f("fk_loans_member_number_members")
        ),
        sa.PrimaryKeyConstraint("loan_id", name=op.f("pk_loans")),
    )
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loans_member_number"), ["member_number"], unique=False)

    op.create_table(
        "terminals",
        sa.Column("terminal_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.store_id"], name=op.f("fk_terminals_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("terminal_id", name=op.f("pk_terminals")),
        sa.UniqueConstraint("store_id", "name", name=op.f("uq_terminals_store_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_terminals_token_hash")),
    )
    with op.batch_alter_table("terminals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_terminals_store_id"), ["store_id"], unique=False)

    op.create_table(
        "closings",
        sa.Column("closing_uuid", sa.String(length=36), nullable=False),
        sa.Column("store_id", sa.String(length=20), nullable=False),
        sa.Column("terminal_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.store_id"], name=op.f("fk_closings_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["terminal_id"],
            ["terminals.terminal_id"],
            name=op.f("fk_closings_terminal_id_terminals"),
        ),
        sa.PrimaryKeyConstraint("closing_uuid", name=op.f("pk_closings")),
    )
    op.create_table(
        "kiosk_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("member_number", sa.String(length=20), nullable=False),
        sa.Column("terminal_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_number"],
            ["members.number"],
            name=op.f("fk_kiosk_sessions_member_number_members"),
        ),
        sa.ForeignKeyConstraint(
            ["terminal_id"],
            ["terminals.terminal_id"],
            name=op.f("fk_kiosk_sessions_terminal_id_terminals"),
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_kiosk_sessions")),
    )
    op.create_table(
        "loan_installments",
        sa.Column("loan_id", sa.String(length=30), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("principal", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.loan_id"], name=op.f("fk_loan_installments_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("loan_id", "number", name=op.f("pk_loan_installments")),
    )
    op.create_table(
        "payment_references",
        sa.Column("reference", sa.String(length=18), nullable=False),
        sa.Column("loan_id", sa.String(length=30), nullable=True),
        sa.Column("member_number", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("concept", sa.String(length=300), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("quincenas", sa.JSON(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("replaced_by", sa.String(length=18), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.loan_id"], name=op.f("fk_payment_references_loan_id_loans")
        ),
        sa.ForeignKeyConstraint(
            ["member_number"],
            ["members.number"],
            name=op.f("fk_payment_references_member_number_members"),
        ),
        sa.PrimaryKeyConstraint("reference", name=op.f("pk_payment_references")),
        sa.UniqueConstraint("change_seq", name=op.f("uq_payment_references_change_seq")),
    )
    with op.batch_alter_table("payment_references", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_references_loan_id"), ["loan_id"], unique=False
        )

    op.create_table(
        "payments",
        sa.Column("payment_uuid", sa.String(length=36), nullable=False),
        sa.Column("reference", sa.String(length=18), nullable=False),
        sa.Column("store_id", sa.String(length=20), nullable=False),
        sa.Column("terminal_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("cash", sa.BigInteger(), nullable=False),
        sa.Column("card", sa.BigInteger(), nullable=False),
        sa.Column("paid_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("cashier", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response_code", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.JSON(), nullable=False),
        sa.Column("effect", sa.JSON(), nullable=False),
        sa.Column("void_hash", sa.String(length=64), nullable=True),
        sa.Column("void_body", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.store_id"], name=op.f("fk_payments_store_id_stores")
        ),
        sa.ForeignKeyConstraint(
            ["terminal_id"],
            ["terminals.terminal_id"],
            name=op.f("fk_payments_terminal_id_terminals"),
        ),
        sa.PrimaryKeyConstraint("payment_uuid", name=op.f("pk_payments")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_reference"), ["reference"], unique=False)

    op.create_table(
        "reconciliation",
        sa.Column("reconciliation_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("payment_uuid", sa.String(length=36), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_uuid"],
            ["payments.payment_uuid"],
            name=op.f("fk_reconciliation_payment_uuid_payments"),
        ),
        sa.PrimaryKeyConstraint("reconciliation_id", name=op.f("pk_reconciliation")),
        sa.UniqueConstraint("payment_uuid", name=op.f("uq_reconciliation_payment_uuid")),
    )
    op.create_table(
        "reference_claims",
        sa.Column("reference", sa.String(length=18), nullable=False),
        sa.Column("payment_uuid", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_uuid"],
            ["payments.payment_uuid"],
            name=op.f("fk_reference_claims_payment_uuid_payments"),
        ),
        sa.ForeignKeyConstraint(
            ["reference"],
            ["payment_references.reference"],
            name=op.f("fk_reference_claims_reference_payment_references"),
        ),
        sa.PrimaryKeyConstraint("reference", name=op.f("pk_reference_claims")),
        sa.UniqueConstraint("payment_uuid", name=op.f("uq_reference_claims_payment_uuid")),
    )
    counters = sa.table("counters", sa.column("name", sa.String), sa.column("value", sa.BigInteger))
    op.bulk_insert(counters, [{"name": "feed", "value": 0}])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("reference_claims")
    op.drop_table("reconciliation")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_reference"))

    op.drop_table("payments")
    with op.batch_alter_table("payment_references", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_references_loan_id"))

    op.drop_table("payment_references")
    op.drop_table("loan_installments")
    op.drop_table("kiosk_sessions")
    op.drop_table("closings")
    with op.batch_alter_table("terminals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_terminals_store_id"))

    op.drop_table("terminals")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loans_member_number"))

    op.drop_table("loans")
    op.drop_table("stores")
    op.drop_table("members")
    op.drop_table("counters")
