"""Cash control: drops, counts, voids, reprints, day closes.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cash_drops",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("shift_id", sa.Integer, sa.ForeignKey("shifts.id"), nullable=False, index=True),
        sa.Column("amount_cents", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.CheckConstraint("amount_cents > 0", name="ck_cash_drops_amount"),
    )
    op.create_table(
        "cash_counts",
        sa.Column("shift_id", sa.Integer, sa.ForeignKey("shifts.id"), primary_key=True),
        sa.Column("pieces", sa.Text, nullable=False),
        sa.Column("total_cents", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("at", sa.Text, nullable=False),
    )
    op.create_table(
        "voids",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "payment_uuid", sa.Text, sa.ForeignKey("payments.uuid"), nullable=False, unique=True
        ),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("manager_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("requested_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("business_date", sa.Text, nullable=False, index=True),
    )
    op.create_table(
        "reprints",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "payment_uuid", sa.Text, sa.ForeignKey("payments.uuid"), nullable=False, index=True
        ),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("business_date", sa.Text, nullable=False, index=True),
    )
    op.create_table(
        "day_closes",
        sa.Column("business_date", sa.Text, primary_key=True),
        sa.Column("closed_at", sa.Text, nullable=False),
        sa.Column("closed_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("figures", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("day_closes", "reprints", "voids", "cash_counts", "cash_drops"):
        op.drop_table(table)
