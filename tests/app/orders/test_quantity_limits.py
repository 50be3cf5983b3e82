"""Each tenant caps how many units one order may hold: of one item (tenants.max_line_quantity,
default 100) and in all (tenants.max_order_units, default 500). The cart refuses more (422
line_quantity_limit / order_quantity_limit, the limit in details) and checkout checks again, so one
guest can no longer hold a variant's whole stock for the reservation time with one unpaid order of
10,000 units. A Super Admin sets the limits with the tenant's other settings (/admin/tenants)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.cart.models import Cart, CartItem
from app.core.tenancy import tenant_scope, unscoped
from app.extensions import db
from app.orders.models import Order
from app.tenants.models import Tenant
from tests.builders.admin import login
from tests.builders.api import error
from tests.builders.orders import ADDRESS, checkout, key, stock_of

CART = "/api/v1/cart"


def add(client, h, variant_id, quantity):
    return client.post(
        f"{CART}/add/", headers=h, json={"variant_id": variant_id, "quantity": quantity}
    )


def set_limits(app, tenant_id, **limits) -> None:
    with app.app_context(), unscoped():
        tenant = db.session.get(Tenant, tenant_id)
        for name, value in limits.items():
            setattr(tenant, name, value)
        db.session.commit()


def guest_cart(app, client, shop, variant_id, quantity) -> dict:
    """A guest cart holding `quantity` units: one unit through the API, the rest written as a cart
    made before the limits (or before they were lowered) would hold them."""
    response = add(client, shop.h_guest, variant_id, 1)
    assert response.status_code == 200, response.get_json()
    with app.app_context(), tenant_scope(shop.tenant.id):
        item = db.session.get(CartItem, response.get_json()["items"][0]["id"])
        item.quantity = quantity
        db.session.commit()
    return dict(shop.h_guest, **{"X-Cart-Token": response.headers["X-Cart-Token"]})


def orders_of(app, shop) -> int:
    with app.app_context(), tenant_scope(shop.tenant.id):
        return db.session.scalar(select(func.count()).select_from(Order))


def test_a_guest_cannot_put_10000_units_of_one_item_in_its_cart(app, client, factory, shop):
    item = factory.product(shop.seller, price="1.00", stock=20_000)
    err = error(add(client, shop.h_guest, item.variant_id, 10_000), 422, "line_quantity_limit")
    assert err["details"] == {
        "quantity": ["at most 100 units of one item"],
        "limit": 100,
        "requested": 10_000,
        "variant_id": item.variant_id,
    }
    with app.app_context(), tenant_scope(shop.tenant.id):
        assert (
            db.session.scalar(select(func.count()).select_from(Cart)) == 0
        )  # not even an empty cart
    # 100 is fine; one more, added later, is not
    response = add(client, shop.h_guest, item.variant_id, 100)
    assert response.status_code == 200 and response.get_json()["quantity_limits"] == {
        "max_line_quantity": 100,
        "max_order_units": 500,
    }
    h = dict(shop.h_guest, **{"X-Cart-Token": response.headers["X-Cart-Token"]})
    error(add(client, h, item.variant_id, 1), 422, "line_quantity_limit")
    line = response.get_json()["items"][0]["id"]
    error(
        client.put(f"{CART}/update/", headers=h, json={"item_id": line, "quantity": 101}),
        422,
        "line_quantity_limit",
    )
    assert client.get(f"{CART}/", headers=h).get_json()["items"][0]["quantity"] == 100
    assert stock_of(app, shop.tenant.id, item.stock_level_id) == (20_000, 0)


def test_a_guests_10000_unit_order_is_refused_and_reserves_nothing(app, client, factory, shop):
    item = factory.product(shop.seller, price="1.00", stock=20_000)
    h = guest_cart(app, client, shop, item.variant_id, 10_000)
    body = {"shipping_address": ADDRESS, "email": "guest@example.com"}

    err = error(checkout(client, h, body, idem=key()), 422, "line_quantity_limit")
    assert (err["details"]["limit"], err["details"]["requested"]) == (100, 10_000)
    assert stock_of(app, shop.tenant.id, item.stock_level_id) == (20_000, 0)
    assert orders_of(app, shop) == 0
    # a tenant that sells 10,000 of one item still caps the order as a whole
    set_limits(app, shop.tenant.id, max_line_quantity=10_000)
    err = error(checkout(client, h, body, idem=key()), 422, "order_quantity_limit")
    assert (err["details"]["limit"], err["details"]["requested"]) == (500, 10_000)
    assert (
        stock_of(app, shop.tenant.id, item.stock_level_id) == (20_000, 0)
        and orders_of(app, shop) == 0
    )
    # the cart was kept: brought under the limits, it checks out
    line = client.get(f"{CART}/", headers=h).get_json()["items"][0]
    assert line["quantity"] == 10_000
    assert (
        client.put(
            f"{CART}/update/", headers=h, json={"item_id": line["id"], "quantity": 400}
        ).status_code
        == 200
    )
    response = checkout(client, h, body, idem=key())
    assert response.status_code == 201, response.get_json()
    assert stock_of(app, shop.tenant.id, item.stock_level_id) == (20_000, 400)


def test_the_order_limit_counts_every_item_and_lowering_is_always_allowed(
    app, client, factory, shop
):
    set_limits(app, shop.tenant.id, max_order_units=150)
    a = factory.product(shop.seller, price="1.00", stock=1_000)
    b = factory.product(shop.seller2, price="1.00", stock=1_000)
    assert add(client, shop.h, a.variant_id, 100).status_code == 200
    err = error(add(client, shop.h, b.variant_id, 60), 422, "order_quantity_limit")
    assert err["details"] == {
        "quantity": ["at most 150 units in one order"],
        "limit": 150,
        "requested": 160,
    }
    body = add(client, shop.h, b.variant_id, 50).get_json()
    assert body["item_count"] == 150
    # the shop lowers its limits: a cart over them can be brought down, not up, and is not checked out
    set_limits(app, shop.tenant.id, max_line_quantity=40, max_order_units=120)
    first, second = body["items"]
    error(
        client.put(
            f"{CART}/update/", headers=shop.h, json={"item_id": first["id"], "quantity": 101}
        ),
        422,
        "line_quantity_limit",
    )
    err = error(checkout(client, shop.h, {"shipping_address": ADDRESS}), 422, "line_quantity_limit")
    assert (err["details"]["limit"], err["details"]["variant_id"]) == (40, a.variant_id)
    for quantity in (60, 40):  # still over the limit, but lower: allowed
        response = client.put(
            f"{CART}/update/", headers=shop.h, json={"item_id": first["id"], "quantity": quantity}
        )
        assert response.status_code == 200, response.get_json()
    err = error(checkout(client, shop.h, {"shipping_address": ADDRESS}), 422, "line_quantity_limit")
    assert (err["details"]["limit"], err["details"]["variant_id"]) == (40, b.variant_id)
    assert orders_of(app, shop) == 0
    assert (
        client.put(
            f"{CART}/update/", headers=shop.h, json={"item_id": second["id"], "quantity": 40}
        ).status_code
        == 200
    )
    response = checkout(client, shop.h, {"shipping_address": ADDRESS})
    assert response.status_code == 201, response.get_json()


def test_a_merged_guest_cart_is_capped_at_the_limits(app, client, factory, shop):
    from tests.builders.factories import PASSWORD

    item = factory.product(shop.seller, price="1.00", stock=1_000)
    assert add(client, shop.h, item.variant_id, 80).status_code == 200
    guest = add(client, shop.h_guest, item.variant_id, 90)
    h = dict(shop.h_guest, **{"X-Cart-Token": guest.headers["X-Cart-Token"]})
    login_response = client.post(
        "/api/v1/auth/login/",
        headers=h,
        json={"login": shop.customer.user.email, "password": PASSWORD},
    )
    assert login_response.status_code == 200, login_response.get_json()
    assert [i["quantity"] for i in client.get(f"{CART}/", headers=shop.h).get_json()["items"]] == [
        100
    ]


def test_a_super_admin_sets_the_limits_with_the_tenants_settings(app, client, factory, shop):
    item = factory.product(shop.seller, price="1.00", stock=1_000)
    superadmin, _ = login(
        app, shop.tenant.slug, app.config["ADMIN_USERNAME"], app.config["ADMIN_PASSWORD"]
    )
    form = superadmin.get(f"/admin/tenants/edit/{shop.tenant.id}")
    assert (
        form.status_code == 200
        and b"max_line_quantity" in form.data
        and b"max_order_units" in form.data
    )
    with app.app_context(), unscoped():
        tenant = db.session.get(Tenant, shop.tenant.id)
        data = {
            name: getattr(tenant, name) or ""
            for name in (
                "name",
                "slug",
                "domain",
                "status",
                "plan",
                "default_currency",
                "default_language",
                "languages",
                "logo_url",
                "primary_color",
                "max_products",
                "max_sellers",
                "max_users",
            )
        }
    response = superadmin.post(
        f"/admin/tenants/edit/{shop.tenant.id}",
        data=dict(data, max_line_quantity="0", max_order_units="500"),
        follow_redirects=True,
    )
    assert b"max_line_quantity: a whole number from 1 to 10000" in response.data
    with app.app_context(), unscoped():
        assert db.session.get(Tenant, shop.tenant.id).max_line_quantity == 100  # refused: unchanged
    response = superadmin.post(
        f"/admin/tenants/edit/{shop.tenant.id}",
        data=dict(data, max_line_quantity="5", max_order_units="8"),
    )
    assert response.status_code == 302
    with app.app_context(), unscoped():
        assert (
            db.session.get(Tenant, shop.tenant.id).max_line_quantity,
            db.session.get(Tenant, shop.tenant.id).max_order_units,
        ) == (5, 8)
    # the very next cart request follows the new limits
    err = error(add(client, shop.h, item.variant_id, 6), 422, "line_quantity_limit")
    assert err["details"]["limit"] == 5
    assert add(client, shop.h, item.variant_id, 5).status_code == 200
