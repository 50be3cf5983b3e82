"""First-order coupons through POST /api/v1/promotions/apply-coupon/: a signed-in customer
without an order gets the discount; once it has an order (in this tenant), or as a guest, the
coupon is refused with details.code "first_order"."""

from __future__ import annotations

from app.extensions import db
from app.tenants.context import tenant_scope
from tests.api.test_promotions import API, _error, _headers, shop  # noqa: F401 - the shop fixture
from tests.orders.rows import order_row


def test_a_first_order_coupon_for_a_customer_without_and_with_a_previous_order(
    app,
    client,
    factory,
    shop,  # noqa: F811
):
    shop["build"].promotion("percentage", "10", code="WELCOME", first_order_only=True)
    customer = factory.customer(shop["tenant"])
    h = _headers(app, customer.user, shop["tenant"].slug)
    body = {"code": "welcome", "lines": [{"variant_id": shop["product"].variant_id, "quantity": 1}]}
    first = client.post(f"{API}/apply-coupon/", headers=h, json=body)
    assert first.status_code == 200, first.get_json()
    assert (first.get_json()["code"], first.get_json()["discount_total"]) == (
        "WELCOME",
        "2.00",
    )  # 10 % of 19.99
    # a guest has no account to have a first order with
    assert _error(
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
    assert _error(
        client.post(f"{API}/apply-coupon/", headers=h, json=body), 422, "coupon_not_applicable"
    )["details"] == {"code": "first_order"}
