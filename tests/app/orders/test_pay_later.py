"""An order placed without `payment` is paid later through /api/v1/payments/process/ with its
order_id and a method: its payment is opened then (of what the order costs) and paid like any
other, Idempotency-Key honoured; customers with their token, guests with the cart token they
checked out with (X-Guest-Token). Not another's order (404), not a paid or cancelled one (409);
bad input writes nothing; two first payments at once open one payment and charge once."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import func, select

from app.core.tenancy import tenant_scope
from app.core.types import utcnow
from app.extensions import db
from app.orders.lifecycle import expire_unpaid
from app.orders.models import Order
from app.payments.models import Payment, PaymentTransaction
from tests.builders.api import error
from tests.builders.orders import guest_order, key, place

PROCESS = "/api/v1/payments/process/"
CARD = {"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2099, "cvc": "123"}


def payments_of(app, shop, order_id) -> list[tuple]:
    with app.app_context(), tenant_scope(shop.tenant.id):
        rows = db.session.execute(
            select(Payment.id, Payment.status, Payment.amount, Payment.method)
            .where(Payment.order_id == order_id)
            .order_by(Payment.id)
        ).all()
        db.session.remove()
        return [tuple(r) for r in rows]


def authorizations(app, shop, order_id) -> int:
    with app.app_context(), tenant_scope(shop.tenant.id):
        n = db.session.scalar(
            select(func.count())
            .select_from(PaymentTransaction)
            .where(PaymentTransaction.order_id == order_id, PaymentTransaction.kind == "authorize")
        )
        db.session.remove()
        return n


def pay(client, h, order_id, **body):
    return client.post(PROCESS, headers=h, json={"order_id": order_id, **body})


def test_a_customer_pays_an_order_placed_without_payment(app, client, shop):
    order = place(client, shop)  # no payment in the checkout
    assert order["payment"] is None and payments_of(app, shop, order["id"]) == []

    response = pay(client, shop.h, order["id"], method="test_card", payment_details=CARD)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["order_id"], body["status"], body["amount"], body["method"]) == (
        order["id"],
        "captured",
        order["total"],
        "test_card",
    )
    detail = client.get(f"/api/v1/orders/{order['id']}/", headers=shop.h).get_json()
    assert (detail["status"], detail["payment_status"], detail["payment_method"]) == (
        "paid",
        "captured",
        "test_card",
    )
    # paid: paying it again is refused, and nothing more is charged
    error(pay(client, shop.h, order["id"], payment_details=CARD), 409, "order_not_payable")
    assert [p[1] for p in payments_of(app, shop, order["id"])] == ["captured"]


def test_bad_requests_write_nothing(app, client, shop):
    order = place(client, shop)
    err = error(pay(client, shop.h, order["id"], payment_details=CARD), 422)
    assert "method" in err["details"]
    err = error(pay(client, shop.h, order["id"], method="test_card"), 422)  # no card
    assert "payment_details" in err["details"]
    err = error(
        pay(client, shop.h, order["id"], method="no_such_method", payment_details=CARD), 422
    )
    assert "method" in err["details"]
    err = error(
        client.post(PROCESS, headers=shop.h, json={"payment_id": 1, "method": "test_card"}), 422
    )
    assert "method" in err["details"]
    assert payments_of(app, shop, order["id"]) == []


def test_another_customers_a_foreign_or_a_missing_order_is_a_404(app, client, shop):
    order = place(client, shop)
    for h in (shop.h_other, shop.h_foreign):
        error(
            pay(client, h, order["id"], method="test_card", payment_details=CARD), 404, "not_found"
        )
    error(pay(client, shop.h, 2**31 - 1, method="test_card", payment_details=CARD), 404)
    error(pay(client, shop.h_seller, order["id"], method="test_card", payment_details=CARD), 403)
    error(pay(client, shop.h_admin, order["id"], method="test_card", payment_details=CARD), 403)
    error(pay(client, shop.h_guest, order["id"], method="test_card", payment_details=CARD), 401)
    assert payments_of(app, shop, order["id"]) == []


def test_a_cancelled_order_cannot_be_paid(app, client, shop):
    order = place(client, shop)
    assert client.post(f"/api/v1/orders/{order['id']}/cancel/", headers=shop.h).status_code == 200
    err = error(
        pay(client, shop.h, order["id"], method="test_card", payment_details=CARD),
        409,
        "order_not_payable",
    )
    assert err["details"]["status"] == "cancelled"
    assert payments_of(app, shop, order["id"]) == []


def test_a_declined_card_then_another_card_pays_the_same_payment(app, client, shop):
    order = place(client, shop)
    declined = pay(
        client,
        shop.h,
        order["id"],
        method="test_card",
        payment_details=dict(CARD, card_number="4000000000000002"),
    ).get_json()
    assert declined["status"] == "failed" and declined["failure_code"] == "card_declined"
    # the method is known now; a different one is refused rather than opening a second payment
    error(pay(client, shop.h, order["id"], method="bank_transfer"), 409, "payment_method_mismatch")
    paid = pay(client, shop.h, order["id"], payment_details=CARD).get_json()
    assert paid["id"] == declined["id"] and paid["status"] == "captured"
    assert [p[:2] for p in payments_of(app, shop, order["id"])] == [(paid["id"], "captured")]


def test_idempotency_key_replays_the_first_result_and_refuses_another_body(app, client, shop):
    order = place(client, shop)
    h = dict(shop.h, **{"Idempotency-Key": key()})
    first = pay(client, h, order["id"], method="test_card", payment_details=CARD)
    again = pay(client, h, order["id"], method="test_card", payment_details=CARD)
    assert first.status_code == again.status_code == 200, (first.get_json(), again.get_json())
    assert (
        first.get_json()["id"] == again.get_json()["id"]
        and again.get_json()["status"] == "captured"
    )
    assert authorizations(app, shop, order["id"]) == 1
    other = pay(
        client,
        h,
        order["id"],
        method="test_card",
        payment_details=dict(CARD, card_number="4000000000000002"),
    )
    error(other, 409, "idempotency_key_reused")
    assert len(payments_of(app, shop, order["id"])) == 1


def test_a_guest_pays_its_order_with_its_cart_token(app, client, shop):
    order, cart_h, order_h = guest_order(client, shop)
    cart_token = cart_h["X-Cart-Token"]
    anon = {"X-Tenant": shop.h_guest["X-Tenant"]}
    # another guest's cart token, or the order token in its place, opens nothing
    error(
        pay(
            client,
            dict(anon, **{"X-Guest-Token": "x" * 43}),
            order["id"],
            method="test_card",
            payment_details=CARD,
        ),
        404,
    )
    error(
        pay(client, shop.h, order["id"], method="test_card", payment_details=CARD), 404
    )  # a customer
    assert payments_of(app, shop, order["id"]) == []
    response = pay(
        client,
        dict(anon, **{"X-Guest-Token": cart_token}),
        order["id"],
        method="test_card",
        payment_details=CARD,
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "captured"
    assert (
        client.get(f"/api/v1/orders/{order['id']}/", headers=order_h).get_json()["status"] == "paid"
    )


def test_bank_transfer_chosen_later_waits_for_the_money(app, client, shop):
    order = place(client, shop)
    body = pay(client, shop.h, order["id"], method="bank_transfer").get_json()
    assert body["status"] == "pending" and body["next_action"]["type"] == "offline_payment"
    # asked again (a page reload), the same payment is shown, not a second one
    again = pay(client, shop.h, order["id"]).get_json()
    assert again["id"] == body["id"] and len(payments_of(app, shop, order["id"])) == 1


def _expiry(app, shop, order_id) -> dt.datetime:
    with app.app_context(), tenant_scope(shop.tenant.id):
        at = db.session.get(Order, order_id).reservation_expires_at
        db.session.remove()
        return at


def _expire_all(app, shop, now: dt.datetime) -> None:
    """The reservation cron, run at `now` on the shop's tenant until it has nothing left there (the
    other tests' orders are theirs: run on every tenant, each time travel would cancel them all)."""
    with app.app_context():
        while expire_unpaid(now=now, tenant_id=shop.tenant.id):
            pass


def test_an_order_paid_by_hand_waits_days_for_its_money_a_card_one_minutes(app, client, shop):
    """A bank transfer takes days to arrive and an admin marks it received: its order holds its
    stock ORDER_PAY_BY_HAND_DAYS; an unpaid order otherwise ORDER_RESERVATION_TTL_MINUTES. An
    order placed without a method gets the long window once it chooses a bank transfer."""
    minutes, days = (
        app.config["ORDER_RESERVATION_TTL_MINUTES"],
        app.config["ORDER_PAY_BY_HAND_DAYS"],
    )
    # MariaDB's DATETIME keeps whole seconds: the window is checked to the second
    before = utcnow().replace(microsecond=0)
    transfer = place(client, shop, payment={"method": "bank_transfer"})
    unchosen = place(client, shop, h=shop.h_other)
    chosen_later = place(client, shop)
    after = utcnow()
    assert (
        before + dt.timedelta(days=days)
        <= _expiry(app, shop, transfer["id"])
        <= after + dt.timedelta(days=days)
    )
    assert _expiry(app, shop, unchosen["id"]) <= after + dt.timedelta(minutes=minutes)
    assert pay(client, shop.h, chosen_later["id"], method="bank_transfer").status_code < 300
    assert _expiry(app, shop, chosen_later["id"]) >= before + dt.timedelta(days=days)

    def status(order, h) -> str:
        return client.get(f"/api/v1/orders/{order['id']}/", headers=h).get_json()["status"]

    # an hour later the card-speed order is cancelled; the transfers still wait
    _expire_all(app, shop, utcnow() + dt.timedelta(minutes=minutes, hours=1))
    assert status(unchosen, shop.h_other) == "cancelled"
    assert status(transfer, shop.h) == status(chosen_later, shop.h) == "pending"
    # past their window they are cancelled too, as any unpaid order
    _expire_all(app, shop, utcnow() + dt.timedelta(days=days, hours=1))
    assert status(transfer, shop.h) == status(chosen_later, shop.h) == "cancelled"


def test_two_first_payments_at_once_open_one_payment_and_charge_once(app, client, shop):
    order = place(client, shop)
    barrier = threading.Barrier(6)
    answers: list[int] = []

    def attempt():
        barrier.wait()
        answers.append(
            pay(
                app.test_client(), shop.h, order["id"], method="test_card", payment_details=CARD
            ).status_code
        )

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = payments_of(app, shop, order["id"])
    assert len(rows) == 1 and rows[0][1] == "captured", (rows, answers)
    assert authorizations(app, shop, order["id"]) == 1
    assert answers.count(200) >= 1 and set(answers) <= {200, 409}, answers
    assert (
        client.get(f"/api/v1/orders/{order['id']}/", headers=shop.h).get_json()["status"] == "paid"
    )
