"""/admin/commission-rules: Admins manage the rules (checked on save) and preview which one applies
to a seller's sale in a category; a Seller has no access to either."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.catalog.models import Product
from app.commissions.models import CommissionRule
from app.extensions import db
from app.security import roles
from tests.builders.admin import login, scope
from tests.builders.commissions import rule

pytestmark = pytest.mark.smoke
BASE = "/admin/commission-rules"


@pytest.fixture
def shop(app, factory):
    tenant, other = factory.tenant(), factory.tenant()
    seller = factory.seller(tenant)
    product = factory.product(seller)
    with scope(app, tenant.id):
        category_id = db.session.get(Product, product.id).category_id
    return {
        "tenant": tenant,
        "seller": seller,
        "admin": factory.user(tenant, roles.ADMIN),
        "category_id": category_id,
        "foreign": rule(app, other.id, "Foreign rule", rate="0.3"),
    }


def test_admin_adds_rules_with_checks_and_sees_its_tenants_only(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["admin"].username)
    refused = client.post(
        f"{BASE}/add",
        data={"name": "Fixed without currency", "fixed_amount": "1.00", "fixed_per": "order"},
        follow_redirects=True,
    )
    assert "currency: required with a fixed amount" in refused.get_data(as_text=True)
    added = client.post(
        f"{BASE}/add",
        data={
            "name": "Seller in category",
            "seller": str(shop["seller"].id),
            "category": str(shop["category_id"]),
            "rate": "0.0500",
            "fixed_amount": "0.30",
            "currency": "usd",
            "fixed_per": "line",
        },
    )
    assert added.status_code == 302, added.get_data(as_text=True)[:1500]
    with scope(app, shop["tenant"].id):
        (row,) = db.session.scalars(select(CommissionRule)).all()
        assert (row.rate, row.fixed_amount, row.currency, row.scope) == (
            Decimal("0.0500"),
            Decimal("0.30"),
            "USD",
            "seller + category",
        )
    listed = client.get(f"{BASE}/list/").get_data(as_text=True)
    assert "Seller in category" in listed and "Foreign rule" not in listed
    assert client.get(f"{BASE}/show/{shop['foreign']}").status_code == 404
    assert client.get(f"{BASE}/list/?_oc_CommissionRuleView=scope").status_code == 400


def test_the_preview_names_the_rule_and_the_commission(app, shop):
    t = shop["tenant"].id
    rule(app, t, "Platform default", rate="0.1")
    chosen = rule(
        app,
        t,
        "Seller fee",
        rate="0.05",
        fixed_amount="0.30",
        currency="USD",
        seller_id=shop["seller"].id,
    )
    client, _ = login(app, shop["tenant"].slug, shop["admin"].username)
    page = client.get(
        f"{BASE}/preview/",
        query_string={
            "seller": shop["seller"].id,
            "category": shop["category_id"],
            "amount": "200.00",
            "currency": "USD",
        },
    ).get_data(as_text=True)
    assert "Seller fee" in page and f"/show/{chosen}" in page and ">seller<" in page
    # 5 % of 200.00 = 10.00, + 0.30 per line = 10.30
    assert "$10.00" in page and "$0.30" in page and "$10.30" in page
    # another currency: the USD rule does not apply, the platform default does
    page = client.get(
        f"{BASE}/preview/",
        query_string={"seller": shop["seller"].id, "amount": "1235", "currency": "JPY"},
    ).get_data(as_text=True)
    assert "Platform default" in page and "¥124" in page
    # nonsense is a form error, not a 500
    bad = client.get(f"{BASE}/preview/", query_string={"seller": "x", "amount": "-1"})
    assert bad.status_code == 200 and "has-error" in bad.get_data(as_text=True)


def test_a_seller_has_no_access(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["seller"].user.username)
    for path in (f"{BASE}/list/", f"{BASE}/preview/", f"{BASE}/add"):
        response = client.get(path)
        assert response.status_code in (302, 403), (path, response.status_code)
        assert "Platform default" not in response.get_data(as_text=True)
