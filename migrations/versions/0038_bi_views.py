"""BI views for Apache Superset (issue 17): what its read-only user (`flask bi grant`) may SELECT

Revision ID: 0038
Revises: 0034
Create Date: 2026-12-07 16:20:00

Every view carries tenant_id and seller_id, because the guest tokens' row-level-security clauses
(`tenant_id = N`, and for a Seller `AND seller_id = S`) apply to every dataset of a dashboard.
Shop-wide figures that belong to no seller carry seller_id 0, so a Seller never sees them. No view
exposes a secret, a raw payment or a users column (no e-mail, name or address): customers are an
opaque customer_user_id. The views read the daily aggregates (migration 0034) and the inventory
snapshots (0037) wherever they exist, so a dashboard never scans orders. Plain SELECTs: they work
the same on MariaDB and SQLite.
"""

from alembic import op

revision = "0038"
down_revision = "0034"
branch_labels = None
depends_on = None

VIEWS = {
    # sales: per local day x seller x channel x currency, with the store's name
    "bi_sales_daily": """
SELECT a.tenant_id, a.seller_id, s.store_name, a.day, a.channel, a.currency, a.orders,
       a.shop_orders, a.units, a.gross, a.refunded, a.commission, a.net
FROM analytics_sales_daily a
LEFT JOIN sellers s ON s.id = a.seller_id""",
    "bi_category_sales_daily": """
SELECT a.tenant_id, a.seller_id, a.day, a.category_id,
       COALESCE(c.name, '(none)') AS category, a.channel, a.currency, a.orders, a.units, a.gross,
       a.refunded, a.commission, a.net
FROM analytics_category_sales_daily a
LEFT JOIN categories c ON c.id = a.category_id""",
    # products: sales and activity per product and day
    "bi_product_sales_daily": """
SELECT a.tenant_id, a.seller_id, a.day, a.product_id,
       COALESCE(p.title, '(deleted)') AS product, a.currency, a.orders, a.units, a.revenue,
       a.units_refunded
FROM analytics_product_daily a
LEFT JOIN products p ON p.id = a.product_id""",
    "bi_product_activity_daily": """
SELECT a.tenant_id, a.seller_id, a.day, a.product_id,
       COALESCE(p.title, '(deleted)') AS product, a.views, a.cart_adds
FROM analytics_product_activity_daily a
LEFT JOIN products p ON p.id = a.product_id""",
    "bi_products": """
SELECT tenant_id, seller_id, id AS product_id, title AS product, status, category_id, brand_id,
       min_price
FROM products""",
    # customers: per seller (a seller's customers); the shop-wide rows (seller_id 0) are left out
    # so that sums over sellers are not doubled. Distinct customer_user_id over all sellers is the
    # shop's customer count.
    "bi_customers": """
SELECT tenant_id, seller_id, customer_user_id, first_order_day, orders
FROM analytics_customers
WHERE seller_id <> 0""",
    "bi_customer_days": """
SELECT tenant_id, seller_id, customer_user_id, day, currency, orders, spend
FROM analytics_customer_days
WHERE seller_id <> 0""",
    # segments are shop-wide (the latest segments version of the tenant): seller_id 0
    "bi_customer_segments": """
SELECT g.tenant_id, 0 AS seller_id, g.customer_user_id, g.segment, g.currency, g.recency_days,
       g.frequency, g.monetary, g.avg_order_value, g.refund_rate
FROM analytics_customer_segments g
WHERE g.model_version_id = (SELECT MAX(g2.model_version_id) FROM analytics_customer_segments g2
                            WHERE g2.tenant_id = g.tenant_id)""",
    # sellers and payouts: no bank details, no payout adapter references or failure texts
    "bi_sellers": """
SELECT tenant_id, id AS seller_id, store_name, status, business_type, commission_rate,
       created_at
FROM sellers""",
    "bi_payouts": """
SELECT p.tenant_id, p.seller_id, s.store_name, p.currency, p.amount, p.entry_count, p.status,
       p.created_at
FROM payouts p
LEFT JOIN sellers s ON s.id = p.seller_id""",
    # inventory: the nightly snapshots and daily units sold
    "bi_inventory_daily": """
SELECT tenant_id, seller_id, day, warehouse_id, variant_id, on_hand, reserved, reorder_point,
       unit_value, currency, on_hand * unit_value AS stock_value,
       CASE WHEN on_hand - reserved <= reorder_point THEN 1 ELSE 0 END AS at_or_below_reorder
FROM inventory_daily_stock""",
    "bi_inventory_sales_daily": """
SELECT tenant_id, seller_id, day, variant_id, units
FROM inventory_daily_sales""",
    # search: terms are shop-wide (seller_id 0); clicks belong to the clicked product's seller
    "bi_search_terms_daily": """
SELECT tenant_id, 0 AS seller_id, day, term, searches, zero_result_searches, avg_result_count,
       clicks
FROM analytics_search_terms_daily""",
    "bi_search_clicks_daily": """
SELECT c.tenant_id, COALESCE(p.seller_id, 0) AS seller_id, c.day, c.product_id,
       COALESCE(p.title, '(deleted)') AS product, c.clicks, c.avg_position
FROM analytics_search_product_clicks_daily c
LEFT JOIN products p ON p.id = c.product_id""",
}


def upgrade():
    for name, select in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS{select}")


def downgrade():
    for name in reversed(list(VIEWS)):
        op.execute(f"DROP VIEW IF EXISTS {name}")
