"""/api/v1/admin/data-management: templates, the dry run, imports (all or nothing, row by row),
the error file, upsert on re-import, seller scope, CSV and XLSX, size and type limits.

Jobs run in-process here (the test config's inline runner: the import job runs right after the
request's commit), so a 202 answer already shows the finished import. The import killed in a real
`rq worker` process is tests/jobs/test_data_import_worker.py."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from app.catalog.models import Attribute, Category, Product, ProductVariant
from app.core.tenancy import tenant_scope
from app.customers.models import Address, CustomerProfile
from app.dataio.models import DataImport
from app.extensions import db
from app.inventory.models import StockLevel, StockMovement, Warehouse
from app.security import roles
from app.security.models import AuditLog, User
from app.sellers.models import SellerProfile
from tests.builders.api import error
from tests.builders.auth import api_headers
from tests.conftest import unique

API = "/api/v1/admin/data-management"
HEADER = ["handle", "title", "category", "brand", "attributes", "images", "sku", "options",
          "price", "compare_at_price", "currency", "status"]  # fmt: skip


@pytest.fixture
def shop(app, factory):
    tenant = factory.tenant()
    seller, other = factory.seller(tenant), factory.seller(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    customer = factory.customer(tenant)
    theirs = factory.product(other, stock=7)
    with app.app_context(), tenant_scope(tenant.id):
        category = Category(name="Shirts", slug=unique("shirts"))
        attribute = Attribute(code="material", name="Material")
        warehouse = Warehouse(code=unique("W"), name="Main", seller_id=seller.id)
        db.session.add_all([category, attribute, warehouse])
        db.session.commit()
        slugs = {
            "category": category.slug,
            "warehouse": warehouse.code,
            "seller_slug": db.session.get(SellerProfile, seller.id).slug,
        }
    return {
        "tenant": tenant,
        "seller": seller,
        "other": other,
        "theirs": theirs,
        **slugs,
        "h": api_headers(app, seller.user),
        "h_other": api_headers(app, other.user),
        "h_admin": api_headers(app, admin),
        "h_customer": api_headers(app, customer.user),
    }


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def _xlsx(rows: list[list]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("data")
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _products(shop, n: int = 2, prefix: str | None = None) -> list[list[str]]:
    """n products of 2 variants each, for the seller (its own import: no seller column)."""
    prefix = prefix or unique("p")
    rows = [HEADER]
    for i in range(n):
        for size in ("S", "M"):
            rows.append(
                [
                    f"{prefix}-{i}",
                    f"Shirt {i}",
                    shop["category"],
                    "Acme",
                    "material=linen",
                    f"https://cdn.example.com/{prefix}-{i}.jpg",
                    f"{prefix}-{i}-{size}".upper(),
                    f"size={size}",
                    "19.90",
                    "",
                    "USD",
                    "active",
                ]  # fmt: skip
            )
    return rows


def _post(client, shop, path, data: bytes, name="file.csv", h="h", **form):
    return client.post(
        f"{API}/{path}",
        data={**form, "file": (io.BytesIO(data), name)},
        headers=shop[h],
        content_type="multipart/form-data",
    )


def _import(client, shop, data, entity="products", mode="row_by_row", h="h", name="file.csv"):
    return _post(client, shop, "import/", data, name=name, h=h, entity=entity, mode=mode)


def _catalog(app, shop, seller_key="seller") -> dict:
    """The seller's products and variants as plain values: what two imports must agree on."""
    with app.app_context(), tenant_scope(shop["tenant"].id):
        seller_id = shop[seller_key].id
        products = db.session.scalars(select(Product).where(Product.seller_id == seller_id)).all()
        return {
            p.slug: (
                p.title,
                p.status,
                p.category_id,
                p.brand_id,
                sorted(i.url for i in p.images),
                sorted((a.attribute.code, a.value) for a in p.attribute_values),
                sorted(
                    (v.sku, str(v.price), v.currency, tuple(sorted(v.options.items())))
                    for v in p.variants
                ),  # fmt: skip
            )
            for p in products
        }


def _count(app, shop, model) -> int:
    with app.app_context(), tenant_scope(shop["tenant"].id):
        return db.session.scalar(select(func.count()).select_from(model))


def _uploads_left(app) -> list[Path]:
    root = Path(app.config["DATA_IMPORT_DIR"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- templates -----------------------------------------------------------------------------------


def test_templates_have_a_header_and_an_example_in_csv_and_xlsx(client, shop):
    answer = client.get(f"{API}/templates/products/?format=csv", headers=shop["h_admin"])
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    header, example = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert header[:2] == ["handle", "title"] and "seller" in header and "sku" in header
    assert len(example) == len(header) and example[header.index("price")] == "49.90"

    mine = client.get(f"{API}/templates/products/?format=xlsx", headers=shop["h"])
    assert mine.status_code == 200
    rows = list(load_workbook(io.BytesIO(mine.data), read_only=True).active.values)
    assert len(rows) == 2 and "seller" not in rows[0]  # a seller imports into its own store

    error(client.get(f"{API}/templates/customers/", headers=shop["h"]), 403, "forbidden")
    error(client.get(f"{API}/templates/nope/", headers=shop["h_admin"]), 404, "not_found")
    error(client.get(f"{API}/templates/products/", headers=shop["h_customer"]), 403)
    error(client.get(f"{API}/templates/products/"), 401)


# --- the dry run -----------------------------------------------------------------------------------


def test_a_dry_run_reports_every_problem_by_row_and_column_and_writes_nothing(app, client, shop):
    rows = _products(shop, 1)
    bad = rows[1][:]
    rows += [
        # row 4: a SKU of the same file, an unknown category, a bad currency, a price below zero
        ["x-1", "X", "no-such-category", "", "", "", rows[1][6], "", "-1", "", "usd", "active"],
        # row 5: required title missing, price not a number, a SKU another product of the shop has
        ["x-2", "", shop["category"], "", "", "", shop["theirs"].sku, "", "abc", "", "USD", ""],
    ]
    del bad
    before = (_count(app, shop, Product), _count(app, shop, DataImport))
    report = _post(client, shop, "validate/", _csv(rows), entity="products")
    assert report.status_code == 200, report.get_json()
    body = report.get_json()
    found = {(p["row"], p["column"]): p["message"] for p in body["problems"]}
    assert found[(4, "sku")] == "duplicate SKU in the file"
    assert found[(4, "category")] == "unknown category"
    assert found[(4, "currency")].startswith("an ISO 4217 code")
    assert found[(4, "price")] == "zero or more"
    assert found[(5, "title")] == "required"
    assert found[(5, "price")].startswith("a number")
    assert (2, "sku") not in found and (3, "sku") not in found
    assert body["rows_total"] == 4 and body["rows_valid"] == 2 and body["rows_invalid"] == 2
    assert body["ok"] is False
    assert (_count(app, shop, Product), _count(app, shop, DataImport)) == before
    assert _uploads_left(app) == []

    # a SKU of another seller's product, as the seller itself sees it
    theirs = _products(shop, 1)
    theirs[1][6] = shop["theirs"].sku
    found = _post(client, shop, "validate/", _csv(theirs), entity="products").get_json()
    assert {(p["row"], p["column"], p["message"]) for p in found["problems"]} >= {
        (2, "sku", "this SKU belongs to another seller")
    }


def test_a_large_dry_run_is_a_job_with_the_same_report_and_writes_nothing(app, client, shop):
    """Past DATA_IMPORT_SYNC_VALIDATE_BYTES the dry run answers 202 and a job checks the file (in
    chunks, checkpointed like row_by_row); its report, at imports/<id>/report/, is the one the
    request gives for a small file; nothing but the job's own row is written."""
    rows = _products(shop, 3)
    rows += [
        ["x-1", "X", "no-such-category", "", "", "", rows[1][6], "", "-1", "", "usd", "active"],
        ["x-2", "", shop["category"], "", "", "", shop["theirs"].sku, "", "abc", "", "USD", ""],
    ]
    data = _csv(rows)
    inline = _post(client, shop, "validate/", data, entity="products").get_json()
    products = _count(app, shop, Product)
    before = (app.config["DATA_IMPORT_SYNC_VALIDATE_BYTES"], app.config["DATA_IMPORT_CHUNK_ROWS"])
    app.config["DATA_IMPORT_SYNC_VALIDATE_BYTES"], app.config["DATA_IMPORT_CHUNK_ROWS"] = 10, 2
    try:
        started = _post(client, shop, "validate/", data, entity="products")
    finally:
        app.config["DATA_IMPORT_SYNC_VALIDATE_BYTES"], app.config["DATA_IMPORT_CHUNK_ROWS"] = before
    assert started.status_code == 202, started.get_json()
    job = started.get_json()
    # the embedded runner (these tests') has run the job by the time the answer is made
    assert job["mode"] == "dry_run" and job["status"] in ("queued", "running", "validated")
    done = client.get(f"{API}/imports/{job['id']}/", headers=shop["h"]).get_json()
    assert done["status"] == "validated" and done["rows_created"] == 0
    assert (done["rows_done"], done["rows_failed"]) == (inline["rows_valid"], 2)
    assert "nothing was written" in done["message"]
    report = client.get(f"{API}/imports/{job['id']}/report/", headers=shop["h"]).get_json()
    assert report == inline
    assert _count(app, shop, Product) == products and _uploads_left(app) == []
    errors = client.get(f"{API}/imports/{job['id']}/errors/", headers=shop["h"])
    assert errors.status_code == 200 and len(errors.get_data(as_text=True).splitlines()) == 3
    # another seller's import and report stay its own
    error(
        client.get(f"{API}/imports/{job['id']}/report/", headers=shop["h_other"]), 404, "not_found"
    )


def test_a_header_that_is_not_the_template_is_reported_as_row_1(client, shop):
    body = _post(
        client, shop, "validate/", _csv([["handle", "colour"], ["a", "b"]]), entity="products"
    ).get_json()
    columns = {p["column"]: p["message"] for p in body["problems"] if p["row"] == 1}
    assert columns["colour"] == "unknown column"
    assert columns["sku"] == "missing column" and columns["price"] == "missing column"


# --- importing -----------------------------------------------------------------------------------


def test_all_or_nothing_writes_nothing_when_a_row_fails(app, client, shop):
    rows = _products(shop, 3)
    rows[4][8] = "-5"  # row 5: price below zero
    answer = _import(client, shop, _csv(rows), mode="all_or_nothing")
    assert answer.status_code == 202, answer.get_json()
    done = client.get(f"{API}/imports/{answer.get_json()['id']}/", headers=shop["h"]).get_json()
    # both rows of product 1 fail: a product is imported whole or not at all
    assert done["status"] == "failed" and done["rows_done"] == 0 and done["rows_failed"] == 2
    assert "nothing was imported" in done["message"]
    assert _catalog(app, shop) == {}
    errors = client.get(f"{API}/imports/{done['id']}/errors/", headers=shop["h"])
    got = list(csv.reader(io.StringIO(errors.get_data(as_text=True))))
    assert got[0] == [*HEADER, "error"]
    assert [r[:-1] for r in got[1:]] == rows[3:5]
    assert got[1][-1] == "handle: not imported: row 5 of this product is invalid"
    assert got[2][-1] == "price: zero or more"
    assert _uploads_left(app) == []


def test_row_by_row_commits_good_rows_and_reports_bad_ones_then_the_fixed_file_goes_in(
    app, client, shop
):
    rows = _products(shop, 3)
    rows[3][8] = "lots"  # product 1, row 4: its other row (5) is not imported either
    rows[6][10] = "EURO"  # product 2, row 7
    answer = _import(client, shop, _csv(rows))
    done = answer.get_json()
    assert done["status"] == "completed_with_errors", done
    assert (done["rows_total"], done["rows_done"], done["rows_failed"]) == (6, 2, 4)
    catalog = _catalog(app, shop)
    assert list(catalog) == [rows[1][0]]  # product 0 whole; 1 and 2 not at all
    assert len(catalog[rows[1][0]][6]) == 2

    errors = client.get(f"{API}/imports/{done['id']}/errors/", headers=shop["h"])
    assert errors.status_code == 200
    got = list(csv.reader(io.StringIO(errors.get_data(as_text=True))))
    assert [r[:-1] for r in got[1:]] == rows[3:7]
    assert got[1][-1] == "price: a number such as 19.99"
    assert got[2][-1] == "handle: not imported: row 4 of this product is invalid"
    assert got[4][-1].startswith("currency: an ISO 4217 code")

    # the error file, corrected and uploaded again (its error column is ignored)
    fixed = [got[0]] + [r[:] for r in got[1:]]
    fixed[1][8] = "21.00"
    fixed[3][10] = fixed[4][10] = "USD"
    again = _import(client, shop, _csv(fixed)).get_json()
    assert again["status"] == "completed" and again["rows_done"] == 4
    assert sorted(_catalog(app, shop)) == sorted({rows[1][0], rows[3][0], rows[5][0]})


def test_the_same_file_imported_twice_gives_the_same_shop(app, client, shop):
    data = _csv(_products(shop, 3))
    first = _import(client, shop, data).get_json()
    assert first["status"] == "completed" and first["rows_created"] == 6
    after_first = _catalog(app, shop)
    counts = (_count(app, shop, ProductVariant), _count(app, shop, Product))
    second = _import(client, shop, data).get_json()
    assert second["status"] == "completed"
    assert second["rows_created"] == 0 and second["rows_updated"] == 6
    assert _catalog(app, shop) == after_first
    assert (_count(app, shop, ProductVariant), _count(app, shop, Product)) == counts


def test_xlsx_imports_as_csv_does_and_its_error_file_is_xlsx(app, client, shop):
    rows = _products(shop, 2)
    rows[3][8] = "-1"
    typed = [rows[0]] + [[Decimal(c) if j == 8 and c != "-1" else c for j, c in enumerate(r)]
                         for r in rows[1:]]  # fmt: skip
    done = _import(client, shop, _xlsx(typed), name="catalog.xlsx", mode="row_by_row").get_json()
    assert done["format"] == "xlsx" and done["status"] == "completed_with_errors", done
    assert list(_catalog(app, shop)) == [rows[1][0]]
    with app.app_context(), tenant_scope(shop["tenant"].id):
        prices = db.session.scalars(
            select(ProductVariant.price).where(ProductVariant.sku == rows[1][6])
        ).all()
    assert prices == [Decimal("19.90")]
    errors = client.get(f"{API}/imports/{done['id']}/errors/", headers=shop["h"])
    got = list(load_workbook(io.BytesIO(errors.data), read_only=True).active.values)
    assert got[0][-1] == "error" and len(got) == 3  # both rows of product 1
    assert got[1][-1] == "price: zero or more"


def test_a_seller_cannot_touch_another_sellers_products(app, client, shop):
    before = _catalog(app, shop, "other")
    rows = _products(shop, 1)
    rows[1][6] = shop["theirs"].sku  # another seller's SKU
    with app.app_context(), tenant_scope(shop["tenant"].id):
        their_slug = db.session.get(Product, shop["theirs"].id).slug
    rows[2][0] = rows[1][0]
    hijack = [HEADER, [their_slug, "Mine now", "", "", "", "", unique("S"), "", "1.00", "", "USD",
                       "active"]]  # fmt: skip
    done = _import(client, shop, _csv(rows)).get_json()
    assert done["status"] == "completed_with_errors" and done["rows_done"] == 0
    taken = _import(client, shop, _csv(hijack)).get_json()
    assert taken["rows_failed"] == 1
    errors = client.get(f"{API}/imports/{taken['id']}/errors/", headers=shop["h"])
    assert "handle: a product of another seller has this handle" in errors.get_data(as_text=True)
    assert _catalog(app, shop, "other") == before
    # the seller sees its own imports only; the other seller gets 404 for them
    mine = client.get(f"{API}/imports/", headers=shop["h"]).get_json()
    assert {i["id"] for i in mine["items"]} == {done["id"], taken["id"]}
    assert client.get(f"{API}/imports/", headers=shop["h_other"]).get_json()["items"] == []
    error(client.get(f"{API}/imports/{done['id']}/", headers=shop["h_other"]), 404)
    error(client.get(f"{API}/imports/{done['id']}/errors/", headers=shop["h_other"]), 404)
    staff = client.get(f"{API}/imports/{done['id']}/", headers=shop["h_admin"])
    assert staff.status_code == 200


def test_staff_import_for_a_store_named_in_the_file(app, client, shop):
    rows = [["seller", *HEADER]] + [[shop["seller_slug"], *r]
                                    for r in _products(shop, 1)[1:]]  # fmt: skip
    done = _import(client, shop, _csv(rows), h="h_admin").get_json()
    assert done["status"] == "completed", done
    assert list(_catalog(app, shop)) == [rows[1][1]]
    missing = _import(client, shop, _csv(_products(shop, 1)), h="h_admin").get_json()
    assert missing["rows_failed"] == 2  # staff name the store of each product


# --- stock, customers, prices --------------------------------------------------------------------


def test_stock_goes_through_the_ledger_and_a_second_import_moves_nothing(app, client, shop):
    rows = _products(shop, 1)
    _import(client, shop, _csv(rows))
    stock = [["sku", "warehouse", "quantity", "reorder_point"],
             [rows[1][6], shop["warehouse"], "12", "2"],
             [rows[2][6], shop["warehouse"], "3", ""],
             [shop["theirs"].sku, shop["warehouse"], "9", ""]]  # fmt: skip
    done = _import(client, shop, _csv(stock), entity="stock").get_json()
    assert (done["status"], done["rows_done"], done["rows_failed"]) == (
        "completed_with_errors",
        2,
        1,
    )
    with app.app_context(), tenant_scope(shop["tenant"].id):
        levels = db.session.execute(
            select(ProductVariant.sku, StockLevel.quantity_on_hand, StockLevel.reorder_point)
            .join(StockLevel, StockLevel.variant_id == ProductVariant.id)
            .where(ProductVariant.sku.in_([rows[1][6], rows[2][6]]))
        ).all()
        assert sorted(levels) == sorted([(rows[1][6], 12, 2), (rows[2][6], 3, 5)])
    movements = _count(app, shop, StockMovement)
    again = _import(client, shop, _csv(stock[:3]), entity="stock").get_json()
    assert again["status"] == "completed"
    assert _count(app, shop, StockMovement) == movements


def test_customers_are_staff_only_and_upserted_by_email(app, client, shop):
    email = f"{unique('c')}@Example.com"
    rows = [["email", "first_name", "last_name", "address_label", "line1", "city", "postal_code",
             "country"], [email, "Ada", "Lovelace", "Home", "1 Main St", "London", "N1", "gb"],
            ["not-an-email", "B", "C", "", "", "", "", ""]]  # fmt: skip
    error(_import(client, shop, _csv(rows), entity="customers"), 403, "forbidden")
    done = _import(client, shop, _csv(rows), entity="customers", h="h_admin").get_json()
    assert (done["rows_done"], done["rows_failed"], done["rows_created"]) == (1, 1, 1), done
    rows[1][1], rows[1][4] = "Augusta", "2 Main St"
    again = _import(client, shop, _csv(rows[:2]), entity="customers", h="h_admin").get_json()
    assert (again["rows_created"], again["rows_updated"]) == (0, 1)
    with app.app_context(), tenant_scope(shop["tenant"].id):
        users = db.session.scalars(
            select(User).where(func.lower(User.email) == email.lower())
        ).all()
        assert len(users) == 1 and users[0].first_name == "Augusta"
        profile = db.session.scalars(
            select(CustomerProfile).where(CustomerProfile.user_id == users[0].id)
        ).one()
        addresses = db.session.scalars(
            select(Address).where(Address.customer_id == profile.id)
        ).all()
        assert [(a.line1, a.country, a.is_default) for a in addresses] == [
            ("2 Main St", "GB", True)
        ]


def test_prices_update_the_sellers_own_variants_only(app, client, shop):
    rows = _products(shop, 1)
    _import(client, shop, _csv(rows))
    prices = [["sku", "price", "compare_at_price"], [rows[1][6], "15.00", "25.00"],
              [shop["theirs"].sku, "1.00", ""], [unique("nope"), "1.00", ""]]  # fmt: skip
    done = _import(client, shop, _csv(prices), entity="prices").get_json()
    assert (done["rows_done"], done["rows_failed"]) == (1, 2)
    with app.app_context(), tenant_scope(shop["tenant"].id):
        mine = db.session.scalars(
            select(ProductVariant).where(ProductVariant.sku == rows[1][6])
        ).one()
        theirs = db.session.get(ProductVariant, shop["theirs"].variant_id)
        assert (mine.price, mine.compare_at_price) == (Decimal("15.00"), Decimal("25.00"))
        assert theirs.price == Decimal("19.99")


# --- limits, audit ---------------------------------------------------------------------------------


def test_oversize_and_wrong_type_files_are_refused_in_the_envelope(app, client, shop):
    before = _count(app, shop, DataImport)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    error(_import(client, shop, png, name="catalog.csv"), 415, "unsupported_file_type")
    latin1 = "handle,title\ncaf\xe9,x\n".encode("latin-1")
    error(_import(client, shop, latin1), 415, "unsupported_file_type")
    zipped = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    error(_import(client, shop, zipped.getvalue(), name="x.xlsx"), 415, "unsupported_file_type")
    error(_post(client, shop, "validate/", png, entity="products"), 415)
    limit = app.config["DATA_IMPORT_MAX_BYTES"]
    app.config["DATA_IMPORT_MAX_BYTES"] = 1000
    try:
        big = _csv(_products(shop, 30))
        assert len(big) > 1000
        error(_import(client, shop, big), 413, "file_too_large")
        error(_import(client, shop, big + b"x" * 200_000), 413)  # far beyond: refused unread
    finally:
        app.config["DATA_IMPORT_MAX_BYTES"] = limit
    error(_import(client, shop, b""), 422)
    answer = _post(client, shop, "import/", _csv(_products(shop, 1)), entity="products",
                   mode="sometimes")  # fmt: skip
    error(answer, 422, "validation_error")
    assert _count(app, shop, DataImport) == before
    assert _uploads_left(app) == []


def test_each_import_is_on_the_audit_trail(app, client, shop):
    done = _import(client, shop, _csv(_products(shop, 1))).get_json()
    with app.app_context(), tenant_scope(shop["tenant"].id):
        rows = db.session.execute(
            select(AuditLog.action, AuditLog.actor_id, AuditLog.after).where(
                AuditLog.entity == "DataImport", AuditLog.entity_id == str(done["id"])
            )
        ).all()
        per_product = db.session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(
                AuditLog.entity == "ProductVariant",
                AuditLog.tenant_id == shop["tenant"].id,
                AuditLog.actor_id == shop["seller"].user.id,
            )
        )
    actions = {action: after for action, _, after in rows}
    assert set(actions) == {"import", "import_end"}
    assert actions["import_end"]["rows_done"] == 2
    assert {actor for _, actor, _ in rows} == {shop["seller"].user.id}
    assert per_product == 0  # one record per import, not one per row


def test_imports_stay_in_their_tenant_and_only_a_stalled_one_resumes(app, client, factory, shop):
    done = _import(client, shop, _csv(_products(shop, 1))).get_json()
    elsewhere = factory.tenant()
    admin_b = factory.user(elsewhere, roles.ADMIN)
    h_b = api_headers(app, admin_b)
    assert client.get(f"{API}/imports/", headers=h_b).get_json()["items"] == []
    error(client.get(f"{API}/imports/{done['id']}/", headers=h_b), 404, "not_found")
    error(client.get(f"{API}/imports/", headers=shop["h_customer"]), 403, "forbidden")
    refused = client.post(f"{API}/imports/{done['id']}/resume/", headers=shop["h"])
    assert error(refused, 409, "import_not_resumable")["details"] == {"status": "completed"}
    # a run that stopped beating (its worker died) is taken over by the resumed one (here its
    # upload is already gone: the real resume is tests/jobs/test_data_import_worker.py)
    with app.app_context(), tenant_scope(shop["tenant"].id):
        row = db.session.get(DataImport, done["id"])
        row.status, row.heartbeat_at, row.run_token = "running", None, "dead-run"
        db.session.commit()
    resumed = client.post(f"{API}/imports/{done['id']}/resume/", headers=shop["h"])
    assert resumed.status_code == 202
    body = resumed.get_json()
    assert (body["status"], body["message"]) == ("error", "the uploaded file is gone")
    assert body["rows_done"] == 2  # what the dead run committed stays


def test_a_product_with_more_variants_than_a_chunk_is_written_whole(app, client, shop):
    rows = _products(shop, 3)
    big = rows[1][:]
    for size in range(12):  # product 0 gets 12 more variants: 14 rows, chunks of 5 rows
        extra = big[:]
        extra[6], extra[7] = f"{big[6]}-X{size}", f"size=X{size}"
        rows.insert(2, extra)
    chunk = app.config["DATA_IMPORT_CHUNK_ROWS"]
    app.config["DATA_IMPORT_CHUNK_ROWS"] = 5
    try:
        done = _import(client, shop, _csv(rows)).get_json()
    finally:
        app.config["DATA_IMPORT_CHUNK_ROWS"] = chunk
    assert (done["status"], done["rows_done"]) == ("completed", 18), done
    assert sorted(len(p[6]) for p in _catalog(app, shop).values()) == [2, 2, 14]
