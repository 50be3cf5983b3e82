"""What callers change on an order after checkout: fulfilment steps by its sellers or an admin,
notes and address by its customer while pending (`update_order`), cancelling what can still be
cancelled (`cancel_order`: stock released, payments voided or refunded), staff notes on the
timeline (`add_note`), and the cron's cancelling of orders not paid in time (`expire_unpaid`)."""

from __future__ import annotations

from sqlalchemy import select

from app.core.db import transaction
from app.core.errors import Conflict, PermissionDenied, ValidationError
from app.core.tenancy import tenant_scope, unscoped
from app.core.types import utcnow
from app.extensions import db
from app.orders import states
from app.orders.access import GuestAccess
from app.orders.errors import OrderError
from app.orders.inputs import OrderChanges
from app.orders.models import Order, OrderEvent, RefundRequest, RefundRequestStatus
from app.orders.refundable import ZERO, refund_position
from app.orders.refunds import refund_payment
from app.orders.states import OrderStatus
from app.orders.transitions import cancel_sub, illegal, set_status
from app.orders.visibility import OrderView, Viewer, find_order, order_view, subs_to_change
from app.payments import refunds as payment_refunds
from app.security.actor import Actor
from app.security.audit import record_action


def update_order(actor: Actor, order_id: int, changes: OrderChanges) -> OrderView:
    """Sellers and admins move the status; the customer edits notes and address while pending."""
    data = changes.given()
    with transaction():
        viewer = Viewer(actor)
        order = find_order(viewer, order_id, lock=True)
        if "status" in data:
            if viewer.is_customer:
                raise PermissionDenied("customers cannot change an order's status")
            for sub in subs_to_change(viewer, order, data.get("sub_order_id")):
                set_status(sub, data["status"], actor_id=actor.user_id, note=data.get("note"))
        customer_fields = {k: data[k] for k in ("notes", "shipping_address") if k in data}
        if customer_fields:
            if not (viewer.is_customer or viewer.is_admin):
                raise PermissionDenied("only the customer edits notes and the address")
            if order.status != OrderStatus.PENDING:
                raise Conflict(
                    "notes and address can only change while the order is pending",
                    code=OrderError.ORDER_NOT_EDITABLE,
                    details={"status": order.status},
                )
            if "shipping_address" in customer_fields:
                address = customer_fields["shipping_address"]
                if address["country"] != order.shipping_address.get("country") or (
                    address.get("region") or None
                ) != (order.shipping_address.get("region") or None):
                    raise ValidationError(
                        "tax and shipping were priced for this country and region",
                        details={"shipping_address": ["country and region cannot change"]},
                    )
                order.shipping_address = dict(address)
            if "notes" in customer_fields:
                order.notes = customer_fields["notes"]
        db.session.flush()
        return order_view(order, viewer)


def cancel_order(actor: Actor | GuestAccess, order_id: int, reason: str | None = None) -> OrderView:
    """Cancel what can still be cancelled (pending, paid, processing) of the caller's share of the
    order; its stock is released. When the whole order is cancelled, payments then voids what is
    only authorized or pending and refunds what was captured; when part of a paid order is, the
    cancelled sub-orders' totals are refunded."""
    with transaction():
        viewer = Viewer(actor)
        order = find_order(viewer, order_id, lock=True)
        subs = [s for s in viewer.subs(order) if s.status in states.CANCELLABLE]
        if not subs:
            current = viewer.subs(order)[0].status
            raise illegal(current, OrderStatus.CANCELLED)
        was_paid = order.paid_at is not None
        position = refund_position(order) if was_paid else None
        refunds = []
        for sub in subs:
            cancel_sub(sub, actor_id=viewer.actor_id, note=reason or "cancelled")
        fully = order.status == OrderStatus.CANCELLED
        if fully:
            order.cancelled_at = utcnow()
        elif was_paid:  # part of a paid order: what was paid for its sub-orders (and not refunded yet) goes back
            for sub in subs:
                left = position.left(
                    sub
                )  # never more than the order has left (API refunds included)
                if left <= ZERO:
                    continue
                position.claim(sub.id, left)
                refund = RefundRequest(
                    order_id=order.id,
                    sub_order_id=sub.id,
                    requested_by_user_id=viewer.actor_id,
                    amount=left,
                    reason=reason or "sub-order cancelled",
                    status=RefundRequestStatus.APPROVED,
                    decided_by_user_id=viewer.actor_id,
                    decided_at=utcnow(),
                )
                db.session.add(refund)
                db.session.flush()
                refunds.append((refund.id, refund.amount))
        order_id = order.id
    if fully:  # paid: refunded; only authorized or pending (unpaid order): voided
        payment_refunds.void_or_refund_for_cancel(order_id)
    for refund_id, amount in refunds:
        refund_payment(order_id, refund_id, amount, reason or "sub-order cancelled")
    with transaction():
        return order_view(find_order(viewer, order_id), viewer)


NOTE_MAX = 500  # order_events.note


def add_note(actor: Actor, order_id: int, text: str, sub_order_id: int | None = None) -> OrderView:
    """Staff write a note on the order's timeline (an admin on the order or one of its sub-orders,
    a seller on one of its own sub-orders): an order event in which no status changes, by the
    caller, now. The timeline is not audited (it is a ledger of its own), so the note also leaves an
    audit row (action "note" on the order: who, when, which order and sub-order, the text), which
    the audit log shows beside every other change staff make. Notes are for staff: a customer's
    tracking never shows them (app.shipments.services)."""
    text = (text or "").strip()
    if not text:
        raise ValidationError("write the note", details={"note": ["required"]})
    if len(text) > NOTE_MAX:
        raise ValidationError(
            "the note is too long", details={"note": [f"at most {NOTE_MAX} characters"]}
        )
    with transaction():
        viewer = Viewer(actor)
        if viewer.is_customer:
            raise PermissionDenied("staff write notes on an order")
        if viewer.seller_id is not None and sub_order_id is None:
            raise PermissionDenied("a seller writes notes on its own sub-orders")
        order = find_order(viewer, order_id, lock=True)
        sub = subs_to_change(viewer, order, sub_order_id)[0] if sub_order_id is not None else None
        status = sub.status if sub is not None else order.status
        db.session.add(
            OrderEvent(
                order_id=order.id,
                sub_order_id=sub.id if sub is not None else None,
                from_status=status,
                to_status=status,
                actor_user_id=actor.user_id,
                note=text,
            )
        )
        record_action(
            db.session(),  # the request's Session (the scoped proxy lacks its transaction calls)
            order,
            "note",
            after={
                "order_number": order.number,
                "sub_order_id": sub.id if sub is not None else None,
                "sub_order_number": sub.number if sub is not None else None,
                "status": status,
                "note": text,
            },
        )
        db.session.flush()
        return order_view(order, viewer)


def expire_unpaid(now=None, limit: int = 200, tenant_id: int | None = None) -> int:
    """Cron: cancel unpaid orders past their reservation TTL and release their stock, in every
    tenant (or in `tenant_id`'s only), the longest overdue first, at most `limit` a run. Each
    order in its own transaction, locked and re-checked (a payment may land meanwhile)."""
    now = now or utcnow()
    query = (
        select(Order.id, Order.tenant_id)
        .where(Order.status == OrderStatus.PENDING, Order.reservation_expires_at < now)
        .order_by(Order.reservation_expires_at, Order.id)
        .limit(limit)
    )
    if tenant_id is not None:
        query = query.where(Order.tenant_id == tenant_id)
    with unscoped():
        due = db.session.execute(query).all()
    db.session.rollback()
    done = 0
    for order_id, tenant_id in due:
        with tenant_scope(tenant_id), transaction():
            order = db.session.scalar(
                select(Order)
                .where(Order.id == order_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            if (
                order is None
                or order.status != OrderStatus.PENDING
                or order.reservation_expires_at >= now
            ):
                continue
            for sub in order.sub_orders:
                if sub.status == OrderStatus.PENDING:
                    cancel_sub(sub, actor_id=None, note="not paid in time: reservation expired")
            order.cancelled_at = now
            done += 1
        with tenant_scope(
            tenant_id
        ):  # after the commit: its pending or authorized payments are voided
            payment_refunds.void_or_refund_for_cancel(order_id)
    return done
