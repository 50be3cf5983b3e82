"""Analytics > Sales analytics, Customer segments and Stock analytics (admin/views/analytics.py): an
Admin sees the shop's figures, a Seller exactly its own (the same page, scoped by the service),
other roles are refused; a bad period is a flash and the default; another shop's figures never
show; the segment CSV holds the segment's customers with their predictions, formulas neutralised.

The shop (sales planted through tests.builders.analytics.planted, as checkout leaves them, then
folded into the aggregates as the order's events would): period 2026-10-01..10, previous period
2026-09-21..30.
- Seller A: 2026-10-02 $100.00 (2 units of "Alpha lamp"); previous period 2026-09-25 $50.00.
- Seller B: 2026-10-03 $250.00 (1 "Bravo chair"); nothing before.
- Another tenant: 2026-10-04 $999.00, never seen here.
Admin GMV 350.00 (previous 50.00: +600.0 %); A 100.00 (+100.0 %); B 250.00.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
from urllib.parse import urlparse

import pytest

from analytics import training
from app.core.tenancy import tenant_scope
from app.core.types import utcnow
from app.extensions import db
from app.security import roles
from app.security.models import User
from tests.builders.admin import login
from tests.builders.analytics import planted
from tests.builders.customer_history import _customers, _orders
from tests.builders.dashboards import Part
from tests.builders.factories import Factory

PERIOD = "from=2026-10-01&to=2026-10-10"


@pytest.fixture(scope="module")
def shop(app):
    factory = Factory(app)
    tenant, other = factory.tenant(), factory.tenant()
    a, b, c = factory.seller(tenant), factory.seller(tenant), factory.seller(other)
    lamp = factory.product(a, title="Alpha lamp", stock=7)
    chair = factory.product(b, title="Bravo chair", stock=3)
    foreign = factory.product(c, title="Foreign vase", stock=50)
    t = app, tenant.id
    planted(
        *t, "2026-10-02 09:00", Part(a.id, "100.00", "10.00", "delivered", ((lamp, 2, "100.00"),))
    )
    planted(*t, "2026-10-03 10:00", Part(b.id, "250.00", "25.00", "paid", ((chair, 1, "250.00"),)))
    planted(*t, "2026-09-25 11:00", Part(a.id, "50.00", "5.00", "delivered", ((lamp, 1, "50.00"),)))
    planted(
        app,
        other.id,
        "2026-10-04 12:00",
        Part(c.id, "999.00", "99.00", "paid", ((foreign, 1, "999.00"),)),
    )
    admin = factory.user(tenant, roles.ADMIN)
    customer = factory.user(tenant, roles.CUSTOMER)
    pending = factory.seller(tenant, status="pending")
    clients = {
        "admin": login(app, tenant.slug, admin.username)[0],
        "a": login(app, tenant.slug, a.user.username)[0],
        "b": login(app, tenant.slug, b.user.username)[0],
        "pending": login(app, tenant.slug, pending.user.username)[0],
    }
    # a Customer's sign-in to the admin is refused: it stays signed out
    clients["customer"] = login(app, tenant.slug, customer.username, expect_ok=False)[0]
    return {"tenant": tenant, "seller_a": a, **clients}


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def _kpi(page: str, name: str, occurrence: int = 0) -> str:
    found = re.findall(rf'data-kpi="{name}">(.*?)</div>', page, re.S)
    return re.sub(r"<[^>]+>", "", found[occurrence]).strip()


def _chart(page: str) -> dict:
    return json.loads(re.search(r'id="an-data">(.*?)</script>', page, re.S).group(1))


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))


def _refused(response) -> bool:
    """403, or a redirect elsewhere (to the sign-in, or FAB's "access denied" to the home)."""
    where = urlparse(response.headers.get("Location", "")).path
    return response.status_code in (302, 403) and not where.startswith("/admin/analytics")


# --- sales ---------------------------------------------------------------------------------------


def test_admin_sees_the_shop_and_a_seller_its_own(shop):
    page = _page(shop["admin"], f"/admin/analytics/?{PERIOD}")
    assert _kpi(page, "gmv") == "$350.00" and "+600.0 %" in page
    assert _kpi(page, "orders") == "2" and _kpi(page, "units") == "3"
    assert _kpi(page, "average-order") == "$175.00"
    assert "Alpha lamp" in page and "Bravo chair" in page
    assert "$999.00" not in page and "Foreign vase" not in page  # another shop's
    series = _chart(page)["sales"]
    assert [s["currency"] for s in series] == ["USD"]
    values = series[0]["series"][0]["values"]
    assert len(values) == 10 and values[1] == 100.0 and values[2] == 250.0 and sum(values) == 350.0

    mine = _page(shop["a"], f"/admin/analytics/?{PERIOD}")
    assert _kpi(mine, "gmv") == "$100.00" and "+100.0 %" in mine
    assert "(was $50.00)" in _text(mine) and _kpi(mine, "units") == "2"
    assert "$350.00" not in mine and "$250.00" not in mine and "Bravo chair" not in mine
    assert _chart(mine)["sales"][0]["series"][0]["values"][2] == 0.0  # B's day: nothing of A's

    theirs = _page(shop["b"], f"/admin/analytics/?{PERIOD}")
    assert _kpi(theirs, "gmv") == "$250.00" and "nothing in the previous period" in theirs
    assert "Alpha lamp" not in theirs

    # grouped by seller (admins only): one line per store, labelled with its name
    grouped = _chart(_page(shop["admin"], f"/admin/analytics/?{PERIOD}&group_by=seller"))
    assert sorted(sum(s["values"]) for s in grouped["sales"][0]["series"]) == [100.0, 250.0]
    refused = _page(shop["a"], f"/admin/analytics/?{PERIOD}&group_by=seller")
    assert "Unknown group by" in refused and len(_chart(refused)["sales"][0]["series"]) == 1

    # by week: 2026-10-01 is a Thursday, so the weeks of 28 Sep and 5 Oct
    weekly = _chart(_page(shop["admin"], f"/admin/analytics/?{PERIOD}&granularity=week"))
    assert weekly["sales"][0]["series"][0]["values"] == [350.0, 0.0]
    # both weeks only partly in the period (28 Sep - 4 Oct, 5 - 11 Oct): their labels say so
    assert [label.endswith("(part)") for label in weekly["sales"][0]["labels"]] == [True, True]
    days = _chart(_page(shop["admin"], f"/admin/analytics/?{PERIOD}"))["sales"][0]["labels"]
    assert not any("(part)" in label for label in days)


def test_other_roles_are_refused(shop, app):
    assert _refused(shop["customer"].get("/admin/analytics/"))
    for path in ("/admin/analytics/", "/admin/analytics/inventory/", "/admin/analytics/segments/"):
        anonymous = app.test_client()
        anonymous.environ_base["HTTP_X_TENANT"] = shop["tenant"].slug
        response = anonymous.get(path)
        assert response.status_code == 302 and "/login/" in response.headers["Location"]
    # a seller waiting for approval: a note, no figures
    page = _page(shop["pending"], "/admin/analytics/")
    assert 'id="an-note"' in page and "an-data" not in page


@pytest.mark.parametrize(
    "query, message",
    [
        ("from=2026-13-01", "is not a date"),
        ("from=2026-10-10&to=2026-10-01", "ends before it starts"),
        ("from=2020-01-01&to=2026-10-01", "at most 366 days"),
        ("days=12", "Pick a period of 7, 30, 90, 365 days"),
        ("granularity=hour", "Unknown granularity"),
    ],
)
def test_a_bad_period_is_a_flash_and_the_default(shop, query, message):
    page = _page(shop["admin"], f"/admin/analytics/?{query}")
    assert message in page
    if "granularity" not in query:
        assert "showing the last 30 days" in page


def test_empty_shop_and_no_forecast_model(app):
    factory = Factory(app)
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    client, _ = login(app, tenant.slug, admin.username)
    page = _page(client, "/admin/analytics/")
    assert 'id="an-empty"' in page and "No sales to chart" in page
    assert 'id="an-no-forecast"' in page and "Models page" in page
    assert "No first purchases in this period" in page
    assert "<canvas" not in page


# --- stock ---------------------------------------------------------------------------------------


def test_stock_analytics_admin_and_seller(shop):
    page = _page(shop["admin"], "/admin/analytics/inventory/?days=30")
    # 7 lamps at $19.99 + 3 chairs at $19.99 (the factory's price); the other shop's 50 vases not
    assert _kpi(page, "units-on-hand") == "10" and _kpi(page, "stock-value") == "$199.90"
    assert "Alpha lamp" in page and "Bravo chair" in page and "Foreign vase" not in page
    mine = _page(shop["a"], "/admin/analytics/inventory/")
    assert _kpi(mine, "units-on-hand") == "7" and _kpi(mine, "stock-value") == "$139.93"
    assert "Bravo chair" not in mine
    bad = _page(shop["a"], "/admin/analytics/inventory/?from=tomorrow")
    assert "is not a date" in bad and _kpi(bad, "units-on-hand") == "7"
    future = (dt.date.today() + dt.timedelta(days=5)).isoformat()
    assert "starts in the future" in _page(shop["a"], f"/admin/analytics/inventory/?from={future}")
    assert _refused(shop["customer"].get("/admin/analytics/inventory/"))


def test_stock_analytics_lists_only_the_stock_rows_it_can_describe(app):
    """A stock row whose variant the tenant does not have: what SQLite (the embedded default)
    left when a product was deleted before the app enforced foreign keys there, once its variant
    id was reused in another shop; made here on MariaDB with a direct insert. The page answers and
    lists the shop's own variants (it was a KeyError, a 500, for the Admin and the Super Admin)."""
    from sqlalchemy import insert, select

    from app.inventory.models import StockLevel

    factory = Factory(app)
    tenant, other = factory.tenant(), factory.tenant()
    seller = factory.seller(tenant)
    mine = factory.product(seller, title="Own kettle", stock=4)
    theirs = factory.product(factory.seller(other), title="Their kettle", stock=2)
    with app.app_context(), tenant_scope(tenant.id):
        warehouse_id = db.session.scalar(
            select(StockLevel.warehouse_id).where(StockLevel.id == mine.stock_level_id)
        )
        db.session.execute(
            insert(StockLevel.__table__).values(
                tenant_id=tenant.id,
                seller_id=seller.id,
                variant_id=theirs.variant_id,
                warehouse_id=warehouse_id,
                quantity_on_hand=9,
                quantity_reserved=0,
                reorder_point=0,
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
        db.session.commit()
    admin, _ = login(app, tenant.slug, factory.user(tenant, roles.ADMIN).username)
    page = _page(admin, "/admin/analytics/inventory/?by=variant")
    assert "Own kettle" in page and "Their kettle" not in page
    assert "Own kettle" in _page(
        login(app, tenant.slug, seller.user.username)[0], "/admin/analytics/inventory/?by=variant"
    )


# --- segments ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def segmented(app, shop):
    """40 customers of seller A, a week ago: 20 ordered $20 once, 20 ordered $80 once; the first
    one's name is a formula. The segmentation trained on them."""
    tenant = shop["tenant"]
    now = utcnow()
    with app.app_context(), tenant_scope(tenant.id):
        people = _customers(tenant.id, 40, "seg")
        _orders(
            shop["seller_a"].id,
            [
                (u, now - dt.timedelta(days=7 + i % 5), 20.0 if i < 20 else 80.0, 0.0, "USD")
                for i, (u, _) in enumerate(people)
            ],
        )
        db.session.get(User, people[0][0]).first_name = "=HYPERLINK(evil)"
        db.session.commit()
    with app.app_context():
        assert training.train("segments", tenant.id).status == "active"
    return people


def test_segments_page_and_csv(shop, segmented):
    page = _page(shop["admin"], "/admin/analytics/segments/")
    assert 'id="an-segment-table"' in page and "on average" in page
    names = [
        html.unescape(n) for n in re.findall(r'<tr class="[^"]*" data-segment="([^"]+)"', page)
    ]
    assert names
    sizes = [
        int(n)
        for n in re.findall(
            r'data-segment="[^"]+">\s*<td>.*?</td>\s*<td class="text-right">([\d,]+)</td>',
            page,
            re.S,
        )
    ]
    assert sum(sizes) == 40
    assert "No churn model is trained yet" in page

    total = 0
    found_formula = False
    for name in names:
        response = shop["admin"].get(f"/admin/analytics/segments/export/{name}.csv")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        filename = response.headers["Content-Disposition"].split("filename=")[1].strip('"')
        assert re.fullmatch(r"segment-[a-z0-9]+(-[a-z0-9]+)*\.csv", filename), filename
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        assert rows[0] == [
            "name",
            "email",
            "segment",
            "recency_days",
            "orders",
            "spend",
            "currency",
            "churn_probability",
            "predicted_value",
        ]
        for row in rows[1:]:
            assert row[2] == name and row[4] == "1" and row[5] in ("20.00", "80.00")
            assert row[6] == "USD" and row[7] == "" and row[8] == ""  # no churn, no LTV model
            assert row[0] != "=HYPERLINK(evil) Buyer"
            found_formula |= row[0] == "'=HYPERLINK(evil) Buyer"
        total += len(rows) - 1
    assert total == 40 and found_formula
    assert shop["admin"].get("/admin/analytics/segments/export/nobody.csv").status_code == 404

    # a segment's customers, paginated by 25
    first = _page(shop["admin"], f"/admin/analytics/segments/?segment={names[0]}")
    assert "seg" in first.lower()
    assert "There is no segment" in _page(shop["admin"], "/admin/analytics/segments/?segment=x")

    # sellers and other roles: refused the page and the CSV
    for who in ("a", "customer"):
        assert _refused(shop[who].get("/admin/analytics/segments/"))
        assert _refused(shop[who].get(f"/admin/analytics/segments/export/{names[0]}.csv"))


def test_segments_without_a_model(app):
    factory = Factory(app)
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    client, _ = login(app, tenant.slug, admin.username)
    page = _page(client, "/admin/analytics/segments/")
    assert 'id="an-no-model"' in page and "/admin/models/" in page
