"""What the order pages of the admin show, and to whom: an order's page lists its sub-orders, its
timeline and its refund requests; a sub-order's page its lines, shipments, refund requests (with
the units they return) and timeline. A Seller reaches only its own sub-orders, shipments, refund
requests and returned units, never another seller's. The order page is also rendered in headless
Chromium and its screenshot checked for real content."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.browser.chromium import admin_page
from tests.builders.admin import _grant_seller_reads, login
from tests.builders.orders import CARD_OK, patch, place, sub_of

API = "/api/v1/orders"


@pytest.fixture
def returned(app, client, shop):
    """A paid order of two sellers; seller 1 ships its sub-order (label), the customer returns one
    of its two units, seller 1 approves with restock."""
    order = place(client, shop, payment=CARD_OK)
    sub, sub2 = sub_of(order, shop.seller.id), sub_of(order, shop.seller2.id)
    patch(client, shop.h_seller, order["id"], status="processing")
    shipment = client.post(
        "/api/v1/shipping/create-label/", headers=shop.h_seller, json={"sub_order_id": sub["id"]}
    ).get_json()
    line = sub["lines"][0]
    response = client.post(
        f"{API}/{order['id']}/refund/",
        headers=shop.h,
        json={
            "reason": "second lamp arrived cracked",
            "lines": [{"line_id": line["id"], "quantity": 1}],
        },
    )
    assert response.status_code == 200, response.get_json()
    from sqlalchemy import select

    from app.core.tenancy import tenant_scope
    from app.extensions import db
    from app.orders.models import RefundRequest

    with app.app_context(), tenant_scope(shop.tenant.id):
        request_id = db.session.scalar(
            select(RefundRequest.id).where(RefundRequest.order_id == order["id"])
        )
    response = client.post(
        f"{API}/{order['id']}/refund/",
        headers=shop.h_seller,
        json={"request_id": request_id, "approve": True, "restock": True},
    )
    assert response.status_code == 200, response.get_json()
    return {
        "order": order,
        "sub": sub,
        "sub2": sub2,
        "shipment": shipment,
        "line": line,
        "request_id": request_id,
    }


def test_the_order_page_shows_sub_orders_timeline_and_refund_requests(app, shop, returned):
    client, _ = login(app, shop.tenant.slug, shop.admin.username)
    page = client.get(f"/admin/orders/show/{returned['order']['id']}")
    assert page.status_code == 200
    html = page.data.decode()
    assert returned["sub"]["number"] in html and returned["sub2"]["number"] in html  # sub-orders
    assert "payment captured" in html and "Refund requested" in html  # the timeline
    assert "second lamp arrived cracked" in html  # the refund request
    page = client.get(f"/admin/refund-requests/show/{returned['request_id']}")
    assert (
        page.status_code == 200 and returned["line"]["sku"] in page.data.decode()
    )  # its returned units


def test_a_seller_sees_its_sub_order_with_lines_shipments_refunds_and_timeline(app, shop, returned):
    _grant_seller_reads(app)
    client, _ = login(app, shop.tenant.slug, shop.seller.user.username)
    page = client.get(f"/admin/sub-orders/show/{returned['sub']['id']}")
    assert page.status_code == 200
    html = page.data.decode()
    assert returned["line"]["sku"] in html  # lines
    assert returned["shipment"]["tracking_number"] in html  # shipments
    assert "second lamp arrived cracked" in html  # refund requests
    assert (
        "payment captured" in html and "Processing" in html
    )  # its timeline (a note; a status in words)
    assert (
        returned["sub2"]["number"] not in html and returned["sub2"]["lines"][0]["sku"] not in html
    )
    assert client.get(f"/admin/refund-requests/show/{returned['request_id']}").status_code == 200
    assert client.get("/admin/refund-request-lines/list/").status_code == 200
    assert client.get(f"/admin/orders/show/{returned['order']['id']}").status_code in (302, 403)

    other, _ = login(app, shop.tenant.slug, shop.seller2.user.username)
    assert other.get(f"/admin/sub-orders/show/{returned['sub']['id']}").status_code == 404
    assert other.get(f"/admin/refund-requests/show/{returned['request_id']}").status_code == 404
    # every page a seller has, search forms included: nothing of the other seller
    for path in (
        "/admin/refund-requests/list/",
        "/admin/refund-request-lines/list/",
        "/admin/shipments/list/",
        "/admin/order-lines/list/",
        "/admin/order-timeline/list/",
        "/admin/tracking-events/list/",
        "/admin/sub-orders/list/",
    ):
        page = other.get(path)
        assert page.status_code == 200, path
        html = page.data.decode()
        assert "second lamp arrived cracked" not in html and returned["line"]["sku"] not in html, (
            path
        )
        assert returned["shipment"]["tracking_number"] not in html, path
        assert returned["sub"]["number"] not in html, path
    page = other.get(f"/admin/sub-orders/show/{returned['sub2']['id']}")
    assert page.status_code == 200 and returned["sub2"]["lines"][0]["sku"] in page.data.decode()


@pytest.mark.browser
def test_the_order_page_renders_in_chromium(app, shop, returned, live_server, tmp_path):
    order = returned["order"]
    with admin_page(live_server, shop.tenant.slug, shop.admin.username) as page:
        page.goto(f"{live_server}/admin/orders/show/{order['id']}")
        page.wait_for_load_state("load")  # stylesheets too: the picture is what a person sees
        shot = tmp_path / "admin-order.png"
        page.screenshot(path=str(shot), full_page=True)
        keep = os.environ.get("SCREENSHOT_DIR")  # set it to keep the pictures
        if keep:
            shutil.copy(shot, keep)
        text = page.inner_text("body")
        # one screen (the order desk): sub-orders, refund requests and the timeline, no tabs
        subs = " ".join(page.locator(".od-sub").all_inner_texts())
        requests = page.inner_text(".od-requests")
        timeline = page.inner_text(".od-timeline")
        totals = page.inner_text(".od-totals")
    assert order["number"] in text and "Refunded" in totals
    assert returned["sub"]["number"] in subs and returned["sub2"]["number"] in subs
    assert "payment captured" in timeline and "Refund requested" in timeline
    assert "second lamp arrived cracked" in requests
    assert shot.stat().st_size > 20_000
