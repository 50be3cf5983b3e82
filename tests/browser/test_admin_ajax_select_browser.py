"""The variant add form's product select as a person uses it: headless Chromium types part of a
title, select2 fetches the matches from the view's related/product/ endpoint, the product is picked,
the form saved, and the variant exists for that product."""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
from sqlalchemy import select

from app.catalog.models import ProductVariant
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.security import roles
from tests.browser.chromium import admin_page

pytestmark = pytest.mark.browser


def test_variant_add_form_searches_and_picks_a_product(app, factory, live_server, tmp_path):
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    seller = factory.seller(tenant)
    wanted = factory.product(seller, title="Walnut reading lamp")
    factory.product(seller, title="Oak side table")
    sku = f"BRW-{uuid.uuid4().hex[:8].upper()}"

    with admin_page(live_server, tenant.slug, admin.username) as page:
        page.goto(f"{live_server}/admin/variants/add")
        page.wait_for_load_state("load")
        assert (
            page.locator("select#product option").count() == 1
        )  # only the blank option in the page
        page.click("#product + .select2 .select2-selection")
        with page.expect_response(
            lambda r: "/admin/variants/related/product/" in r.url and "q=walnut" in r.url
        ):
            page.keyboard.type("walnut", delay=40)
        option = page.locator(".select2-results__option", has_text="Walnut reading lamp")
        option.wait_for()
        options = page.locator(".select2-results__option").all_inner_texts()
        shot = tmp_path / "admin-variant-product-search.png"
        page.screenshot(path=str(shot), full_page=True)
        option.click()
        assert page.input_value("select#product") == str(wanted.id)
        page.fill("input[name=sku]", sku)
        page.fill("input[name=price]", "39.90")
        page.fill("input[name=currency]", "USD")
        page.fill("input[name=position]", "0")
        page.click("#model_form button[type=submit], #model_form input[type=submit]")
        page.wait_for_url(lambda url: "/admin/variants/add" not in url)
        assert "Added Row" in page.inner_text("body")
        page.goto(f"{live_server}/admin/variants/list/")
        listed = page.inner_text("body")

    assert options == ["Walnut reading lamp"]  # the other product does not match "walnut"
    assert sku in listed and "Walnut reading lamp" in listed
    with app.app_context(), tenant_scope(tenant.id):
        variant = db.session.scalar(select(ProductVariant).where(ProductVariant.sku == sku))
        assert variant is not None and variant.product_id == wanted.id
    assert shot.stat().st_size > 20_000
    keep = os.environ.get("SCREENSHOT_DIR")  # set it to keep the picture
    if keep:
        shutil.copy(shot, keep)


def test_variant_list_filters_by_a_searched_product(app, factory, live_server, tmp_path):
    """The list's search form: add the Product filter, type, pick, search; the filtered list keeps
    the picked product shown in its filter."""
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    seller = factory.seller(tenant)
    wanted = factory.product(seller, title="Walnut reading lamp")
    other = factory.product(seller, title="Oak side table")

    with admin_page(live_server, tenant.slug, admin.username) as page:
        page.goto(f"{live_server}/admin/variants/list/")
        page.wait_for_load_state("load")
        page.click("a.accordion-toggle[href='#accordion1_href']")  # the Search panel starts folded
        page.click("#filter_form button.dropdown-toggle")
        page.click("#filter_form a.filter[name=product]")
        page.click("#filter_form select.market-ajax-select + .select2 .select2-selection")
        page.keyboard.type("walnut", delay=40)
        page.locator(".select2-results__option", has_text="Walnut reading lamp").click()
        page.click("#filter_form button[type=submit]")
        page.wait_for_url(lambda url: "_flt_0_product" in url)
        page.click("a.accordion-toggle[href='#accordion1_href']")
        page.locator(
            "#filter_form .select2-selection__rendered", has_text="Walnut reading lamp"
        ).wait_for()
        shot = tmp_path / "admin-variant-filter.png"
        page.screenshot(path=str(shot), full_page=True)
        rows = page.locator("table tbody tr").all_inner_texts()

    listed = "\n".join(rows)
    assert wanted.sku in listed and other.sku not in listed
    keep = os.environ.get("SCREENSHOT_DIR")
    if keep:
        shutil.copy(shot, keep)
