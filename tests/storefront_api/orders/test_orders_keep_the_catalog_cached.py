"""Orders do not empty the cached catalog (issue 19): a paid order that leaves units on the shelf
keeps every cached list and card (what they show, "in stock", did not change), while the product
page, which shows the units available, is served fresh; the order that takes the last unit, and
the cancellation that puts it back, change a card and so do invalidate the lists."""

from __future__ import annotations

from app.catalog import queries
from app.core import cache
from tests.builders.auth import api_headers
from tests.builders.orders import CARD_OK, guest_order

BASE = "/api/v1/products"


def _versions(app, tenant_id: int) -> tuple[str, str]:
    with app.app_context():
        return (
            cache.namespace_version(queries.CACHE_NAMESPACE, tenant_id),
            cache.namespace_version(queries.STOCK_CACHE_NAMESPACE, tenant_id),
        )


def _in_stock_ids(client, h) -> set[int]:
    response = client.get(f"{BASE}/?in_stock=true&page_size=50", headers=h)
    assert response.status_code == 200
    return {p["id"] for p in response.get_json()["items"]}


def test_an_order_that_leaves_stock_keeps_lists_cached_and_refreshes_the_product_page(
    app, client, shop
):
    h = api_headers(tenant=shop.tenant)
    product = shop.product  # 10 units
    listed = client.get(f"{BASE}/?sort=price", headers=h)
    assert listed.headers["X-Cache"] == "miss"
    assert client.get(f"{BASE}/?sort=price", headers=h).headers["X-Cache"] == "hit"
    page = client.get(f"{BASE}/{product.id}/", headers=h)
    assert page.get_json()["variants"][0]["available"] == 10
    assert client.get(f"{BASE}/{product.id}/", headers=h).headers["X-Cache"] == "hit"
    catalog_before, stock_before = _versions(app, shop.tenant.id)

    guest_order(client, shop, payment=CARD_OK, items=[(product.variant_id, 3)])  # paid: sold_count

    catalog_after, stock_after = _versions(app, shop.tenant.id)
    assert catalog_after == catalog_before, "an order that changes no card bumped the catalog"
    assert stock_after != stock_before
    again = client.get(f"{BASE}/?sort=price", headers=h)
    assert again.headers["X-Cache"] == "hit" and again.get_data() == listed.get_data()
    fresh = client.get(
        f"{BASE}/{product.id}/", headers={**h, "If-None-Match": page.headers["ETag"]}
    )
    assert fresh.status_code == 200 and fresh.headers["X-Cache"] == "miss"
    assert fresh.get_json()["variants"][0]["available"] == 7


def test_taking_the_last_unit_and_cancelling_it_change_the_cards(app, client, shop):
    h = api_headers(tenant=shop.tenant)
    product = shop.product2  # 5 units
    assert product.id in _in_stock_ids(client, h)
    assert client.get(f"{BASE}/?in_stock=true&page_size=50", headers=h).headers["X-Cache"] == "hit"
    catalog_before, _ = _versions(app, shop.tenant.id)

    order, _, order_h = guest_order(client, shop, items=[(product.variant_id, 5)])

    assert _versions(app, shop.tenant.id)[0] != catalog_before
    assert product.id not in _in_stock_ids(client, h)  # served fresh: the card changed
    card = next(
        p
        for p in client.get(f"{BASE}/?page_size=50", headers=h).get_json()["items"]
        if p["id"] == product.id
    )
    assert card["in_stock"] is False

    cancelled = client.post(
        f"/api/v1/orders/{order['id']}/cancel/", headers=order_h, json={"reason": "changed my mind"}
    )
    assert cancelled.status_code == 200, cancelled.get_json()
    assert product.id in _in_stock_ids(client, h)  # the units came back: the card changed again
    page = client.get(f"{BASE}/{product.id}/", headers=h).get_json()
    assert page["variants"][0]["available"] == 5
