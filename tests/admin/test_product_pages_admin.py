"""The product list and a product's page read like a shop's catalog (admin/views/product_page.py,
app/inventory/overview.py): each row's thumbnail, price range and units available (red at none,
amber when low), computed for the page's rows in a fixed number of queries; the page shows the
header, images, variants with prices and stock per named warehouse, attributes and the links to
change them. A seller sees the same of its own products only."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from app.catalog.models import Product
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.security import roles
from tests.builders import back_office
from tests.builders.admin import login
from tests.builders.back_office import row_of, stocked_product, text_of, warehouse

pytestmark = pytest.mark.smoke


@pytest.fixture(autouse=True)
def images_of_the_test_cdn(app):
    """The factory's pictures live on https://img.example.com: the operator lets the admin show
    them (ADMIN_IMAGE_ORIGINS, the CSP's img-src)."""
    app.config["ADMIN_IMAGE_ORIGINS"] = "https://img.example.com"
    yield
    app.config["ADMIN_IMAGE_ORIGINS"] = ""


@pytest.fixture
def shelf(app, factory):
    return back_office.shelf(app, factory)


def _row(page: str, product_id: int) -> str:
    return row_of(page, f"/admin/products/show/{product_id}")


def test_the_list_shows_thumbnail_price_range_and_stock(app, shelf):
    with app.app_context(), tenant_scope(shelf["tenant"].id):
        db.session.get(Product, shelf["lamp"].id).is_featured = True
        db.session.commit()
    client, _ = login(app, shelf["tenant"].slug, shelf["admin"].username)
    page = client.get("/admin/products/list/").get_data(as_text=True)
    lamp = _row(page, shelf["lamp"].id)
    # the first image, small and lazy
    assert f'src="{shelf["lamp"].image_urls[0]}"' in lamp and 'loading="lazy"' in lamp
    assert shelf["lamp"].image_urls[1] not in lamp
    # its title links to its page, a star says it is featured
    assert f'href="/admin/products/show/{shelf["lamp"].id}"' in lamp and 'title="Featured"' in lamp
    # the active variants' range, with the currency; the inactive 99.00 left out
    assert "$12.50" in lamp and "$30.00" in lamp and "$99.00" not in lamp
    # available: (10 - 2) + 4 + 5 = 17 over two warehouses, the inactive variant's 50 left out
    assert re.search(r'class="pp-stock">17<', lamp)
    low = _row(page, shelf["low"].id)
    assert re.search(r'label-warning pp-stock"[^>]*>2<', low) and "$40.00" in low
    assert 'title="Featured"' not in low
    out = _row(page, shelf["out"].id)
    assert re.search(r'label-danger pp-stock"[^>]*>0<', out)
    bare = _row(page, shelf["bare"].id)
    assert "Not stocked" in bare and "pp-thumb-none" in bare and "$8.00" in bare
    assert "Price" in page and "Available" in page
    # staff see every seller's products and whose they are
    assert "Neighbour vase" in page and shelf["neighbour"].store_name in page


def test_a_seller_sees_the_same_of_its_own_products_only(app, shelf):
    client, _ = login(app, shelf["tenant"].slug, shelf["seller"].user.username)
    page = client.get("/admin/products/list/").get_data(as_text=True)
    assert re.search(r'class="pp-stock">17<', _row(page, shelf["lamp"].id))
    assert "Neighbour vase" not in page and shelf["other"].image_urls[0] not in page
    assert shelf["seller"].store_name not in text_of(page)  # its own name on every row says nothing
    assert client.get(f"/admin/products/show/{shelf['other'].id}").status_code == 404
    assert client.get(f"/admin/products/show/{shelf['lamp'].id}").status_code == 200


def _selects(app, client, url: str) -> int:
    seen = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(seen)


def test_the_lists_queries_do_not_grow_with_its_rows(app, factory, shelf):
    """No N+1: a page of 5 products and one of 25 cost the same number of queries (the
    thumbnails, prices and stock are one query each, keyed by the page's ids)."""
    client, _ = login(app, shelf["tenant"].slug, shelf["admin"].username)
    client.get("/admin/products/list/")  # warm: the first request loads permissions and menus
    few = _selects(app, client, "/admin/products/list/")
    north = warehouse(app, shelf["tenant"].id, "Extra depot")
    for n in range(20):
        stocked_product(
            app,
            shelf["neighbour"],
            f"Filler {n}",
            [{"price": "5.00", "stock": [(north, 3, 0, 1)]}, {"price": "7.00"}],
            images=2,
        )
    page = client.get("/admin/products/list/").get_data(as_text=True)  # warm again: the writes
    many = _selects(app, client, "/admin/products/list/")  # reset the tenant's cached lookup
    assert page.count('loading="lazy"') >= 20
    assert many == few, (few, many)


def test_the_product_page_shows_everything_on_one_screen(app, shelf):
    client, _ = login(app, shelf["tenant"].slug, shelf["admin"].username)
    lamp = shelf["lamp"]
    page = client.get(f"/admin/products/show/{lamp.id}").get_data(as_text=True)
    text = text_of(page)
    # header
    assert "Brass lamp" in text and "Active" in text and shelf["seller"].store_name in text
    assert "No reviews yet" in text
    # images: both, the first marked main
    assert all(f'src="{url}"' in page for url in lamp.image_urls) and "Main" in text
    # variants: SKU, options, price, compare-at, stock per named warehouse, totals
    assert all(sku in page for sku in lamp.skus)
    assert "size: S" in text and "size: L" in text
    assert "$12.50" in text and "$15.00" in text and "$30.00" in text and "$99.00" in text
    assert "North depot" in text and "South depot" in text
    rows = re.findall(r'<tr class="pp-variant[^"]*" data-variant-id="(\d+)">(.*?)</tr>', page, re.S)
    by_id = {int(i): text_of(html) for i, html in rows}
    small, large, inactive = (by_id[v] for v in lamp.variant_ids)
    assert "8 (10 on hand)" in small and " 12 " in f" {small} "  # North 8 of 10, South 4: 12
    assert " 5 " in f" {large} "
    total = re.search(r'class="text-right pp-total">(-?\d+)<', page).group(1)
    assert total == str(8 + 4 + 5 + 50)  # every variant's stock, the inactive one's too
    # attributes and links to change each part
    assert "Material" in text and "Brass" in text
    assert f"/admin/products/edit/{lamp.id}" in page
    assert f"/admin/variants/add?_flt_0_product={lamp.id}" in page
    assert f"/admin/product-images/add?_flt_0_product={lamp.id}" in page
    assert all(f"/admin/inventory/edit/{sid}" in page for sid in lamp.stock_level_ids)
    assert f"/admin/inventory/list/?_flt_0_variant={lamp.variant_ids[0]}" in page


def test_the_product_page_of_a_seller_has_its_links_and_nothing_of_staff(app, shelf):
    client, _ = login(app, shelf["tenant"].slug, shelf["seller"].user.username)
    page = client.get(f"/admin/products/show/{shelf['lamp'].id}").get_data(as_text=True)
    assert "Edit product" in page and "Add variant" in page and "Add image" in page
    assert "North depot" in page
    assert client.get("/admin/products/show/not-a-number").status_code == 404


def test_a_product_of_another_tenant_is_404(app, factory, shelf):
    stranger = factory.tenant()
    admin = factory.user(stranger, roles.ADMIN)
    client, _ = login(app, stranger.slug, admin.username)
    assert client.get(f"/admin/products/show/{shelf['lamp'].id}").status_code == 404


def test_titles_follow_the_convention(app, shelf):
    client, _ = login(app, shelf["tenant"].slug, shelf["admin"].username)
    show = client.get(f"/admin/products/show/{shelf['lamp'].id}").get_data(as_text=True)
    assert '<span class="pp-kind-title">Product</span>' in show
    pages = {
        "/admin/products/list/": "Products",
        "/admin/products/add": "Add product",
        f"/admin/products/edit/{shelf['lamp'].id}": "Edit product",
        "/admin/customers/list/": "Customers",
        "/admin/customers/add": "Add customer",
        f"/admin/customers/show/{shelf['customer'].id}": "Customer",
    }
    for url, title in pages.items():
        html = client.get(url).get_data(as_text=True)
        assert re.search(rf'<h4 class="panel-title">\s*{re.escape(title)}\s*</h4>', html), url


def test_a_picture_of_another_origin_is_a_link_unless_its_origin_is_allowed(app):
    """The admin's CSP loads pictures of this origin, data: URLs and ADMIN_IMAGE_ORIGINS only: a
    product picture elsewhere is a placeholder linking to it (no blocked load, no request to the
    other origin), and an <img> once the operator names its origin."""
    from admin.views.product_page import thumbnail

    url = "https://cdn.shop.example/p/1.jpg"
    with app.test_request_context():
        app.config["ADMIN_IMAGE_ORIGINS"] = ""
        try:
            outside = str(thumbnail(url, "Lamp"))
            assert "<img" not in outside and f'href="{url}"' in outside
            assert "Image on cdn.shop.example" in outside
            assert '<img class="pp-thumb" src="/static/p.png"' in str(
                thumbnail("/static/p.png", "")
            )
            app.config["ADMIN_IMAGE_ORIGINS"] = "https://img.other.example https://cdn.shop.example"
            assert f'<img class="pp-thumb" src="{url}"' in str(thumbnail(url, "Lamp"))
        finally:
            app.config["ADMIN_IMAGE_ORIGINS"] = ""
