"""A seller taken off the storefront (suspended, or its application rejected) sells nothing more,
not even what customers put in their carts before: the cart shows those items as no longer for
sale and checkout refuses the cart in the error envelope, naming them, with nothing written or
reserved. The rule is the catalog's (app.catalog.scopes.on_storefront), so a reinstated seller
sells again at once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from app.cart.models import CartItem
from app.core.tenancy import tenant_scope
from app.events.idempotency import IdempotencyKey
from app.extensions import db
from app.orders.models import Order, StockReservation
from app.sellers.models import SellerProfile
from tests.builders.api import error
from tests.builders.orders import ADDRESS, checkout, fill, stock_of


def _set_status(app, tenant_id: int, seller_id: int, status: str) -> None:
    with app.app_context(), tenant_scope(tenant_id):
        db.session.execute(
            update(SellerProfile).where(SellerProfile.id == seller_id).values(status=status)
        )
        db.session.commit()


def _count(app, tenant_id: int, model) -> int:
    with app.app_context(), tenant_scope(tenant_id):
        return db.session.scalar(select(func.count()).select_from(model))


def _cart_items(client, h) -> dict[int, dict]:
    response = client.get("/api/v1/cart/", headers=h)
    assert response.status_code == 200, response.get_json()
    return {item["variant_id"]: item for item in response.get_json()["items"]}


@pytest.mark.parametrize("status", ["suspended", "rejected"])
def test_checkout_refuses_a_cart_holding_an_off_storefront_seller_s_items(
    app, client, shop, status
):
    fill(client, shop.h, (shop.product.variant_id, 2), (shop.product2.variant_id, 1))
    _set_status(app, shop.tenant.id, shop.seller.id, status)

    # the cart says which item is no longer for sale (and that none of it can be bought)
    items = _cart_items(client, shop.h)
    gone, kept = items[shop.product.variant_id], items[shop.product2.variant_id]
    assert (gone["for_sale"], gone["available"], gone["in_stock"]) == (False, 0, False)
    assert (kept["for_sale"], kept["available"], kept["in_stock"]) == (True, 5, True)

    refused = error(checkout(client, shop.h), 409, "item_unavailable")
    assert refused["details"]["variant_ids"] == [shop.product.variant_id]
    (named,) = refused["details"]["items"]
    assert (named["variant_id"], named["sku"], named["title"]) == (
        shop.product.variant_id,
        shop.product.sku,
        shop.product.title,
    )
    assert shop.product.title in refused["message"]
    # nothing changed: no order, no key kept, no stock held, the cart as it was
    assert _count(app, shop.tenant.id, Order) == 0
    assert _count(app, shop.tenant.id, StockReservation) == 0
    assert _count(app, shop.tenant.id, IdempotencyKey) == 0
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id) == (10, 0)
    assert stock_of(app, shop.tenant.id, shop.product2.stock_level_id) == (5, 0)
    assert _count(app, shop.tenant.id, CartItem) == 2

    # the customer removes it: the rest checks out
    response = client.delete(f"/api/v1/cart/remove/{gone['id']}/", headers=shop.h)
    assert response.status_code == 200, response.get_json()
    placed = checkout(client, shop.h)
    assert placed.status_code == 201, placed.get_json()
    assert [s["seller_id"] for s in placed.get_json()["sub_orders"]] == [shop.seller2.id]


def test_a_guest_s_cart_is_refused_too(app, client, shop):
    h = fill(client, shop.h_guest, (shop.product.variant_id, 1))
    _set_status(app, shop.tenant.id, shop.seller.id, "suspended")
    body = {"email": "guest@example.com", "shipping_address": ADDRESS}
    refused = error(checkout(client, h, body), 409, "item_unavailable")
    assert refused["details"]["variant_ids"] == [shop.product.variant_id]
    assert _count(app, shop.tenant.id, Order) == 0


def test_a_suspended_seller_s_item_cannot_be_added_and_a_reinstated_one_sells_again(
    app, client, shop
):
    _set_status(app, shop.tenant.id, shop.seller.id, "suspended")
    response = client.post(
        "/api/v1/cart/add/",
        headers=shop.h,
        json={"variant_id": shop.product.variant_id, "quantity": 1},
    )
    error(response, 404, "not_found")

    _set_status(app, shop.tenant.id, shop.seller.id, "approved")
    fill(client, shop.h, (shop.product.variant_id, 1))
    assert _cart_items(client, shop.h)[shop.product.variant_id]["for_sale"] is True
    assert checkout(client, shop.h).status_code == 201
