"""Orders' consumers of payments' events (jobs/subscribers.py wires them; each runs once per
event through app.events.bus.consume): a captured payment marks the order paid, a failed one
says so on the timeline, a completed refund completes the request it answers (and the order
follows refunds in full), a failed refund fails it, and a capture that lands after the order was
cancelled is refunded. Payments sits below orders, so these reactions are orders', never an
import of orders by payments."""

from __future__ import annotations

import logging
from decimal import Decimal

from sqlalchemy import select

from app.core.types import utcnow
from app.extensions import db
from app.orders.models import Order, OrderEvent, OrderPaymentStatus, RefundRequestStatus
from app.orders.refunds import completed_refunds, fail_request, request_answered_by
from app.orders.states import OrderStatus
from app.orders.stock import count_sold
from app.orders.transitions import follow_refunds, move
from app.payments import refunds as payment_refunds

log = logging.getLogger(__name__)


def mark_paid(
    order_id: int, *, amount: Decimal | None = None, actor_id: int | None = None
) -> Order | None:
    """pending -> paid for every sub-order (inside the caller's transaction). Idempotent: an order
    already past pending is left alone; one cancelled meanwhile is left for payments to refund."""
    order = db.session.scalar(
        select(Order)
        .where(Order.id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if order is None:
        return None
    order.payment_status = OrderPaymentStatus.CAPTURED
    if order.status != OrderStatus.PENDING:
        if order.status == OrderStatus.CANCELLED:  # payments refunds it (refund_if_order_cancelled)
            log.warning(
                "order %s was paid after it was cancelled; payments refunds it", order.number
            )
        return order
    order.paid_at = utcnow()
    for sub in order.sub_orders:
        if sub.status == OrderStatus.PENDING:
            move(sub, OrderStatus.PAID, actor_id=actor_id, note="payment captured")
            count_sold(sub, +1)
    follow_refunds(order)  # a refund consumed before this capture (events may arrive out of order)
    return order


def on_payment_captured(event) -> None:
    mark_paid(int(event.payload["order_id"]))


def refund_if_order_cancelled(event) -> None:
    """Consumer of payment.captured: money captured after its order was cancelled (a Stripe
    webhook, a late capture, a bank transfer received after the order expired) goes back at once,
    through payments' `void_or_refund_for_cancel` (a refund transaction, refund.completed). The
    ProcessedEvent row is committed before the gateway is called (no transaction stays open
    while the provider answers); the refund's own idempotency key makes a repeat harmless.
    Whether the order is cancelled is orders' to know, so the reaction is orders', calling down
    into payments (it was payments', reading orders' rows against the layers)."""
    order_id = int(event.payload["order_id"])
    if db.session.scalar(select(Order.status).where(Order.id == order_id)) != OrderStatus.CANCELLED:
        return
    db.session.commit()
    log.warning(
        "payment %s captured after order %s was cancelled: refunding it",
        event.payload.get("payment_id"),
        order_id,
    )
    payment_refunds.void_or_refund_for_cancel(order_id)


def on_payment_failed(event) -> None:
    """The order stays pending (the buyer may pay again) until its reservation expires."""
    order = db.session.get(Order, int(event.payload["order_id"]))
    if order is None or order.status != OrderStatus.PENDING:
        return
    order.payment_status = OrderPaymentStatus.FAILED
    db.session.add(
        OrderEvent(
            order_id=order.id,
            from_status=order.status,
            to_status=order.status,
            note="payment failed",
        )
    )


def on_refund_completed(event) -> None:
    """Money went back: the approved request it answers is completed and its sub-order becomes
    refunded (all of it) or partially refunded; when the order's payments are now refunded in full
    (this refund answering a request or not), every sub-order still open is refunded
    (`follow_refunds`)."""
    payload = event.payload
    order = db.session.scalar(
        select(Order)
        .where(Order.id == int(payload["order_id"]))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if order is None:
        return
    amount = Decimal(str(payload["amount"]))
    order.refunded_total = order.refunded_total + amount
    order.payment_status = (
        OrderPaymentStatus.REFUNDED
        if order.refunded_total >= order.total
        else OrderPaymentStatus.PARTIALLY_REFUNDED
    )
    refund = request_answered_by(order, payload.get("refund_id"))
    if refund is not None:
        refund.status = RefundRequestStatus.COMPLETED
        sub = next(s for s in order.sub_orders if s.id == refund.sub_order_id)
        db.session.flush()
        target = (
            OrderStatus.REFUNDED
            if completed_refunds(sub) >= sub.total
            else OrderStatus.PARTIALLY_REFUNDED
        )
        if sub.status == OrderStatus.REFUND_REQUESTED:
            move(sub, target, actor_id=None, note=f"refunded {amount}")
    # a refund that answers no request (an Admin's API refund, a cancelled order's, a retry) moves
    # no sub-order by itself; once the payments are refunded in full, whatever made the refunds,
    # every sub-order still open is refunded
    follow_refunds(order)


def on_refund_failed(event) -> None:
    """The payment refund of an approved request was refused (by the gateway at once, or later by
    its webhook: Stripe's refund.failed); payments has already given the reserved amount back to
    the payment. What a marketplace owes the customer is unchanged, so nothing may stay stuck:

    - the request becomes "failed" with the gateway's `failure_code` (shown to admins, the
      timeline says so too). It is final, like "rejected": it no longer counts against the
      sub-order (LIVE_REQUEST), so its units and money can be asked for again by a new request,
      which is decided and paid out as any other (an admin retries by approving that one);
    - the sub-order leaves refund_requested and goes back to where it was before the request
      (delivered, shipped, partially refunded...), as after a rejection, so it can be asked again;
    - units already dealt with stay as they are: shipped units put back on hand at approval were
      physically returned and are in the warehouse whatever happened to the money, and unshipped
      units released at approval were never sent. The failed request's lines keep their
      `restocked_quantity`, so a new request for the same units does not restock them twice
      (`return_units` counts units restocked by every other request).

    The refund of a cancelled order (no request) has nothing to move here: payments keeps the
    failed refund for an admin. Idempotent: a request already failed (or completed) is left alone."""
    payload = event.payload
    order = db.session.scalar(
        select(Order)
        .where(Order.id == int(payload["order_id"]))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if order is None:
        return
    request = request_answered_by(order, payload.get("refund_id"))
    if request is None:
        return
    fail_request(order, request, payload.get("failure_code"))
