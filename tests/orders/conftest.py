"""Fixtures of the cart, checkout, orders and shipments tests: a shop with two sellers, a
customer, an admin, a GB shipping zone (flat 4.99 platform-wide) and 20 % GB VAT; a second
tenant with its own customer, seller and product. Builders return plain records (no ORM objects)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest
from flask_jwt_extended import create_access_token

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.inventory.models import StockLevel, Warehouse
from app.security import roles
from app.shipping.models import ShippingMethod, ShippingZone
from app.tax.models import TaxRule

ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "1 Main St",
    "city": "London",
    "postal_code": "N1 1AA",
    "country": "GB",
}

_slugs: dict[int, str] = {}


def headers(app, user=None, tenant=None, **extra) -> dict:
    """Bearer token of `user` (None: a guest) at its tenant (or `tenant`)."""
    tenant_id = tenant.id if tenant is not None else user.tenant_id
    h = {"X-Tenant": _slugs[tenant_id], **extra}
    if user is not None:
        with app.app_context(), tenant_scope(user.tenant_id):
            h["Authorization"] = f"Bearer {create_access_token(identity=str(user.id))}"
    return h


def key() -> str:
    return uuid.uuid4().hex


def error(response, status, code=None) -> dict:
    assert response.status_code == status, (response.status_code, response.get_json())
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"])
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


def configure_pricing(
    app, tenant_id: int, *, shipping: str = "4.99", vat: str = "0.2000"
) -> SimpleNamespace:
    with app.app_context(), tenant_scope(tenant_id):
        zone = ShippingZone(name="UK", areas="GB")
        method = ShippingMethod(
            zone=zone,
            name="Standard",
            carrier_code="manual",
            rate_type="flat",
            flat_rate=Decimal(shipping),
            position=0,
        )
        rule = TaxRule(name="VAT GB", country="GB", rate=Decimal(vat), priority=0)
        db.session.add_all([zone, method, rule])
        db.session.commit()
        return SimpleNamespace(method_id=method.id, zone_id=zone.id, tax_rule_id=rule.id)


def add_stock(app, product, quantity: int) -> int:
    """A second warehouse of the product's seller holding `quantity` units; its stock row id."""
    with app.app_context(), tenant_scope(product.tenant_id):
        warehouse = Warehouse(
            code=f"W{uuid.uuid4().hex[:8]}", name="Second", seller_id=product.seller_id
        )
        db.session.add(warehouse)
        db.session.flush()
        row = StockLevel(
            variant_id=product.variant_id,
            warehouse_id=warehouse.id,
            quantity_on_hand=quantity,
            reorder_point=0,
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def stock_of(app, tenant_id: int, stock_level_id: int) -> tuple[int, int]:
    with app.app_context(), tenant_scope(tenant_id):
        row = db.session.get(StockLevel, stock_level_id)
        return row.quantity_on_hand, row.quantity_reserved


@pytest.fixture
def shop(app, factory):
    tenant = factory.tenant()
    _slugs[tenant.id] = tenant.slug
    seller, seller2 = factory.seller(tenant), factory.seller(tenant)
    customer, other = factory.customer(tenant), factory.customer(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    product = factory.product(seller, price="10.00", stock=10)
    product2 = factory.product(seller2, price="25.50", stock=5)
    pricing = configure_pricing(app, tenant.id)
    foreign_tenant = factory.tenant()
    _slugs[foreign_tenant.id] = foreign_tenant.slug
    foreign_seller = factory.seller(foreign_tenant)
    foreign_customer = factory.customer(foreign_tenant)
    foreign_product = factory.product(foreign_seller, price="5.00", stock=5)
    configure_pricing(app, foreign_tenant.id)
    return SimpleNamespace(
        tenant=tenant,
        seller=seller,
        seller2=seller2,
        customer=customer,
        other=other,
        admin=admin,
        product=product,
        product2=product2,
        pricing=pricing,
        foreign_tenant=foreign_tenant,
        foreign_seller=foreign_seller,
        foreign_customer=foreign_customer,
        foreign_product=foreign_product,
        h=headers(app, customer.user),
        h_other=headers(app, other.user),
        h_seller=headers(app, seller.user),
        h_seller2=headers(app, seller2.user),
        h_admin=headers(app, admin),
        h_guest=headers(app, None, tenant),
        h_foreign=headers(app, foreign_customer.user),
    )
