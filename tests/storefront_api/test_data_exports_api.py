"""GET /api/v1/admin/data-management/export/<entity>/: CSV and XLSX of products (a row per
variant), stock levels, customers and orders; a seller only its own products and stock, customers
and orders staff only; never another tenant's rows; formulas neutralised."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from app.security import roles
from tests.builders.api import error
from tests.builders.auth import api_headers

API = "/api/v1/admin/data-management/export"


@pytest.fixture
def shop(app, factory):
    tenant, elsewhere = factory.tenant(), factory.tenant()
    seller, other = factory.seller(tenant), factory.seller(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    customer = factory.customer(tenant)
    mine = factory.product(seller, title="+cmd|' /C calc'!A0")
    theirs = factory.product(other, title="Theirs")
    foreign_admin = factory.user(elsewhere, roles.ADMIN)
    factory.product(factory.seller(elsewhere), title="Foreign")
    return {
        "mine": mine,
        "theirs": theirs,
        "customer": customer,
        "h": api_headers(app, seller.user),
        "h_admin": api_headers(app, admin),
        "h_customer": api_headers(app, customer.user),
        "h_foreign": api_headers(app, foreign_admin),
    }


def _rows(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_a_seller_exports_its_own_products_and_stock(client, shop):
    rows = _rows(client.get(f"{API}/products/", headers=shop["h"]))
    assert [r["sku"] for r in rows] == [shop["mine"].sku]
    assert rows[0]["title"] == "'+cmd|' /C calc'!A0"  # neutralised
    assert rows[0]["price"] == "19.99" and rows[0]["currency"] == "USD"
    stock = _rows(client.get(f"{API}/stock-levels/?format=csv", headers=shop["h"]))
    assert [int(r["id"]) for r in stock] == [shop["mine"].stock_level_id]
    assert stock[0]["available"] == "10"


def test_staff_export_the_whole_storefront_and_never_another(client, shop):
    rows = _rows(client.get(f"{API}/products/", headers=shop["h_admin"]))
    assert {r["sku"] for r in rows} == {shop["mine"].sku, shop["theirs"].sku}
    customers = _rows(client.get(f"{API}/customers/", headers=shop["h_admin"]))
    assert [r["email"] for r in customers] == [shop["customer"].user.email]
    assert _rows(client.get(f"{API}/orders/", headers=shop["h_admin"])) == []
    foreign = _rows(client.get(f"{API}/products/", headers=shop["h_foreign"]))
    assert [r["title"] for r in foreign] == ["Foreign"]


def test_xlsx_matches_the_csv(client, shop):
    rows = _rows(client.get(f"{API}/stock-levels/", headers=shop["h_admin"]))
    got = client.get(f"{API}/stock-levels/?format=xlsx", headers=shop["h_admin"])
    assert got.status_code == 200 and got.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(got.get_data()), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    header = list(values[0])
    as_text = [
        {h: "" if v is None else str(v) for h, v in zip(header, row, strict=True)}
        for row in values[1:]
    ]
    assert as_text == rows


def test_who_may_export_what(client, shop):
    error(client.get(f"{API}/customers/", headers=shop["h"]), 403, "forbidden")
    error(client.get(f"{API}/orders/", headers=shop["h"]), 403, "forbidden")
    error(client.get(f"{API}/products/", headers=shop["h_customer"]), 403, "forbidden")
    error(client.get(f"{API}/products/", headers={"X-Tenant": shop["h"]["X-Tenant"]}), 401)
    error(client.get(f"{API}/suppliers/", headers=shop["h_admin"]), 404, "not_found")
    error(client.get(f"{API}/products/?format=pdf", headers=shop["h_admin"]), 422)
    error(client.get(f"{API}/products/?sneaky=1", headers=shop["h_admin"]), 422)


def test_a_large_export_is_a_job_with_a_link_for_the_caller_only(app, client, shop):
    before = app.config["DATA_EXPORT_SYNC_MAX_ROWS"]
    app.config["DATA_EXPORT_SYNC_MAX_ROWS"] = 1
    try:
        started = client.get(f"{API}/products/?format=xlsx", headers=shop["h_admin"])
    finally:
        app.config["DATA_EXPORT_SYNC_MAX_ROWS"] = before
    assert started.status_code == 202, started.get_json()
    job = started.get_json()
    assert job["entity"] == "products" and job["format"] == "xlsx"
    status = client.get(job["status_url"], headers=shop["h_admin"]).get_json()
    assert status["status"] == "done" and status["row_count"] == 2  # inline jobs in tests
    got = client.get(status["download_url"], headers=shop["h_admin"])
    assert got.status_code == 200 and got.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(got.get_data()), read_only=True).active
    assert len(list(sheet.iter_rows(values_only=True))) == 3

    # the seller (same shop) gets neither the status nor the file
    error(client.get(job["status_url"], headers=shop["h"]), 404, "not_found")
    error(client.get(status["download_url"], headers=shop["h"]), 404, "not_found")
    error(client.get(f"{API[:-7]}/exports/download/forged/", headers=shop["h_admin"]), 404)
    app.config["DATA_EXPORT_LINK_SECONDS"], before = -1, app.config["DATA_EXPORT_LINK_SECONDS"]
    try:
        error(client.get(status["download_url"], headers=shop["h_admin"]), 403, "forbidden")
    finally:
        app.config["DATA_EXPORT_LINK_SECONDS"] = before


def test_old_export_files_are_deleted_and_say_so(app, client, shop):
    """The hourly purge deletes a file DATA_EXPORT_KEEP_HOURS after it was made: its link then
    answers 404 and its status says expired; a younger file stays."""
    import datetime as dt
    from pathlib import Path

    from app.core.tenancy import unscoped
    from app.core.types import utcnow
    from app.dataio import exports
    from app.dataio.models import DataExport
    from app.extensions import db

    before = app.config["DATA_EXPORT_SYNC_MAX_ROWS"]
    app.config["DATA_EXPORT_SYNC_MAX_ROWS"] = 1
    try:
        jobs = [
            client.get(f"{API}/products/?format=csv", headers=shop["h_admin"]).get_json()
            for _ in range(2)
        ]
    finally:
        app.config["DATA_EXPORT_SYNC_MAX_ROWS"] = before
    old, young = (client.get(j["status_url"], headers=shop["h_admin"]).get_json() for j in jobs)
    keep = app.config["DATA_EXPORT_KEEP_HOURS"]
    with app.app_context(), unscoped():
        row = db.session.get(DataExport, old["id"])
        old_file = Path(app.config["DATA_EXPORT_DIR"]) / row.file_name
        young_file = (
            Path(app.config["DATA_EXPORT_DIR"]) / db.session.get(DataExport, young["id"]).file_name
        )
        row.finished_at = utcnow() - dt.timedelta(hours=keep, minutes=1)
        db.session.commit()
        assert old_file.exists() and young_file.exists()
        assert exports.purge_expired() >= 1
        assert not old_file.exists() and young_file.exists()
        assert db.session.get(DataExport, old["id"]).file_name is None

    gone = client.get(old["status_url"], headers=shop["h_admin"]).get_json()
    assert (gone["status"], gone["download_url"]) == ("expired", None)
    error(client.get(old["download_url"], headers=shop["h_admin"]), 404, "not_found")
    assert client.get(young["download_url"], headers=shop["h_admin"]).status_code == 200
