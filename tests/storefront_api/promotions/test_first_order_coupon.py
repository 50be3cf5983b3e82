"""First-order coupons: a signed-in customer without an order gets the discount; once it has an
order (in this tenant), or as a guest, the coupon is refused with "first_order". One rule
(app.pricing.first_order) answers apply-coupon, shipping/calculate, the cart and checkout."""

from __future__ import annotations

import uuid

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.pricing import first_order
from tests.builders.api import error
from tests.builders.auth import api_headers
from tests.builders.order_rows import order_row
from tests.builders.orders import ADDRESS
from tests.builders.promotions import API


def test_a_first_order_coupon_for_a_customer_without_and_with_a_previous_order(
    app,
    client,
    factory,
    shop,  # noqa: F811
):
    shop["build"].promotion("percentage", "10", code="WELCOME", first_order_only=True)
    customer = factory.customer(shop["tenant"])
    h = api_headers(app, customer.user, shop["tenant"].slug)
    body = {"code": "welcome", "lines": [{"variant_id": shop["product"].variant_id, "quantity": 1}]}
    first = client.post(f"{API}/apply-coupon/", headers=h, json=body)
    assert first.status_code == 200, first.get_json()
    assert (first.get_json()["code"], first.get_json()["discount_total"]) == (
        "WELCOME",
        "2.00",
    )  # 10 % of 19.99
    # a guest has no account to have a first order with
    assert error(
        client.post(f"{API}/apply-coupon/", headers=shop["h"]["guest"], json=body),
        422,
        "coupon_not_applicable",
    )["details"] == {"code": "first_order"}
    # an order in another tenant does not count here
    other_tenant = factory.tenant()
    with app.app_context(), tenant_scope(other_tenant.id):
        order_row(customer_user_id=customer.user_id)
        db.session.remove()
    assert client.post(f"{API}/apply-coupon/", headers=h, json=body).status_code == 200
    # once the customer has an order here, the coupon no longer applies
    with app.app_context(), tenant_scope(shop["tenant"].id):
        order_row(customer_user_id=customer.user_id)
        db.session.remove()
    assert error(
        client.post(f"{API}/apply-coupon/", headers=h, json=body), 422, "coupon_not_applicable"
    )["details"] == {"code": "first_order"}


def _first_order_shop(store):
    """GB ships (flat 4.99, platform-wide) so that checkout can place orders; WELCOME takes 10 %
    and FREESHIP makes shipping free, both for a first order only."""
    zone = store["build"].zone("GB")
    store["build"].method(zone, flat_rate="4.99", carrier_code="manual")
    store["build"].promotion("percentage", "10", code="WELCOME", first_order_only=True)
    return store["build"].promotion("free_shipping", code="FREESHIP", first_order_only=True)


def _fill(client, h, variant_id):
    response = client.post("/api/v1/cart/add/", headers=h, json={"variant_id": variant_id})
    assert response.status_code == 200, response.get_json()
    if "X-Cart-Token" in response.headers:
        h = dict(h, **{"X-Cart-Token": response.headers["X-Cart-Token"]})
    return h


def _cart_coupons(client, h) -> tuple[list, dict]:
    body = client.get("/api/v1/cart/?country=GB&coupon=WELCOME", headers=h).get_json()
    return [p["code"] for p in body["applied_promotions"]], body["rejected_coupons"]


def _checkout(client, h, code="welcome"):
    return client.post(
        "/api/v1/orders/",
        headers=dict(h, **{"Idempotency-Key": uuid.uuid4().hex}),
        json={"shipping_address": ADDRESS, "email": "buyer@example.com", "coupon_codes": [code]},
    )


def _calculate(client, h, store):
    body = client.post(
        "/api/v1/shipping/calculate/",
        headers=h,
        json={
            "lines": [{"variant_id": store["product"].variant_id, "quantity": 1}],
            "destination": {"country": "GB"},
            "coupon_codes": ["FREESHIP"],
        },
    ).get_json()
    (quote,) = body["sellers"]
    return quote["cost"], quote["free_shipping_promotion_id"]


def test_the_cart_and_checkout_answer_first_order_as_apply_coupon_does(
    app,
    client,
    factory,
    shop,  # noqa: F811
):
    """The cart's coupons and checkout follow the same rule: the first checkout of a customer gets
    the first-order coupon, the next cart and checkout refuse it ("first_order"); a guest's cart
    never gets it."""
    freeship = _first_order_shop(shop)
    customer = factory.customer(shop["tenant"])
    h = api_headers(app, customer.user, shop["tenant"].slug)
    variant_id = shop["product"].variant_id
    _fill(client, h, variant_id)
    assert _cart_coupons(client, h) == (["WELCOME"], {})
    assert _calculate(client, h, shop) == ("0.00", freeship)
    first = _checkout(client, h)
    assert first.status_code == 201, first.get_json()
    assert (first.get_json()["discount_total"], first.get_json()["coupon_codes"]) == (
        "2.00",  # 10 % of 19.99
        ["welcome"],
    )
    _fill(client, h, variant_id)
    assert _cart_coupons(client, h) == ([], {"WELCOME": "first_order"})
    assert _calculate(client, h, shop) == ("4.99", None)
    assert error(_checkout(client, h), 422)["details"] == {
        "coupon_codes": {"WELCOME": "first_order"}
    }
    guest = _fill(client, shop["h"]["guest"], variant_id)
    assert _cart_coupons(client, guest) == ([], {"WELCOME": "first_order"})
    assert error(_checkout(client, guest), 422)["details"] == {
        "coupon_codes": {"WELCOME": "first_order"}
    }


def test_one_registered_rule_answers_the_cart_checkout_and_the_basket_endpoints(
    app,
    client,
    factory,
    shop,  # noqa: F811
):
    """The rule has one home: a rule registered with set_resolver (as the orders side registers
    its own at start-up) is what the cart, checkout, apply-coupon and shipping/calculate all ask.
    Here it says no customer has a first order; then the interim rule is back."""
    freeship = _first_order_shop(shop)
    customer = factory.customer(shop["tenant"])  # no order: a first order by the interim rule
    h = _fill(
        client, api_headers(app, customer.user, shop["tenant"].slug), shop["product"].variant_id
    )
    coupon = {
        "code": "welcome",
        "lines": [{"variant_id": shop["product"].variant_id, "quantity": 1}],
    }
    previous = first_order.set_resolver(lambda user_id: False)
    try:
        assert _cart_coupons(client, h) == ([], {"WELCOME": "first_order"})
        assert error(client.post(f"{API}/apply-coupon/", headers=h, json=coupon), 422)[
            "details"
        ] == {"code": "first_order"}
        assert _calculate(client, h, shop) == ("4.99", None)
        assert error(_checkout(client, h), 422)["details"] == {
            "coupon_codes": {"WELCOME": "first_order"}
        }
    finally:
        first_order.set_resolver(previous)
    assert _cart_coupons(client, h) == (["WELCOME"], {})
    assert client.post(f"{API}/apply-coupon/", headers=h, json=coupon).status_code == 200
    assert _calculate(client, h, shop) == ("0.00", freeship)
    assert _checkout(client, h).status_code == 201
