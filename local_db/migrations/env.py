"""Alembic environment: always driven from local_db.engine with an open connection."""

from alembic import context

connection = context.config.attributes["connection"]
# transactional_ddl: the whole upgrade runs inside the caller's BEGIN IMMEDIATE, so a
# crash mid-upgrade leaves the file at the old version instead of half-migrated.
context.configure(connection=connection, render_as_batch=True, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
