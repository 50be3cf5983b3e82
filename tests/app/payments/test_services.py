"""Payment services against MariaDB: each test card's outcome, manual payments, capture, void,
refunds (never more than captured, also with concurrent threads), idempotency, cancel, events."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.core.errors import Conflict, ValidationError
from app.core.tenancy import tenant_scope
from app.events.idempotency import IdempotencyKey
from app.events.models import OutboxEvent
from app.extensions import db
from app.payments import charges
from app.payments import refunds as payment_refunds
from app.payments.models import Payment, PaymentTransaction, Refund
from tests.builders.payments import CARD_OK, card


def _events(app, tenant_id: int, payment_id: int) -> list[tuple[str, dict]]:
    with app.app_context(), tenant_scope(tenant_id):
        rows = db.session.scalars(
            select(OutboxEvent)
            .where(
                OutboxEvent.tenant_id == tenant_id,
                OutboxEvent.aggregate == "payment",
                OutboxEvent.aggregate_id == str(payment_id),
            )
            .order_by(OutboxEvent.id)
        ).all()
        return [(r.name, r.payload) for r in rows]


def _transactions(app, tenant_id: int, payment_id: int) -> list[PaymentTransaction]:
    with app.app_context(), tenant_scope(tenant_id):
        rows = db.session.scalars(
            select(PaymentTransaction)
            .where(PaymentTransaction.payment_id == payment_id)
            .order_by(PaymentTransaction.id)
        ).all()
        db.session.expunge_all()
        return rows


# --- the test cards -------------------------------------------------------------------------------


@pytest.mark.smoke
def test_success_card_authorizes_and_captures_and_publishes(app, payments, shop):
    p = payments.start(
        shop.tenant.id, amount="59.90", details=CARD_OK, user_id=shop.customer.user_id
    )
    assert (
        p.status == "captured"
        and p.amount_captured == Decimal("59.90")
        and p.refundable == Decimal("59.90")
    )
    assert (p.card_brand, p.card_last4) == ("visa", "4242")
    kinds = [(t.kind, t.status) for t in _transactions(app, shop.tenant.id, p.id)]
    assert kinds == [("authorize", "succeeded"), ("capture", "succeeded")]
    events = _events(app, shop.tenant.id, p.id)
    assert [name for name, _ in events] == ["payment.authorized", "payment.captured"]
    assert events[1][1] == {
        "order_id": p.order_id,
        "payment_id": p.id,
        "amount": "59.90",
        "currency": "USD",
        "status": "captured",
    }


@pytest.mark.parametrize(
    "number, code",
    [
        ("4000000000000002", "card_declined"),
        ("4000000000009995", "insufficient_funds"),
        ("4111111111111111", "card_declined"),
    ],
)
def test_declining_cards_fail_with_their_code(app, payments, shop, number, code):
    p = payments.start(shop.tenant.id, details=card(number), user_id=shop.customer.user_id)
    assert p.status == "failed" and p.failure_code == code and p.amount_captured == 0
    assert [n for n, _ in _events(app, shop.tenant.id, p.id)] == ["payment.failed"]


def test_requires_action_card_then_confirm(app, payments, shop):
    p = payments.start(
        shop.tenant.id, details=card("4000000000003220"), user_id=shop.customer.user_id
    )
    assert p.status == "requires_action"
    with app.app_context(), tenant_scope(shop.tenant.id):
        assert db.session.get(Payment, p.id).next_action.type == "confirm"
    done = payments.run(
        shop.tenant.id,
        charges.process_payment,
        _actor(app, shop),
        payment_id=p.id,
        payment_details=None,
        confirm=True,
    )
    assert done.status == "captured"
    kinds = [t.kind for t in _transactions(app, shop.tenant.id, p.id)]
    assert kinds == ["authorize", "confirm", "capture"]


def _actor(app, shop, which="customer"):
    """The caller a face would pass: the customer's Actor, built inside its tenant."""
    from app.security.models import User
    from app.sellers.actors import actor_for

    with app.app_context(), tenant_scope(shop.tenant.id):
        return actor_for(db.session.get(User, getattr(shop, which).user_id))


def test_card_number_is_never_stored(app, payments, shop):
    p = payments.start(shop.tenant.id, details=CARD_OK, user_id=shop.customer.user_id)
    with app.app_context(), tenant_scope(shop.tenant.id):
        dump = str(
            [
                t.raw_response
                for t in db.session.scalars(
                    select(PaymentTransaction).where(PaymentTransaction.payment_id == p.id)
                )
            ]
        )
    assert "4242424242424242" not in dump and "4242" in dump


def test_luhn_invalid_number_and_unknown_method_are_422_and_create_nothing(app, payments, shop):
    with app.app_context(), tenant_scope(shop.tenant.id):
        before = db.session.scalar(select(func.count()).select_from(Payment))
    with pytest.raises(ValidationError) as exc:
        payments.start(shop.tenant.id, details=card("4242424242424241"))
    assert "payment_details" in exc.value.details
    with pytest.raises(ValidationError) as exc:
        payments.start(shop.tenant.id, method="bitcoin")
    assert "method" in exc.value.details
    for bad in ("0", "-1", "1.234", "NaN"):
        with pytest.raises(ValidationError):
            payments.start(shop.tenant.id, amount=bad)
    with app.app_context(), tenant_scope(shop.tenant.id):
        assert db.session.scalar(select(func.count()).select_from(Payment)) == before


# --- manual gateway, capture, void ----------------------------------------------------------------


@pytest.mark.smoke
def test_bank_transfer_is_pending_until_marked_received(app, payments, shop):
    p = payments.start(shop.tenant.id, method="bank_transfer", user_id=shop.customer.user_id)
    assert p.status == "pending" and p.gateway == "manual" and p.gateway_reference == f"MAN-{p.id}"
    received = payments.run(shop.tenant.id, charges.mark_received, p.id)
    assert received.status == "captured" and received.amount_captured == Decimal("100.00")
    assert [n for n, _ in _events(app, shop.tenant.id, p.id)] == ["payment.captured"]
    with pytest.raises(Conflict) as exc:
        payments.run(shop.tenant.id, charges.mark_received, p.id)
    assert exc.value.code == "invalid_payment_status"
    card_payment = payments.start(shop.tenant.id, details=CARD_OK)
    with pytest.raises(Conflict) as exc:
        payments.run(shop.tenant.id, charges.mark_received, card_payment.id)
    assert exc.value.code == "not_a_manual_payment"


def test_manual_capture_mode_then_capture_and_void(app, payments, shop):
    p = payments.start(shop.tenant.id, details=CARD_OK, capture=False)
    assert p.status == "authorized" and p.amount_captured == 0
    assert payments.run(shop.tenant.id, charges.capture, p.id).status == "captured"
    q = payments.start(shop.tenant.id, details=CARD_OK, capture=False)
    voided = payments.run(shop.tenant.id, charges.void, q.id)
    assert voided.status == "voided"
    assert [n for n, _ in _events(app, shop.tenant.id, q.id)] == [
        "payment.authorized",
        "payment.voided",
    ]
    with pytest.raises(Conflict):
        payments.run(shop.tenant.id, charges.capture, q.id)  # voided: nothing to capture
    with pytest.raises(Conflict):
        payments.run(shop.tenant.id, charges.void, p.id)  # captured: refund it instead


def test_void_or_refund_for_cancel(app, payments, shop):
    order_id = payments.order(shop.tenant.id, total="140.00")
    a = payments.start(shop.tenant.id, order_id=order_id, details=CARD_OK, capture=False)
    b = payments.start(shop.tenant.id, order_id=order_id, amount="40.00", details=CARD_OK)
    payments.run(shop.tenant.id, payment_refunds.refund, b.id, Decimal("15.00"), "partial")
    out = payments.run(shop.tenant.id, payment_refunds.void_or_refund_for_cancel, order_id)
    assert {p.id: p.status for p in out} == {a.id: "voided", b.id: "refunded"}
    assert payments.get(shop.tenant.id, b.id).amount_refunded == Decimal("40.00")
    # again: nothing left to do, nothing changes
    again = payments.run(shop.tenant.id, payment_refunds.void_or_refund_for_cancel, order_id)
    assert {p.id: p.status for p in again} == {a.id: "voided", b.id: "refunded"}


# --- refunds --------------------------------------------------------------------------------------


@pytest.mark.smoke
def test_partial_then_full_refund_and_never_more(app, payments, shop):
    p = payments.start(shop.tenant.id, amount="80.00", details=CARD_OK)
    r1 = payments.run(shop.tenant.id, payment_refunds.refund, p.id, Decimal("30.00"), "damaged")
    assert (
        r1.status == "completed"
        and payments.get(shop.tenant.id, p.id).status == "partially_refunded"
    )
    with pytest.raises(Conflict) as exc:
        payments.run(shop.tenant.id, payment_refunds.refund, p.id, Decimal("50.01"), "too much")
    assert (
        exc.value.code == "refund_exceeds_captured" and exc.value.details["refundable"] == "50.00"
    )
    payments.run(shop.tenant.id, payment_refunds.refund, p.id, Decimal("50.00"), "rest")
    final = payments.get(shop.tenant.id, p.id)
    assert (
        final.status == "refunded"
        and final.amount_refunded == Decimal("80.00")
        and final.refundable == 0
    )
    refunds = [
        (n, e["amount"], e["status"])
        for n, e in _events(app, shop.tenant.id, p.id)
        if n == "refund.completed"
    ]
    assert refunds == [
        ("refund.completed", "30.00", "partially_refunded"),
        ("refund.completed", "50.00", "refunded"),
    ]


def test_refund_of_an_uncaptured_payment_is_409(payments, shop):
    p = payments.start(shop.tenant.id, details=CARD_OK, capture=False)
    with pytest.raises(Conflict) as exc:
        payments.run(shop.tenant.id, payment_refunds.refund, p.id, Decimal("1.00"), None)
    assert exc.value.code == "invalid_payment_status"


def test_concurrent_refunds_never_exceed_the_capture(app, payments, shop):
    """20 threads each refund 15.00 of a 100.00 capture at once: exactly 6 succeed (90.00), the
    others get 409, and the payment's refunded total equals the completed refunds."""
    p = payments.start(shop.tenant.id, amount="100.00", details=CARD_OK)
    barrier = threading.Barrier(20)
    outcomes: list = []

    def worker():
        with app.app_context(), tenant_scope(shop.tenant.id):
            barrier.wait()
            try:
                payment_refunds.refund(p.id, Decimal("15.00"), "race")
                outcomes.append("ok")
            except Conflict as exc:
                outcomes.append(exc.code)
            except Exception as exc:  # pragma: no cover - reported below
                outcomes.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 6, outcomes
    assert set(outcomes) == {"ok", "refund_exceeds_captured"}
    with app.app_context(), tenant_scope(shop.tenant.id):
        payment = db.session.get(Payment, p.id)
        done = db.session.scalar(
            select(func.sum(Refund.amount)).where(
                Refund.payment_id == p.id, Refund.status == "completed"
            )
        )
        assert done == payment.amount_refunded == Decimal("90.00") <= payment.amount_captured
        assert payment.status == "partially_refunded"


# --- idempotency ----------------------------------------------------------------------------------


def test_idempotency_key_same_body_one_payment_other_body_409(app, payments, shop):
    kwargs = dict(
        order_id=payments.order(shop.tenant.id),
        details=CARD_OK,
        user_id=shop.customer.user_id,
        idempotency_key="checkout-1",
    )
    first = payments.start(shop.tenant.id, **kwargs)
    second = payments.start(shop.tenant.id, **kwargs)
    assert first.id == second.id and second.status == "captured"
    assert len(_transactions(app, shop.tenant.id, first.id)) == 2  # charged once
    with pytest.raises(Conflict) as exc:
        payments.start(shop.tenant.id, **dict(kwargs, amount="1.00"))
    assert exc.value.code == "idempotency_key_reused"
    # the same key is another caller's own key
    other = payments.start(shop.tenant.id, **dict(kwargs, user_id=shop.other.user_id))
    assert other.id != first.id


def test_idempotency_key_under_concurrent_calls_makes_one_payment(app, payments, shop):
    barrier = threading.Barrier(10)
    ids: list = []
    order_id = payments.order(shop.tenant.id, total="12.00", user_id=shop.customer.user_id)

    def worker():
        with app.app_context(), tenant_scope(shop.tenant.id):
            barrier.wait()
            try:
                ids.append(
                    charges.start_payment(
                        order_id=order_id,
                        amount=Decimal("12.00"),
                        currency="USD",
                        method="test_card",
                        customer_user_id=shop.customer.user_id,
                        payment_details=CARD_OK,
                        idempotency_key="same-key",
                    ).id
                )
            except Exception as exc:
                ids.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 1 and isinstance(ids[0], int), ids
    with app.app_context(), tenant_scope(shop.tenant.id):
        assert (
            db.session.scalar(
                select(func.count()).select_from(Payment).where(Payment.order_id == order_id)
            )
            == 1
        )
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(IdempotencyKey)
                .where(IdempotencyKey.domain == "payments")
            )
            == 1
        )
        captures = db.session.scalar(
            select(func.count())
            .select_from(PaymentTransaction)
            .where(PaymentTransaction.payment_id == ids[0], PaymentTransaction.kind == "capture")
        )
        assert captures == 1
