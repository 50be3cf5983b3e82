"""The navbar's search box (/admin/find/?q=, app/lookup.py): staff find orders by number,
customers by e-mail or name, products by title or SKU; a seller finds only its own sub-orders
and products and never a customer; nothing of another tenant; a customer is refused."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from app.extensions import db
from app.security.models import User
from tests.builders.admin import login, scope
from tests.builders.orders import *  # noqa: F401,F403  (the shop fixture)
from tests.builders.orders import CARD_OK, place, sub_of


def _hits(response) -> dict[str, list[str]]:
    """The page's hits by kind, as the labels a person reads."""
    page = response.get_data(as_text=True)
    found: dict[str, list[str]] = {}
    for kind, label in re.findall(
        r'<tr class="find-hit find-(\w+)">\s*<td><a href="[^"]+">([^<]+)</a>', page
    ):
        found.setdefault(kind, []).append(label)
    return found


def test_staff_find_orders_customers_and_products(app, client, shop):
    order = place(client, shop, payment=CARD_OK)
    foreign = place(
        client,
        shop,
        h=shop.h_foreign,
        items=[(shop.foreign_product.variant_id, 1)],
    )
    with scope(app, shop.tenant.id):
        db.session.execute(
            update(User)
            .where(User.id == shop.customer.user_id)
            .values(first_name="Grace", last_name="Hopper")
        )
        db.session.commit()
    admin, _ = login(app, shop.tenant.slug, shop.admin.username)

    # a whole order number opens the order at once
    whole = admin.get(f"/admin/find/?q={order['number']}")
    assert whole.status_code == 302
    assert whole.headers["Location"].endswith(f"/admin/orders/show/{order['id']}")
    # a number's start lists the orders it begins (not the other tenant's, same day prefix)
    listed = admin.get(f"/admin/find/?q={order['number'][:8]}&go=0")
    assert listed.status_code == 200
    assert order["number"] in _hits(listed)["order"]
    assert foreign["number"] not in listed.get_data(as_text=True)

    by_email = _hits(admin.get(f"/admin/find/?q={shop.customer.user.email[:10]}&go=0"))
    assert by_email["customer"] == ["Grace Hopper"]
    by_name = _hits(admin.get("/admin/find/?q=hopper grace&go=0"))
    assert by_name["customer"] == ["Grace Hopper"]

    title = shop.product.title
    assert _hits(admin.get(f"/admin/find/?q={title[-6:]}&go=0"))["product"] == [title]
    with scope(app, shop.tenant.id):
        from app.catalog.models import ProductVariant

        sku = db.session.get(ProductVariant, shop.product.variant_id).sku
    assert _hits(admin.get(f"/admin/find/?q={sku}&go=0"))["product"] == [title]

    nothing = admin.get("/admin/find/?q=zzzz-no-such-thing")
    assert nothing.status_code == 200 and 'id="find-nothing"' in nothing.get_data(as_text=True)
    # one character finds nothing (and asks for more), a % is a character, not a wildcard
    assert _hits(admin.get("/admin/find/?q=2")) == {}
    assert _hits(admin.get("/admin/find/?q=%25%25&go=0")) == {}


def test_a_seller_finds_only_its_own_and_no_customer(app, client, shop):
    order = place(client, shop, payment=CARD_OK)  # one sub-order per seller
    own_sub = sub_of(order, shop.seller.id)
    other_sub = sub_of(order, shop.seller2.id)
    seller, _ = login(app, shop.tenant.slug, shop.seller.user.username)

    found = _hits(seller.get(f"/admin/find/?q={order['number']}&go=0"))
    assert found.get("sub_order") == [own_sub["number"]]
    assert other_sub["number"] not in str(found) and "order" not in found
    opened = seller.get(f"/admin/find/?q={own_sub['number']}")
    assert opened.status_code == 302
    assert opened.headers["Location"].endswith(f"/admin/sub-orders/show/{own_sub['id']}")

    assert "customer" not in _hits(seller.get(f"/admin/find/?q={shop.customer.user.email}&go=0"))
    assert _hits(seller.get(f"/admin/find/?q={shop.product.title}&go=0"))["product"] == [
        shop.product.title
    ]
    assert _hits(seller.get(f"/admin/find/?q={shop.product2.title}&go=0")) == {}


@pytest.mark.parametrize("who", ["customer", "anonymous"])
def test_customers_and_strangers_cannot_search(app, shop, who):
    if who == "customer":
        client, _ = login(app, shop.tenant.slug, shop.customer.user.username, expect_ok=False)
    else:
        client = app.test_client()
        client.environ_base["HTTP_X_TENANT"] = shop.tenant.slug
    response = client.get(f"/admin/find/?q={shop.product.title}")
    assert response.status_code in (302, 403)
    assert shop.product.title not in response.get_data(as_text=True)
