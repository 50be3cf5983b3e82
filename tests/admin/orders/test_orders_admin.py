"""Admin pages of orders: /admin/orders (with sub-orders and timeline), /admin/sub-orders,
/admin/shipments, /admin/carts; read-only; a Seller sees only its own sub-orders and shipments."""

from __future__ import annotations

import pytest

from tests.builders.admin import _grant_seller_reads, login
from tests.builders.orders import CARD_OK, patch, place, sub_of


@pytest.fixture
def world(app, client, shop):
    order = place(client, shop, payment=CARD_OK)
    patch(client, shop.h_seller, order["id"], status="processing")
    sub = sub_of(order, shop.seller.id)
    shipment = client.post(
        "/api/v1/shipping/create-label/", headers=shop.h_seller, json={"sub_order_id": sub["id"]}
    ).get_json()
    foreign = place(client, shop, h=shop.h_foreign, items=[(shop.foreign_product.variant_id, 1)])
    client.post(
        "/api/v1/cart/add/",
        headers=shop.h,
        json={"variant_id": shop.product.variant_id, "quantity": 1},
    )
    return {
        "order": order,
        "sub": sub,
        "sub2": sub_of(order, shop.seller2.id),
        "shipment": shipment,
        "foreign": foreign,
    }


@pytest.mark.smoke
def test_admin_sees_orders_with_sub_orders_and_timeline(app, shop, world):
    client, _ = login(app, shop.tenant.slug, shop.admin.username)
    order = world["order"]
    page = client.get("/admin/orders/list/")
    assert page.status_code == 200 and order["number"].encode() in page.data
    assert world["foreign"]["number"].encode() not in page.data
    page = client.get(f"/admin/orders/show/{order['id']}")
    assert page.status_code == 200
    assert (
        world["sub"]["number"].encode() in page.data
        and world["sub2"]["number"].encode() in page.data
    )
    assert b"payment captured" in page.data  # the timeline
    assert client.get(f"/admin/orders/show/{world['foreign']['id']}").status_code == 404
    page = client.get("/admin/shipments/list/")
    assert page.status_code == 200 and world["shipment"]["tracking_number"].encode() in page.data
    assert client.get("/admin/carts/list/").status_code == 200
    # read-only
    assert client.get(f"/admin/orders/edit/{order['id']}").status_code in (302, 403, 404)
    client.post(f"/admin/orders/delete/{order['id']}")
    assert client.get(f"/admin/orders/show/{order['id']}").status_code == 200


def test_seller_sees_only_its_sub_orders_and_shipments(app, shop, world):
    _grant_seller_reads(app)
    client, _ = login(app, shop.tenant.slug, shop.seller.user.username)
    page = client.get("/admin/sub-orders/list/")
    assert page.status_code == 200
    assert (
        world["sub"]["number"].encode() in page.data
        and world["sub2"]["number"].encode() not in page.data
    )
    assert client.get(f"/admin/sub-orders/show/{world['sub']['id']}").status_code == 200
    assert client.get(f"/admin/sub-orders/show/{world['sub2']['id']}").status_code == 404
    page = client.get("/admin/shipments/list/")
    assert page.status_code == 200 and world["shipment"]["tracking_number"].encode() in page.data
    assert client.get("/admin/orders/list/").status_code in (302, 403)  # parent orders: admins only
    assert client.get("/admin/carts/list/").status_code in (302, 403)
    client2, _ = login(app, shop.tenant.slug, shop.seller2.user.username)
    page = client2.get("/admin/shipments/list/")
    assert (
        page.status_code == 200 and world["shipment"]["tracking_number"].encode() not in page.data
    )
    assert client2.get(f"/admin/shipments/show/{world['shipment']['id']}").status_code == 404
    page = client2.get("/admin/order-timeline/list/")
    assert (
        page.status_code == 200 and b"manual" not in page.data
    )  # seller 1's shipping step is not its
