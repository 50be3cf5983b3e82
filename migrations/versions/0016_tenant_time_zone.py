"""tenants: the time zone the admin shows the tenant's times in

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 01:30:00

Every admin page showed times in the platform's DISPLAY_TIME_ZONE, whatever the shop's own clock.
A tenant now names its IANA time zone ("Europe/Paris"); NULL keeps the platform's zone, so
existing tenants read as before. Stored times stay UTC.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
