"""PostgreSQL only: the functions of the two-round-trip payment path (central/pgpay.py).

``isseg_payment_stamp(reference)`` names the exact versions of every row a payment decision
reads: the referencia, its loan and the loan's installments (their ``xmin``, which changes
whenever a row is rewritten). ``isseg_apply_payments`` takes a batch of decided payments; for
each, it locks the loan and writes the payment only if the stamp is still the one the decision
was made on; otherwise, or on any error, that payment writes nothing and comes back as not
applied. SQLite has neither, and takes the Core path.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAMP = """
CREATE FUNCTION isseg_payment_stamp(p_reference varchar) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- PL/pgSQL keeps its plans for the session; a SQL function here is planned on every call.
    RETURN (
        SELECT r.xmin::text || '/' || l.xmin::text || '/' || coalesce((
            SELECT string_agg(i.number::text || ':' || i.xmin::text, ',' ORDER BY i.number)
            FROM loan_installments i WHERE i.loan_id = r.loan_id), '')
        FROM payment_references r JOIN loans l ON l.loan_id = r.loan_id
        WHERE r.reference = p_reference
    );
END
$$
"""

APPLY = """
CREATE FUNCTION isseg_apply_payments(p_items json)
RETURNS TABLE (payment_uuid varchar, applied boolean) LANGUAGE plpgsql AS $$
DECLARE
    v record;
    v_loan varchar;
BEGIN
    -- The caller sends the items ordered by loan, so two batches lock loans in one order.
    FOR v IN
        SELECT * FROM json_to_recordset(p_items) AS x(
            stamp text, payment_uuid varchar, reference varchar, store_id varchar,
            terminal_id integer, amount bigint, cash bigint, card bigint, paid_at timestamp,
            received_at timestamp, cashier varchar, status varchar, request_hash varchar,
            response_code integer, response_body json, effect json, paid_now integer[],
            prepayments bigint, loan_status varchar)
    LOOP
        payment_uuid := v.payment_uuid;
        applied := false;
        -- Each payment in its own subtransaction: one that fails leaves the others.
        BEGIN
            SELECT r.loan_id INTO v_loan FROM payment_references r
            WHERE r.reference = v.reference;
            -- The lock every writer of this loan and its referencias takes first.
            PERFORM 1 FROM loans l WHERE l.loan_id = v_loan FOR UPDATE;
            IF isseg_payment_stamp(v.reference) IS NOT DISTINCT FROM v.stamp THEN
                UPDATE payment_references r
                SET status = 'PAGADA', version = r.version + 1, change_seq = NULL
                WHERE r.reference = v.reference;
                INSERT INTO payments (
                    payment_uuid, reference, store_id, terminal_id, amount, cash, card,
                    paid_at, received_at, cashier, status, request_hash, response_code,
                    response_body, effect
                ) VALUES (
                    v.payment_uuid, v.reference, v.store_id, v.terminal_id, v.amount, v.cash,
                    v.card, v.paid_at, v.received_at, v.cashier, v.status, v.request_hash,
                    v.response_code, v.response_body, v.effect
                );
                -- Its primary key is the at-most-once guarantee, as on the Core path.
                INSERT INTO reference_claims (reference, payment_uuid)
                VALUES (v.reference, v.payment_uuid);
                IF cardinality(v.paid_now) > 0 THEN
                    UPDATE loan_installments i SET state = 'PAGADA'
                    WHERE i.loan_id = v_loan AND i.number = ANY(v.paid_now);
                END IF;
                IF v.loan_status IS NOT NULL THEN
                    UPDATE loans l SET prepayments = v.prepayments, status = v.loan_status
                    WHERE l.loan_id = v_loan;
                END IF;
                applied := true;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            -- A replayed key, a claim taken meanwhile, a deadlock: nothing of this payment
            -- was written, and the Core path answers it.
            applied := false;
        END;
        RETURN NEXT;
    END LOOP;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(STAMP)
        op.execute(APPLY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION isseg_apply_payments")
        op.execute("DROP FUNCTION isseg_payment_stamp")
