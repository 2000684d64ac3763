"""Refunds at the store: a cash drop is a RETIRO (to the safe) or a DEVOLUCION (back to an
affiliate, decided by the institute for a case); both leave the drawer's expected count. A
rejected payment whose case was resolved is "resuelto" in the outbox (off the alerts).

Revision ID: inst15_0003_refunds
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "inst15_0003_refunds"
down_revision = "0002"
branch_labels = None
depends_on = None


STATUSES = "'pendiente', 'confirmado', 'rechazado'"


def _outbox_statuses(allowed: str) -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("ck_outbox_status", type_="check")
        batch.create_check_constraint("ck_outbox_status", f"status IN ({allowed})")


def upgrade() -> None:
    with op.batch_alter_table("cash_drops") as batch:
        batch.add_column(sa.Column("kind", sa.Text, nullable=False, server_default="RETIRO"))
    _outbox_statuses(STATUSES + ", 'resuelto'")


def downgrade() -> None:
    _outbox_statuses(STATUSES)
    with op.batch_alter_table("cash_drops") as batch:
        batch.drop_column("kind")
