"""Search analytics: searches and clicks recorded asynchronously (outbox event -> consumer), the
click endpoint (202, 422, 401, 404 for another tenant's or an inactive product), and the admin's
index status and analytics pages (Admin and Super Admin only, one tenant's rows)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import bindparam, select, text

from app.core.tenancy import tenant_scope, unscoped
from app.events import bus
from app.events.models import OutboxEvent
from app.extensions import db
from app.search.models import SearchClick, SearchQueryLog
from app.security import roles
from tests.builders.admin import login
from tests.builders.auth import api_headers, bearer

API = "/api/v1/search"


def _rows(app, tenant, model):
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.scalars(select(model).order_by(model.id)).all()


def test_searches_are_logged_with_counts_and_zero_results(app, client, catalog, factory):
    t = catalog.tenant
    customer = factory.customer(t)
    headers = api_headers(app, customer.user, t)
    assert client.get(f"{API}/products/?q=Shirt&brand=acme", headers=headers).status_code == 200
    assert client.get(f"{API}/products/?q=zebra", headers={"X-Tenant": t.slug}).status_code == 200
    assert (
        client.get("/api/v1/products/search/?q=novel", headers={"X-Tenant": t.slug}).status_code
        == 200
    )
    rows = _rows(app, t, SearchQueryLog)
    assert [(r.query, r.normalized, r.result_count, r.endpoint) for r in rows] == [
        ("Shirt", "shirt", 1, "search.products"),
        ("zebra", "zebra", 0, "search.products"),
        ("novel", "novel", 1, "products.search"),
    ]
    assert rows[0].user_id == customer.user_id and rows[1].user_id is None
    assert rows[0].filters == {"brand": ["acme"]} and rows[0].sort == "relevance"
    assert _rows(app, catalog.other, SearchQueryLog) == []  # nothing leaks into another tenant


def test_click_is_recorded_once(app, client, catalog):
    t, i = catalog.tenant, catalog.ids
    response = client.post(
        f"{API}/click/",
        json={"query": "shirt", "product_id": i.p1, "position": 0},
        headers={"X-Tenant": t.slug},
    )
    assert response.status_code == 202 and response.get_json() == {"recorded": True}
    clicks = _rows(app, t, SearchClick)
    assert [(c.query, c.product_id, c.position) for c in clicks] == [("shirt", i.p1, 0)]
    with app.app_context(), unscoped():
        event = db.session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.name == "search.clicked")
            .order_by(OutboxEvent.id.desc())
        ).first()
        assert bus.consume(event.id, "search.log_click") is False  # a redelivery writes nothing
    assert len(_rows(app, t, SearchClick)) == 1


def test_click_rejects_bad_input_tokens_and_foreign_or_hidden_products(app, client, catalog):
    t, i = catalog.tenant, catalog.ids
    h = {"X-Tenant": t.slug}
    for body, field in (
        ({}, "product_id"),
        ({"product_id": 0}, "product_id"),
        ({"product_id": i.p1, "position": -1}, "position"),
        ({"product_id": i.p1, "query": "x" * 201}, "query"),
        ({"product_id": i.p1, "extra": 1}, "extra"),
    ):
        response = client.post(f"{API}/click/", json=body, headers=h)
        assert response.status_code == 422 and field in str(
            response.get_json()["error"]["details"]
        ), body
    bad = client.post(f"{API}/click/", json={"product_id": i.p1}, headers={**h, **bearer("nope")})
    assert bad.status_code == 401
    assert (
        client.post(f"{API}/click/", json={"product_id": i.p4}, headers=h).status_code == 404
    )  # a draft
    foreign = client.post(f"{API}/click/", json={"product_id": catalog.foreign.id}, headers=h)
    assert foreign.status_code == 404 and foreign.get_json()["error"]["code"] == "not_found"
    assert _rows(app, t, SearchClick) == [] and _rows(app, catalog.other, SearchClick) == []


def test_admin_pages_are_for_admins_of_the_tenant(app, client, catalog, factory):
    t = catalog.tenant
    client.get(f"{API}/products/?q=zebra", headers={"X-Tenant": t.slug})
    client.get(f"{API}/products/?q=shirt", headers={"X-Tenant": t.slug})
    client.get(f"{API}/products/?q=foreignword", headers={"X-Tenant": catalog.other.slug})
    admin, _ = login(app, t.slug, factory.user(t, roles.ADMIN).username)
    page = admin.get("/admin/search/index/")
    assert page.status_code == 200 and b"Search index" in page.data and b"tantivy" in page.data
    queries = admin.get("/admin/search/queries/list/").data.decode()
    assert "zebra" in queries and "shirt" in queries and "foreignword" not in queries
    zero = admin.get("/admin/search/zero-results/list/").data.decode()
    assert "zebra" in zero and ">shirt<" not in zero
    assert admin.get("/admin/search/clicks/list/").status_code == 200
    seller, _ = login(app, t.slug, catalog.s1.user.username)
    for url in (
        "/admin/search/index/",
        "/admin/search/queries/list/",
        "/admin/search/clicks/list/",
    ):
        assert seller.get(url).status_code in (302, 403), url
        anonymous = app.test_client().get(url, headers={"X-Tenant": t.slug})
        assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def _view(app, name, tenants):
    columns = {
        "analytics_search_terms_daily": "tenant_id, day, term, searches, zero_result_searches, "
        "avg_result_count, clicks",
        "analytics_search_product_clicks_daily": "tenant_id, day, product_id, clicks, avg_position",
    }[name]
    with app.app_context(), unscoped():
        rows = db.session.execute(
            text(f"SELECT {columns} FROM {name} WHERE tenant_id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": [t.id for t in tenants]},
        )
        # DATE() is a date on MariaDB and a string on SQLite; AVG a Decimal or a float
        return sorted(
            tuple(
                str(v) if isinstance(v, dt.date) else float(v) if isinstance(v, Decimal) else v
                for v in row
            )
            for row in rows
        )


def test_bi_views_count_searches_zero_results_and_clicks_per_tenant_day_and_term(
    app, client, catalog
):
    """analytics_search_terms_daily and analytics_search_product_clicks_daily (migration 0010),
    what the BI layer reads, against the rows the API logged: searches of one term in any spelling
    meet in one row, clicks join their term, days and tenants stay apart."""
    t, other, i = catalog.tenant, catalog.other, catalog.ids
    h, h_other = {"X-Tenant": t.slug}, {"X-Tenant": other.slug}
    totals = [
        client.get(f"{API}/products/", query_string={"q": q}, headers=h).get_json()["total"]
        for q in ("Shirt", "shirt!", "zebra")
    ]
    client.get(f"{API}/products/?q=shirt", headers=h_other)
    for product_id, position in ((i.p1, 0), (i.p1, 2), (i.p2, 1)):
        response = client.post(
            f"{API}/click/",
            json={"query": "SHIRT ", "product_id": product_id, "position": position},
            headers=h,
        )
        assert response.status_code == 202
    assert totals[0] == totals[1] >= 2 and totals[2] == 0
    with app.app_context(), tenant_scope(t.id):
        day = db.session.scalar(
            select(SearchQueryLog.created_at).order_by(SearchQueryLog.id)
        ).date()
        assert {c.normalized for c in db.session.scalars(select(SearchClick))} == {"shirt"}
        earlier = dt.datetime.combine(
            day - dt.timedelta(days=1), dt.time(23, 59), tzinfo=dt.timezone.utc
        )
        db.session.add(
            SearchQueryLog(
                query="Shirt",
                normalized="shirt",
                endpoint="search.products",
                result_count=0,
                filters={},
                created_at=earlier,
            )
        )
        db.session.commit()
    with app.app_context(), tenant_scope(other.id):
        other_day = db.session.scalar(select(SearchQueryLog.created_at)).date()
    yesterday = str(day - dt.timedelta(days=1))
    assert _view(app, "analytics_search_terms_daily", [t, other]) == sorted(
        [
            (t.id, yesterday, "shirt", 1, 0 + 1, 0.0, 0),
            (t.id, str(day), "shirt", 2, 0, float(totals[0]), 3),
            (t.id, str(day), "zebra", 1, 1, 0.0, 0),
            (other.id, str(other_day), "shirt", 1, 0, 1.0, 0),
        ]
    )
    assert _view(app, "analytics_search_product_clicks_daily", [t, other]) == sorted(
        [(t.id, str(day), i.p1, 2, 1.0), (t.id, str(day), i.p2, 1, 1.0)]
    )
