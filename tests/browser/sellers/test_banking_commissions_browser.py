"""Bank accounts and commission rules as people see them, in headless Chromium against a real
server: a seller's own accounts (never a number, never another seller's), staff's list with the
Verify action, the rules list and the preview page. Screenshots go to SCREENSHOT_DIR when set."""

from __future__ import annotations

import os

import pytest

from app.catalog.models import Product
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.security import roles
from tests.browser.chromium import admin_page
from tests.builders.banking import ABA, IBAN_DE, IBAN_GB, bank_account
from tests.builders.commissions import days, rule

pytestmark = pytest.mark.browser


def _shot(page, name: str) -> None:
    keep = os.environ.get("SCREENSHOT_DIR")
    page.wait_for_load_state("load")
    if keep:
        page.screenshot(path=os.path.join(keep, f"banking-{name}.png"), full_page=True)


@pytest.fixture
def shop(app, factory):
    tenant = factory.tenant()
    seller, other = factory.seller(tenant), factory.seller(tenant)
    product = factory.product(seller)
    bank_account(app, seller, holder="Ada Lovelace Ltd")
    bank_account(
        app,
        seller,
        iban=None,
        account_number="000123456789",
        routing_number=ABA,
        country="US",
        currency="USD",
        holder="Ada Lovelace Ltd",
    )
    bank_account(app, other, iban=IBAN_GB, currency="GBP", holder="Other Seller plc")
    with app.app_context(), tenant_scope(tenant.id):
        category_id = db.session.get(Product, product.id).category_id
    t = tenant.id
    rule(app, t, "Platform default", rate="0.10")
    rule(app, t, "Electronics", rate="0.08", category_id=category_id)
    rule(
        app,
        t,
        "Ada's launch deal",
        rate="0.05",
        fixed_amount="0.30",
        currency="USD",
        seller_id=seller.id,
        valid_until=days(30),
    )
    rule(
        app,
        t,
        "Order handling fee",
        fixed_amount="1.00",
        currency="USD",
        fixed_per="order",
        seller_id=other.id,
    )
    return {
        "tenant": tenant,
        "seller": seller,
        "other": other,
        "admin": factory.user(tenant, roles.ADMIN),
        "category_id": category_id,
    }


def test_a_seller_sees_its_own_accounts_masked(live_server, shop):
    with admin_page(live_server, shop["tenant"].slug, shop["seller"].user.username) as page:
        page.goto(f"{live_server}/admin/bank-accounts/list/")
        page.wait_for_selector("text=Ada Lovelace Ltd")
        _shot(page, "seller-list")
        text = page.inner_text("body")
        assert "•••• 3000" in text and "•••• 6789" in text
        assert "Other Seller plc" not in text and IBAN_DE not in page.content()
        page.goto(f"{live_server}/admin/bank-accounts/add")
        page.wait_for_selector("input[name=new_number]")
        _shot(page, "seller-add")
        assert page.get_attribute("input[name=new_number]", "type") == "password"
        page.goto(f"{live_server}/admin/bank-accounts/list/")
        page.click("table tbody tr:has-text('•••• 3000') a[href*='/edit/']")
        page.wait_for_selector("input[name=new_number]")
        _shot(page, "seller-edit")
        assert page.input_value("input[name=new_number]") == ""
        assert IBAN_DE not in page.content() and "0532013000" not in page.content()
        # commission rules are staff's
        page.goto(f"{live_server}/admin/commission-rules/list/")
        assert "Platform default" not in page.inner_text("body")


def test_staff_verify_accounts_and_preview_commissions(live_server, shop):
    with admin_page(live_server, shop["tenant"].slug, shop["admin"].username) as page:
        page.goto(f"{live_server}/admin/bank-accounts/list/")
        page.wait_for_selector("text=Other Seller plc")
        _shot(page, "admin-list")
        text = page.inner_text("body")
        assert "Ada Lovelace Ltd" in text and IBAN_GB not in page.content()
        page.click("table tbody tr:has-text('Other Seller plc') a[href*='/show/']")
        page.wait_for_selector("text=•••• 5432")
        _shot(page, "admin-show")
        page.goto(f"{live_server}/admin/commission-rules/add")
        page.wait_for_selector("input[name=name]")
        _shot(page, "admin-commission-add")
        page.goto(f"{live_server}/admin/commission-rules/list/")
        page.wait_for_selector("text=Ada's launch deal")
        _shot(page, "admin-commission-rules")
        page.goto(
            f"{live_server}/admin/commission-rules/preview/?seller={shop['seller'].id}"
            f"&category={shop['category_id']}&amount=200.00&currency=USD"
        )
        page.wait_for_selector("#preview-result")
        _shot(page, "admin-commission-preview")
        result = page.inner_text("#preview-result")
        assert "Ada's launch deal" in result and "$10.30" in result
