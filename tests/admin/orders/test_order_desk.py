"""The order desk (admin/views/order_desk.py): an order's admin page shows the whole order on one
screen, and Admins run the order from it through the services the API calls: cancel, move a
sub-order's status, create a label, decide a refund request, mark a payment received, add a note.
Each outcome, and each refusal (which changes nothing), is a flash message on the page shown again.
Sellers and customers are refused every action."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from admin.views.order_desk import ACTIONS as ORDER_DESK_ACTIONS
from app.extensions import db
from app.inventory.models import StockLevel
from app.orders.models import Order, OrderEvent, RefundRequest, SubOrder
from app.payments.models import Payment
from app.security.models import AuditLog
from app.shipments.models import Shipment
from tests.builders.admin import _grant_seller_reads, login, scope
from tests.builders.orders import ADDRESS, CARD_OK, ask, patch, place, requests_of, sub_of

DESK = "/admin/orders"


def _flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.pop("_flashes", []))


def _messages(client) -> str:
    return " | ".join(message for _category, message in _flashes(client))


def _statuses(app, shop, order_id) -> tuple[str, list[str]]:
    with scope(app, shop.tenant.id):
        order = db.session.get(Order, order_id)
        return order.status, sorted(s.status for s in order.sub_orders)


def _sub_status(app, shop, sub_id) -> str:
    with scope(app, shop.tenant.id):
        return db.session.get(SubOrder, sub_id).status


def _reserved(app, shop, product) -> int:
    with scope(app, shop.tenant.id):
        return sum(
            db.session.scalars(
                select(StockLevel.quantity_reserved).where(
                    StockLevel.variant_id == product.variant_id
                )
            )
        )


def _events(app, shop, order_id) -> list[OrderEvent]:
    with scope(app, shop.tenant.id):
        rows = db.session.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
        ).all()
        db.session.expunge_all()
        return rows


@pytest.fixture
def admin(app, shop):
    return login(app, shop.tenant.slug, shop.admin.username)[0]


@pytest.fixture
def paid(client, shop):
    """A paid order of two sellers (2 units of seller 1's product, 1 of seller 2's)."""
    return place(client, shop, payment=CARD_OK)


def test_the_order_page_reads_as_one_screen(app, client, shop, admin, paid):
    sub, sub2 = sub_of(paid, shop.seller.id), sub_of(paid, shop.seller2.id)
    patch(client, shop.h_seller, paid["id"], status="processing")
    shipment = client.post(
        "/api/v1/shipping/create-label/", headers=shop.h_seller, json={"sub_order_id": sub["id"]}
    ).get_json()
    page = admin.get(f"{DESK}/show/{paid['id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # header: number, status, customer (name, e-mail, its page), totals with the currency
    assert f"Order {paid['number']}" in html
    customer = shop.customer.user
    assert customer.email in html
    assert re.search(rf'href="/admin/customers/show/{shop.customer.id}"', html)
    assert paid["currency"] == "USD" and f"${paid['total']}" in html
    # lines: title, SKU, quantity, unit price; the sub-orders per seller with their sellers' names
    line = sub["lines"][0]
    assert line["title"] in html and line["sku"] in html and "$10.00" in html
    assert sub["number"] in html and sub2["number"] in html
    assert shop.seller.store_name in html and shop.seller2.store_name in html
    # payments (gateway, status), the shipment with its tracking number, the timeline, the address
    assert "Test card" in html or "test_card" in html.lower()
    assert "Captured" in html
    assert shipment["tracking_number"] in html
    assert "order placed" in html and "payment captured" in html
    assert ADDRESS["line1"] in html and ADDRESS["city"] in html
    # the actions an Admin may take from here: each a POST form carrying the CSRF token
    forms = re.findall(
        r'<form method="post" action="([^"]+)"[^>]*>\s*<input type="hidden" name="csrf_token"', html
    )
    assert f"{DESK}/{paid['id']}/cancel" in forms and f"{DESK}/{paid['id']}/note" in forms
    assert f"{DESK}/{paid['id']}/move" in forms  # seller 2's sub-order can move to processing
    assert f"{DESK}/{paid['id']}/label" not in forms  # a label ships a sub-order in processing
    # an order of another tenant is not there
    foreign = place(client, shop, h=shop.h_foreign, items=[(shop.foreign_product.variant_id, 1)])
    assert admin.get(f"{DESK}/show/{foreign['id']}").status_code == 404
    assert admin.get(f"{DESK}/show/nonsense").status_code == 404


def test_staff_cancel_an_order_with_a_reason(app, shop, admin, paid):
    reserved = _reserved(app, shop, shop.product)
    assert reserved >= 2
    response = admin.post(f"{DESK}/{paid['id']}/cancel", data={"reason": "customer phoned"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{DESK}/show/{paid['id']}")
    assert "Order cancelled" in _messages(admin)
    assert _statuses(app, shop, paid["id"]) == ("cancelled", ["cancelled", "cancelled"])
    assert _reserved(app, shop, shop.product) == reserved - 2  # its stock is released
    with scope(app, shop.tenant.id):
        payment = db.session.scalar(select(Payment).where(Payment.order_id == paid["id"]))
        assert payment.status == "refunded"  # paid: the money goes back
    events = _events(app, shop, paid["id"])
    assert any(e.note == "customer phoned" and e.to_status == "cancelled" for e in events)
    assert all(e.actor_user_id == shop.admin.id for e in events if e.to_status == "cancelled")
    page = admin.get(f"{DESK}/show/{paid['id']}").get_data(as_text=True)
    assert "customer phoned" in page and f"{DESK}/{paid['id']}/cancel" not in page


def test_a_cancel_the_state_machine_refuses_changes_nothing(app, client, shop, admin, paid):
    # both sub-orders shipped: nothing of the order can be cancelled any more
    for h in (shop.h_seller, shop.h_seller2):
        assert patch(client, h, paid["id"], status="processing").status_code == 200
        assert patch(client, h, paid["id"], status="shipped").status_code == 200
    before = _events(app, shop, paid["id"])
    admin.post(f"{DESK}/{paid['id']}/cancel", data={"reason": "too late"})
    assert _messages(admin) == (
        "Nothing was changed: an order cannot go from shipped to cancelled. From here: "
        "Delivered, Refund requested, Refunded."
    )
    assert _statuses(app, shop, paid["id"]) == ("shipped", ["shipped", "shipped"])
    assert len(_events(app, shop, paid["id"])) == len(before)
    # no reason: the form says so, nothing is cancelled
    other = place(client, shop, payment=CARD_OK)
    admin.post(f"{DESK}/{other['id']}/cancel", data={"reason": ""})
    assert "Nothing was changed. Reason: give a reason" in _messages(admin)
    assert _statuses(app, shop, other["id"])[0] == "paid"


def test_staff_move_a_sub_order_along_the_state_machine(app, shop, admin, paid):
    sub, sub2 = sub_of(paid, shop.seller.id), sub_of(paid, shop.seller2.id)
    admin.post(
        f"{DESK}/{paid['id']}/move",
        data={"sub_order_id": sub["id"], "status": "processing", "note": "picking"},
    )
    assert _messages(admin) == f"Sub-order {sub['number']} moved to processing."
    assert _sub_status(app, shop, sub["id"]) == "processing"
    assert _sub_status(app, shop, sub2["id"]) == "paid"  # only the one named
    event = _events(app, shop, paid["id"])[-1]
    assert (event.sub_order_id, event.to_status, event.note, event.actor_user_id) == (
        sub["id"],
        "processing",
        "picking",
        shop.admin.id,
    )
    # an illegal move (paid -> delivered): refused, named, nothing changes
    count = len(_events(app, shop, paid["id"]))
    admin.post(
        f"{DESK}/{paid['id']}/move", data={"sub_order_id": sub2["id"], "status": "delivered"}
    )
    assert _messages(admin).startswith(
        "Nothing was changed: an order cannot go from paid to delivered."
    )
    assert _sub_status(app, shop, sub2["id"]) == "paid"
    # a status only payments set (refunded), a status that does not exist, another order's sub-order
    admin.post(f"{DESK}/{paid['id']}/move", data={"sub_order_id": sub2["id"], "status": "refunded"})
    assert _messages(admin).startswith(
        "Nothing was changed: an order cannot go from paid to refunded"
    )
    admin.post(f"{DESK}/{paid['id']}/move", data={"sub_order_id": sub2["id"], "status": "lost"})
    assert _messages(admin) == "Nothing was changed. New status: Not a valid choice."
    admin.post(f"{DESK}/{paid['id']}/move", data={"sub_order_id": "x", "status": "processing"})
    assert _messages(admin).startswith("Nothing was changed. Sub-order:")
    admin.post(
        f"{DESK}/{paid['id']}/move", data={"sub_order_id": 2147483000, "status": "processing"}
    )
    assert _messages(admin) == "Nothing was changed: no such sub-order in this order."
    assert _sub_status(app, shop, sub2["id"]) == "paid"
    assert len(_events(app, shop, paid["id"])) == count


def test_staff_create_a_label_which_ships_the_sub_order(app, shop, admin, paid):
    sub = sub_of(paid, shop.seller.id)
    admin.post(
        f"{DESK}/{paid['id']}/move", data={"sub_order_id": sub["id"], "status": "processing"}
    )
    _flashes(admin)
    page = admin.get(f"{DESK}/show/{paid['id']}").get_data(as_text=True)
    assert f'action="{DESK}/{paid["id"]}/label"' in page and "Create label and ship" in page
    admin.post(f"{DESK}/{paid['id']}/label", data={"sub_order_id": sub["id"], "weight_kg": "1.5"})
    messages = _messages(admin)
    with scope(app, shop.tenant.id):
        shipment = db.session.scalar(select(Shipment).where(Shipment.sub_order_id == sub["id"]))
        assert shipment is not None and shipment.label_pdf.startswith(b"%PDF")
        number = shipment.tracking_number
    assert "Label created; the sub-order is shipped." in messages and number in messages
    assert _sub_status(app, shop, sub["id"]) == "shipped"
    # a second label for it: refused, still one shipment
    admin.post(f"{DESK}/{paid['id']}/label", data={"sub_order_id": sub["id"]})
    assert _messages(admin).startswith(
        "Nothing was changed: an order cannot go from shipped to shipped"
    )
    # a sub-order of another order of the shop, posted on this order's page: refused
    other = place(client := app.test_client(), shop, payment=CARD_OK)
    other_sub = sub_of(other, shop.seller.id)
    patch(client, shop.h_seller, other["id"], status="processing")
    admin.post(f"{DESK}/{paid['id']}/label", data={"sub_order_id": other_sub["id"]})
    assert _messages(admin) == "Nothing was changed: no such sub-order in this order."
    assert _sub_status(app, shop, other_sub["id"]) == "processing"
    # a weight out of range: the form says so
    admin.post(
        f"{DESK}/{other['id']}/label", data={"sub_order_id": other_sub["id"], "weight_kg": "-1"}
    )
    assert _messages(admin).startswith("Nothing was changed. Weight (kg):")
    with scope(app, shop.tenant.id):
        assert (
            db.session.scalars(
                select(Shipment).where(Shipment.sub_order_id.in_([sub["id"], other_sub["id"]]))
            )
            .all()
            .__len__()
            == 1
        )


def test_staff_decide_refund_requests(app, client, shop, admin, paid):
    sub, sub2 = sub_of(paid, shop.seller.id), sub_of(paid, shop.seller2.id)
    for h in (shop.h_seller, shop.h_seller2):
        patch(client, h, paid["id"], status="processing")
        patch(client, h, paid["id"], status="shipped")
    line, line2 = sub["lines"][0], sub2["lines"][0]
    assert ask(client, shop.h, paid["id"], (line["id"], 1)).status_code == 200
    assert ask(client, shop.h, paid["id"], (line2["id"], 1)).status_code == 200
    first, second = requests_of(app, shop, paid["id"])
    page = admin.get(f"{DESK}/show/{paid['id']}").get_data(as_text=True)
    assert "Approve and restock" in page and "returned" in page
    with scope(app, shop.tenant.id):
        on_hand = db.session.scalar(
            select(StockLevel.quantity_on_hand).where(
                StockLevel.variant_id == shop.product.variant_id
            )
        )
    # approve with restock: the unit goes back on hand, the money back to the customer
    admin.post(
        f"{DESK}/{paid['id']}/refund-decision",
        data={"request_id": first.id, "decision": "approve_restock"},
    )
    assert _messages(admin) == "Refund approved and the returned units restocked."
    with scope(app, shop.tenant.id):
        row = db.session.get(RefundRequest, first.id)
        assert row.status in ("approved", "completed") and row.restock
        assert row.decided_by_user_id == shop.admin.id
        assert (
            db.session.scalar(
                select(StockLevel.quantity_on_hand).where(
                    StockLevel.variant_id == shop.product.variant_id
                )
            )
            == on_hand + 1
        )
    # deciding it again: refused
    admin.post(
        f"{DESK}/{paid['id']}/refund-decision",
        data={"request_id": first.id, "decision": "reject", "note": "no"},
    )
    assert _messages(admin) == "Nothing was changed: this refund request was decided already."
    # reject without a reason: the form asks for one; with one, the sub-order goes back to shipped
    admin.post(
        f"{DESK}/{paid['id']}/refund-decision", data={"request_id": second.id, "decision": "reject"}
    )
    assert _messages(admin) == "Nothing was changed. Reason: say why the refund is rejected"
    assert _sub_status(app, shop, sub2["id"]) == "refund_requested"
    admin.post(
        f"{DESK}/{paid['id']}/refund-decision",
        data={"request_id": second.id, "decision": "reject", "note": "item used"},
    )
    assert _messages(admin) == "Refund request rejected."
    assert _sub_status(app, shop, sub2["id"]) == "shipped"
    assert _events(app, shop, paid["id"])[-1].note == "item used"
    # a request of another order, posted on this page: not found, nothing decided
    other = place(client, shop, payment=CARD_OK)
    patch(client, shop.h_seller, other["id"], status="processing")
    ask(client, shop.h, other["id"], (sub_of(other, shop.seller.id)["lines"][0]["id"], 1))
    (foreign_request,) = requests_of(app, shop, other["id"])
    admin.post(
        f"{DESK}/{paid['id']}/refund-decision",
        data={"request_id": foreign_request.id, "decision": "approve"},
    )
    assert _messages(admin) == "Nothing was changed: no such refund request."
    assert requests_of(app, shop, other["id"])[0].status == "requested"


def test_staff_mark_a_bank_transfer_received_from_the_order_page(app, client, shop, admin, paid):
    order = place(client, shop, payment={"method": "bank_transfer"})
    with scope(app, shop.tenant.id):
        payment_id = db.session.scalar(select(Payment.id).where(Payment.order_id == order["id"]))
        card_payment_id = db.session.scalar(
            select(Payment.id).where(Payment.order_id == paid["id"])
        )
    page = admin.get(f"{DESK}/show/{order['id']}").get_data(as_text=True)
    action = f"/admin/payments/action/mark_received/{payment_id}"
    assert f'action="{action}"' in page
    response = admin.post(action, headers={"Referer": f"http://localhost{DESK}/show/{order['id']}"})
    assert response.headers["Location"].endswith(f"{DESK}/show/{order['id']}")
    assert _flashes(admin) == [("success", "1 payment marked received.")]
    with scope(app, shop.tenant.id):
        assert db.session.get(Payment, payment_id).status == "captured"
    assert _statuses(app, shop, order["id"])[0] == "paid"
    page = admin.get(f"{DESK}/show/{order['id']}").get_data(as_text=True)
    assert f'action="{action}"' not in page  # received: no button any more
    # a card payment is not marked received: the refusal is shown, nothing changes
    assert f"/admin/payments/action/mark_received/{card_payment_id}" not in admin.get(
        f"{DESK}/show/{paid['id']}"
    ).get_data(as_text=True)
    admin.post(f"/admin/payments/action/mark_received/{card_payment_id}")
    assert _flashes(admin) == [
        ("warning", "No payments marked received."),
        (
            "danger",
            f"Payment #{card_payment_id}: Only bank transfer and cash on delivery payments are "
            "marked received.",
        ),
    ]
    with scope(app, shop.tenant.id):
        assert db.session.get(Payment, card_payment_id).status == "captured"


def test_staff_add_notes_the_customer_never_sees(app, client, shop, admin, paid):
    admin.post(f"{DESK}/{paid['id']}/note", data={"note": "  customer asked for gift wrap  "})
    assert _messages(admin) == "Note added to the timeline."
    note = _events(app, shop, paid["id"])[-1]
    assert (note.note, note.actor_user_id, note.is_note) == (
        "customer asked for gift wrap",
        shop.admin.id,
        True,
    )
    assert _statuses(app, shop, paid["id"]) == ("paid", ["paid", "paid"])  # no status changed
    assert "customer asked for gift wrap" in admin.get(f"{DESK}/show/{paid['id']}").get_data(
        as_text=True
    )
    tracking = client.get(f"/api/v1/orders/{paid['id']}/tracking/", headers=shop.h).get_json()
    assert "customer asked for gift wrap" not in str(tracking)
    assert "payment captured" in str(tracking)  # the rest of the timeline is still the customer's
    staff = client.get(f"/api/v1/orders/{paid['id']}/tracking/", headers=shop.h_admin).get_json()
    assert "customer asked for gift wrap" in str(staff)
    # empty or too long: the form says so
    admin.post(f"{DESK}/{paid['id']}/note", data={"note": ""})
    assert _messages(admin) == "Nothing was changed. Note: write the note"
    admin.post(f"{DESK}/{paid['id']}/note", data={"note": "x" * 501})
    assert _messages(admin) == "Nothing was changed. Note: at most 500 characters"
    assert len([e for e in _events(app, shop, paid["id"]) if e.is_note]) == 1


def _note_audit_rows(app, shop, order_id) -> list[AuditLog]:
    with scope(app, shop.tenant.id):
        rows = db.session.scalars(
            select(AuditLog)
            .where(
                AuditLog.action == "note",
                AuditLog.entity == "Order",
                AuditLog.entity_id == str(order_id),
            )
            .order_by(AuditLog.id)
        ).all()
        db.session.expunge_all()
        return rows


def test_a_note_leaves_an_audit_row_the_audit_log_shows(app, client, shop, admin, paid):
    admin.post(f"{DESK}/{paid['id']}/note", data={"note": "refund promised by phone"})
    assert _messages(admin) == "Note added to the timeline."
    (row,) = _note_audit_rows(app, shop, paid["id"])
    assert (row.actor_id, row.actor, row.tenant_id, row.source) == (
        shop.admin.id,
        shop.admin.username,
        shop.tenant.id,
        "admin",
    )
    assert row.after == {
        "order_number": paid["number"],
        "sub_order_id": None,
        "sub_order_number": None,
        "status": "paid",
        "note": "refund promised by phone",
    }
    assert row.request_path.startswith(f"{DESK}/{paid['id']}/note")
    assert row.created_at is not None
    html = admin.get(f"/admin/audit-log/show/{row.id}").get_data(as_text=True)
    assert "refund promised by phone" in html and paid["number"] in html
    assert "note" in admin.get("/admin/audit-log/list/").get_data(as_text=True)
    # a refused note (empty) leaves no row, nor does a seller's forged post
    admin.post(f"{DESK}/{paid['id']}/note", data={"note": "  "})
    seller, _ = login(app, shop.tenant.slug, shop.seller.user.username)
    seller.post(f"{DESK}/{paid['id']}/note", data={"note": "forged"})
    assert len(_note_audit_rows(app, shop, paid["id"])) == 1


ACTIONS = {
    "cancel": {"reason": "forged"},
    "move": {"status": "processing"},
    "label": {},
    "refund-decision": {"decision": "approve"},
    "note": {"note": "forged"},
}


def test_sellers_and_customers_are_refused_every_action(app, client, shop, paid):
    _grant_seller_reads(app)
    sub = sub_of(paid, shop.seller.id)
    patch(client, shop.h_seller, paid["id"], status="processing")
    ask(client, shop.h, paid["id"], (sub["lines"][0]["id"], 1))
    (request,) = requests_of(app, shop, paid["id"])
    with scope(app, shop.tenant.id):
        payment_id = db.session.scalar(select(Payment.id).where(Payment.order_id == paid["id"]))
    before = (_statuses(app, shop, paid["id"]), len(_events(app, shop, paid["id"])))

    seller, _ = login(app, shop.tenant.slug, shop.seller.user.username)
    assert seller.get(f"{DESK}/show/{paid['id']}").status_code == 403
    for name, data in ACTIONS.items():
        data = {**data, "sub_order_id": sub["id"], "request_id": request.id}
        assert seller.post(f"{DESK}/{paid['id']}/{name}", data=data).status_code == 403, name
    assert seller.post(f"/admin/payments/action/mark_received/{payment_id}").status_code == 302
    assert "Access is Denied" in _messages(seller)

    # a customer has no admin session at all: the login refuses it, the posts go to the login
    _, response = login(app, shop.tenant.slug, shop.customer.user.username, expect_ok=False)
    assert "/login" in response.headers.get("Location", "/login") or response.status_code == 200
    anonymous = app.test_client()
    anonymous.environ_base["HTTP_X_TENANT"] = shop.tenant.slug
    for name, data in ACTIONS.items():
        data = {**data, "sub_order_id": sub["id"], "request_id": request.id}
        response = anonymous.post(f"{DESK}/{paid['id']}/{name}", data=data)
        assert response.status_code == 302 and "/login" in response.headers["Location"], name

    assert (_statuses(app, shop, paid["id"]), len(_events(app, shop, paid["id"]))) == before
    assert requests_of(app, shop, paid["id"])[0].status == "requested"


def test_the_actions_are_posts_with_the_token(app, shop, admin, paid):
    for name, data in ACTIONS.items():
        url = f"{DESK}/{paid['id']}/{name}"
        assert admin.get(url).status_code == 405, name
        response = admin.post(url, data=data, csrf=False)
        assert response.status_code == 400 and "Nothing was changed" in response.get_data(
            as_text=True
        ), name
    assert _statuses(app, shop, paid["id"]) == ("paid", ["paid", "paid"])
    assert not any(e.is_note for e in _events(app, shop, paid["id"]))


def test_the_order_desk_permissions_are_the_admins_alone(app):
    """What `flask init` wrote (admin/roles.py): every action of the desk for Admin and Super
    Admin, none for a Seller, a Customer or a guest."""
    from app.security import roles

    wanted = {(name, "OrderView") for name in ORDER_DESK_ACTIONS} | {
        ("can_show", "OrderView"),
        ("mark_received", "PaymentView"),
    }
    with app.app_context():
        sm = app.appbuilder.sm

        def pairs(role_name):
            role = sm.find_role(role_name)
            return {(pv.permission.name, pv.view_menu.name) for pv in role.permissions}

        for role_name in (roles.ADMIN, roles.SUPER_ADMIN):
            assert wanted <= pairs(role_name), role_name
        for role_name in (roles.SELLER, roles.CUSTOMER, roles.PREMIUM_CUSTOMER, roles.GUEST):
            role = sm.find_role(role_name)
            have = pairs(role_name) if role is not None else set()
            assert not {pair for pair in have if pair[1] == "OrderView"}, role_name
            assert ("mark_received", "PaymentView") not in have, role_name


def test_a_super_admin_runs_an_order_of_any_tenant_in_its_tenant(app, shop, paid):
    """A Super Admin reads across tenants (here signed in at another storefront's host); what it
    changes is written in the order's tenant."""
    superadmin, _ = login(
        app,
        shop.foreign_tenant.slug,
        app.config["ADMIN_USERNAME"],
        app.config["ADMIN_PASSWORD"],
    )
    assert superadmin.get(f"{DESK}/show/{paid['id']}").status_code == 200
    superadmin.post(f"{DESK}/{paid['id']}/note", data={"note": "looked at by the platform"})
    superadmin.post(f"{DESK}/{paid['id']}/cancel", data={"reason": "fraud"})
    assert _messages(superadmin) == (
        "Note added to the timeline. | Order cancelled: its stock is released and its payment "
        "voided or refunded."
    )
    assert _statuses(app, shop, paid["id"]) == ("cancelled", ["cancelled", "cancelled"])
    with scope(app):
        rows = db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == paid["id"])).all()
        assert {row.tenant_id for row in rows} == {shop.tenant.id}
        assert any(row.note == "looked at by the platform" and row.is_note for row in rows)
