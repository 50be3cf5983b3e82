"""A suspended seller's open sub-orders stay serviceable by staff: suspension takes its products
off the storefront (tests/storefront_api/test_sellers_api.py), never the orders already placed,
which an Admin ships and delivers as before, and which the customer still reads."""

from __future__ import annotations

from app.core.tenancy import tenant_scope
from app.security import roles
from app.security.actor import Actor
from app.sellers import onboarding
from tests.builders.fulfilment import processing_order, sub_order_state
from tests.builders.orders import API, patch


def test_staff_ship_and_deliver_a_suspended_sellers_sub_order(app, client, shop):
    order, sub = processing_order(client, shop)
    admin = Actor(
        user_id=shop.admin.id, tenant_id=shop.tenant.id, role_names=frozenset({roles.ADMIN})
    )
    with app.app_context(), tenant_scope(shop.tenant.id):
        onboarding.change_status(admin, shop.seller.id, "suspend", "Unanswered complaints")
    product = client.get(f"/api/v1/products/{shop.product.id}/", headers=shop.h)
    assert product.status_code == 404  # off the storefront

    for status in ("shipped", "delivered"):
        moved = patch(client, shop.h_admin, order["id"], status=status, sub_order_id=sub["id"])
        assert moved.status_code == 200, moved.get_json()
        assert sub_order_state(app, shop.tenant.id, sub["id"])["status"] == status
    mine = client.get(f"{API}/{order['id']}/", headers=shop.h).get_json()
    assert {s["id"]: s["status"] for s in mine["sub_orders"]}[sub["id"]] == "delivered"
