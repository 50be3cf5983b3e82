"""Builders for promotions tests."""

from __future__ import annotations

import pytest

from app.security import roles
from tests.builders.auth import api_headers
from tests.builders.pricing import Builder

API = "/api/v1/promotions"


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
        "admin": api_headers(app, admin, tenant.slug),
        "seller": api_headers(app, seller.user, tenant.slug),
        "seller2": api_headers(app, seller2.user, tenant.slug),
        "customer": api_headers(app, customer.user, tenant.slug),
        "foreign_admin": api_headers(app, foreign_admin, foreign.slug),
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
