"""covering indexes for the category facets (brand, price range and attribute counts)

On 100k products the facets of a root category read every product row of the subtree (and every
attribute value through a join): 1 to 4.5 s uncached. These indexes hold every column those
counts read, so MariaDB answers them from the indexes alone.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 19:35:00

"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(
            "ix_products_tenant_status_category_facets",
            ["tenant_id", "status", "category_id", "brand_id", "min_price"],
            unique=False,
        )
    with op.batch_alter_table("product_attribute_values", schema=None) as batch_op:
        batch_op.create_index(
            "ix_product_attribute_values_product_facets",
            ["tenant_id", "product_id", "attribute_id", "value"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("product_attribute_values", schema=None) as batch_op:
        batch_op.drop_index("ix_product_attribute_values_product_facets")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_tenant_status_category_facets")
