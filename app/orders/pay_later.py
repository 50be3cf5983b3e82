"""Paying an order later, by its id (POST /api/v1/payments/process/ with order_id): the order's
payment is found, or opened for an order placed without one, under the order's row lock, then
paid by payments (app.payments.charges.process_payment).

How long an unpaid order waits for its money (`reservation_window`, its reservation_expires_at;
then app.orders.lifecycle.expire_unpaid cancels it and releases its stock) depends on how it is
paid: a card pays at once, so an order left unpaid holds its stock ORDER_RESERVATION_TTL_MINUTES;
a method paid by hand (bank transfer, cash on delivery: the manual gateway, an admin marks the
money received) waits ORDER_PAY_BY_HAND_DAYS, the days a transfer takes to arrive."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from app.core.db import transaction
from app.core.errors import Conflict, NotFound, ValidationError
from app.core.types import utcnow
from app.extensions import db
from app.orders import access
from app.orders.errors import OrderError
from app.orders.models import Order
from app.orders.refundable import ZERO
from app.orders.states import OrderStatus
from app.payments import access as payment_access
from app.payments import charges
from app.payments.gateways import METHODS
from app.payments.idempotency import replayed_payment_id
from app.security.actor import Actor


def paid_by_hand(method: str | None) -> bool:
    """Whether the method's money is marked received by an admin (bank transfer, cash on delivery)."""
    return method is not None and METHODS.get(method, {}).get("gateway") == "manual"


def reservation_window(method: str | None) -> dt.timedelta:
    """How long an order paid with `method` (None: not chosen yet) holds its stock unpaid."""
    if paid_by_hand(method):
        return dt.timedelta(days=current_app.config["ORDER_PAY_BY_HAND_DAYS"])
    return dt.timedelta(minutes=current_app.config["ORDER_RESERVATION_TTL_MINUTES"])


def pay_order(
    actor: Actor | None,
    order_id: int,
    *,
    method: str | None,
    payment_details: dict | None,
    confirm: bool = False,
    guest_token: str | None = None,
    idempotency_key: str | None = None,
):
    """Pay an order by its id (POST /api/v1/payments/process/ with order_id): the caller's payment of
    it (started at checkout), or, for an order placed without `payment` (or whose method checkout
    refused), a new payment of what is due opened here with `method`, then paid as any other
    (app.payments.charges.process_payment: Idempotency-Key, claim, gateway outside row locks).
    Returns the payment.

    Who: the order's customer, or the guest who placed it, proving it with X-Guest-Token (its cart
    token, from which the order's access token derives; also the token its checkout payment holds).
    Another's order, a wrong token or no such order: 404. What: a pending (unpaid) order; a paid or
    cancelled one is a 409 order_not_payable, except that a replay of an earlier request (same
    Idempotency-Key and body) answers that request's payment. The order row is locked while its
    payment is looked for and opened, so concurrent first payments of one order open ONE payment
    (the others pay that same one: payment_in_progress, or its status, as for any payment)."""
    with transaction():
        order = db.session.scalar(
            select(Order)
            .where(Order.id == order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        latest = (
            payment_access.latest_payment_of(order_id, actor, guest_token)
            if order is not None
            else None
        )
        owner = order is not None and (
            (actor is not None and order.customer_user_id == actor.user_id)
            or (actor is None and access.placed_with_cart_token(order, guest_token))
            or latest is not None
        )
        if not owner:
            raise NotFound("no such order", details={"order_id": order_id})
        payment_id = replayed_payment_id(actor, guest_token, idempotency_key, order.id)
        if payment_id is None:
            if order.status != OrderStatus.PENDING:
                raise Conflict(
                    f"a {order.status} order cannot be paid",
                    code=OrderError.ORDER_NOT_PAYABLE,
                    details={"order_id": order.id, "status": order.status},
                )
            if latest is not None:
                if method and method != latest.method:
                    raise Conflict(
                        "this order has a payment by another method already; pay that one",
                        code=OrderError.PAYMENT_METHOD_MISMATCH,
                        details={"payment_id": latest.id, "method": latest.method},
                    )
                payment_id = latest.id
            else:
                if not method:
                    raise ValidationError(
                        "the order has no payment yet: say how to pay it",
                        details={
                            "method": [
                                "required for an order without a payment; "
                                "see GET /api/v1/payments/methods/"
                            ]
                        },
                    )
                opened = charges.open_payment(
                    order_id=order.id,
                    amount=_amount_due(order),
                    currency=order.currency,
                    method=method,
                    customer_user_id=order.customer_user_id,
                    guest_token=guest_token if actor is None else None,
                    payment_details=payment_details,
                    deferred=True,
                )
                order.payment_method = method
                if paid_by_hand(method) and order.reservation_expires_at is not None:
                    # the money comes by hand: the order waits for it as one placed with it
                    order.reservation_expires_at = max(
                        order.reservation_expires_at, utcnow() + reservation_window(method)
                    )
                payment_id = opened.payment_id
    return charges.process_payment(
        actor,
        payment_id=payment_id,
        payment_details=payment_details,
        confirm=confirm,
        guest_token=guest_token,
        idempotency_key=idempotency_key,
    )


def _amount_due(order: Order) -> Decimal:
    """What an unpaid order costs: its sub-orders that were not cancelled (cancelled before any
    payment, they are not charged)."""
    return sum((s.total for s in order.sub_orders if s.status != OrderStatus.CANCELLED), ZERO)
