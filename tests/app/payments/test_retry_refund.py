"""Retrying a failed refund from the admin (/admin/refunds, action "Retry refund"): the refund of a
cancelled paid order that the gateway refused (test card 4000000000005126 pays, and every refund of
it is refused) has no refund request, so an Admin retries it: one new refund of the same amount
from the same payment, through payments.refund (amount checks, locks, events), once, even when two
admins retry at the same moment. A refund that is not failed, or that answered a refund request (a
new request pays that money out), is refused with its code and nothing is written. Sellers never
get the action; another tenant's admin gets 404.

The test gateway decides a refund by the card's last four digits kept on the payment row, so a
refund of the 5126 card can never succeed. The success path therefore switches that row's card to
the 4242 one (`_card_now_refundable`), standing in for "the cause was dealt with" (the customer's
new card, the provider's fix): the retry itself still goes through the gateway and every check."""

from __future__ import annotations

import os
import shutil
import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from app.core.errors import DomainError
from app.core.tenancy import tenant_scope
from app.events.idempotency import IdempotencyKey
from app.events.models import OutboxEvent
from app.extensions import db
from app.orders import refunds as orders
from app.orders.models import Order, RefundRequest
from app.payments import refunds as payment_refunds
from app.payments.models import Payment, Refund
from app.security import roles
from tests.browser.chromium import admin_page
from tests.builders.admin import login
from tests.builders.payments import CARD_OK, card

CARD_REFUND_FAILS = "4000000000005126"
ORDERS = "/api/v1/orders"


def _cancelled_with_failed_refund(client, payments, shop, total="40.00"):
    """A paid order of one seller, paid with the card whose refunds are refused, cancelled by an
    admin: its cancel refund (no refund request) failed. (order id, payment id, failed refund id)"""
    order_id, payment = payments.paid_order(
        shop.tenant.id,
        total=total,
        user_id=shop.customer.user_id,
        seller_ids=(shop.seller.id,),
        details=card(CARD_REFUND_FAILS),
    )
    assert payment.status == "captured"
    response = client.post(f"{ORDERS}/{order_id}/cancel/", headers=shop.h_admin)
    assert response.status_code == 200, response.get_json()
    [failed] = _refunds(client.application, shop, payment.id)
    assert (failed.status, failed.failure_code, failed.amount) == (
        "failed",
        "expired_or_canceled_card",
        Decimal(total),
    )
    return order_id, payment.id, failed.id


def _refunds(app, shop, payment_id):
    with app.app_context(), tenant_scope(shop.tenant.id):
        rows = db.session.execute(
            select(
                Refund.id,
                Refund.status,
                Refund.amount,
                Refund.failure_code,
                Refund.retry_of_refund_id,
                Refund.created_by_user_id,
            )
            .where(Refund.payment_id == payment_id)
            .order_by(Refund.id)
        ).all()
        db.session.remove()
        return rows


def _money(app, shop, payment_id, order_id):
    """(payment status, amount refunded), (order status, refunded total, payment status)."""
    with app.app_context(), tenant_scope(shop.tenant.id):
        payment = db.session.get(Payment, payment_id)
        order = db.session.get(Order, order_id)
        out = (
            (payment.status, payment.amount_refunded),
            (order.status, order.refunded_total, order.payment_status),
        )
        db.session.remove()
        return out


def _footprint(app, shop, payment_id, order_id):
    """Everything a retry could write: refunds, keys, events, the payment's and order's money."""
    with app.app_context(), tenant_scope(shop.tenant.id):
        keys = db.session.scalar(
            select(func.count())
            .select_from(IdempotencyKey)
            .where(IdempotencyKey.domain == "payments")
        )
        events = db.session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.tenant_id == shop.tenant.id)
        )
        db.session.remove()
    return _refunds(app, shop, payment_id), keys, events, _money(app, shop, payment_id, order_id)


def _card_now_refundable(app, shop, payment_id):
    """See the module docstring: the test gateway refunds a payment whose card is not the 5126 one."""
    with app.app_context(), tenant_scope(shop.tenant.id):
        db.session.execute(
            update(Payment).where(Payment.id == payment_id).values(card_last4="4242")
        )
        db.session.commit()
        db.session.remove()


def _retry(admin_client, *refund_ids):
    """The list page's action: the selected rows posted to action_post. The flashed messages."""
    response = admin_client.post(
        "/admin/refunds/action_post",
        data={"action": "retry_refund", "rowid": [str(i) for i in refund_ids]},
    )
    assert response.status_code == 302, response.status_code
    with admin_client.session_transaction() as session:
        return [message for _category, message in session.pop("_flashes", [])]


def _run(app, shop, fn, *args, **kwargs):
    with app.app_context(), tenant_scope(shop.tenant.id):
        try:
            return fn(*args, **kwargs)
        finally:
            db.session.rollback()
            db.session.remove()


def test_an_admin_retries_a_cancelled_orders_failed_refund_until_it_is_paid_out_once(
    app, client, payments, shop
):
    order_id, payment_id, failed_id = _cancelled_with_failed_refund(client, payments, shop)
    admin, _ = login(app, shop.tenant.slug, shop.admin.username)
    page = admin.get("/admin/refunds/list/").get_data(as_text=True)
    assert "Retry refund" in page

    # the card still refuses: the retry is made (one new refund, linked), and refused too
    messages = _retry(admin, failed_id)
    first, second = _refunds(app, shop, payment_id)
    assert first.id == failed_id and first.status == "failed"
    assert (
        second.status,
        second.failure_code,
        second.amount,
        second.retry_of_refund_id,
        second.created_by_user_id,
    ) == ("failed", "expired_or_canceled_card", Decimal("40.00"), failed_id, shop.admin.id)
    assert messages == [
        "1 refund retried.",
        f"Refund #{failed_id}: its retry #{second.id} was refused too (expired_or_canceled_card)",
    ]
    assert _money(app, shop, payment_id, order_id) == (
        ("captured", Decimal("0.00")),
        ("cancelled", Decimal("0.00"), "captured"),
    )

    # the cause is dealt with; the first refund was retried already, its retry is what is retried now
    _card_now_refundable(app, shop, payment_id)
    messages = _retry(admin, failed_id)
    assert (
        messages[0] == "No refunds retried."
        and f"retried already, by refund #{second.id}" in messages[1]
    )
    assert len(_refunds(app, shop, payment_id)) == 2
    messages = _retry(admin, second.id)
    assert messages == ["1 refund retried."]
    *_, third = _refunds(app, shop, payment_id)
    assert (third.status, third.amount, third.retry_of_refund_id) == (
        "completed",
        Decimal("40.00"),
        second.id,
    )
    # paid out once: the payment's refunded amount, and the order's total by the refund.completed consumer
    assert _money(app, shop, payment_id, order_id) == (
        ("refunded", Decimal("40.00")),
        ("cancelled", Decimal("40.00"), "refunded"),
    )

    # nothing is owed any more: every row of the chain is refused, nothing more is paid out
    messages = _retry(admin, failed_id, second.id, third.id)
    assert messages[0] == "No refunds retried." and len(messages) == 4
    assert "Only a failed refund can be retried; this one is completed." in messages[3]
    assert len(_refunds(app, shop, payment_id)) == 3
    assert _money(app, shop, payment_id, order_id)[0] == ("refunded", Decimal("40.00"))


def test_two_admins_retrying_the_same_failed_refund_at_once_make_one_refund(
    app, client, factory, payments, shop
):
    """A partial refund (15.00 of a 40.00 payment) failed: the payment could pay out two retries,
    so only the retry's own key (shared by every admin) keeps it to one."""
    order_id, payment = payments.paid_order(
        shop.tenant.id,
        total="40.00",
        user_id=shop.customer.user_id,
        seller_ids=(shop.seller.id,),
        details=card(CARD_REFUND_FAILS),
    )
    failed = payments.run(
        shop.tenant.id,
        payment_refunds.refund,
        payment.id,
        Decimal("15.00"),
        "goodwill",
        user_id=shop.admin.id,
    )
    failed_id = failed.id
    assert _refunds(app, shop, payment.id)[0].status == "failed"
    _card_now_refundable(app, shop, payment.id)
    second_admin = factory.user(shop.tenant, roles.ADMIN)
    clients = [
        login(app, shop.tenant.slug, user.username)[0] for user in (shop.admin, second_admin)
    ]

    barrier, results = threading.Barrier(len(clients)), []

    def retry(admin_client):
        barrier.wait()
        results.append(_retry(admin_client, failed_id))

    threads = [threading.Thread(target=retry, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 2, results

    rows = _refunds(app, shop, payment.id)
    assert [(r.status, r.amount, r.retry_of_refund_id) for r in rows] == [
        ("failed", Decimal("15.00"), None),
        ("completed", Decimal("15.00"), failed_id),
    ]
    assert _money(app, shop, payment.id, order_id) == (
        ("partially_refunded", Decimal("15.00")),
        ("paid", Decimal("15.00"), "partially_refunded"),
    )
    # each admin was told: retried (the second one may have been handed the same refund), or retried already
    for messages in results:
        assert messages[0] == "1 refund retried." or "retried already" in " ".join(messages), (
            results
        )


@pytest.fixture
def refused_cases(app, client, payments, shop):
    """A completed refund, and a failed refund that answered a refund request (the request failed)."""
    completed_payment = payments.start(shop.tenant.id, amount="30.00", details=CARD_OK)
    completed = payments.run(
        shop.tenant.id, payment_refunds.refund, completed_payment.id, Decimal("5.00"), "partial"
    )
    order_id, payment = payments.paid_order(
        shop.tenant.id,
        total="20.00",
        user_id=shop.customer.user_id,
        seller_ids=(shop.seller.id,),
        details=card(CARD_REFUND_FAILS),
    )
    response = client.post(
        f"{ORDERS}/{order_id}/refund/", headers=shop.h, json={"reason": "never arrived"}
    )
    assert response.status_code == 200, response.get_json()
    with app.app_context(), tenant_scope(shop.tenant.id):
        request_id = db.session.scalar(
            select(RefundRequest.id).where(RefundRequest.order_id == order_id)
        )
        db.session.remove()
    response = client.post(
        f"{ORDERS}/{order_id}/refund/",
        headers=shop.h_admin,
        json={"request_id": request_id, "approve": True},
    )
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "refund_failed"
    with app.app_context(), tenant_scope(shop.tenant.id):
        request = db.session.get(RefundRequest, request_id)
        assert request.status == "failed" and request.payment_refund_id
        answered = request.payment_refund_id
        db.session.remove()
    return {
        "completed": (completed.id, completed_payment.id, completed_payment.order_id),
        "answered": (answered, payment.id, order_id),
        "request_id": request_id,
    }


def test_a_refund_not_failed_and_one_a_request_answered_are_refused_and_nothing_is_written(
    app, payments, shop, refused_cases
):
    cases = {"completed": "refund_not_failed", "answered": "refund_has_request"}
    before = {name: _footprint(app, shop, *refused_cases[name][1:]) for name in cases}
    for name, code in cases.items():
        refund_id = refused_cases[name][0]
        with pytest.raises(DomainError) as caught:
            _run(app, shop, orders.retry_failed_refund, refund_id, user_id=shop.admin.id)
        assert (caught.value.code, caught.value.status) == (code, 409), name
        assert caught.value.details["refund_id"] == refund_id
    with pytest.raises(DomainError) as caught:
        _run(
            app,
            shop,
            orders.retry_failed_refund,
            refused_cases["answered"][0],
            user_id=shop.admin.id,
        )
    assert caught.value.details["request_id"] == refused_cases["request_id"]
    assert "a new refund request" in caught.value.message

    # the same through the admin: both rows refused, each with its reason
    admin, _ = login(app, shop.tenant.slug, shop.admin.username)
    completed_id, answered_id = refused_cases["completed"][0], refused_cases["answered"][0]
    messages = _retry(admin, completed_id, answered_id)
    assert messages[0] == "No refunds retried."
    assert messages[1].startswith(f"Refund #{completed_id}: Only a failed refund can be retried")
    assert messages[2].startswith(f"Refund #{answered_id}: This refund answered a refund request")
    assert {name: _footprint(app, shop, *refused_cases[name][1:]) for name in cases} == before


def test_sellers_never_get_the_action_and_another_tenants_admin_gets_404(
    app, client, payments, shop
):
    order_id, payment_id, failed_id = _cancelled_with_failed_refund(
        client, payments, shop, total="25.00"
    )
    before = _footprint(app, shop, payment_id, order_id)

    # the order holds the seller's sub-order: it sees the failed refund, but no action
    seller, _ = login(app, shop.tenant.slug, shop.seller.user.username)
    page = seller.get("/admin/refunds/list/")
    assert page.status_code == 200 and "expired_or_canceled_card" in page.get_data(as_text=True)
    assert "Retry refund" not in page.get_data(
        as_text=True
    ) and "retry_refund" not in page.get_data(as_text=True)
    response = seller.post(
        "/admin/refunds/action_post", data={"action": "retry_refund", "rowid": [str(failed_id)]}
    )
    assert response.status_code in (302, 403)  # FAB: "Access is Denied", back to the list
    with seller.session_transaction() as session:
        assert [m for _c, m in session.pop("_flashes", [])] == ["Access is Denied"]
    assert seller.post(f"/admin/refunds/action/retry_refund/{failed_id}").status_code in (302, 403)
    assert _footprint(app, shop, payment_id, order_id) == before

    # another tenant's admin: the refund is not found there
    foreign, _ = login(app, shop.foreign.slug, shop.foreign_admin.username)
    response = foreign.post(
        "/admin/refunds/action_post", data={"action": "retry_refund", "rowid": [str(failed_id)]}
    )
    assert response.status_code == 404
    assert foreign.post(f"/admin/refunds/action/retry_refund/{failed_id}").status_code == 404
    assert _footprint(app, shop, payment_id, order_id) == before

    # and the service itself, asked under the other tenant, finds nothing
    with app.app_context(), tenant_scope(shop.foreign.id):
        with pytest.raises(DomainError) as caught:
            orders.retry_failed_refund(failed_id, user_id=shop.foreign_admin.id)
        db.session.remove()
    assert caught.value.code == "not_found"
    assert _footprint(app, shop, payment_id, order_id) == before


@pytest.mark.browser
def test_the_refunds_list_retries_a_failed_refund_in_chromium(
    app, client, payments, shop, live_server, tmp_path
):
    """The action as a person uses it: tick the failed refund, Actions > Retry refund, confirm."""
    order_id, payment_id, failed_id = _cancelled_with_failed_refund(
        client, payments, shop, total="61.50"
    )
    _card_now_refundable(app, shop, payment_id)
    with admin_page(live_server, shop.tenant.slug, shop.admin.username, height=700) as page:
        page.goto(f"{live_server}/admin/refunds/list/")
        page.wait_for_load_state("load")
        page.check(f"input.action_check[value='{failed_id}']")
        page.click("button.dropdown-toggle:has-text('Actions')")
        page.wait_for_selector(".retry_refund_menu_item", state="visible")
        before = tmp_path / "admin-refunds-retry.png"
        page.screenshot(path=str(before), full_page=True)
        page.click(".retry_refund_menu_item")
        page.wait_for_selector("#modal-confirm-ok", state="visible")
        with page.expect_navigation():
            page.click("#modal-confirm-ok")
        # the list the action redirects to, drawn with its styles (on a loaded machine a
        # screenshot taken at "load" once caught a page still being painted: 12 kB)
        page.wait_for_load_state("networkidle")
        page.wait_for_selector("text=1 refund retried.", state="visible")
        after = tmp_path / "admin-refunds-retried.png"
        page.screenshot(path=str(after), full_page=True)
        text = page.inner_text("body")
    keep = os.environ.get("SCREENSHOT_DIR")  # set it to keep the pictures
    if keep:
        shutil.copy(before, keep)
        shutil.copy(after, keep)
    assert "1 refund retried." in text
    assert (
        before.stat().st_size > 20_000 and after.stat().st_size > 20_000
    )  # rendered pages, not blank ones
    *_, retry = _refunds(app, shop, payment_id)
    assert (retry.status, retry.retry_of_refund_id, retry.amount) == (
        "completed",
        failed_id,
        Decimal("61.50"),
    )
    assert _money(app, shop, payment_id, order_id)[1] == ("cancelled", Decimal("61.50"), "refunded")
