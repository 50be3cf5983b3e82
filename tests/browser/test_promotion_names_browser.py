"""A seller's promotion form as the seller uses it: headless Chromium types part of a product's
title into the Products multi-select, select2 fetches the matches (the seller's own products only)
from the view's related/product_ids/ endpoint, two products are picked, the form saved, and the
promotion's page names them."""

from __future__ import annotations

import os
import shutil

import pytest
from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.promotions.models import Promotion
from tests.browser.chromium import admin_page

pytestmark = pytest.mark.browser


def _pick(page, typed: str, title: str) -> list[str]:
    page.click("#product_ids + .select2 .select2-selection")
    with page.expect_response(
        lambda r: "/admin/promotions/related/product_ids/" in r.url and f"q={typed}" in r.url
    ):
        page.keyboard.type(typed, delay=40)
    option = page.locator(".select2-results__option", has_text=title)
    option.wait_for()
    offered = page.locator(".select2-results__option").all_inner_texts()
    option.click()
    return offered


def test_a_seller_picks_its_products_by_name(app, factory, live_server, tmp_path):
    tenant = factory.tenant()
    seller, other = factory.seller(tenant), factory.seller(tenant)
    lamp = factory.product(seller, title="Walnut reading lamp")
    table = factory.product(seller, title="Walnut side table")
    factory.product(other, title="Walnut clock")  # another seller's: never offered

    with admin_page(live_server, tenant.slug, seller.user.username) as page:
        page.goto(f"{live_server}/admin/promotions/add")
        page.wait_for_load_state("load")
        page.fill("input[name=name]", "Walnut week")
        page.select_option("select#kind", "percentage")
        page.fill("input[name=value]", "10")
        offered = _pick(page, "walnut", "Walnut reading lamp")
        _pick(page, "table", "Walnut side table")
        shot = tmp_path / "seller-promotion-products.png"
        page.screenshot(path=str(shot), full_page=True)
        page.click("#model_form button[type=submit], #model_form input[type=submit]")
        page.wait_for_url(lambda url: "/admin/promotions/add" not in url)
        with app.app_context(), tenant_scope(tenant.id):
            promo = db.session.scalar(select(Promotion).where(Promotion.name == "Walnut week"))
            assert promo is not None
            assert promo.product_ids == sorted([lamp.id, table.id])
            promo_id = promo.id
        page.goto(f"{live_server}/admin/promotions/show/{promo_id}")
        shown = page.inner_text("body")

    assert sorted(offered) == ["Walnut reading lamp", "Walnut side table"]
    assert "Walnut reading lamp" in shown and "Walnut side table" in shown
    assert "Walnut clock" not in shown
    assert shot.stat().st_size > 20_000
    keep = os.environ.get("SCREENSHOT_DIR")  # set it to keep the picture
    if keep:
        shutil.copy(shot, keep)
