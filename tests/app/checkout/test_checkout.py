"""POST /api/v1/orders/: checkout into one parent order and one sub-order per seller, priced lines
kept as sold, stock reserved without overselling (real threads on MariaDB), Idempotency-Key."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.cart.models import CartItem
from app.core.tenancy import tenant_scope
from app.events.idempotency import IdempotencyKey
from app.events.models import OutboxEvent
from app.extensions import db
from app.inventory.models import StockMovement
from app.orders.models import Order, OrderLine, StockReservation, SubOrder
from tests.builders.api import error
from tests.builders.auth import bearer
from tests.builders.orders import ADDRESS, add_stock, checkout, fill, key, stock_of

API = "/api/v1/orders"


def count(app, tenant_id, model, *where):
    with app.app_context(), tenant_scope(tenant_id):
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.smoke
def test_multi_seller_checkout_splits_into_sub_orders_that_add_up(app, client, shop):
    fill(client, shop.h, (shop.product.variant_id, 2), (shop.product2.variant_id, 1))
    response = checkout(client, shop.h, {"shipping_address": ADDRESS, "notes": "leave at the door"})
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert (
        order["status"] == "pending"
        and order["email"] == shop.customer.user.email
        and not order["is_guest"]
    )
    # hand-computed (20 % VAT, flat 4.99 shipping per seller, its tax 0.998 -> 1.00 half-up):
    # seller 1: 2 x 10.00 = 20.00, tax 4.00 + 1.00, total 20.00 + 4.00 + 4.99 + 1.00 = 29.99, commission 2.00
    # seller 2: 1 x 25.50, tax 5.10 + 1.00, total 25.50 + 5.10 + 4.99 + 1.00 = 36.59, commission 2.55
    subs = {s["seller_id"]: s for s in order["sub_orders"]}
    assert set(subs) == {shop.seller.id, shop.seller2.id}
    one, two = subs[shop.seller.id], subs[shop.seller2.id]
    assert (
        one["subtotal"],
        one["tax_total"],
        one["shipping_total"],
        one["total"],
        one["commission_amount"],
    ) == ("20.00", "5.00", "4.99", "29.99", "2.00")
    assert (
        two["subtotal"],
        two["tax_total"],
        two["shipping_total"],
        two["total"],
        two["commission_amount"],
    ) == ("25.50", "6.10", "4.99", "36.59", "2.55")
    assert (order["subtotal"], order["tax_total"], order["shipping_total"], order["total"]) == (
        "45.50",
        "11.10",
        "9.98",
        "66.58",
    )
    for name in ("subtotal", "tax_total", "shipping_total", "total", "discount_total"):
        assert sum(Decimal(s[name]) for s in order["sub_orders"]) == Decimal(order[name])
    line = one["lines"][0]
    assert (
        line["sku"],
        line["quantity"],
        line["unit_price"],
        line["tax_total"],
        line["total"],
        line["commission_rate"],
    ) == (shop.product.sku, 2, "10.00", "4.00", "24.00", "0.1000")
    assert (
        line["tax_breakdown"][0]["name"] == "VAT GB"
        and line["tax_breakdown"][0]["amount"] == "4.00"
    )
    assert one["shipping_method_id"] == shop.pricing.method_id and one["allowed_transitions"] == [
        "cancelled",
        "paid",
    ]
    assert order["reservation_expires_at"] is not None and order["notes"] == "leave at the door"
    # stock reserved (not sold), ledger rows, the cart emptied, order.created in the outbox
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id) == (10, 2)
    assert stock_of(app, shop.tenant.id, shop.product2.stock_level_id) == (5, 1)
    assert count(app, shop.tenant.id, StockMovement, StockMovement.reason == "reservation") == 2
    assert count(app, shop.tenant.id, CartItem) == 0
    assert (
        count(
            app,
            shop.tenant.id,
            OutboxEvent,
            OutboxEvent.name == "order.created",
            OutboxEvent.aggregate_id == str(order["id"]),
        )
        == 1
    )
    assert client.get("/api/v1/cart/", headers=shop.h).get_json()["items"] == []


def test_commission_rate_is_kept_as_sold(app, client, shop):
    from app.sellers.models import SellerProfile

    fill(client, shop.h, (shop.product.variant_id, 1))
    order = checkout(client, shop.h).get_json()
    with app.app_context(), tenant_scope(shop.tenant.id):
        db.session.get(SellerProfile, shop.seller.id).commission_rate = Decimal("0.2500")
        db.session.commit()
    again = client.get(f"{API}/{order['id']}/", headers=shop.h).get_json()
    assert again["sub_orders"][0]["commission_rate"] == "0.1000"
    assert again["sub_orders"][0]["lines"][0]["commission_amount"] == "1.00"


def test_stock_is_taken_across_warehouses_in_key_order(app, client, shop):
    second = add_stock(app, shop.product, 5)
    fill(client, shop.h, (shop.product.variant_id, 12))
    order = checkout(client, shop.h).get_json()
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id) == (10, 10)
    assert stock_of(app, shop.tenant.id, second) == (5, 2)
    with app.app_context(), tenant_scope(shop.tenant.id):
        held = db.session.execute(
            select(StockReservation.stock_level_id, StockReservation.quantity)
            .where(StockReservation.order_id == order["id"])
            .order_by(StockReservation.stock_level_id)
        ).all()
        assert [tuple(r) for r in held] == [(shop.product.stock_level_id, 10), (second, 2)]


def test_idempotency_key_replays_the_first_order_and_refuses_another_body(app, client, shop):
    fill(client, shop.h, (shop.product.variant_id, 1))
    idem = key()
    first = checkout(client, shop.h, idem=idem)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = checkout(client, shop.h, idem=idem)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    error(
        checkout(client, shop.h, {"shipping_address": dict(ADDRESS, city="Leeds")}, idem=idem),
        409,
        "idempotency_key_reused",
    )
    # the same key from another customer is that customer's own key
    fill(client, shop.h_other, (shop.product.variant_id, 1))
    other = checkout(client, shop.h_other, idem=idem)
    assert other.status_code == 201 and other.get_json()["id"] != first.get_json()["id"]
    assert count(app, shop.tenant.id, Order) == 2
    keys = (IdempotencyKey.key == idem, IdempotencyKey.domain == "checkout")
    assert count(app, shop.tenant.id, IdempotencyKey, *keys) == 2


def test_guest_checkout_with_email_and_address(app, client, shop):
    h = fill(client, shop.h_guest, (shop.product2.variant_id, 2))
    error(checkout(client, h), 422, "validation_error")  # no e-mail
    response = checkout(client, h, {"shipping_address": ADDRESS, "email": "guest@example.com"})
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert (
        order["is_guest"]
        and order["email"] == "guest@example.com"
        and order["customer_user_id"] is None
    )
    assert order["total"] == "67.19"  # 51.00 + 10.20 VAT + 4.99 + 1.00
    error(
        checkout(client, shop.h_guest, {"shipping_address": ADDRESS, "email": "g@example.com"}),
        409,
        "cart_empty",
    )  # a guest without a cart token


def test_saved_address_of_the_customer(app, client, shop):
    fill(client, shop.h, (shop.product.variant_id, 1))
    error(checkout(client, shop.h, {"address_id": shop.other.address_id}), 404, "not_found")
    response = checkout(client, shop.h, {"address_id": shop.customer.address_id})
    assert (
        response.status_code == 201
        and response.get_json()["shipping_address"]["postal_code"] == "N1 1AA"
    )


def test_bad_input_is_422_with_fields_and_changes_nothing(app, client, shop):
    fill(client, shop.h, (shop.product.variant_id, 1))
    response = client.post(f"{API}/", headers=shop.h, json={"shipping_address": ADDRESS})
    assert set(error(response, 422)["details"]) == {"Idempotency-Key"}
    err = error(
        checkout(
            client,
            shop.h,
            {
                "shipping_address": {"country": "Britain"},
                "bogus": 1,
                "coupon_codes": "X",
                "payment": {"details": []},
            },
        ),
        422,
    )
    assert {"shipping_address", "bogus", "coupon_codes", "payment"} <= set(err["details"])
    err = error(
        checkout(
            client, shop.h, {"shipping_address": ADDRESS, "address_id": shop.customer.address_id}
        ),
        422,
    )
    assert "shipping_address" in err["details"]
    err = error(
        checkout(
            client,
            shop.h,
            {
                "shipping_address": ADDRESS,
                "shipping_methods": [{"seller_id": shop.seller.id, "method_id": 999999}],
            },
        ),
        422,
    )
    assert "shipping_methods" in err["details"]
    error(
        client.post(
            f"{API}/",
            headers=dict(shop.h, **{"Idempotency-Key": key()}),
            data="{",
            content_type="application/json",
        ),
        400,
    )
    assert count(app, shop.tenant.id, Order) == 0
    assert count(app, shop.tenant.id, IdempotencyKey) == 0
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id) == (10, 0)
    assert count(app, shop.tenant.id, CartItem) == 1


def test_destination_without_shipping_is_a_conflict(app, client, shop):
    fill(client, shop.h, (shop.product.variant_id, 1))
    err = error(
        checkout(client, shop.h, {"shipping_address": dict(ADDRESS, country="FR")}),
        409,
        "no_shipping_method",
    )
    assert err["details"] == {"seller_ids": [shop.seller.id]}
    assert count(app, shop.tenant.id, Order) == 0


def test_auth_role_and_tenancy(app, client, shop):
    fill(client, shop.h, (shop.product.variant_id, 1))
    error(checkout(client, {**shop.h, **bearer("nope")}), 401)
    error(checkout(client, shop.h_seller), 403, "forbidden")
    error(checkout(client, shop.h_admin), 403)
    # a customer of another tenant has its own (empty) cart there; this tenant's address is not found
    error(checkout(client, shop.h_foreign), 409, "cart_empty")
    error(checkout(client, shop.h_foreign, {"address_id": shop.customer.address_id}), 404)
    assert count(app, shop.tenant.id, Order) == 0


def test_out_of_stock_at_checkout_keeps_the_cart(app, client, shop):
    fill(client, shop.h, (shop.product.variant_id, 6))
    fill(client, shop.h_other, (shop.product.variant_id, 6))
    assert checkout(client, shop.h_other).status_code == 201
    err = error(checkout(client, shop.h), 409, "out_of_stock")
    assert err["details"] == {"variant_id": shop.product.variant_id, "available": 4, "requested": 6}
    assert count(app, shop.tenant.id, CartItem) == 1
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id) == (10, 6)


def _run(threads):
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_200_concurrent_buyers_for_the_last_10_units(app, client, factory, shop):
    last = factory.product(shop.seller, price="9.99", stock=10)
    buyers = [fill(client, shop.h_guest, (last.variant_id, 1)) for _ in range(200)]
    results: list[tuple[int, dict]] = []

    def buy(h):
        with app.test_client() as c:
            response = checkout(c, h, {"shipping_address": ADDRESS, "email": "buyer@example.com"})
            results.append((response.status_code, response.get_json()))

    _run([threading.Thread(target=buy, args=(h,)) for h in buyers])
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * 10 + [409] * 190, {s: statuses.count(s) for s in set(statuses)}
    assert all(body["error"]["code"] == "out_of_stock" for status, body in results if status == 409)
    on_hand, reserved = stock_of(app, shop.tenant.id, last.stock_level_id)
    assert (on_hand, reserved) == (10, 10)  # 0 left to sell, never below zero
    with app.app_context(), tenant_scope(shop.tenant.id):
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(OrderLine)
                .where(OrderLine.variant_id == last.variant_id)
            )
            == 10
        )
        assert (
            db.session.scalar(
                select(func.sum(StockReservation.quantity)).where(
                    StockReservation.stock_level_id == last.stock_level_id
                )
            )
            == 10
        )
        movements = db.session.scalars(
            select(StockMovement)
            .where(StockMovement.stock_level_id == last.stock_level_id)
            .order_by(StockMovement.id)
        ).all()
        assert [m.reserved_after for m in movements] == list(range(1, 11))


def test_same_idempotency_key_20_times_at_once_makes_one_order(app, client, shop):
    h = fill(client, shop.h, (shop.product.variant_id, 1), (shop.product2.variant_id, 1))
    idem = key()
    results: list[tuple[int, dict]] = []

    def buy():
        with app.test_client() as c:
            response = checkout(c, h, idem=idem)
            results.append((response.status_code, response.get_json()))

    _run([threading.Thread(target=buy) for _ in range(20)])
    assert [status for status, _ in results] == [201] * 20, results
    assert len({body["id"] for _, body in results}) == 1
    assert count(app, shop.tenant.id, Order) == 1
    assert count(app, shop.tenant.id, SubOrder) == 2
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id) == (10, 1)


def _promotion(app, tenant_id, **fields):
    from app.promotions.models import Promotion

    with app.app_context(), tenant_scope(tenant_id):
        promotion = Promotion(**fields)
        db.session.add(promotion)
        db.session.commit()
        return promotion.id


def test_discounts_keep_who_funds_them_and_commission_follows(app, client, shop):
    _promotion(
        app,
        shop.tenant.id,
        name="Ten off",
        kind="percentage",
        value=Decimal("10"),
        code="SAVE10",
        seller_ids=[shop.seller.id],
        funded_by="platform",
    )
    _promotion(
        app,
        shop.tenant.id,
        name="Seller sale",
        kind="percentage",
        value=Decimal("20"),
        funded_by="seller",
        seller_id=shop.seller2.id,
    )
    fill(client, shop.h, (shop.product.variant_id, 2), (shop.product2.variant_id, 1))
    response = checkout(client, shop.h, {"shipping_address": ADDRESS, "coupon_codes": ["save10"]})
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    one = next(s for s in order["sub_orders"] if s["seller_id"] == shop.seller.id)
    two = next(s for s in order["sub_orders"] if s["seller_id"] == shop.seller2.id)
    # seller 1: 20.00 - 10 % (2.00, platform) = 18.00, VAT 3.60, +5.99 shipping; commission 10 % of 20.00
    line = one["lines"][0]
    assert [(d["code"], d["amount"], d["funded_by"]) for d in line["discounts"]] == [
        ("SAVE10", "2.00", "platform")
    ]
    assert (
        line["discount_total"],
        line["tax_total"],
        line["total"],
        line["commission_amount"],
    ) == ("2.00", "3.60", "21.60", "2.00")
    assert one["total"] == "27.59"
    # seller 2: 25.50 - 20 % (5.10, seller) = 20.40, VAT 4.08, +5.99; commission 10 % of 20.40 = 2.04
    line = two["lines"][0]
    assert [(d["code"], d["amount"], d["funded_by"]) for d in line["discounts"]] == [
        (None, "5.10", "seller")
    ]
    assert (line["total"], line["commission_amount"], two["total"]) == ("24.48", "2.04", "30.47")
    assert (order["discount_total"], order["total"], order["coupon_codes"]) == (
        "7.10",
        "58.06",
        ["save10"],
    )
    from app.promotions.models import PromotionRedemption

    assert (
        count(app, shop.tenant.id, PromotionRedemption, PromotionRedemption.order_id == order["id"])
        == 2
    )


def test_an_unknown_coupon_is_refused(app, client, shop):
    fill(client, shop.h, (shop.product.variant_id, 1))
    err = error(
        checkout(client, shop.h, {"shipping_address": ADDRESS, "coupon_codes": ["NOPE"]}), 422
    )
    assert err["details"] == {"coupon_codes": {"NOPE": "unknown"}}
    assert count(app, shop.tenant.id, Order) == 0


def test_a_coupon_with_5_uses_left_under_50_concurrent_checkouts(app, client, factory, shop):
    from app.promotions.models import Promotion

    promotion_id = _promotion(
        app,
        shop.tenant.id,
        name="Five",
        kind="fixed_amount",
        value=Decimal("1.00"),
        code="FIVE",
        usage_limit=5,
    )
    plenty = factory.product(shop.seller, price="10.00", stock=100)
    buyers = [fill(client, shop.h_guest, (plenty.variant_id, 1)) for _ in range(50)]
    results: list[tuple[int, dict]] = []

    def buy(h):
        with app.test_client() as c:
            response = checkout(
                c,
                h,
                {"shipping_address": ADDRESS, "email": "b@example.com", "coupon_codes": ["FIVE"]},
            )
            results.append((response.status_code, response.get_json()))

    _run([threading.Thread(target=buy, args=(h,)) for h in buyers])
    assert sorted(status for status, _ in results).count(201) == 5
    # the others were refused: raced past pricing and stopped by the usage limit's conditional
    # update (409), or priced after the fifth use, when the coupon is already spent (422)
    refused = {(status, body["error"]["code"]) for status, body in results if status != 201}
    assert refused <= {(409, "promotion_exhausted"), (422, "validation_error")}, refused
    with app.app_context(), tenant_scope(shop.tenant.id):
        assert db.session.get(Promotion, promotion_id).uses_count == 5
    assert stock_of(app, shop.tenant.id, plenty.stock_level_id) == (
        100,
        5,
    )  # the refused held nothing
