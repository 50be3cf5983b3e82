"""/api/v1/cart: customer and guest carts, stock checks, pricing on read, merge on login; roles,
ownership and tenancy; concurrent adds."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select, update

from app.cart.models import Cart, CartItem
from app.catalog.models import ProductVariant
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.security.models import AuditLog
from app.sellers.models import SellerProfile
from tests.builders.api import error
from tests.builders.auth import api_headers, bearer
from tests.builders.factories import PASSWORD
from tests.builders.orders import fill

API = "/api/v1/cart"


def _add(client, h, variant_id, quantity=1):
    return client.post(
        f"{API}/add/", headers=h, json={"variant_id": variant_id, "quantity": quantity}
    )


@pytest.mark.smoke
def test_customer_cart_is_priced_on_every_read(client, shop):
    response = _add(client, shop.h, shop.product.variant_id, 2)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["cart_token"] is None and body["item_count"] == 2
    item = body["items"][0]
    assert (item["quantity"], item["unit_price"], item["subtotal"], item["available"]) == (
        2,
        "10.00",
        "20.00",
        10,
    )
    # no destination: no tax, no shipping yet
    assert (body["subtotal"], body["tax_total"], body["shipping_total"], body["total"]) == (
        "20.00",
        "0.00",
        "0.00",
        "20.00",
    )
    # to GB: 20 % VAT on 20.00 = 4.00; shipping 4.99 + 20 % = 0.998 -> 1.00 (half-up); 29.99 in all
    body = client.get(f"{API}/?country=GB&postal_code=N1", headers=shop.h).get_json()
    assert (body["tax_total"], body["shipping_total"], body["total"]) == ("5.00", "4.99", "29.99")
    assert (
        body["items"][0]["tax"][0]["rate"] == "0.2000" and body["items"][0]["tax_total"] == "4.00"
    )
    assert body["shipping"] == [
        {
            "seller_id": shop.seller.id,
            "method_id": shop.pricing.method_id,
            "method_name": "Standard",
            "carrier": "manual",
            "cost": "4.99",
            "tax_total": "1.00",
        }
    ]


def test_quantities_add_up_and_are_checked_against_stock(app, client, shop):
    _add(client, shop.h, shop.product.variant_id, 4)
    body = _add(client, shop.h, shop.product.variant_id, 5).get_json()
    assert body["items"][0]["quantity"] == 9
    err = error(_add(client, shop.h, shop.product.variant_id, 2), 409, "out_of_stock")
    assert err["details"] == {
        "variant_id": shop.product.variant_id,
        "available": 10,
        "requested": 11,
    }
    item_id = body["items"][0]["id"]
    error(
        client.put(f"{API}/update/", headers=shop.h, json={"item_id": item_id, "quantity": 11}),
        409,
        "out_of_stock",
    )
    assert (
        client.get(f"{API}/", headers=shop.h).get_json()["items"][0]["quantity"] == 9
    )  # unchanged


def test_update_remove_and_clear(client, shop):
    _add(client, shop.h, shop.product.variant_id, 1)
    body = _add(client, shop.h, shop.product2.variant_id, 2).get_json()
    assert len(body["items"]) == 2 and len(body["shipping"]) == 2  # two sellers, two parcels
    first, second = body["items"]
    body = client.put(
        f"{API}/update/", headers=shop.h, json={"item_id": first["id"], "quantity": 3}
    ).get_json()
    assert [i["quantity"] for i in body["items"]] == [3, 2] and body["subtotal"] == "81.00"
    body = client.delete(f"{API}/remove/{second['id']}/", headers=shop.h).get_json()
    assert [i["id"] for i in body["items"]] == [first["id"]]
    body = client.put(
        f"{API}/update/", headers=shop.h, json={"item_id": first["id"], "quantity": 0}
    ).get_json()
    assert body["items"] == [] and body["total"] == "0.00"
    _add(client, shop.h, shop.product.variant_id, 1)
    body = client.delete(f"{API}/clear/", headers=shop.h).get_json()
    assert body["items"] == [] and body["item_count"] == 0


def test_guest_cart_by_token_and_merge_on_login(app, client, shop):
    empty = client.get(f"{API}/", headers=shop.h_guest)
    assert empty.status_code == 200 and empty.get_json()["id"] is None
    response = _add(client, shop.h_guest, shop.product.variant_id, 2)
    assert response.status_code == 200
    token = response.headers["X-Cart-Token"]
    assert response.get_json()["cart_token"] == token and len(token) >= 40
    h = dict(shop.h_guest, **{"X-Cart-Token": token})
    body = _add(client, h, shop.product2.variant_id, 1).get_json()
    assert (
        "X-Cart-Token" not in _add(client, h, shop.product2.variant_id, 1).headers
    )  # same cart, no new token
    assert [i["quantity"] for i in body["items"]] == [2, 1]
    assert (
        client.get(f"{API}/", headers=shop.h_guest).get_json()["items"] == []
    )  # no token: not that cart
    # the customer already holds one unit; logging in with the guest token merges the carts
    _add(client, shop.h, shop.product.variant_id, 1)
    login = client.post(
        "/api/v1/auth/login/",
        headers=h,
        json={"login": shop.customer.user.email, "password": PASSWORD},
    )
    assert login.status_code == 200, login.get_json()
    mine = client.get(f"{API}/", headers=shop.h).get_json()
    assert sorted((i["variant_id"], i["quantity"]) for i in mine["items"]) == sorted(
        [(shop.product.variant_id, 3), (shop.product2.variant_id, 2)]
    )
    with app.app_context(), tenant_scope(shop.tenant.id):
        assert (
            db.session.scalar(select(func.count()).select_from(Cart).where(Cart.user_id.is_(None)))
            == 0
        )
    assert client.get(f"{API}/", headers=h).get_json()["items"] == []  # the guest token is spent


def test_validation_errors_name_the_fields_and_change_nothing(app, client, shop):
    err = error(
        client.post(
            f"{API}/add/", headers=shop.h, json={"variant_id": "x", "quantity": 0, "bogus": 1}
        ),
        422,
        "validation_error",
    )
    assert {"variant_id", "quantity", "bogus"} <= set(err["details"])
    err = error(
        client.put(f"{API}/update/", headers=shop.h, json={"item_id": 1, "quantity": -1}), 422
    )
    assert set(err["details"]) == {"quantity"}
    err = error(client.get(f"{API}/?country=gb&coupon=", headers=shop.h), 422)
    assert {"country", "coupon"} <= set(err["details"])
    error(
        client.post(
            f"{API}/add/", headers=shop.h, data="{not json", content_type="application/json"
        ),
        400,
    )
    error(client.post(f"{API}/add/", headers=shop.h, json={"variant_id": 2**40}), 422)
    with app.app_context(), tenant_scope(shop.tenant.id):
        assert db.session.scalar(select(func.count()).select_from(CartItem)) == 0


def test_auth_role_ownership_and_tenancy(app, client, shop):
    bad = {**shop.h, **bearer("not-a-token")}
    error(client.get(f"{API}/", headers=bad), 401, "unauthorized")
    error(_add(client, bad, shop.product.variant_id), 401)
    for h in (shop.h_seller, shop.h_admin):
        error(client.get(f"{API}/", headers=h), 403, "forbidden")
        error(_add(client, h, shop.product.variant_id), 403)
        error(client.put(f"{API}/update/", headers=h, json={"item_id": 1, "quantity": 1}), 403)
        error(client.delete(f"{API}/remove/1/", headers=h), 403)
        error(client.delete(f"{API}/clear/", headers=h), 403)
    item_id = _add(client, shop.h, shop.product.variant_id).get_json()["items"][0]["id"]
    # another customer's item, and a guest guessing ids: not found, and left alone
    error(client.delete(f"{API}/remove/{item_id}/", headers=shop.h_other), 404, "not_found")
    error(
        client.put(
            f"{API}/update/", headers=shop.h_other, json={"item_id": item_id, "quantity": 2}
        ),
        404,
    )
    error(client.delete(f"{API}/remove/{item_id}/", headers=shop.h_guest), 404)
    # another tenant's variant; a draft product
    error(_add(client, shop.h, shop.foreign_product.variant_id), 404, "not_found")
    # the same item id seen from the other tenant
    error(client.delete(f"{API}/remove/{item_id}/", headers=shop.h_foreign), 404)
    # a token used at another storefront
    error(
        client.get(f"{API}/", headers=dict(shop.h, **{"X-Tenant": shop.foreign_tenant.slug})), 401
    )
    assert client.get(f"{API}/", headers=shop.h).get_json()["items"][0]["quantity"] == 1


def test_draft_products_cannot_be_added(app, client, factory, shop):
    draft = factory.product(shop.seller, status="draft")
    error(_add(client, shop.h, draft.variant_id), 404)


def test_concurrent_adds_to_one_cart_add_up(app, shop):
    h = api_headers(app, shop.customer.user)
    results = []

    def add():
        with app.test_client() as c:
            results.append(_add(c, h, shop.product.variant_id, 1).status_code)

    threads = [threading.Thread(target=add) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] * 10 + [409] * 2  # 10 in stock
    with app.app_context(), tenant_scope(shop.tenant.id):
        items = db.session.scalars(select(CartItem)).all()
        assert [(i.variant_id, i.quantity) for i in items] == [(shop.product.variant_id, 10)]


def _guest_cart_then_changes(app, client, shop):
    """A guest's cart of 1 x product and 1 x product2; then product's price goes up to 12.00 and
    product2's seller is suspended (neither since the cart was last priced)."""
    h = fill(client, shop.h_guest, (shop.product.variant_id, 1), (shop.product2.variant_id, 1))
    with app.app_context(), tenant_scope(shop.tenant.id):
        db.session.execute(
            update(ProductVariant)
            .where(ProductVariant.id == shop.product.variant_id)
            .values(price=Decimal("12.00"))
        )
        db.session.execute(
            update(SellerProfile)
            .where(SellerProfile.id == shop.seller2.id)
            .values(status="suspended")
        )
        db.session.commit()
    return h


def test_an_add_answers_the_whole_cart_as_it_is_now_and_is_audited(app, client, shop):
    """The add's answer prices every item at its price now and says what is no longer sold, not
    only the item added; the item's change is on the audit trail with its before and after."""
    h = _guest_cart_then_changes(app, client, shop)
    response = _add(client, h, shop.product.variant_id, 1)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    items = {i["variant_id"]: i for i in body["items"]}
    added, other = items[shop.product.variant_id], items[shop.product2.variant_id]
    assert (added["quantity"], added["unit_price"], added["subtotal"]) == (2, "12.00", "24.00")
    assert (added["for_sale"], added["available"], added["in_stock"]) == (True, 10, True)
    assert (other["for_sale"], other["available"], other["in_stock"]) == (False, 0, False)
    assert [i["id"] for i in body["items"]] == sorted(i["id"] for i in body["items"])
    assert (body["item_count"], body["subtotal"], body["total"]) == (3, "49.50", "49.50")
    assert body["cart_token"] == h["X-Cart-Token"] and "X-Cart-Token" not in response.headers
    with app.app_context(), tenant_scope(shop.tenant.id):
        row = db.session.scalars(
            select(AuditLog)
            .where(AuditLog.entity == "CartItem", AuditLog.entity_id == str(added["id"]))
            .order_by(AuditLog.id.desc())
        ).first()
    assert (row.action, row.before["quantity"], row.after["quantity"]) == ("update", 1, 2)


def test_an_add_reads_its_cart_and_variants_in_two_statements_and_settings_in_one_round_trip(
    app, client, shop
):
    """Issue 19: an add to a cart of two items locks the cart with its items (one SELECT), reads
    every item's variant with its product, seller and stock (one SELECT), writes, and reads the
    cached settings it prices with (currency, limits, tax setting, categories, promotions) in one
    Redis MGET; the answer is as above."""
    h = _guest_cart_then_changes(app, client, shop)
    statements, commands = [], []
    redis = app.extensions["redis"]
    original = type(redis).execute_command

    def command(client_, *args, **kwargs):
        commands.append(args[0])
        return original(client_, *args, **kwargs)

    def statement(conn, cursor, sql, parameters, context, executemany):
        statements.append(" ".join(sql.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", statement)
    type(redis).execute_command = command
    try:
        response = _add(client, h, shop.product.variant_id, 1)
    finally:
        type(redis).execute_command = original
        event.remove(engine, "before_cursor_execute", statement)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["subtotal"] == "49.50"
    assert commands == ["MGET"]
    assert [s.split(" WHERE ")[0][:40] for s in statements] == [
        "SELECT carts.id, cart_items.id AS item_i",  # the cart, locked, with its items
        "SELECT product_variants.id, product_vari",  # the variants, sold or not, in stock
        "SELECT cart_items.id, cart_items.cart_id",  # the item to change (for its audit row)
        "UPDATE cart_items SET quantity=%s, updat",
        "INSERT INTO audit_log (tenant_id, actor_",
    ], statements
