"""Refunds at the store: a cash drop is a RETIRO (to the safe) or a DEVOLUCION (back to an
affiliate, decided by the institute for a case); both leave the drawer's expected count.

Revision ID: inst15_0003_refunds
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "inst15_0003_refunds"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cash_drops") as batch:
        batch.add_column(sa.Column("kind", sa.Text, nullable=False, server_default="RETIRO"))


def downgrade() -> None:
    with op.batch_alter_table("cash_drops") as batch:
        batch.drop_column("kind")
