"""A partial refund never stops fulfilment: a partially refunded sub-order goes on from where its
fulfilment stood (unshipped: processing or shipped while it still holds stock; shipped: delivered;
delivered: completed), later refunds stay possible, and a full refund ends it. The order's status
is derived from its sub-orders: a partly refunded part counts as the stage it has reached when the
order has other parts. Through the API and the admin's sub-order page alike."""

from __future__ import annotations

from app.orders import states
from tests.builders.admin import login
from tests.builders.api import error
from tests.builders.fulfilment import SUB_ORDERS, messages, sub_order_state
from tests.builders.orders import API, CARD_OK, ask, decide, patch, place, requests_of, sub_of


def _get(client, shop, order_id) -> dict:
    response = client.get(f"{API}/{order_id}/", headers=shop.h_admin)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _step(client, shop, order, target, h=None) -> dict:
    response = patch(client, h or shop.h_seller, order["id"], status=target)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _refund_one_unit(app, client, shop, order) -> dict:
    """The customer asks one of the first seller's two units back; the seller approves."""
    line = sub_of(order, shop.seller.id)["lines"][0]
    assert line["quantity"] == 2
    assert ask(client, shop.h, order["id"], (line["id"], 1)).status_code == 200
    return decide(client, shop.h_seller, order["id"], requests_of(app, shop, order["id"])[-1].id)


def test_partly_refunded_before_shipping_then_shipped_and_delivered(app, client, shop):
    order = place(client, shop, payment=CARD_OK)
    body = _refund_one_unit(app, client, shop, order)
    sub = sub_of(body, shop.seller.id)
    assert sub["status"] == "partially_refunded"
    assert sub["allowed_transitions"] == ["processing", "refund_requested", "refunded", "shipped"]
    # the other seller's part is paid: the order still waits for both to ship
    assert body["status"] == "paid"
    body = _step(client, shop, order, "shipped")
    assert sub_of(body, shop.seller.id)["status"] == "shipped" and body["status"] == "paid"
    body = _step(client, shop, order, "delivered")
    assert sub_of(body, shop.seller.id)["status"] == "delivered"
    for target in ("processing", "shipped", "delivered"):
        body = _step(client, shop, order, target, h=shop.h_seller2)
    assert body["status"] == "delivered"


def test_shipped_then_partly_refunded_is_delivered_completed_and_refunded_again(app, client, shop):
    order = place(client, shop, payment=CARD_OK)
    for target in ("processing", "shipped"):
        _step(client, shop, order, target)
    body = _refund_one_unit(app, client, shop, order)
    sub = sub_of(body, shop.seller.id)
    # shipped before the refund: delivery (not shipping again) comes next, or more refunds
    assert sub["status"] == "partially_refunded"
    assert sub["allowed_transitions"] == ["delivered", "refund_requested", "refunded"]
    assert body["status"] == "paid"  # seller 2's part is still only paid
    err = error(patch(client, shop.h_seller, order["id"], status="shipped"), 409)
    assert err["code"] == "illegal_transition"
    assert err["details"]["allowed"] == ["delivered", "refund_requested", "refunded"]
    body = _step(client, shop, order, "delivered")
    sub = sub_of(body, shop.seller.id)
    assert sub["status"] == "delivered"
    assert "completed" in sub["allowed_transitions"]
    assert "refund_requested" in sub["allowed_transitions"]
    # the second unit comes back too: its sub-order is refunded in full, and that is final
    line = sub["lines"][0]
    assert ask(client, shop.h, order["id"], (line["id"], 1)).status_code == 200
    body = decide(client, shop.h_seller, order["id"], requests_of(app, shop, order["id"])[-1].id)
    sub = sub_of(body, shop.seller.id)
    assert sub["status"] == "refunded" and sub["allowed_transitions"] == []
    assert body["status"] == "paid"  # the order waits for seller 2's part
    err = error(patch(client, shop.h_seller, order["id"], status="delivered"), 409)
    assert err["code"] == "illegal_transition" and err["details"]["allowed"] == []


def test_delivered_then_partly_refunded_completes(app, client, shop):
    order = place(client, shop, items=[(shop.product.variant_id, 2)], payment=CARD_OK)
    for target in ("processing", "shipped", "delivered"):
        _step(client, shop, order, target)
    body = _refund_one_unit(app, client, shop, order)
    # its only part is partially refunded: so is the order
    assert body["status"] == "partially_refunded"
    assert sub_of(body, shop.seller.id)["allowed_transitions"] == [
        "completed",
        "refund_requested",
        "refunded",
    ]
    body = _step(client, shop, order, "completed")
    assert body["status"] == "completed"
    # later refunds are still possible after completion
    line = sub_of(body, shop.seller.id)["lines"][0]
    assert ask(client, shop.h, order["id"], (line["id"], 1)).status_code == 200
    assert _get(client, shop, order["id"])["status"] == "refund_requested"


def test_a_fully_refunded_sub_order_goes_no_further(app, client, shop):
    order = place(client, shop, items=[(shop.product.variant_id, 2)], payment=CARD_OK)
    for target in ("processing", "shipped"):
        _step(client, shop, order, target)
    line = sub_of(order, shop.seller.id)["lines"][0]
    assert ask(client, shop.h, order["id"], (line["id"], 2)).status_code == 200
    body = decide(client, shop.h_seller, order["id"], requests_of(app, shop, order["id"])[-1].id)
    sub = sub_of(body, shop.seller.id)
    assert sub["status"] == "refunded" and body["status"] == "refunded"
    assert sub["allowed_transitions"] == []
    for target in ("delivered", "completed", "processing"):
        error(patch(client, shop.h_seller, order["id"], status=target), 409)
    assert _get(client, shop, order["id"])["status"] == "refunded"


def test_the_admin_page_marks_a_partly_refunded_shipped_sub_order_delivered(app, client, shop):
    order = place(client, shop, payment=CARD_OK)
    for target in ("processing", "shipped"):
        _step(client, shop, order, target)
    _refund_one_unit(app, client, shop, order)
    sub = sub_of(order, shop.seller.id)
    seller, _ = login(app, shop.tenant.slug, shop.seller.user.username)
    html = seller.get(f"{SUB_ORDERS}/show/{sub['id']}").get_data(as_text=True)
    assert 'value="delivered"' in html and 'value="shipped"' not in html
    seller.post(f"{SUB_ORDERS}/set-status/{sub['id']}", data={"status": "delivered"})
    assert messages(seller) == [f"Sub-order {sub['number']} is now delivered."]
    assert sub_order_state(app, shop.tenant.id, sub["id"])["status"] == "delivered"


def test_the_parent_status_counts_a_partly_refunded_part_at_its_stage():
    derive = states.derive_parent_status
    partial = states.OrderStatus.PARTIALLY_REFUNDED
    assert derive([partial, "shipped"], {0: "paid"}) == "paid"
    assert derive([partial, "delivered"], {0: "shipped"}) == "shipped"
    assert derive([partial, "refunded"], {0: "delivered"}) == "delivered"
    assert derive([partial, "cancelled"], {0: "shipped"}) == partial
    assert derive([partial, partial], {0: "paid", 1: "shipped"}) == partial
    assert derive(["cancelled", "cancelled"]) == "cancelled"
    assert derive([partial, "shipped"]) == "shipped"  # no stage known: as before
