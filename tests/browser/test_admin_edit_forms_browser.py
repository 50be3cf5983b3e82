"""Edit forms as staff use them, in headless Chromium: a Seller opens its store profile (commission
and status shown as locked text), an Admin a tax rule (a 4-decimal rate) and a promotion (UTC
datetimes); each is saved with the Save button without touching anything, and the rows and the
audit log are unchanged. The browser's own scripts (select2, pickers) run, as they do for people."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from decimal import Decimal

import pytest
from sqlalchemy import func, inspect, select

from app.core.tenancy import tenant_scope, unscoped
from app.extensions import db
from app.promotions.models import Promotion
from app.security import roles
from app.security.models import AuditLog
from app.sellers.models import SellerProfile
from app.tax.models import TaxRule
from tests.browser.chromium import admin_page

pytestmark = pytest.mark.browser


def _row(app, tenant_id, model, pk) -> dict:
    with app.app_context(), tenant_scope(tenant_id):
        obj = db.session.get(model, pk)
        return {attr.key: getattr(obj, attr.key) for attr in inspect(model).column_attrs}


def _last_audit_id(app) -> int:
    with app.app_context(), unscoped():
        return db.session.scalar(select(func.coalesce(func.max(AuditLog.id), 0)))


def _open(page, live_server, path, shot) -> None:
    page.goto(f"{live_server}{path}")
    page.wait_for_load_state("load")
    page.screenshot(path=str(shot), full_page=True)


def _save(page) -> str:
    """Press Save on the open form as it is; the text of the page the save leads to."""
    with page.expect_navigation():
        page.click("#model_form button[type=submit], #model_form input[type=submit]")
    page.wait_for_load_state("load")
    return page.inner_text("body")


def _keep(*shots) -> None:
    keep = os.environ.get("SCREENSHOT_DIR")  # set it to keep the pictures
    for shot in shots:
        assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
        if keep:
            shutil.copy(shot, keep)


def test_seller_saves_its_profile_unchanged_in_chromium(app, factory, live_server, tmp_path):
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    with app.app_context(), tenant_scope(tenant.id):
        profile = db.session.get(SellerProfile, seller.id)
        profile.commission_rate, profile.description = (
            Decimal("0.065"),
            "Lamps and lights.\nMade in Lyon.",
        )
        db.session.commit()
    before = _row(app, tenant.id, SellerProfile, seller.id)

    shot = tmp_path / "admin-seller-profile-edit-as-seller.png"
    with admin_page(live_server, tenant.slug, seller.user.username) as page:
        audit = _last_audit_id(app)  # after the sign-in, which updates the user's last login
        _open(page, live_server, f"/admin/sellers/edit/{seller.id}", shot)
        commission = page.inner_text("#commission_rate")
        editable = page.locator(
            "#model_form [name=commission_rate], #model_form [name=status]"
        ).count()
        text = _save(page)

    assert commission.strip() == "0.0650" and editable == 0
    assert "Changed Row" in text and "You can only change your own records" not in text
    assert _row(app, tenant.id, SellerProfile, seller.id) == before and _last_audit_id(app) == audit
    _keep(shot)


def test_admin_saves_a_tax_rule_and_a_promotion_unchanged_in_chromium(
    app, factory, live_server, tmp_path
):
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    with app.app_context(), tenant_scope(tenant.id):
        rule = TaxRule(name="Sales tax US-CA", country="US", region="CA", rate=Decimal("0.0725"))
        promotion = Promotion(
            name="Winter sale",
            description="Ten percent off.\nCoats only.",
            kind="percentage",
            value=Decimal("10.00"),
            min_subtotal=Decimal("49.90"),
            starts_at=dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
        )
        db.session.add_all([rule, promotion])
        db.session.commit()
        rule_id, promotion_id = rule.id, promotion.id
    rule_before, promotion_before = (
        _row(app, tenant.id, TaxRule, rule_id),
        _row(app, tenant.id, Promotion, promotion_id),
    )

    rule_shot = tmp_path / "admin-tax-rule-edit-as-admin.png"
    promotion_shot = tmp_path / "admin-promotion-edit-as-admin.png"
    with admin_page(live_server, tenant.slug, admin.username) as page:
        audit = _last_audit_id(app)  # after the sign-in, which updates the user's last login
        _open(page, live_server, f"/admin/tax-rules/edit/{rule_id}", rule_shot)
        rate = page.input_value("input[name=rate]")
        rule_text = _save(page)
        _open(page, live_server, f"/admin/promotions/edit/{promotion_id}", promotion_shot)
        page.click("input[name=starts_at]")  # a picker, if one opened, must not rewrite it
        page.click("input[name=name]")
        starts = page.input_value("input[name=starts_at]")
        promotion_text = _save(page)

    assert rate == "0.0725" and starts == "2030-01-02 03:04:05"
    assert "Changed Row" in rule_text and "Changed Row" in promotion_text
    assert _row(app, tenant.id, TaxRule, rule_id) == rule_before
    assert _row(app, tenant.id, Promotion, promotion_id) == promotion_before
    assert _last_audit_id(app) == audit
    _keep(rule_shot, promotion_shot)
