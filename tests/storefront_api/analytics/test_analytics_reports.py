"""/api/v1/analytics/reports: CSV rows equal the JSON endpoints' figures on a shop worked out by
hand, XLSX equals CSV, a large report is a background export (202) whose file is the same, seller
scoping, tenant isolation, formula neutralisation, and the 401/403/404/422 answers.

The shop (America/New_York, UTC-5 in December; the period 2026-12-01..10), sellers A (store name
"=HYPERLINK(1)") and B, products pa (A, titled "=SUM(1,2)") and pb (B), customers c1, c2:
  O1 2026-12-02 04:30Z  c1  A 100.00 (comm 10.00) paid, pa x2; B 60.00 (6.00) paid, pb x1
                            = 2026-12-01 23:30 local: the 1st
  O2 2026-12-03 12:00Z  c2  A 80.00 (8.00) partially refunded 20.00 (commission kept 6.00)
  O3 2026-12-05 12:00Z  c2  A 40.00 (4.00) paid, EUR
  O4 2026-12-11 05:30Z  c1  A 70.00 paid = 2026-12-11 00:30 local: after the period
A second tenant's seller sells 999.00 on 2026-12-02: never seen here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from app.core.tenancy import tenant_scope
from app.core.types import utcnow
from app.dataio import exports
from app.dataio.models import DataExport
from app.extensions import db
from app.security import roles
from app.sellers.models import SellerProfile
from tests.builders.analytics import planted, rebuild, set_time_zone
from tests.builders.api import error
from tests.builders.auth import api_headers
from tests.builders.dashboards import Part
from tests.builders.factories import Factory

API = "/api/v1/analytics/reports"
PERIOD = {"from": "2026-12-01", "to": "2026-12-10"}
EVIL_TITLE, EVIL_STORE = "=SUM(1,2)", "=HYPERLINK(1)"


@pytest.fixture(scope="module")
def shop(app):
    f = Factory(app)
    tenant = f.tenant()
    set_time_zone(app, tenant.id, "America/New_York")
    a, b = f.seller(tenant), f.seller(tenant)
    with app.app_context(), tenant_scope(tenant.id):
        db.session.get(SellerProfile, a.id).store_name = EVIL_STORE
        db.session.commit()
    pending = f.seller(tenant, status="pending")
    pa, pb = f.product(a, title=EVIL_TITLE, price="25.00"), f.product(b, title="pb")
    c1, c2 = f.customer(tenant), f.customer(tenant)
    t = (app, tenant.id)
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
        Part(a.id, "80.00", "8.00", "partially_refunded", ((pa, 1, "80.00"),),
             refunds=(("20.00", "completed"),)),
        customer_user_id=c2.user_id,
    )  # fmt: skip
    planted(
        *t,
        "2026-12-05 12:00",
        Part(a.id, "40.00", "4.00", "paid", ((pa, 1, "40.00"),)),
        currency="EUR",
        customer_user_id=c2.user_id,
    )
    planted(
        *t,
        "2026-12-11 05:30",
        Part(a.id, "70.00", "7.00", "paid", ((pa, 1, "70.00"),)),
        customer_user_id=c1.user_id,
    )
    foreign = f.tenant()
    fs = f.seller(foreign)
    fp = f.product(fs, title="foreign")
    planted(
        app,
        foreign.id,
        "2026-12-02 12:00",
        Part(fs.id, "999.00", "99.90", "paid", ((fp, 1, "999.00"),)),
        customer_user_id=f.customer(foreign).user_id,
    )
    rebuild(app, tenant.id)
    rebuild(app, foreign.id)
    admin = f.user(tenant, roles.ADMIN)
    return SimpleNamespace(
        tenant=tenant, a=a, b=b, pa=pa, pb=pb, admin=admin,
        h_admin=api_headers(app, admin),
        h_a=api_headers(app, a.user),
        h_b=api_headers(app, b.user),
        h_pending=api_headers(app, pending.user),
        h_customer=api_headers(app, c1.user),
        h_foreign_admin=api_headers(app, f.user(foreign, roles.ADMIN)),
    )  # fmt: skip


def report(client, name, h, **query) -> list[dict]:
    """The report's CSV as dicts (the byte order mark checked and dropped)."""
    response = client.get(f"{API}/{name}/", headers=h, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    assert f"{name}-" in response.headers["Content-Disposition"]
    text = response.get_data().decode("utf-8")
    response.close()  # a streamed answer keeps its request's context (and g) until closed
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def text_of(response) -> str:
    text = response.get_data(as_text=True)
    response.close()
    return text


def xlsx_report(client, name, h, **query) -> list[dict]:
    response = client.get(f"{API}/{name}/", headers=h, query_string={**query, "format": "xlsx"})
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    data = response.get_data()
    response.close()
    return _sheet(data)


def _sheet(data: bytes) -> list[dict]:
    rows = list(load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def get_json(client, path, h, **query):
    response = client.get(f"/api/v1/{path}/", headers=h, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def money_row(row: dict, keys) -> tuple:
    return tuple(row[k] for k in keys)


SALES = ("orders", "units", "gross", "refunded", "commission", "net")


def test_the_list_of_reports(client, shop):
    body = get_json(client, "analytics/reports", shop.h_a)
    names = [r["name"] for r in body["items"]]
    assert names == [
        "sales-by-day", "sales-by-week", "sales-by-month", "sales-by-seller",
        "sales-by-category", "sales-by-channel", "products", "customer-acquisition",
        "customer-cohorts", "inventory-snapshot",
    ]  # fmt: skip
    assert body["total"] == 10 and body["page"] == 1
    products = body["items"][6]
    assert products["options"] == ["limit"] and products["max_days"] == 366
    assert body["items"][2]["max_days"] == 1096


def test_sales_by_day_rows_are_the_json_figures_and_the_hand_worked_ones(client, shop):
    rows = report(client, "sales-by-day", shop.h_admin, **PERIOD)
    assert len(rows) == 20  # 10 local days x (USD, EUR), empty days included
    assert list(rows[0]) == ["period_start", "currency", *SALES]
    busy = {
        (r["period_start"], r["currency"]): money_row(r, SALES) for r in rows if r["orders"] != "0"
    }
    assert busy == {
        # O1 once though two sellers; 2026-12-02 04:30Z is the 1st in New York
        ("2026-12-01", "USD"): ("1", "3", "160.00", "0.00", "16.00", "144.00"),
        # O2: 80 - 20 refunded - commission 8.00 x 60/80
        ("2026-12-03", "USD"): ("1", "1", "80.00", "20.00", "6.00", "54.00"),
        ("2026-12-05", "EUR"): ("1", "1", "40.00", "0.00", "4.00", "36.00"),
    }
    body = get_json(client, "analytics/sales", shop.h_admin, **PERIOD)
    from_json = {
        (p["period_start"], s["currency"]): tuple(str(p[k]) for k in SALES)
        for s in body["series"]
        for p in s["points"]
    }
    assert {(r["period_start"], r["currency"]): money_row(r, SALES) for r in rows} == from_json


@pytest.mark.parametrize("granularity", ["week", "month"])
def test_sales_by_week_and_month_equal_the_json_series(client, shop, granularity):
    rows = report(client, f"sales-by-{granularity}", shop.h_a, **PERIOD)
    body = get_json(client, "analytics/sales", shop.h_a, **PERIOD, granularity=granularity)
    assert [(r["period_start"], r["currency"], *money_row(r, SALES)) for r in rows] == sorted(
        (p["period_start"], s["currency"], *(str(p[k]) for k in SALES))
        for s in body["series"]
        for p in s["points"]
    )
    if granularity == "week":  # seller A: O1's 100 and O2's 80 in the week of Monday 11-30
        usd = [r for r in rows if r["currency"] == "USD"]
        assert [(r["period_start"], r["gross"], r["net"]) for r in usd] == [
            ("2026-11-30", "180.00", "144.00"),
            ("2026-12-07", "0.00", "0.00"),
        ]


@pytest.mark.parametrize("group", ["seller", "category", "channel"])
def test_sales_by_group_are_the_json_totals(client, shop, group):
    rows = report(client, f"sales-by-{group}", shop.h_admin, **PERIOD)
    body = get_json(client, "analytics/sales", shop.h_admin, **PERIOD, group_by=group,
                    granularity="month")  # fmt: skip
    key = "channel" if group == "channel" else f"{group}_id"
    assert [(r["currency"], r[key], *money_row(r, SALES)) for r in rows] == [
        (s["currency"], s["group"], *(str(s["totals"][k]) for k in SALES)) for s in body["series"]
    ]
    if group == "seller":
        got = {(r["currency"], r["seller_id"]): (r["label"], r["gross"], r["net"]) for r in rows}
        assert got == {
            ("EUR", str(shop.a.id)): ("'" + EVIL_STORE, "40.00", "36.00"),  # neutralised
            ("USD", str(shop.a.id)): ("'" + EVIL_STORE, "180.00", "144.00"),
            ("USD", str(shop.b.id)): (shop.b.store_name, "60.00", "54.00"),
        }


def test_products_customers_and_inventory_equal_their_json(client, shop):
    rows = report(client, "products", shop.h_admin, **PERIOD, limit=5)
    body = get_json(client, "analytics/products", shop.h_admin, **PERIOD, limit=5)
    columns = ("product_id", "currency", "revenue", "units", "orders", "views", "refund_rate")
    for name in ("top_by_revenue", "top_by_units", "slow_movers"):
        mine = [r for r in rows if r["list"] == name]
        assert [r["rank"] for r in mine] == [str(i + 1) for i in range(len(body[name]))]
        assert [money_row(r, columns) for r in mine] == [
            tuple("" if p[c] is None else str(p[c]) for c in columns) for p in body[name]
        ]
    top = [(r["title"], r["currency"], r["revenue"], r["units"]) for r in rows
           if r["list"] == "top_by_revenue"]  # fmt: skip
    assert top == [("'" + EVIL_TITLE, "EUR", "40.00", "4"), ("'" + EVIL_TITLE, "USD", "180.00", "4"),
                   ("pb", "USD", "60.00", "1")]  # fmt: skip

    query = {"from": "2026-11-01", "to": "2026-12-10"}
    customers = get_json(client, "analytics/customers", shop.h_admin, **query)
    acquisition = report(client, "customer-acquisition", shop.h_admin, **query)
    assert (
        [(r["month"], int(r["new_customers"])) for r in acquisition]
        == [(a["period_start"], a["new_customers"]) for a in customers["acquisition"]]
        == [("2026-11-01", 0), ("2026-12-01", 2)]
    )
    cohorts = report(client, "customer-cohorts", shop.h_admin, **query)
    assert (
        [tuple(r.values()) for r in cohorts]
        == [
            (c["month"], str(c["customers"]), str(i), str(active), c["retention"][i])
            for c in customers["cohorts"]
            for i, active in enumerate(c["active"])
        ]
        == [("2026-12-01", "2", "0", "2", "1.0000")]
    )

    stock = report(client, "inventory-snapshot", shop.h_a, **PERIOD)
    inv = get_json(client, "inventory/analytics", shop.h_a, **PERIOD, page_size=100)
    assert [(r["variant_id"], r["on_hand"], r["currency"], r["stock_value"]) for r in stock] == [
        (str(i["key"]), str(i["on_hand"]), i["stock_value"][0]["currency"],
         i["stock_value"][0]["value"]) for i in inv["items"]
    ]  # fmt: skip
    assert len(stock) == 1 and stock[0]["stock_value"] == "250.00"  # 10 on hand x 25.00


def test_xlsx_holds_the_csv_rows(client, shop):
    for name in ("sales-by-seller", "products"):
        rows, sheet = (
            report(client, name, shop.h_admin, **PERIOD),
            xlsx_report(client, name, shop.h_admin, **PERIOD),
        )
        assert len(sheet) == len(rows) and list(sheet[0]) == list(rows[0])
        for from_csv, from_xlsx in zip(rows, sheet, strict=True):
            for key, text in from_csv.items():
                cell = from_xlsx[key]
                if isinstance(cell, int | float):  # money and counts are numbers in the sheet
                    assert Decimal(text) == Decimal(str(cell)), (key, text, cell)
                else:
                    assert (cell or "") == text, (key, text, cell)
    titles = [r["title"] for r in xlsx_report(client, "products", shop.h_admin, **PERIOD)]
    assert "'" + EVIL_TITLE in titles and EVIL_TITLE not in titles


def test_a_large_report_is_a_background_export_with_the_same_rows(app, client, shop):
    before = app.config["DATA_EXPORT_SYNC_MAX_ROWS"]
    app.config["DATA_EXPORT_SYNC_MAX_ROWS"] = 3
    try:
        small = client.get(f"{API}/sales-by-seller/", headers=shop.h_admin, query_string=PERIOD)
        started = client.get(f"{API}/sales-by-day/", headers=shop.h_admin, query_string=PERIOD)
    finally:
        app.config["DATA_EXPORT_SYNC_MAX_ROWS"] = before
    assert small.status_code == 200  # 3 rows: at the limit, still the file
    assert len(text_of(small).splitlines()) == 4
    assert started.status_code == 202, started.get_json()
    job = started.get_json()
    assert (job["entity"], job["format"]) == ("sales-by-day", "csv")
    status = get_json(client, job["status_url"][len("/api/v1/") : -1], shop.h_admin)
    assert status["status"] == "done" and status["row_count"] == 20  # inline jobs in tests
    got = client.get(status["download_url"], headers=shop.h_admin)
    assert got.status_code == 200
    text = got.get_data().decode("utf-8")[1:]
    assert list(csv.DictReader(io.StringIO(text))) == report(
        client, "sales-by-day", shop.h_admin, **PERIOD
    )
    with app.app_context(), tenant_scope(shop.tenant.id):
        export = db.session.get(DataExport, job["id"])
        assert (export.kind, export.params) == (
            "analytics_report",
            {"from": "2026-12-01", "to": "2026-12-10", "limit": 10},
        )
        assert export in exports.exports_of(shop.admin.id)  # "My exports"
    # another user (seller A, same shop) gets neither the status nor the file
    error(client.get(job["status_url"], headers=shop.h_a), 404, "not_found")
    error(client.get(status["download_url"], headers=shop.h_a), 404, "not_found")
    # purged like every export: DATA_EXPORT_KEEP_HOURS after it was made, the file goes
    with app.app_context(), tenant_scope(shop.tenant.id):
        export = db.session.get(DataExport, job["id"])
        keep = dt.timedelta(hours=app.config["DATA_EXPORT_KEEP_HOURS"], minutes=1)
        export.finished_at = utcnow() - keep
        db.session.commit()
        assert exports.purge_expired() >= 1
    gone = get_json(client, job["status_url"][len("/api/v1/") : -1], shop.h_admin)
    assert (gone["status"], gone["download_url"]) == ("expired", None)
    error(client.get(status["download_url"], headers=shop.h_admin), 404, "not_found")


def test_a_sellers_reports_hold_exactly_its_own_figures(client, shop):
    b = report(client, "sales-by-seller", shop.h_b, **PERIOD)
    assert [(r["currency"], r["seller_id"], r["gross"]) for r in b] == [
        ("USD", str(shop.b.id), "60.00")
    ]
    text = text_of(client.get(f"{API}/products/", headers=shop.h_b, query_string=PERIOD))
    assert EVIL_TITLE not in text and "pb" in text
    days = report(client, "sales-by-day", shop.h_b, **PERIOD)
    assert {r["currency"] for r in days} == {"USD"} and sum(int(r["orders"]) for r in days) == 1
    stock = report(client, "inventory-snapshot", shop.h_b, **PERIOD)
    assert [r["variant_id"] for r in stock] != [] and "250.00" not in {
        r["stock_value"] for r in stock
    }


def test_tenants_are_isolated(client, shop):
    mine = client.get(f"{API}/sales-by-seller/", headers=shop.h_admin, query_string=PERIOD)
    assert "999.00" not in text_of(mine)
    theirs = report(client, "sales-by-seller", shop.h_foreign_admin, **PERIOD)
    assert [(r["currency"], r["gross"]) for r in theirs] == [("USD", "999.00")]
    products = client.get(f"{API}/products/", headers=shop.h_foreign_admin, query_string=PERIOD)
    assert "pb" not in text_of(products)


@pytest.mark.parametrize(
    "path,query,status,code,field",
    [
        ("sales-by-day/", {"format": "pdf"}, 422, "validation_error", "format"),
        ("sales-by-day/", {"from": "2025-01-01", "to": "2026-12-01"}, 422, None, "to"),
        ("sales-by-day/", {"from": "2026-12-10", "to": "2026-12-01"}, 422, None, "to"),
        ("sales-by-day/", {"limit": "5"}, 422, None, "limit"),
        ("products/", {"limit": "101"}, 422, None, "limit"),
        ("products/", {"seller_id": "1"}, 422, None, "seller_id"),
        ("", {"page_size": "0"}, 422, None, "page_size"),
        ("no-such-report/", {}, 404, "not_found", None),
    ],
)
def test_bad_arguments(client, shop, path, query, status, code, field):
    body = error(client.get(f"{API}/{path}", headers=shop.h_admin, query_string=query), status)
    if code:
        assert body["code"] == code
    if field:
        assert field in str(body["details"])


def test_a_long_period_is_fine_by_month(client, shop):
    rows = report(
        client, "sales-by-month", shop.h_admin, **{"from": "2025-01-01", "to": "2026-12-10"}
    )
    assert len(rows) == 48  # 24 months x 2 currencies
    assert [r["gross"] for r in rows if r["period_start"] == "2026-12-01"] == ["40.00", "240.00"]


@pytest.mark.parametrize("path", ["", "sales-by-day/", "inventory-snapshot/"])
def test_who_may_ask(client, shop, path):
    error(client.get(f"{API}/{path}", headers={"X-Tenant": shop.tenant.slug}), 401)
    error(client.get(f"{API}/{path}", headers=shop.h_customer), 403, "forbidden")
    if path == "sales-by-day/":
        error(client.get(f"{API}/{path}", headers=shop.h_pending), 403, "seller_not_approved")
