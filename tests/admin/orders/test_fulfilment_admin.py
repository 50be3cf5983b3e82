"""A seller fulfils its sub-orders from the admin (admin/views/fulfilment.py), through the services
the API calls: the status steps the state machine allows, a shipping label (and its PDF), delivery,
and deciding refund requests (approve with restock, or reject with a reason). What a service
refuses is a flash message and changes nothing; another seller's sub-order is out of reach; every
change is a POST with the CSRF token."""

from __future__ import annotations

import pytest

from tests.builders.admin import login
from tests.builders.fulfilment import (
    SUB_ORDERS,
    flashes,
    messages,
    paid_order,
    processing_order,
    refund_request,
    returned_order,
    shipment_id,
    sub_order_state,
)
from tests.builders.orders import stock_of, sub_of


def _seller(app, shop, which="seller"):
    client, _ = login(app, shop.tenant.slug, getattr(shop, which).user.username)
    return client


def test_the_page_offers_only_the_steps_the_state_machine_allows(app, client, shop):
    order = paid_order(client, shop)
    sub = sub_of(order, shop.seller.id)
    seller = _seller(app, shop)
    html = seller.get(f"{SUB_ORDERS}/show/{sub['id']}").get_data(as_text=True)
    # paid: start processing (or it is cancelled elsewhere); not shipped, delivered or completed
    assert 'value="processing"' in html
    for later in ("shipped", "delivered", "completed"):
        assert f'value="{later}"' not in html
    assert "Ship with a" not in html  # a label needs the sub-order processing first
    assert sub["lines"][0]["sku"] in html and "Ada Lovelace" in html  # lines, where it goes
    assert "London" in html and sub["number"] in html
    assert "/admin/orders/show/" not in html  # the whole order (other sellers' parts): staff's
    admin, _ = login(app, shop.tenant.slug, shop.admin.username)
    html = admin.get(f"{SUB_ORDERS}/show/{sub['id']}").get_data(as_text=True)
    assert shop.seller.store_name in html  # staff read many sellers' sub-orders: whose it is
    assert f'href="/admin/orders/show/{order["id"]}">{order["number"]}</a>' in html


def test_a_seller_moves_its_sub_order_to_processing(app, client, shop):
    order = paid_order(client, shop)
    sub, sub2 = sub_of(order, shop.seller.id), sub_of(order, shop.seller2.id)
    seller = _seller(app, shop)
    response = seller.post(f"{SUB_ORDERS}/set-status/{sub['id']}", data={"status": "processing"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{SUB_ORDERS}/show/{sub['id']}")
    assert messages(seller) == [f"Sub-order {sub['number']} is now processing."]
    assert sub_order_state(app, shop.tenant.id, sub["id"])["status"] == "processing"
    assert sub_order_state(app, shop.tenant.id, sub2["id"])["status"] == "paid"  # only its own
    html = seller.get(f"{SUB_ORDERS}/show/{sub['id']}").get_data(as_text=True)
    assert "Ship with a manual label" in html and 'value="processing"' not in html


def test_an_illegal_status_move_is_refused_and_changes_nothing(app, client, shop):
    order, sub = processing_order(client, shop)
    seller = _seller(app, shop)
    before = sub_order_state(app, shop.tenant.id, sub["id"])
    # processing -> completed skips shipping and delivery: the state machine refuses it
    seller.post(f"{SUB_ORDERS}/set-status/{sub['id']}", data={"status": "completed"})
    [(category, message)] = flashes(seller)
    assert category == "danger"
    assert "cannot go from processing to completed" in message
    assert "possible now:" in message and "shipped" in message
    # a status nobody sets by hand (it follows the payments)
    seller.post(f"{SUB_ORDERS}/set-status/{sub['id']}", data={"status": "refunded"})
    assert messages(seller) == ["Choose one of the steps offered on the page."]
    assert sub_order_state(app, shop.tenant.id, sub["id"]) == before


def test_a_seller_ships_with_a_label_and_prints_it(app, client, shop):
    order, sub = processing_order(client, shop)
    seller = _seller(app, shop)
    # a weight that is not a weight: said, nothing shipped
    seller.post(f"{SUB_ORDERS}/ship/{sub['id']}", data={"weight_kg": "heavy"})
    assert messages(seller) == ["The weight must be a number of kilograms above 0, at most 1000."]
    assert sub_order_state(app, shop.tenant.id, sub["id"])["shipments"] == []

    response = seller.post(f"{SUB_ORDERS}/ship/{sub['id']}", data={"weight_kg": "1,5"})
    assert response.status_code == 302
    state = sub_order_state(app, shop.tenant.id, sub["id"])
    assert state["status"] == "shipped"
    [(tracking, status)] = state["shipments"]
    assert status == "label_created"
    [(category, message)] = flashes(seller)
    assert category == "success" and tracking in message
    page = seller.get(f"{SUB_ORDERS}/show/{sub['id']}").get_data(as_text=True)
    assert tracking in page and "Label (PDF)" in page and "Mark delivered" in page
    assert "Ship with a" not in page  # shipped once

    label_id = shipment_id(app, shop.tenant.id, sub["id"])
    label = seller.get(f"/admin/shipments/label/{label_id}")
    assert label.status_code == 200 and label.mimetype == "application/pdf"
    assert label.data.startswith(b"%PDF")
    assert tracking in label.headers["Content-Disposition"]
    # another seller's label: not found; the admin prints any
    assert (
        _seller(app, shop, "seller2").get(f"/admin/shipments/label/{label_id}").status_code == 404
    )
    admin, _ = login(app, shop.tenant.slug, shop.admin.username)
    assert admin.get(f"/admin/shipments/label/{label_id}").data.startswith(b"%PDF")

    # a second label for the same sub-order is refused by the service
    seller.post(f"{SUB_ORDERS}/ship/{sub['id']}", data={})
    [(category, message)] = flashes(seller)
    assert category == "danger" and "cannot go from shipped to shipped" in message
    assert len(sub_order_state(app, shop.tenant.id, sub["id"])["shipments"]) == 1


def test_a_seller_marks_its_shipped_sub_order_delivered(app, client, shop):
    order, sub = processing_order(client, shop)
    seller = _seller(app, shop)
    seller.post(f"{SUB_ORDERS}/ship/{sub['id']}")
    flashes(seller)
    seller.post(f"{SUB_ORDERS}/set-status/{sub['id']}", data={"status": "delivered"})
    assert messages(seller) == [f"Sub-order {sub['number']} is now delivered."]
    state = sub_order_state(app, shop.tenant.id, sub["id"])
    assert state["status"] == "delivered"
    assert [status for _, status in state["shipments"]] == ["delivered"]  # shipments follow


def test_another_sellers_sub_order_is_out_of_reach(app, client, shop):
    data = returned_order(client, shop)
    sub = data["sub"]
    before = sub_order_state(app, shop.tenant.id, sub["id"])
    other = _seller(app, shop, "seller2")
    assert other.get(f"{SUB_ORDERS}/show/{sub['id']}").status_code == 404
    for url, form in (
        (f"{SUB_ORDERS}/set-status/{sub['id']}", {"status": "delivered"}),
        (f"{SUB_ORDERS}/ship/{sub['id']}", {}),
        (
            f"{SUB_ORDERS}/decide-refund/{sub['id']}/{data['request_id']}",
            {"decision": "approve", "restock": "y"},
        ),
    ):
        assert other.post(url, data=form).status_code == 404, url
    assert sub_order_state(app, shop.tenant.id, sub["id"]) == before
    assert refund_request(app, shop.tenant.id, data["request_id"])["status"] == "requested"
    # a request of another sub-order named on its own sub-order's route: the service refuses it
    order2_sub = sub_of(data["order"], shop.seller2.id)
    other.post(
        f"{SUB_ORDERS}/decide-refund/{order2_sub['id']}/{data['request_id']}",
        data={"decision": "approve"},
    )
    assert messages(other) == ["No such refund request."]
    assert refund_request(app, shop.tenant.id, data["request_id"])["status"] == "requested"


def test_a_seller_approves_a_return_with_restock(app, client, shop):
    data = returned_order(client, shop)
    sub = data["sub"]
    seller = _seller(app, shop)
    # the refund request and shipment lists lead to the sub-order's page, where it is decided
    for listing in ("/admin/refund-requests/list/", "/admin/shipments/list/"):
        html = seller.get(listing).get_data(as_text=True)
        assert f'href="{SUB_ORDERS}/show/{sub["id"]}">{sub["number"]}</a>' in html, listing
    page = seller.get(f"{SUB_ORDERS}/show/{sub['id']}").get_data(as_text=True)
    assert "one lamp arrived cracked" in page and "Put the returned units back in stock" in page
    on_hand = stock_of(app, shop.tenant.id, shop.product.stock_level_id)[0]
    seller.post(
        f"{SUB_ORDERS}/decide-refund/{sub['id']}/{data['request_id']}",
        data={"decision": "approve", "restock": "y"},
    )
    assert messages(seller) == ["Refund request approved: the refund is paid out."]
    request = refund_request(app, shop.tenant.id, data["request_id"])
    assert request["status"] in ("approved", "completed") and request["restock"] is True
    assert request["restocked"] == 1
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id)[0] == on_hand + 1
    # decided once: a second decision is refused
    seller.post(
        f"{SUB_ORDERS}/decide-refund/{sub['id']}/{data['request_id']}",
        data={"decision": "reject", "reason": "changed my mind"},
    )
    assert messages(seller) == ["This refund request was decided already."]


def test_approving_without_restock_leaves_the_stock(app, client, shop):
    data = returned_order(client, shop)
    seller = _seller(app, shop)
    on_hand = stock_of(app, shop.tenant.id, shop.product.stock_level_id)[0]
    seller.post(
        f"{SUB_ORDERS}/decide-refund/{data['sub']['id']}/{data['request_id']}",
        data={"decision": "approve"},  # the box unticked: the browser sends nothing for it
    )
    request = refund_request(app, shop.tenant.id, data["request_id"])
    assert request["restock"] is False and request["restocked"] == 0
    assert stock_of(app, shop.tenant.id, shop.product.stock_level_id)[0] == on_hand


def test_rejecting_needs_a_reason(app, client, shop):
    data = returned_order(client, shop)
    sub = data["sub"]
    seller = _seller(app, shop)
    url = f"{SUB_ORDERS}/decide-refund/{sub['id']}/{data['request_id']}"
    seller.post(url, data={"decision": "reject", "reason": "   "})
    assert messages(seller) == ["Say why the refund request is rejected: the customer reads it."]
    assert refund_request(app, shop.tenant.id, data["request_id"])["status"] == "requested"
    seller.post(url, data={"decision": "maybe"})
    assert messages(seller) == ["Approve or reject the request."]
    seller.post(url, data={"decision": "reject", "reason": "the lamp was fine in the photos"})
    assert messages(seller) == ["Refund request rejected."]
    assert refund_request(app, shop.tenant.id, data["request_id"])["status"] == "rejected"
    state = sub_order_state(app, shop.tenant.id, sub["id"])
    assert state["status"] == "shipped"  # back to where it was before the request


def test_a_seller_does_not_decide_its_own_request(app, client, shop):
    data = returned_order(client, shop, by=shop.h_seller)
    seller = _seller(app, shop)
    seller.post(
        f"{SUB_ORDERS}/decide-refund/{data['sub']['id']}/{data['request_id']}",
        data={"decision": "approve"},
    )
    assert messages(seller) == ["An admin decides on a refund its seller requested."]
    assert refund_request(app, shop.tenant.id, data["request_id"])["status"] == "requested"
    admin, _ = login(app, shop.tenant.slug, shop.admin.username)
    admin.post(
        f"{SUB_ORDERS}/decide-refund/{data['sub']['id']}/{data['request_id']}",
        data={"decision": "reject", "reason": "keep it"},
    )
    assert messages(admin) == ["Refund request rejected."]


def test_ship_selected_ships_what_may_ship_and_names_each_refusal(app, client, shop):
    first, sub1 = processing_order(client, shop)
    second, sub2 = processing_order(client, shop)
    paid = sub_of(paid_order(client, shop), shop.seller.id)  # not processing yet
    theirs = sub_of(first, shop.seller2.id)  # another seller's (a forged row id)
    seller = _seller(app, shop)
    response = seller.post(
        f"{SUB_ORDERS}/action_post",
        data={
            "action": "ship_selected",
            "rowid": [str(sub1["id"]), str(sub2["id"]), str(paid["id"]), str(theirs["id"])],
        },
    )
    assert response.status_code == 302
    got = flashes(seller)
    assert got[0] == ("success", "2 sub-orders shipped with a label.")
    assert sorted(got[1:]) == sorted(
        [
            ("danger", f"#{theirs['id']}: No such sub-order."),
            (
                "danger",
                f"{paid['number']}: An order cannot go from paid to shipped "
                "(possible now: cancelled, processing, refund requested, refunded).",
            ),
        ]
    )
    for sub, status in ((sub1, "shipped"), (sub2, "shipped"), (paid, "paid"), (theirs, "paid")):
        assert sub_order_state(app, shop.tenant.id, sub["id"])["status"] == status
    assert len(sub_order_state(app, shop.tenant.id, sub1["id"])["shipments"]) == 1
    assert sub_order_state(app, shop.tenant.id, theirs["id"])["shipments"] == []


@pytest.mark.parametrize(
    "path",
    ["set-status/{sub}", "ship/{sub}", "decide-refund/{sub}/{request}"],
)
def test_the_steps_are_posts_with_the_token(app, client, shop, path):
    data = returned_order(client, shop)
    url = f"{SUB_ORDERS}/" + path.format(sub=data["sub"]["id"], request=data["request_id"])
    seller = _seller(app, shop)
    before = sub_order_state(app, shop.tenant.id, data["sub"]["id"])
    form = {"status": "delivered", "decision": "approve", "restock": "y"}
    assert seller.get(url).status_code == 405  # a link cannot change anything
    refused = seller.post(url, data=form, csrf=False)  # nor another site's form
    assert refused.status_code == 400 and "Nothing was changed" in refused.get_data(as_text=True)
    assert sub_order_state(app, shop.tenant.id, data["sub"]["id"]) == before
    assert refund_request(app, shop.tenant.id, data["request_id"])["status"] == "requested"
