"""search analytics views for BI: searches per tenant, day and term (with zero-result searches
and clicks), and clicks per tenant, day and product; search clicks keep their normalised term

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 01:50:00

The views are what the BI layer reads (Superset's read-only user sees analytics_* views, not the
tables): every row carries tenant_id for row-level security, and no user id or filter payload.
They are plain SELECTs, so they work the same on MariaDB and SQLite.
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TERMS_DAILY = """
CREATE VIEW analytics_search_terms_daily AS
SELECT s.tenant_id, s.day, s.term, s.searches, s.zero_result_searches, s.avg_result_count,
       COALESCE(c.clicks, 0) AS clicks
FROM (SELECT tenant_id, DATE(created_at) AS day, normalized AS term, COUNT(*) AS searches,
             SUM(CASE WHEN result_count = 0 THEN 1 ELSE 0 END) AS zero_result_searches,
             AVG(result_count) AS avg_result_count
      FROM search_queries
      GROUP BY tenant_id, DATE(created_at), normalized) s
LEFT JOIN (SELECT tenant_id, DATE(created_at) AS day, normalized AS term, COUNT(*) AS clicks
           FROM search_clicks
           GROUP BY tenant_id, DATE(created_at), normalized) c
       ON c.tenant_id = s.tenant_id AND c.day = s.day AND c.term = s.term
"""

PRODUCT_CLICKS_DAILY = """
CREATE VIEW analytics_search_product_clicks_daily AS
SELECT tenant_id, DATE(created_at) AS day, product_id, COUNT(*) AS clicks, AVG(position) AS avg_position
FROM search_clicks
GROUP BY tenant_id, DATE(created_at), product_id
"""


def _normalized(query: str) -> str:
    # app.search.types.tokens() as of this revision: the first 10 lower-case \w+ words of at most
    # 40 characters
    return " ".join([t for t in re.findall(r"\w+", (query or "").lower()) if len(t) <= 40][:10])[
        :200
    ]


def upgrade():
    with op.batch_alter_table("search_clicks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("normalized", sa.String(length=200), server_default="", nullable=False)
        )
    clicks = sa.table(
        "search_clicks",
        sa.column("id", sa.BigInteger),
        sa.column("query", sa.String),
        sa.column("normalized", sa.String),
    )
    conn = op.get_bind()
    rows = [
        {"row_id": row_id, "norm": _normalized(query)}
        for row_id, query in conn.execute(sa.select(clicks.c.id, clicks.c.query))
    ]
    if rows:
        conn.execute(
            clicks.update()
            .where(clicks.c.id == sa.bindparam("row_id"))
            .values(normalized=sa.bindparam("norm")),
            rows,
        )
    op.execute(TERMS_DAILY)
    op.execute(PRODUCT_CLICKS_DAILY)


def downgrade():
    op.execute("DROP VIEW analytics_search_product_clicks_daily")
    op.execute("DROP VIEW analytics_search_terms_daily")
    with op.batch_alter_table("search_clicks", schema=None) as batch_op:
        batch_op.drop_column("normalized")
