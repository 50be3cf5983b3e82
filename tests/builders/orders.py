"""Fixtures of the cart, checkout, orders and shipments tests: a shop with two sellers, a
customer, an admin, a GB shipping zone (flat 4.99 platform-wide) and 20 % GB VAT; a second
tenant with its own customer, seller and product. Builders return plain records (no ORM objects)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.inventory.models import StockLevel, Warehouse
from app.orders.models import RefundRequest
from app.security import roles
from app.shipping.models import ShippingMethod, ShippingZone
from app.tax.models import TaxRule
from tests.builders.auth import api_headers

ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "1 Main St",
    "city": "London",
    "postal_code": "N1 1AA",
    "country": "GB",
}


def key() -> str:
    return uuid.uuid4().hex


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
    seller, seller2 = factory.seller(tenant), factory.seller(tenant)
    customer, other = factory.customer(tenant), factory.customer(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    product = factory.product(seller, price="10.00", stock=10)
    product2 = factory.product(seller2, price="25.50", stock=5)
    pricing = configure_pricing(app, tenant.id)
    foreign_tenant = factory.tenant()
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
        h=api_headers(app, customer.user),
        h_other=api_headers(app, other.user),
        h_seller=api_headers(app, seller.user),
        h_seller2=api_headers(app, seller2.user),
        h_admin=api_headers(app, admin),
        h_guest=api_headers(app, None, tenant),
        h_foreign=api_headers(app, foreign_customer.user),
    )


def fill(client, h, *items):
    """Put (variant_id, quantity) pairs in the cart of `h`; for a guest, returns h with its token."""
    for variant_id, quantity in items:
        response = client.post(
            "/api/v1/cart/add/", headers=h, json={"variant_id": variant_id, "quantity": quantity}
        )
        assert response.status_code == 200, response.get_json()
        if "X-Cart-Token" in response.headers:
            h = dict(h, **{"X-Cart-Token": response.headers["X-Cart-Token"]})
    return h


def checkout(client, h, body=None, idem=None):
    return client.post(
        f"{API}/",
        headers=dict(h, **{"Idempotency-Key": idem or key()}),
        json=body if body is not None else {"shipping_address": ADDRESS},
    )


API = "/api/v1/orders"


CARD_OK = {"method": "test_card", "details": {"card_number": "4242424242424242"}}


CARD_DECLINED = {"method": "test_card", "details": {"card_number": "4000000000000002"}}


def place(client, shop, h=None, items=None, payment=None) -> dict:
    h = h or shop.h
    h = fill(client, h, *(items or [(shop.product.variant_id, 2), (shop.product2.variant_id, 1)]))
    body = {"shipping_address": ADDRESS}
    if payment:
        body["payment"] = payment
    if "Authorization" not in h:
        body["email"] = "guest@example.com"
    response = checkout(client, h, body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def sub_of(order: dict, seller_id: int) -> dict:
    return next(s for s in order["sub_orders"] if s["seller_id"] == seller_id)


def patch(client, h, order_id, **body):
    return client.patch(f"{API}/{order_id}/", headers=h, json=body)


def guest_order(client, shop, payment=None, items=None):
    """A guest's order: (the order body, the guest's cart headers, the order headers)."""
    h = fill(
        client,
        shop.h_guest,
        *(items or [(shop.product.variant_id, 2), (shop.product2.variant_id, 1)]),
    )
    body = {"shipping_address": ADDRESS, "email": "guest@example.com"}
    if payment:
        body["payment"] = payment
    idem = key()
    response = checkout(client, h, body, idem=idem)
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert order["access_token"] and response.headers["X-Order-Token"] == order["access_token"]
    return (
        order,
        dict(h, **{"Idempotency-Key": idem}),
        dict(shop.h_guest, **{"X-Order-Token": order["access_token"]}),
    )


def ask(client, h, order_id, *lines, **extra):
    return client.post(
        f"{API}/{order_id}/refund/",
        headers=h,
        json={
            "reason": "returned",
            "lines": [{"line_id": line_id, "quantity": q} for line_id, q in lines],
            **extra,
        },
    )


def requests_of(app, shop, order_id) -> list[RefundRequest]:
    with app.app_context(), tenant_scope(shop.tenant.id):
        rows = db.session.scalars(
            select(RefundRequest)
            .where(RefundRequest.order_id == order_id)
            .order_by(RefundRequest.id)
        ).all()
        for row in rows:
            _ = row.lines
        db.session.expunge_all()
        return rows


def decide(client, h, order_id, request_id, approve=True, **extra) -> dict:
    """The seller (or an admin, by `h`) decides a refund request through the API; the order body."""
    response = client.post(
        f"{API}/{order_id}/refund/",
        headers=h,
        json={"request_id": request_id, "approve": approve, **extra},
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()
