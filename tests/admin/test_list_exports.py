"""Every admin list exports as CSV and XLSX what it shows (admin.exports): the user's filters and
order, its scope (a seller: its own rows; a tenant: never another's), formulas neutralised; a list
longer than DATA_EXPORT_SYNC_MAX_ROWS is made by a job (inline in tests) and downloaded through a
signed link that only its owner may use, while it is valid."""

from __future__ import annotations

import csv
import io
import re
from contextlib import contextmanager
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.dataio.models import DataExport
from app.extensions import db
from app.security import roles
from tests.builders.admin import login, scope

PRODUCTS = "/admin/products"


@pytest.fixture
def shop(app, factory):
    tenant, elsewhere = factory.tenant(), factory.tenant()
    seller, other = factory.seller(tenant), factory.seller(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    mine = [
        factory.product(seller, title="Alpha lamp"),
        factory.product(seller, title='=HYPERLINK("http://evil","x")'),
        factory.product(seller, title="Beta chair"),
    ]
    theirs = factory.product(other, title="Alpha theirs")
    foreign = factory.product(factory.seller(elsewhere), title="Alpha foreign")
    return {
        "tenant": tenant,
        "seller": seller,
        "admin": admin,
        "mine": mine,
        "theirs": theirs,
        "foreign": foreign,
    }


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _column(rows, label):
    index = rows[0].index(label)
    return [row[index] for row in rows[1:]]


def test_seller_exports_only_its_rows_and_formulas_are_neutralised(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["seller"].user.username)
    rows = _csv(client.get(f"{PRODUCTS}/export/csv/"))
    titles = _column(rows, "Title")
    assert sorted(titles) == sorted(["Alpha lamp", '\'=HYPERLINK("http://evil","x")', "Beta chair"])
    assert "Seller" not in rows[0]  # a seller's list has no Seller column: neither has its file
    # the list's price, stock and status as text and numbers: no picture, link or badge markup
    assert set(_column(rows, "Price")) == {"$19.99"}
    assert set(_column(rows, "Available")) == {"10"}
    assert set(_column(rows, "Status")) == {"Active"}
    assert not [cell for row in rows for cell in row if "<" in cell or "&lt;" in cell]


def test_export_keeps_the_lists_filters_and_order(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["admin"].username)
    # Title starts with "Alpha", sorted by title descending: as the list shows it
    query = "_flt_0_title=Alpha&_oc_ProductView=title&_od_ProductView=desc"
    page = client.get(f"{PRODUCTS}/list/?{query}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    links = re.findall(r'href="([^"]*/export/(?:csv|xlsx)/[^"]*)"', html)
    assert len(links) == 2 and all("_flt_0_title=Alpha" in link for link in links), links
    rows = _csv(client.get(links[0].replace("&amp;", "&")))
    assert _column(rows, "Title") == ["Alpha theirs", "Alpha lamp"]  # never another tenant's
    assert "Seller" in rows[0]


def test_xlsx_opens_and_matches_the_csv(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["admin"].username)
    rows = _csv(client.get(f"{PRODUCTS}/export/csv/?_oc_ProductView=title&_od_ProductView=asc"))
    response = client.get(f"{PRODUCTS}/export/xlsx/?_oc_ProductView=title&_od_ProductView=asc")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    cells = [[_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert cells == rows
    titles = _column(cells, "Title")
    assert '\'=HYPERLINK("http://evil","x")' in titles


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(Decimal(str(value)))
    return str(value)


@contextmanager
def _config(app, **values):
    before = {key: app.config[key] for key in values}
    app.config.update(values)
    try:
        yield
    finally:
        app.config.update(before)


def test_a_large_export_is_a_job_with_a_link_for_its_owner_only(app, shop, factory):
    with _config(app, DATA_EXPORT_SYNC_MAX_ROWS=2):
        client, _ = login(app, shop["tenant"].slug, shop["seller"].user.username)
        started = client.get(f"{PRODUCTS}/export/csv/?_flt_0_title=Alpha")
        assert started.status_code == 200  # one row: at once
        started = client.get(f"{PRODUCTS}/export/xlsx/")
    assert started.status_code == 302 and started.headers["Location"].endswith("/admin/exports/")
    page = client.get("/admin/exports/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Products" in html
    links = re.findall(r'href="(/admin/exports/download/[^"]+)"', html)
    assert len(links) == 1
    with scope(app, shop["tenant"].id):
        export = db.session.scalar(
            select(DataExport).where(DataExport.user_id == shop["seller"].user.id)
        )
        assert export.status == "done" and export.row_count == 3
    got = client.get(links[0])
    assert got.status_code == 200
    sheet = load_workbook(io.BytesIO(got.get_data()), read_only=True).active
    cells = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert "Image" not in cells[0]  # a thumbnail says nothing in a spreadsheet
    titles = sorted(_column(cells, "Title"))
    assert titles == sorted(["Alpha lamp", '\'=HYPERLINK("http://evil","x")', "Beta chair"])

    # another user of the same shop (an Admin, who may read the list): not its file
    other, _ = login(app, shop["tenant"].slug, shop["admin"].username)
    assert other.get(links[0]).status_code == 404
    # a link changed by hand
    assert client.get(links[0][:-3] + "abc").status_code == 404
    # the owner, once the link has expired
    with _config(app, DATA_EXPORT_LINK_SECONDS=-1):
        assert client.get(links[0]).status_code == 403


def test_a_seller_cannot_export_a_list_it_may_not_read(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["seller"].user.username)
    refused = client.get("/admin/orders/export/csv/")
    assert refused.status_code in (302, 403)
    assert b"Alpha" not in refused.get_data()


def test_a_super_admin_backs_up_a_tenant_from_the_tenants_list(app, shop):
    import zipfile

    client, _ = login(
        app, shop["tenant"].slug, app.config["ADMIN_USERNAME"], app.config["ADMIN_PASSWORD"]
    )
    started = client.post(
        "/admin/tenants/action_post", data={"action": "backup", "rowid": [str(shop["tenant"].id)]}
    )
    assert started.status_code == 302 and started.headers["Location"].endswith("/admin/exports/")
    html = client.get("/admin/exports/").get_data(as_text=True)
    assert "Backup of Test shop" in html
    link = re.findall(r'href="(/admin/exports/download/[^"]+)"', html)[0]
    got = client.get(link)
    assert got.status_code == 200 and got.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(got.get_data()))
    assert "manifest.json" in archive.namelist() and "products.jsonl" in archive.namelist()
    assert archive.read("products.jsonl").decode().count("\n") == 4  # not the foreign one

    # an Admin has no such action (nor the tenants list)
    admin, _ = login(app, shop["tenant"].slug, shop["admin"].username)
    refused = admin.post(
        "/admin/tenants/action_post", data={"action": "backup", "rowid": [str(shop["tenant"].id)]}
    )
    assert refused.status_code in (302, 403)
    with scope(app, shop["tenant"].id):
        assert (
            db.session.scalar(select(DataExport.id).where(DataExport.user_id == shop["admin"].id))
            is None
        )
