"""One-time enrollment codes: a terminal joins with a short code instead of a typed token.

Revision ID: ops14_0003_enrollment_codes
Revises: sec13_0003
Create Date: 2026-12-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ops14_0003_enrollment_codes"
down_revision: str | Sequence[str] | None = "sec13_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "enrollment_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("store_id", sa.String(length=20), nullable=False),
        sa.Column("store_name", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("terminal_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_enrollment_codes")),
    )


def downgrade() -> None:
    op.drop_table("enrollment_codes")
