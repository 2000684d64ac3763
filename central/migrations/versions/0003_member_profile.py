"""Optional member fields for the kiosk's "¿Cuánto me prestan?": monthly base salary,
contribution start, sex, birth date, pensioner, debts with the institute.

Revision ID: kiosk12_0003_member_profile
Revises: 0002
Create Date: 2026-12-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "kiosk12_0003_member_profile"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("monthly_salary", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("contribution_start", sa.Date(), nullable=True))
        batch.add_column(sa.Column("sex", sa.String(length=1), nullable=True))
        batch.add_column(sa.Column("birth_date", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column("pensioner", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(
            sa.Column("has_debts", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("members") as batch:
        for column in (
            "has_debts",
            "pensioner",
            "birth_date",
            "sex",
            "contribution_start",
            "monthly_salary",
        ):
            batch.drop_column(column)
