"""Builders for promotions tests."""

from __future__ import annotations

import pytest
from flask_jwt_extended import create_access_token

from app.core.tenancy import tenant_scope
from app.security import roles
from tests.builders.pricing import Builder

API = "/api/v1/promotions"


def _headers(app, user, slug) -> dict:
    with app.app_context(), tenant_scope(user.tenant_id):
        token = create_access_token(identity=str(user.id))
    return {"Authorization": f"Bearer {token}", "X-Tenant": slug}


@pytest.fixture
def shop(app, factory):
    tenant, foreign = factory.tenant(), factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    seller, seller2 = factory.seller(tenant), factory.seller(tenant)
    customer = factory.customer(tenant)
    product = factory.product(seller, price="19.99")
    product2 = factory.product(seller2, price="5.00")
    foreign_admin = factory.user(foreign, roles.ADMIN)
    foreign_product = factory.product(factory.seller(foreign))
    foreign_promo = Builder(app, foreign.id).promotion("percentage", "10", code="ELSEWHERE")
    h = {
        "admin": _headers(app, admin, tenant.slug),
        "seller": _headers(app, seller.user, tenant.slug),
        "seller2": _headers(app, seller2.user, tenant.slug),
        "customer": _headers(app, customer.user, tenant.slug),
        "foreign_admin": _headers(app, foreign_admin, foreign.slug),
        "guest": {"X-Tenant": tenant.slug},
    }
    return dict(
        tenant=tenant,
        seller=seller,
        seller2=seller2,
        product=product,
        product2=product2,
        foreign_product=foreign_product,
        foreign_promo=foreign_promo,
        build=Builder(app, tenant.id),
        h=h,
    )
