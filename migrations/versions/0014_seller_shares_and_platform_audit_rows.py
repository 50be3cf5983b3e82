"""payment transactions name the refund they record; a Super Admin's audit rows lose their tenant

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-06 17:00:00

`payment_transactions.refund_id`: the refund a transaction records (a refund call, or a gateway
webhook about that refund), so a seller sees a refund's transactions as it sees the refund
(app.orders.shares). Existing refund transactions are linked to the refund of the same payment
with the same gateway reference; a refund transaction left unlinked (a refused refund has no
reference) is shown to staff only. Existing webhook rows are left unlinked (they are shared like
the payment's other transactions). A plain id like refunds.retry_of_refund_id: both rows go with
their payment.

Audit rows: a row written by a Super Admin, or about a Super Admin's account or session, belongs to
no tenant (only Super Admins see it); the rows written before this put them in the tenant whose
host the Super Admin used (its logins, with IP and user agent, showed in that tenant's audit log).
They are moved out of it. The downgrade does not move them back (which tenant's host was used is
not recorded elsewhere).
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("payment_transactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refund_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE payment_transactions SET refund_id = ("
        " SELECT MIN(r.id) FROM refunds r WHERE r.payment_id = payment_transactions.payment_id"
        " AND r.gateway_reference = payment_transactions.gateway_reference)"
        " WHERE kind = 'refund' AND gateway_reference IS NOT NULL"
    )

    conn = op.get_bind()
    users = [
        str(i)
        for i in conn.execute(sa.text("SELECT id FROM ab_user WHERE tenant_id IS NULL")).scalars()
    ]
    sessions = [
        str(i)
        for i in conn.execute(
            sa.text("SELECT id FROM auth_sessions WHERE tenant_id IS NULL")
        ).scalars()
    ]
    tokens = [
        str(i)
        for i in conn.execute(
            sa.text("SELECT id FROM one_time_tokens WHERE tenant_id IS NULL")
        ).scalars()
    ]
    audit = sa.table(
        "audit_log",
        sa.column("tenant_id"),
        sa.column("actor_id"),
        sa.column("entity"),
        sa.column("entity_id"),
    )
    about = [
        sa.and_(audit.c.entity == entity, audit.c.entity_id.in_(ids))
        for entity, ids in (
            ("MarketUser", users),
            ("AuthSession", sessions),
            ("OneTimeToken", tokens),
        )
        if ids
    ]
    if users:
        about.append(audit.c.actor_id.in_([int(i) for i in users]))
    if about:
        conn.execute(
            sa.update(audit)
            .where(audit.c.tenant_id.isnot(None), sa.or_(*about))
            .values(tenant_id=None)
        )


def downgrade():
    with op.batch_alter_table("payment_transactions", schema=None) as batch_op:
        batch_op.drop_column("refund_id")
