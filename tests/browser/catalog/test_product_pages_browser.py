"""The product list and a product's page rendered in headless Chromium, as an Admin and as a
Seller: what a person sees (innerText, images drawn), not the HTML. Thumbnails are drawn (a data:
image, which the CSP allows, so no network is needed), prices read with their currency, stock with
its warehouses' names; nothing reads None or True/False. Set SCREENSHOT_DIR to keep the
pictures."""

from __future__ import annotations

import base64
import os
import shutil

import pytest
from sqlalchemy import select

from app.catalog.models import ProductImage
from app.core.tenancy import tenant_scope
from app.extensions import db
from tests.browser.chromium import admin_page
from tests.builders import back_office

pytestmark = pytest.mark.browser

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="60" height="60">'
    '<rect width="60" height="60" fill="#b5895a"/></svg>'
)
PICTURE = "data:image/svg+xml;base64," + base64.b64encode(SVG.encode()).decode()


@pytest.fixture
def shelf(app, factory):
    shop = back_office.shelf(app, factory)
    with app.app_context(), tenant_scope(shop["tenant"].id):
        first = db.session.scalars(
            select(ProductImage).where(ProductImage.url == shop["lamp"].image_urls[0])
        ).one()
        first.url = PICTURE  # drawn without a network
        db.session.commit()
    return shop


def _keep(shot, name: str) -> None:
    keep = os.environ.get("SCREENSHOT_DIR")
    if keep:
        os.makedirs(keep, exist_ok=True)
        shutil.copy(shot, os.path.join(keep, name))


@pytest.mark.parametrize("who", ["admin", "seller"])
def test_the_product_list_and_page_as_people_see_them(app, live_server, shelf, who, tmp_path):
    username = shelf["admin"].username if who == "admin" else shelf["seller"].user.username
    lamp = shelf["lamp"]
    seen = {}
    with admin_page(live_server, shelf["tenant"].slug, username, width=1280) as page:
        for name, url, body in (
            ("list", "/admin/products/list/", "body"),
            ("page", f"/admin/products/show/{lamp.id}", ".product-page"),
        ):
            page.goto(f"{live_server}{url}")
            page.wait_for_load_state("load")
            shot = tmp_path / f"{name}-{who}.png"
            page.screenshot(path=str(shot), full_page=True)
            _keep(shot, f"productpage-{name}-{who}.png")
            seen[name] = page.inner_text(body)
            seen[f"{name} drawn"] = page.eval_on_selector_all(
                "img.pp-thumb", "els => els.map(e => e.complete && e.naturalWidth > 0)"
            )
        header = page.inner_text(".pp-variants thead")
    listed, shown = seen["list"], seen["page"]
    # the list: thumbnail drawn (the lamp's; the vase's is offline), price range, stock
    # (8 + 4 + 5 = 17)
    assert True in seen["list drawn"]
    assert "$12.50 – $30.00" in listed and "17" in listed and "Not stocked" in listed
    assert ("Neighbour vase" in listed) == (who == "admin")
    for text in (listed, shown):
        assert "None" not in text and "True" not in text and "False" not in text
    # the page: header, gallery, variants with stock per named warehouse, attributes, links
    assert "Brass lamp" in shown and shelf["seller"].store_name in shown
    assert seen["page drawn"][0] is True  # the main image; the second is offline
    assert "North depot" in header and "South depot" in header
    assert all(sku in shown for sku in lamp.skus)
    assert "$12.50" in shown and "$15.00" in shown and "$30.00" in shown
    assert "Material" in shown and "Brass" in shown
    assert "Edit product" in shown and "Add variant" in shown and "Add image" in shown
