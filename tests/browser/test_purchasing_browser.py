"""Suppliers and purchase orders as a Seller and an Admin see them in headless Chromium: the
seller its own purchase order's page (lines, totals, the Receive form) and receives a delivery
through it; the admin every seller's orders. Set SCREENSHOT_DIR to keep the pictures."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.extensions import db
from app.purchasing import services
from app.security import roles
from app.security.models import User
from app.sellers.actors import actor_for
from tests.browser.chromium import admin_page, shoot
from tests.builders.admin import scope

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _order(app, tenant_id, seller, products, *, send: bool, receive: int = 0) -> tuple[int, str]:
    with scope(app, tenant_id):
        actor = actor_for(db.session.get(User, seller.user.id))
        supplier = services.create_supplier(
            actor, {"name": f"Supplies of {seller.store_name}", "currency": "USD"}
        )
        order = services.create_order(
            actor,
            services.NewPurchaseOrder(
                supplier_id=supplier.id,
                warehouse_id=products[0].warehouse_id,
                notes="Deliver to the back door, weekdays 8-16.",
                lines=[
                    services.NewLine(
                        sku=p.sku, quantity_ordered=12 * (i + 1), unit_cost=Decimal("3.75")
                    )
                    for i, p in enumerate(products)
                ],
            ),
        )
        if send:
            services.send_order(actor, order.id)
        if receive:
            services.receive(
                actor,
                order.id,
                services.NewReceipt(
                    lines=[services.ReceiptLine(order.lines[0].id, receive)], receipt_key="dn-1"
                ),
            )
        return order.id, order.number


def test_purchase_order_pages_in_chromium(app, factory, live_server, tmp_path):
    tenant = factory.tenant()
    seller, other = factory.seller(tenant), factory.seller(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    mine = [factory.product(seller, stock=3) for _ in range(2)]
    theirs = [factory.product(other, stock=1)]
    order_id, number = _order(app, tenant.id, seller, mine, send=True, receive=5)
    their_id, their_number = _order(app, tenant.id, other, theirs, send=False)

    with admin_page(live_server, tenant.slug, seller.user.username) as page:
        page.goto(f"{live_server}/admin/purchase-orders/list/")
        body = page.inner_text("body")
        assert number in body and their_number not in body
        shoot(page, tmp_path, "inv18-seller-purchase-orders")
        page.goto(f"{live_server}/admin/purchase-orders/show/{order_id}")
        body = page.inner_text("body")
        assert "Partly received" in body or "partly" in body.lower()
        assert "Receive into stock" in body and mine[0].sku in body
        shoot(page, tmp_path, "inv18-seller-purchase-order")
        page.click("button:has-text('Receive into stock')")
        page.wait_for_load_state()
        assert "unit(s) received into stock" in page.inner_text("body")
        shoot(page, tmp_path, "inv18-seller-received")
        page.goto(f"{live_server}/admin/suppliers/list/")
        shoot(page, tmp_path, "inv18-seller-suppliers")

    with admin_page(live_server, tenant.slug, admin.username) as page:
        page.goto(f"{live_server}/admin/purchase-orders/list/")
        body = page.inner_text("body")
        assert number in body and their_number in body
        shoot(page, tmp_path, "inv18-admin-purchase-orders")
        page.goto(f"{live_server}/admin/purchase-orders/show/{their_id}")
        body = page.inner_text("body")
        assert "Add a line" in body and "Send to supplier" in body
        shoot(page, tmp_path, "inv18-admin-draft-purchase-order")
        page.goto(f"{live_server}/admin/purchase-orders/add")
        shoot(page, tmp_path, "inv18-admin-purchase-order-add")
