"""mail templates: a tenant's own subject, text and HTML per transactional mail type

Revision ID: 0032
Revises: 0029
Create Date: 2026-12-07 09:40:00

`mail_templates`: unique per tenant and kind (app.notifications.templating.KINDS); where a tenant
has no row the built-in templates (app/notifications/templates/mail/) are sent.
"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "mail_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("updated_by_user_id", sa.Integer(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_mail_templates_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_user_id"],
            ["ab_user.id"],
            name=op.f("fk_mail_templates_updated_by_user_id_ab_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_templates")),
        sa.UniqueConstraint("tenant_id", "kind", name="uq_mail_templates_tenant_kind"),
    )
    with op.batch_alter_table("mail_templates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_templates_tenant_id"), ["tenant_id"], unique=False
        )


def downgrade():
    # the table's indexes go with it (MariaDB refuses to drop first the one its foreign key uses)
    op.drop_table("mail_templates")
