"""The BI schema (migration 0038, analytics.bi.grant_readonly_user, `flask bi grant`): the bi_* views
carry tenant_id and seller_id and no secret or users column, and the read-only user Superset
queries with can SELECT those views and is refused every raw table (users, payments, ...)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from decimal import Decimal

import pymysql
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from analytics import bi
from tests.conftest import TEST_DB_URL

pytestmark = pytest.mark.smoke

EXPECTED_VIEWS = {
    "bi_sales_daily",
    "bi_category_sales_daily",
    "bi_product_sales_daily",
    "bi_product_activity_daily",
    "bi_products",
    "bi_customers",
    "bi_customer_days",
    "bi_customer_segments",
    "bi_sellers",
    "bi_payouts",
    "bi_inventory_daily",
    "bi_inventory_sales_daily",
    "bi_search_terms_daily",
    "bi_search_clicks_daily",
}
# nothing a view may show: credentials, contact details, bank or payment-provider data
FORBIDDEN_COLUMNS = {
    "password",
    "email",
    "contact_email",
    "first_name",
    "last_name",
    "phone",
    "user_id",
    "bank_account_id",
    "bank_account_masked",
    "external_reference",
    "failure_reason",
    "adapter",
    "provider_reference",
    "card_last4",
}


@pytest.fixture
def engine(app):
    from app.extensions import db

    with app.app_context():
        yield db.engine


def test_every_bi_view_exists_with_tenant_and_seller_and_no_secret(engine):
    with engine.connect() as conn:
        views = set(bi.bi_views(conn))
    assert views == EXPECTED_VIEWS
    inspector = inspect(engine)
    for view in sorted(views):
        columns = {c["name"] for c in inspector.get_columns(view)}
        assert {"tenant_id", "seller_id"} <= columns, view
        assert not columns & FORBIDDEN_COLUMNS, (view, columns & FORBIDDEN_COLUMNS)


def test_a_view_answers_from_the_aggregates(app, engine, factory):
    from analytics.aggregates.models import SalesDaily
    from app.core.tenancy import tenant_scope
    from app.extensions import db

    tenant = factory.tenant()
    seller = factory.seller(tenant)
    with app.app_context(), tenant_scope(tenant.id):
        db.session.add(
            SalesDaily(
                day=dt.date(2026, 11, 2),
                seller_id=seller.id,
                channel="storefront",
                currency="USD",
                orders=2,
                units=3,
                gross=Decimal("30.00"),
                net=Decimal("27.00"),
            )
        )
        db.session.commit()
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT seller_id, store_name, orders, gross, net FROM bi_sales_daily"
                " WHERE tenant_id = :t"
            ),
            {"t": tenant.id},
        ).one()
    assert (row.seller_id, row.store_name, row.orders) == (seller.id, seller.store_name, 2)
    assert (row.gross, row.net) == (Decimal("30.00"), Decimal("27.00"))


def test_sqlite_has_no_user_to_grant(engine, is_sqlite):
    if not is_sqlite:
        pytest.skip("MariaDB: see test_read_only_user_reads_views_and_is_refused_raw_tables")
    result = bi.grant_readonly_user(engine, "shop_bi", None)
    assert result["user"] is None and set(result["views"]) == EXPECTED_VIEWS


def test_read_only_user_reads_views_and_is_refused_raw_tables(engine, is_sqlite):
    if is_sqlite:
        pytest.skip("SQLite has no database users")
    url = make_url(TEST_DB_URL)
    # one account per test database, so parallel workers and other clones never share it
    user = "bi_" + hashlib.sha256(url.database.encode()).hexdigest()[:12]
    password = secrets.token_urlsafe(16)
    result = bi.grant_readonly_user(engine, user, password, "%")
    try:
        assert set(result["views"]) == EXPECTED_VIEWS
        # granted twice: the same single grant set (idempotent), with a new password
        password = secrets.token_urlsafe(16)
        bi.grant_readonly_user(engine, user, password, "%")
        conn = pymysql.connect(
            host=url.host or "127.0.0.1",
            port=url.port or 3306,
            user=user,
            password=password,
            database=url.database,
        )
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT COUNT(*) FROM bi_sales_daily")
                assert cur.fetchone()[0] >= 0
                cur.execute("SELECT tenant_id, seller_id FROM bi_payouts LIMIT 1")
                for table in (
                    "ab_user",
                    "payments",
                    "seller_bank_accounts",
                    "analytics_sales_daily",
                ):
                    with pytest.raises(pymysql.err.OperationalError) as refused:
                        cur.execute(f"SELECT * FROM {table} LIMIT 1")
                    assert refused.value.args[0] == 1142, table  # SELECT command denied
                with pytest.raises(pymysql.err.OperationalError) as refused:
                    cur.execute("UPDATE bi_sales_daily SET orders = 0")
                assert refused.value.args[0] == 1142
                cur.execute("SHOW GRANTS")
                grants = [row[0] for row in cur.fetchall()]
        finally:
            conn.close()
        granted = [g for g in grants if " ON `" in g]
        assert len(granted) == len(EXPECTED_VIEWS)
        assert all(
            g.startswith("GRANT SELECT, SHOW VIEW ON `") and ".`bi_" in g for g in granted
        ), grants
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP USER IF EXISTS '{user}'@'%'"))
