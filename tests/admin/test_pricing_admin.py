"""Pricing admin pages: promotions (sellers see and edit their own only), tax rules and settings,
shipping zones/methods/rates (Admins); checks on save; tenant isolation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.promotions.models import Promotion
from app.security import roles
from app.shipping.models import ShippingMethod, ShippingZone
from app.tax.models import TaxRule, TaxSettings
from tests.builders.admin import login, scope
from tests.builders.api import error
from tests.builders.auth import api_headers
from tests.builders.pricing import Builder

pytestmark = pytest.mark.smoke


@pytest.fixture
def shop(app, factory):
    tenant, other = factory.tenant(), factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    s1, s2 = factory.seller(tenant), factory.seller(tenant)
    b = Builder(app, tenant.id)
    return {
        "slug": tenant.slug,
        "tenant_id": tenant.id,
        "admin": admin.username,
        "seller1": s1.user.username,
        "seller1_id": s1.id,
        "seller2_id": s2.id,
        "build": b,
        "p_seller2": b.promotion(
            "percentage", "5", name="Seller two sale", funded_by="seller", seller_id=s2.id
        ),
        "p_platform": b.promotion("percentage", "5", name="Platform sale"),
        "p_other_tenant": Builder(app, other.id).promotion(
            "percentage", "5", name="Other tenant sale"
        ),
    }


def test_admin_pages_and_tenant_isolation(app, shop):
    client, _ = login(app, shop["slug"], shop["admin"])
    for path in (
        "/admin/promotions/list/",
        "/admin/promotion-redemptions/list/",
        "/admin/tax-rules/list/",
        "/admin/tax-settings/list/",
        "/admin/shipping-zones/list/",
        "/admin/shipping-methods/list/",
        "/admin/shipping-rates/list/",
        "/admin/promotions/add",
        "/admin/shipping-methods/add",
    ):
        assert client.get(path).status_code == 200, path
    page = client.get("/admin/promotions/list/").data
    assert (
        b"Seller two sale" in page and b"Platform sale" in page and b"Other tenant sale" not in page
    )
    assert client.get(f"/admin/promotions/show/{shop['p_other_tenant']}").status_code == 404


def test_admin_adds_tax_rules_and_settings_with_checks(app, shop):
    client, _ = login(app, shop["slug"], shop["admin"])
    refused = client.post(
        "/admin/tax-rules/add",
        data={"name": "Bad", "country": "F1", "rate": "1.5"},
        follow_redirects=True,
    )
    assert b"invalid tax rule: country" in refused.data and b"rate: a fraction" in refused.data
    ok = client.post(
        "/admin/tax-rules/add",
        data={
            "name": "VAT US-CA",
            "country": "us",
            "region": "ca",
            "rate": "0.0725",
            "is_active": "y",
        },
    )
    assert ok.status_code == 302
    assert (
        client.post("/admin/tax-settings/add", data={"prices_include_tax": "y"}).status_code == 302
    )
    second = client.post("/admin/tax-settings/add", data={}, follow_redirects=True)
    assert b"has its tax settings already" in second.data
    with scope(app, shop["tenant_id"]):
        rules = db.session.scalars(select(TaxRule)).all()
        assert [(r.name, r.country, r.region, r.rate) for r in rules] == [
            ("VAT US-CA", "US", "CA", Decimal("0.0725"))
        ]
        assert [s.prices_include_tax for s in db.session.scalars(select(TaxSettings))] == [True]


def test_admin_adds_shipping_zone_and_method(app, shop):
    client, _ = login(app, shop["slug"], shop["admin"])
    refused = client.post(
        "/admin/shipping-zones/add",
        data={"name": "Bad", "areas": "France, 12"},
        follow_redirects=True,
    )
    assert b"not a country or region code: FRANCE, 12" in refused.data
    assert (
        client.post(
            "/admin/shipping-zones/add",
            data={"name": "EU", "areas": "fr, de;us-ca", "is_active": "y"},
        ).status_code
        == 302
    )
    with scope(app, shop["tenant_id"]):
        zone = db.session.scalar(select(ShippingZone))
        assert zone.areas == "FR, DE, US-CA"
        zone_id = zone.id
    refused = client.post(
        "/admin/shipping-methods/add",
        data={
            "zone": str(zone_id),
            "name": "No rate",
            "rate_type": "flat",
            "carrier_code": "pigeon",
        },
        follow_redirects=True,
    )
    assert (
        b"flat_rate: a flat-rate method needs its rate" in refused.data
        and b"carrier_code" in refused.data
    )
    assert (
        client.post(
            "/admin/shipping-methods/add",
            data={
                "zone": str(zone_id),
                "name": "Standard",
                "rate_type": "flat",
                "flat_rate": "4.90",
                "carrier_code": "manual",
                "is_active": "y",
            },
        ).status_code
        == 302
    )
    with scope(app, shop["tenant_id"]):
        (method,) = db.session.scalars(select(ShippingMethod)).all()
        assert (method.name, method.flat_rate, method.seller_id) == (
            "Standard",
            Decimal("4.90"),
            None,
        )


def test_seller_sees_and_edits_only_its_own_promotions(app, shop):
    client, _ = login(app, shop["slug"], shop["seller1"])
    assert client.get("/admin/tax-rules/list/").status_code == 403
    assert client.get("/admin/shipping-zones/list/").status_code == 403
    page = client.get("/admin/promotions/list/").data
    assert b"Seller two sale" not in page and b"Platform sale" not in page
    assert client.get(f"/admin/promotions/show/{shop['p_seller2']}").status_code == 404
    assert (
        client.post(
            f"/admin/promotions/edit/{shop['p_seller2']}", data={"name": "Hijacked"}
        ).status_code
        == 404
    )
    form = {
        "name": "My BOGO",
        "kind": "buy_x_get_y",
        "value": "100",
        "buy_quantity": "1",
        "get_quantity": "1",
        "funded_by": "platform",
        "seller": str(shop["seller2_id"]),
        "stackable": "y",
        "is_active": "y",
        "code": "mybogo",
    }
    # another seller's store is not a valid choice: refused, nothing created
    refused = client.post("/admin/promotions/add", data=form)
    assert refused.status_code == 200 and b"alert-danger" in refused.data
    form["seller"] = ""
    response = client.post("/admin/promotions/add", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with scope(app, shop["tenant_id"]):
        mine = db.session.scalar(select(Promotion).where(Promotion.name == "My BOGO"))
        # funded by the seller and its own whatever the form said
        assert (mine.funded_by, mine.seller_id, mine.code) == (
            "seller",
            shop["seller1_id"],
            "MYBOGO",
        )
        mine_id = mine.id
        assert db.session.get(Promotion, shop["p_seller2"]).name == "Seller two sale"
    assert b"My BOGO" in client.get("/admin/promotions/list/").data
    bad = client.post(
        f"/admin/promotions/edit/{mine_id}", data={**form, "value": "150"}, follow_redirects=True
    )
    assert b"invalid promotion: value" in bad.data
    bad = client.post(
        f"/admin/promotions/edit/{mine_id}",
        data={**form, "category_ids": "abc"},
        follow_redirects=True,
    )
    assert b"Not a valid choice" in bad.data  # categories are chosen by name, posted as ids
    edited = client.post(
        f"/admin/promotions/edit/{mine_id}",
        data={**form, "name": "My BOGO 2"},
    )
    assert edited.status_code == 302
    with scope(app, shop["tenant_id"]):
        assert db.session.get(Promotion, mine_id).name == "My BOGO 2"
    assert client.get(f"/admin/promotions/edit/{mine_id}").status_code == 200


def test_redemption_search_lists_only_the_sellers_own_promotions(app, shop):
    """The redemptions list's promotion filter is a select of promotions: a seller's holds its own only."""
    mine = shop["build"].promotion(
        "percentage", "5", name="Seller one sale", funded_by="seller", seller_id=shop["seller1_id"]
    )
    assert mine
    client, _ = login(app, shop["slug"], shop["seller1"])
    page = client.get("/admin/promotion-redemptions/list/").get_data(as_text=True)
    assert "Seller one sale" in page
    assert "Seller two sale" not in page and "Platform sale" not in page


@pytest.mark.parametrize("status", ["pending", "suspended"])
def test_a_seller_not_approved_creates_and_changes_no_promotion(app, factory, status):
    """The admin's promotion form refuses a seller whose profile is not approved, with the API's
    refusal (app.sellers.services.require_approved) as a flash message; nothing is written."""
    tenant = factory.tenant()
    seller = factory.seller(tenant, status=status)
    theirs = Builder(app, tenant.id).promotion(
        "percentage", "5", name="Before approval", funded_by="seller", seller_id=seller.id
    )
    client, _ = login(app, tenant.slug, seller.user.username)
    form = {
        "name": "Unapproved sale",
        "kind": "percentage",
        "value": "10",
        "funded_by": "seller",
        "seller": "",
        "stackable": "y",
        "is_active": "y",
    }
    refused = client.post("/admin/promotions/add", data=form, follow_redirects=True)
    assert refused.status_code == 200
    assert "your seller account is not approved yet" in refused.get_data(as_text=True)
    edited = client.post(
        f"/admin/promotions/edit/{theirs}",
        data={**form, "name": "Changed while not approved"},
        follow_redirects=True,
    )
    assert "your seller account is not approved yet" in edited.get_data(as_text=True)
    with scope(app, tenant.id):
        names = db.session.scalars(
            select(Promotion.name).where(Promotion.seller_id == seller.id)
        ).all()
        assert names == ["Before approval"]
    # the API refuses the same seller with the same rule
    api = app.test_client().post(
        "/api/v1/promotions/",
        json={"name": "Unapproved sale", "kind": "percentage", "value": "10"},
        headers=api_headers(app, seller.user),
    )
    assert (
        error(api, 403, "seller_not_approved")["message"]
        == "your seller account is not approved yet"
    )
