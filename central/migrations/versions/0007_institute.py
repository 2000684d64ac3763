"""The institute's side of central: service accounts, the event log with its webhook
deliveries and email notices, policy versions, the dispatcher's lease; members' email and
phone, loans' dependencia and upsert versions, fichas' channel and idempotency key, and case
resolutions. On PostgreSQL the batched payment function also writes the payment's event.

Revision ID: inst15_0003_institute
Revises: console16_0003_console
Create Date: 2026-12-01

"""

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "inst15_0003_institute"
down_revision: str | Sequence[str] | None = "console16_0003_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The batched payment function as 0004 left it (it writes the caja's folio).
_CLOCK = importlib.import_module("central.migrations.versions.0004_clock_cases_logins_heartbeats")


def _with_events(apply: str) -> str:
    """0004's isseg_apply_payments, also writing each applied payment's event (built by
    central.service.events.payment_applied) in the payment's own subtransaction."""
    fields = "prepayments bigint, loan_status varchar, folio bigint)"
    claim = "VALUES (v.reference, v.payment_uuid);"
    assert fields in apply and claim in apply
    return (
        apply.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
        .replace(
            fields,
            "prepayments bigint, loan_status varchar, folio bigint, event_id varchar,\n"
            "            event_payload json)",
        )
        .replace(
            claim,
            claim + "\n                INSERT INTO events (event_id, seq, kind, created_at, "
            "payload, member_number)\n                VALUES (v.event_id, NULL, "
            "'PAGO_APLICADO', v.received_at, v.event_payload,\n"
            "                        v.event_payload->'data'->>'member_number');",
        )
    )


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "events",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("member_number", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_events")),
        sa.UniqueConstraint("seq", name=op.f("uq_events_seq")),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("until", sa.DateTime(), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.create_table(
        "policy_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_policy_versions")),
    )
    op.create_table(
        "service_accounts",
        sa.Column("account_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_service_accounts")),
        sa.UniqueConstraint("name", name=op.f("uq_service_accounts_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_service_accounts_token_hash")),
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("endpoint_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("endpoint_id", name=op.f("pk_webhook_endpoints")),
    )
    op.create_table(
        "notices",
        sa.Column("notice_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.event_id"], name=op.f("fk_notices_event_id_events")
        ),
        sa.PrimaryKeyConstraint("notice_id", name=op.f("pk_notices")),
        sa.UniqueConstraint("event_id", name=op.f("uq_notices_event_id")),
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notices_status"), ["status"], unique=False)

    op.create_table(
        "webhook_deliveries",
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.endpoint_id"],
            name=op.f("fk_webhook_deliveries_endpoint_id_webhook_endpoints"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.event_id"], name=op.f("fk_webhook_deliveries_event_id_events")
        ),
        sa.PrimaryKeyConstraint("endpoint_id", "event_id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_deliveries_status"), ["status"], unique=False)

    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("dependencia", sa.String(length=100), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("sync_hash", sa.String(length=64), nullable=True))

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("sync_hash", sa.String(length=64), nullable=True))

    with op.batch_alter_table("payment_references", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=10), server_default="KIOSKO", nullable=False)
        )
        batch_op.add_column(sa.Column("request_key", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("request_hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_payment_references_request_key"), ["request_key"]
        )

    with op.batch_alter_table("reconciliation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resolution", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("resolved_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("resolution_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("refund_paid_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("refund_paid_by", sa.String(length=100), nullable=True))

    counters = sa.table("counters", sa.column("name", sa.String), sa.column("value", sa.BigInteger))
    op.bulk_insert(counters, [{"name": "events", "value": 0}])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_with_events(_CLOCK._apply_function(with_folio=True)))


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_CLOCK._apply_function(with_folio=True))
    op.execute("DELETE FROM counters WHERE name = 'events'")
    with op.batch_alter_table("reconciliation", schema=None) as batch_op:
        batch_op.drop_column("refund_paid_by")
        batch_op.drop_column("refund_paid_at")
        batch_op.drop_column("resolution_reason")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("resolved_by")
        batch_op.drop_column("resolution")

    with op.batch_alter_table("payment_references", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_payment_references_request_key"), type_="unique")
        batch_op.drop_column("request_hash")
        batch_op.drop_column("request_key")
        batch_op.drop_column("channel")

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("sync_hash")
        batch_op.drop_column("version")
        batch_op.drop_column("phone")
        batch_op.drop_column("email")

    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_column("sync_hash")
        batch_op.drop_column("version")
        batch_op.drop_column("dependencia")

    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_status"))

    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notices_status"))

    op.drop_table("notices")
    op.drop_table("webhook_endpoints")
    op.drop_table("service_accounts")
    op.drop_table("policy_versions")
    op.drop_table("leases")
    op.drop_table("events")
