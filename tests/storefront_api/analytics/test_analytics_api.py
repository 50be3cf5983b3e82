"""/api/v1/analytics: figures checked against a shop worked out by hand (a tenant in New York
time, orders at 23:30 local time, a partial and a full refund, a cancellation, USD and EUR), each
role's scope, tenant isolation, and the 401/403/422 answers.

The shop (America/New_York, UTC-5 in December; the period 2026-12-01..10, the previous one
2026-11-21..30), sellers A and B, products pa (A) and pb (B), customers c1, c2, c3:
  P1 2026-11-25 15:00Z  c1  A 50.00 (comm 5.00) delivered, pa x1               previous period
  O1 2026-12-02 04:30Z  c1  A 100.00 (10.00) paid, pa x2; B 60.00 (6.00) paid, pb x1
                            = 2026-12-01 23:30 local: the 1st
  O2 2026-12-03 12:00Z  c2  A 80.00 (8.00) partially refunded (20.00 completed, 5.00 rejected)
  O3 2026-12-04 12:00Z  c3  A 30.00 cancelled: no sale
  O4 2026-12-05 12:00Z  c2  A 40.00 (4.00) paid, EUR
  O5 2026-12-11 04:30Z  c3  B 25.00 (2.50) refunded = 2026-12-10 23:30 local: in the period
  O6 2026-12-11 05:30Z  c1  A 70.00 paid = 2026-12-11 00:30 local: after the period
Views: pa 8 in the period, pb 1 (2026-12-11 04:00Z = the 10th local), pa 3 after it.
A second tenant's seller sells 999.00 on 2026-12-02: never seen here.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from app.core.tenancy import tenant_scope
from app.customers.engagement_models import CustomerActivity
from app.extensions import db
from app.security import roles
from tests.builders.analytics import planted, rebuild, set_time_zone
from tests.builders.api import error
from tests.builders.auth import api_headers
from tests.builders.dashboards import Part, utc
from tests.builders.factories import Factory

API = "/api/v1/analytics"
PERIOD = {"from": "2026-12-01", "to": "2026-12-10"}


def _views(app, tenant_id, customer_id, product_id, *moments):
    with app.app_context(), tenant_scope(tenant_id):
        for at in moments:
            db.session.add(
                CustomerActivity(
                    customer_id=customer_id,
                    type="product_view",
                    product_id=product_id,
                    payload={"product_id": product_id},
                    created_at=utc(at),
                )
            )
        db.session.commit()


@pytest.fixture(scope="module")
def shop(app):
    f = Factory(app)
    tenant = f.tenant()
    set_time_zone(app, tenant.id, "America/New_York")
    a, b = f.seller(tenant), f.seller(tenant)
    pending = f.seller(tenant, status="pending")
    pa, pb = f.product(a, title="pa"), f.product(b, title="pb")
    c1, c2, c3 = f.customer(tenant), f.customer(tenant), f.customer(tenant)
    admin = f.user(tenant, roles.ADMIN)
    t = (app, tenant.id)
    planted(
        *t,
        "2026-11-25 15:00",
        Part(a.id, "50.00", "5.00", "delivered", ((pa, 1, "50.00"),)),
        customer_user_id=c1.user_id,
    )
    planted(
        *t,
        "2026-12-02 04:30",
        Part(a.id, "100.00", "10.00", "paid", ((pa, 2, "100.00"),)),
        Part(b.id, "60.00", "6.00", "paid", ((pb, 1, "60.00"),)),
        customer_user_id=c1.user_id,
    )
    planted(
        *t,
        "2026-12-03 12:00",
        Part(
            a.id,
            "80.00",
            "8.00",
            "partially_refunded",
            ((pa, 1, "80.00"),),
            refunds=(("20.00", "completed"), ("5.00", "rejected")),
        ),
        customer_user_id=c2.user_id,
    )
    planted(
        *t,
        "2026-12-04 12:00",
        Part(a.id, "30.00", "3.00", "cancelled", ((pa, 1, "30.00"),)),
        customer_user_id=c3.user_id,
    )
    planted(
        *t,
        "2026-12-05 12:00",
        Part(a.id, "40.00", "4.00", "paid", ((pa, 1, "40.00"),)),
        currency="EUR",
        customer_user_id=c2.user_id,
    )
    planted(
        *t,
        "2026-12-11 04:30",
        Part(b.id, "25.00", "2.50", "refunded", ((pb, 1, "25.00"),)),
        customer_user_id=c3.user_id,
    )
    planted(
        *t,
        "2026-12-11 05:30",
        Part(a.id, "70.00", "7.00", "paid", ((pa, 1, "70.00"),)),
        customer_user_id=c1.user_id,
    )
    _views(
        *t,
        c1.id,
        pa.id,
        *[f"2026-12-0{d} 14:00" for d in range(2, 10)],
        "2026-12-11 06:00",
        "2026-12-12 06:00",
        "2026-12-13 06:00",
    )
    _views(*t, c2.id, pb.id, "2026-12-11 04:00")
    foreign = f.tenant()
    fs = f.seller(foreign)
    fp = f.product(fs)
    fc = f.customer(foreign)
    planted(
        app,
        foreign.id,
        "2026-12-02 12:00",
        Part(fs.id, "999.00", "99.90", "paid", ((fp, 1, "999.00"),)),
        customer_user_id=fc.user_id,
    )
    _views(app, foreign.id, fc.id, fp.id, "2026-12-02 12:00")
    assert rebuild(app, tenant.id)["drifted"] is False  # folds the views in; sales were current
    rebuild(app, foreign.id)
    return SimpleNamespace(
        tenant=tenant, a=a, b=b, pa=pa, pb=pb, c1=c1, c2=c2, c3=c3,
        h_admin=api_headers(app, admin),
        h_a=api_headers(app, a.user),
        h_b=api_headers(app, b.user),
        h_pending=api_headers(app, pending.user),
        h_customer=api_headers(app, c1.user),
        h_foreign_admin=api_headers(app, f.user(foreign, roles.ADMIN)),
        h_foreign_seller=api_headers(app, fs.user),
        foreign_product=fp,
    )  # fmt: skip


def get(client, path, h, **query):
    response = client.get(f"{API}/{path}/", headers=h, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def cmp(current, previous, change, pct):
    return {"current": current, "previous": previous, "change": change, "change_pct": pct}


def test_the_admin_dashboard_per_currency_with_the_previous_period(client, shop):
    body = get(client, "dashboard", shop.h_admin, **PERIOD)
    assert body["period"] == {"from": "2026-12-01", "to": "2026-12-10", "days": 10}
    assert body["previous_period"] == {"from": "2026-11-21", "to": "2026-11-30", "days": 10}
    eur, usd = body["currencies"]
    # USD: O1 (A 100 + B 60), O2 80, O5 25 (the 10th local): gross 265, refunded 20 + 25
    assert usd == {
        "currency": "USD",
        "gmv": cmp("265.00", "50.00", "215.00", "430.0"),
        "net_revenue": cmp("220.00", "50.00", "170.00", "340.0"),
        "orders": cmp(3, 1, 2, "200.0"),  # O1 once though it has two sellers
        "units": cmp(5, 1, 4, "400.0"),
        "average_order_value": cmp("88.33", "50.00", "38.33", "76.7"),
    }
    assert eur["currency"] == "EUR" and eur["gmv"] == cmp("40.00", "0.00", "40.00", None)
    assert eur["orders"] == cmp(1, 0, 1, None)
    # views 8 (pa) + 1 (pb); products bought: pa in O1, O2, O4; pb in O1, O5
    assert body["conversion"] == {
        "views": cmp(9, 0, 9, None),
        "purchases": cmp(5, 1, 4, "400.0"),
        "rate": cmp("0.5556", None, None, None),
    }
    # c2 and c3 bought first in the period; c1 had bought in November
    assert body["customers"] == {"new": cmp(2, 1, 1, "100.0"), "returning": cmp(1, 0, 1, None)}


def test_a_seller_sees_exactly_its_own_dashboard(client, shop):
    body = get(client, "dashboard", shop.h_a, **PERIOD)
    eur, usd = body["currencies"]
    assert usd["gmv"] == cmp("180.00", "50.00", "130.00", "260.0")
    assert usd["net_revenue"]["current"] == "160.00" and usd["orders"]["current"] == 2
    assert usd["units"]["current"] == 3 and usd["average_order_value"]["current"] == "90.00"
    assert eur["gmv"]["current"] == "40.00"
    assert body["conversion"]["views"]["current"] == 8
    assert body["conversion"]["purchases"]["current"] == 3
    assert body["conversion"]["rate"]["current"] == "0.3750"
    assert body["customers"] == {"new": cmp(1, 1, 0, "0.0"), "returning": cmp(1, 0, 1, None)}
    b = get(client, "dashboard", shop.h_b, **PERIOD)
    [usd_b] = b["currencies"]
    assert usd_b["gmv"]["current"] == "85.00" and usd_b["net_revenue"]["current"] == "60.00"
    assert b["customers"]["new"]["current"] == 2 and b["customers"]["returning"]["current"] == 0


def test_sales_by_day_week_and_month_per_seller_category_and_channel(client, shop):
    body = get(client, "sales", shop.h_admin, **PERIOD, group_by="seller")
    series = {(s["currency"], s["group"]): s for s in body["series"]}
    assert set(series) == {
        ("EUR", str(shop.a.id)),
        ("USD", str(shop.a.id)),
        ("USD", str(shop.b.id)),
    }
    b_usd = series[("USD", str(shop.b.id))]
    assert len(b_usd["points"]) == 10
    got = {p["period_start"]: (p["gross"], p["refunded"]) for p in b_usd["points"] if p["orders"]}
    assert got == {"2026-12-01": ("60.00", "0.00"), "2026-12-10": ("25.00", "25.00")}
    assert b_usd["totals"]["net"] == "54.00"  # 85 - 25 - commission 6.00 (O5's none: refunded)
    a_usd = series[("USD", str(shop.a.id))]
    # O2: 80 - 20 refunded, commission 8.00 x 60/80 = 6.00 kept
    assert a_usd["totals"] == {
        "period_start": "2026-12-01", "orders": 2, "units": 3, "gross": "180.00",
        "refunded": "20.00", "commission": "16.00", "net": "144.00",
    }  # fmt: skip
    weeks = get(client, "sales", shop.h_admin, **PERIOD, granularity="week")
    usd = next(s for s in weeks["series"] if s["currency"] == "USD")
    assert [(p["period_start"], p["orders"], p["gross"]) for p in usd["points"]] == [
        ("2026-11-30", 2, "240.00"),
        ("2026-12-07", 1, "25.00"),
    ]
    months = get(client, "sales", shop.h_a, **PERIOD, granularity="month", group_by="channel")
    assert [(s["currency"], s["group"], s["points"][0]["gross"]) for s in months["series"]] == [
        ("EUR", "storefront", "40.00"),
        ("USD", "storefront", "180.00"),
    ]
    cats = get(client, "sales", shop.h_b, **PERIOD, group_by="category")
    [only] = cats["series"]  # B sold pb only, in USD
    assert only["totals"]["gross"] == "85.00" and only["label"].startswith("Cat ")


def test_products_top_sellers_slow_movers_and_rates(client, shop):
    body = get(client, "products", shop.h_admin, **PERIOD)
    top = [(p["title"], p["currency"], p["revenue"], p["units"]) for p in body["top_by_revenue"]]
    assert top == [("pa", "EUR", "40.00", 4), ("pa", "USD", "180.00", 4), ("pb", "USD", "85.00", 2)]
    assert [(p["title"], p["units"]) for p in body["top_by_units"]] == [("pa", 4), ("pb", 2)]
    assert [p["title"] for p in body["slow_movers"]] == ["pb", "pa"]
    pb = body["top_by_units"][1]
    assert (pb["units_refunded"], pb["refund_rate"], pb["views"]) == (1, "0.5000", 1)
    assert pb["view_to_purchase_rate"] == "2.0000"  # bought twice, seen once
    assert (body["views"], body["purchases"], body["view_to_purchase_rate"]) == (9, 5, "0.5556")
    assert (body["units"], body["units_refunded"], body["refund_rate"]) == (6, 1, "0.1667")
    mine = get(client, "products", shop.h_a, **PERIOD, limit=1)
    assert [p["title"] for p in mine["top_by_revenue"]] == ["pa", "pa"]  # one per currency
    assert [p["title"] for p in mine["slow_movers"]] == ["pa"]
    assert mine["views"] == 8 and mine["limit"] == 1


def test_customers_acquisition_cohorts_and_repeat_rate(client, shop):
    body = get(client, "customers", shop.h_admin, **{"from": "2026-11-01", "to": "2026-12-10"})
    assert body["acquisition"] == [
        {"period_start": "2026-11-01", "new_customers": 1},
        {"period_start": "2026-12-01", "new_customers": 2},
    ]
    assert body["cohorts"] == [
        {"month": "2026-11-01", "customers": 1, "active": [1, 1], "retention": ["1.0000", "1.0000"]},
        {"month": "2026-12-01", "customers": 2, "active": [2], "retention": ["1.0000"]},
    ]  # fmt: skip
    # c1 (P1, O1) and c2 (O2, O4 in EUR) bought twice, c3 once
    assert (body["customers"], body["repeat_customers"], body["repeat_rate"]) == (3, 2, "0.6667")
    b = get(client, "customers", shop.h_b, **{"from": "2026-11-01", "to": "2026-12-10"})
    assert b["acquisition"][1]["new_customers"] == 2 and b["repeat_customers"] == 0


@pytest.mark.parametrize("path", ["dashboard", "sales", "products", "customers"])
def test_tenants_are_isolated_and_roles_are_enforced(client, shop, path):
    # the other tenant's admin sees its 999.00 and none of this shop's sales
    foreign = client.get(f"{API}/{path}/", headers=shop.h_foreign_admin, query_string=PERIOD)
    assert foreign.status_code == 200
    text = foreign.get_data(as_text=True)
    assert "265.00" not in text and "180.00" not in text and '"pa"' not in text
    if path == "dashboard":
        [usd] = foreign.get_json()["currencies"]
        assert usd["gmv"]["current"] == "999.00"
    if path == "products":
        assert [p["product_id"] for p in foreign.get_json()["top_by_units"]] == [
            shop.foreign_product.id
        ]
    # this shop's admin never sees the 999.00; seller A never sees B's figures
    assert "999.00" not in client.get(
        f"{API}/{path}/", headers=shop.h_admin, query_string=PERIOD
    ).get_data(as_text=True)  # noqa: E501
    mine = client.get(f"{API}/{path}/", headers=shop.h_a, query_string=PERIOD).get_data(
        as_text=True
    )
    assert "85.00" not in mine and '"pb"' not in mine and "999.00" not in mine
    # a token of the other tenant at this one: refused
    wrong = dict(shop.h_foreign_seller, **{"X-Tenant": shop.tenant.slug})
    assert client.get(f"{API}/{path}/", headers=wrong).status_code in (401, 403)
    error(client.get(f"{API}/{path}/", headers={"X-Tenant": shop.tenant.slug}), 401)
    error(client.get(f"{API}/{path}/", headers=shop.h_customer), 403, "forbidden")
    error(client.get(f"{API}/{path}/", headers=shop.h_pending), 403, "seller_not_approved")


@pytest.mark.parametrize(
    "path,query,field",
    [
        ("dashboard", {"from": "2026-12-10", "to": "2026-12-01"}, "to"),
        ("sales", {"from": "2025-01-01", "to": "2026-12-01"}, "to"),  # 700 days by day
        ("sales", {"group_by": "product"}, "group_by"),
        ("sales", {"granularity": "year"}, "granularity"),
        ("products", {"limit": "0"}, "limit"),
        ("products", {"limit": "101"}, "limit"),
        ("customers", {"from": "yesterday"}, "from"),
        ("customers", {"seller_id": "1"}, "seller_id"),
    ],
)
def test_bad_periods_and_arguments_are_422(client, shop, path, query, field):
    body = error(client.get(f"{API}/{path}/", headers=shop.h_admin, query_string=query), 422)
    assert field in str(body["details"])


def test_a_long_period_is_fine_by_month(client, shop):
    body = get(client, "sales", shop.h_admin, **{"from": "2025-01-01", "to": "2026-12-10"},
               granularity="month")  # fmt: skip
    usd = next(s for s in body["series"] if s["currency"] == "USD")
    assert len(usd["points"]) == 24 and usd["totals"]["gross"] == "315.00"  # 265 + P1 50
    assert dt.date.fromisoformat(usd["points"][-1]["period_start"]) == dt.date(2026, 12, 1)
    assert Decimal(usd["points"][-2]["gross"]) == Decimal("50.00")
