"""Affiliates' names as the console searches them: members.name_folded, the name without
accents or case (central.models.fold_name), filled here for the members already loaded and kept
by central's own writes from now on. "Maria lopez" finds "María López" on SQLite and PostgreSQL
alike, without unaccent or collations.

Revision ID: search16_0008_member_name_folded
Revises: inst15_0003_institute
Create Date: 2026-12-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from central.models import fold_name

revision: str = "search16_0008_member_name_folded"
down_revision: str | Sequence[str] | None = "inst15_0003_institute"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("name_folded", sa.String(length=200), server_default="", nullable=False)
        )
    bind = op.get_bind()
    members = sa.table("members", sa.column("number", sa.String), sa.column("name", sa.String),
                       sa.column("name_folded", sa.String))  # fmt: skip
    rows = bind.execute(sa.select(members.c.number, members.c.name)).all()
    update = (
        members.update()
        .where(members.c.number == sa.bindparam("n"))
        .values(name_folded=sa.bindparam("f"))
    )
    for start in range(0, len(rows), BATCH):
        batch = [
            {"n": number, "f": fold_name(name)} for number, name in rows[start : start + BATCH]
        ]
        bind.execute(update, batch)
    if bind.dialect.name == "postgresql":
        # No default from here on: a writer that forgets the column fails instead of hiding
        # the affiliate from a search by name. (SQLite keeps it: dropping one rebuilds the table.)
        op.alter_column("members", "name_folded", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("name_folded")
