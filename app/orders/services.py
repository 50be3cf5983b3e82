"""Order use cases: who sees what, the state machine, cancel, refunds, payment outcomes, expiry.

Visibility: a customer sees its own orders; a seller the orders holding one of its sub-orders
(only its sub-orders, totals over them, and its share of what was refunded: app.orders.shares);
an admin every order of the tenant; a guest the one order whose access token it holds
(app.orders.access), as its customer. Another user's order (or a wrong token) answers 404, never
its data.

Every status change goes through `_move()`: checked against app.orders.states.TRANSITIONS (an
illegal one is a 409 naming the allowed ones), written to the timeline (order_events), and
published as `order.status_changed` after commit. Stock: held while pending/paid/processing,
released on cancel, turned into a sale when shipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import case, exists, func, select, update

from app.catalog.models import Product
from app.core.db import transaction
from app.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationError
from app.core.types import quantize_money, utcnow
from app.customers.services import paginate
from app.events.bus import dispatch_after_block, publish
from app.extensions import db
from app.inventory import services as inventory
from app.orders import access, states
from app.orders.access import GuestAccess
from app.orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    RefundRequest,
    RefundRequestLine,
    StockReservation,
    SubOrder,
)
from app.orders.shares import SellerShares
from app.payments import services as payments
from app.payments.models import Payment, Refund
from app.security import roles
from app.sellers.models import SellerProfile
from app.tenants.context import tenant_scope, unscoped

log = logging.getLogger(__name__)
ADMIN_ROLES = frozenset({roles.ADMIN, roles.SUPER_ADMIN})
ZERO = Decimal("0.00")


# --- who is asking -------------------------------------------------------------------------------


class Viewer:
    """The caller's standing towards orders: admin, seller (with its profile id), customer, or a
    guest holding one order's access token (a customer of that order alone, with no user)."""

    def __init__(self, user):
        self.guest = user if isinstance(user, GuestAccess) else None
        if self.guest is not None:
            self.user, self.is_admin, self.seller_id, self.is_customer = None, False, None, True
            return
        self.user = user
        names = user.role_names
        self.is_admin = bool(names & ADMIN_ROLES)
        self.seller_id = None
        if not self.is_admin and roles.SELLER in names:
            self.seller_id = db.session.scalar(
                select(SellerProfile.id).where(SellerProfile.user_id == user.id)
            )
        self.is_customer = (
            not self.is_admin and self.seller_id is None and bool(names & roles.CUSTOMER_ROLES)
        )
        if not (self.is_admin or self.seller_id is not None or self.is_customer):
            raise PermissionDenied("your role has no orders")

    @property
    def actor_id(self) -> int | None:
        return self.user.id if self.user is not None else None

    def subs(self, order: Order) -> list[SubOrder]:
        if self.seller_id is not None:
            return [s for s in order.sub_orders if s.seller_id == self.seller_id]
        return list(order.sub_orders)


def _visible_orders(viewer: Viewer):
    stmt = select(Order)
    if viewer.guest is not None:
        stmt = stmt.where(
            Order.id == viewer.guest.order_id,
            Order.customer_user_id.is_(None),
            Order.access_token_hash == viewer.guest.token_hash,
        )
    elif viewer.is_customer:
        stmt = stmt.where(Order.customer_user_id == viewer.user.id)
    elif viewer.seller_id is not None:
        stmt = stmt.where(
            exists().where(SubOrder.order_id == Order.id, SubOrder.seller_id == viewer.seller_id)
        )
    return stmt


def find_order(viewer: Viewer, order_id: int, *, lock: bool = False) -> Order:
    stmt = (
        _visible_orders(viewer)
        .where(Order.id == order_id)
        .execution_options(populate_existing=True)
    )
    if lock:
        stmt = stmt.with_for_update(of=Order)
    order = db.session.scalar(stmt)
    if order is None:
        raise NotFound("no such order", details={"order_id": order_id})
    return order


def order_view(
    order: Order,
    viewer: Viewer | None,
    facts: RefundFacts | None = None,
    seller_shares: SellerShares | None = None,
) -> dict[str, Any]:
    """The order as the viewer may see it: a seller gets only its sub-orders, their totals, only
    their refund requests and its share of what was refunded (app.orders.shares). `facts` and
    `seller_shares`: what the caller loaded for a whole page of orders (`refund_facts`,
    `SellerShares.for_orders`); otherwise they are read here (refund facts not at all for an order
    that was never paid: it has neither refunds nor refund requests)."""
    subs = viewer.subs(order) if viewer is not None else list(order.sub_orders)
    partial = len(subs) != len(order.sub_orders)
    if facts is None:
        facts = refund_facts([order])[order.id]
    sub_ids = {s.id for s in subs}
    requests = [r for r in facts.requests if r.sub_order_id in sub_ids]
    returned = facts.returned_units()
    refunded = order.refunded_total
    if partial and viewer.seller_id is not None:
        seller_shares = seller_shares or SellerShares.for_orders(viewer.seller_id, [order.id])
        refunded = seller_shares.refunded_total(order.id, order.currency)

    def total(name):
        return sum((getattr(s, name) for s in subs), ZERO) if partial else getattr(order, name)

    return {
        "id": order.id,
        "number": order.number,
        "status": order.status,
        "email": order.email,
        "customer_user_id": order.customer_user_id,
        "is_guest": order.is_guest,
        "currency": order.currency,
        "prices_include_tax": order.prices_include_tax,
        "subtotal": total("subtotal"),
        "discount_total": total("discount_total"),
        "tax_total": total("tax_total"),
        "shipping_total": total("shipping_total"),
        "total": total("total"),
        "refunded_total": refunded,
        "payment_status": order.payment_status,
        "payment_method": order.payment_method,
        "paid_at": order.paid_at,
        "shipping_address": order.shipping_address,
        "notes": order.notes,
        "coupon_codes": order.coupon_codes,
        "reservation_expires_at": order.reservation_expires_at
        if order.status == states.PENDING
        else None,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "sub_orders": [_sub_view(s, returned, facts.position.left(s)) for s in subs],
        "refund_requests": [refund_request_view(r) for r in requests],
    }


def refund_request_view(request: RefundRequest) -> dict[str, Any]:
    """A refund request as the API shows it: its id is what the seller or an admin decides with."""
    return {
        "id": request.id,
        "sub_order_id": request.sub_order_id,
        "status": request.status,
        "amount": request.amount,
        "shipping_amount": request.shipping_amount,
        "reason": request.reason,
        "requested_by_user_id": request.requested_by_user_id,
        "restock": request.restock,
        "failure_code": request.failure_code,
        "decided_at": request.decided_at,
        "created_at": request.created_at,
        "updated_at": request.updated_at,
        "lines": [
            {
                "line_id": rl.order_line_id,
                "quantity": rl.quantity,
                "amount": rl.amount,
                "restocked_quantity": rl.restocked_quantity,
            }
            for rl in request.lines
        ],
    }


def _sub_view(
    sub: SubOrder, returned: dict[int, int] | None = None, refundable: Decimal = ZERO
) -> dict[str, Any]:
    return {
        "id": sub.id,
        "number": sub.number,
        "seller_id": sub.seller_id,
        "status": sub.status,
        "allowed_transitions": _allowed(sub),
        "refundable": refundable,
        "subtotal": sub.subtotal,
        "discount_total": sub.discount_total,
        "tax_total": sub.tax_total,
        "shipping_total": sub.shipping_total,
        "total": sub.total,
        "commission_rate": sub.commission_rate,
        "commission_amount": sub.commission_amount,
        "shipping_method_id": sub.shipping_method_id,
        "shipping_method_name": sub.shipping_method_name,
        "carrier": sub.carrier,
        "shipping_tax": sub.shipping_tax,
        "lines": [
            {
                "id": line.id,
                "variant_id": line.variant_id,
                "product_id": line.product_id,
                "sku": line.sku,
                "title": line.title,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "subtotal": line.subtotal,
                "discount_total": line.discount_total,
                "discounts": line.discounts,
                "tax_total": line.tax_total,
                "tax_breakdown": line.tax_breakdown,
                "total": line.total,
                "commission_rate": line.commission_rate,
                "commission_amount": line.commission_amount,
                "returned_quantity": (returned or {}).get(line.id, 0),
            }
            for line in sub.lines
        ],
    }


# --- paying later --------------------------------------------------------------------------------


def pay_order(
    user,
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
    (app.payments.services.process_payment: Idempotency-Key, claim, gateway outside row locks).
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
            payments.latest_payment_of(order_id, user, guest_token) if order is not None else None
        )
        owner = order is not None and (
            (user is not None and order.customer_user_id == user.id)
            or (user is None and access.placed_with_cart_token(order, guest_token))
            or latest is not None
        )
        if not owner:
            raise NotFound("no such order", details={"order_id": order_id})
        payment_id = payments.replayed_payment_id(user, guest_token, idempotency_key, order.id)
        if payment_id is None:
            if order.status != states.PENDING:
                raise Conflict(
                    f"a {order.status} order cannot be paid",
                    code="order_not_payable",
                    details={"order_id": order.id, "status": order.status},
                )
            if latest is not None:
                if method and method != latest.method:
                    raise Conflict(
                        "this order has a payment by another method already; pay that one",
                        code="payment_method_mismatch",
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
                opened = payments.open_payment(
                    order_id=order.id,
                    amount=_amount_due(order),
                    currency=order.currency,
                    method=method,
                    customer_user_id=order.customer_user_id,
                    guest_token=guest_token if user is None else None,
                    payment_details=payment_details,
                    deferred=True,
                )
                order.payment_method = method
                payment_id = opened.payment_id
    return payments.process_payment(
        user,
        payment_id=payment_id,
        payment_details=payment_details,
        confirm=confirm,
        guest_token=guest_token,
        idempotency_key=idempotency_key,
    )


def _amount_due(order: Order) -> Decimal:
    """What an unpaid order costs: its sub-orders that were not cancelled (cancelled before any
    payment, they are not charged)."""
    return sum((s.total for s in order.sub_orders if s.status != states.CANCELLED), ZERO)


# --- reading -------------------------------------------------------------------------------------


def list_orders(user, *, status: str | None, page: int, page_size: int) -> dict[str, Any]:
    with transaction():
        viewer = Viewer(user)
        stmt = _visible_orders(viewer)
        if status:
            if viewer.seller_id is not None:
                stmt = stmt.where(
                    exists().where(
                        SubOrder.order_id == Order.id,
                        SubOrder.seller_id == viewer.seller_id,
                        SubOrder.status == status,
                    )
                )
            else:
                stmt = stmt.where(Order.status == status)
        result = paginate(stmt.order_by(Order.id.desc()), page, page_size)
        facts = refund_facts(result["items"])
        shares = (
            SellerShares.for_orders(viewer.seller_id, [o.id for o in result["items"]])
            if viewer.seller_id is not None
            else None
        )
        result["items"] = [order_view(o, viewer, facts[o.id], shares) for o in result["items"]]
        return result


def get_order(user, order_id: int) -> dict[str, Any]:
    with transaction():
        viewer = Viewer(user)
        return order_view(find_order(viewer, order_id), viewer)


# --- the state machine ---------------------------------------------------------------------------


def illegal(current: str, target: str, allowed: list[str] | None = None) -> Conflict:
    return Conflict(
        f"an order cannot go from {current} to {target}",
        code="illegal_transition",
        details={
            "status": current,
            "requested": target,
            "allowed": states.allowed(current) if allowed is None else allowed,
        },
    )


def _holds_stock(sub: SubOrder) -> bool:
    return db.session.scalar(
        select(
            exists().where(
                StockReservation.sub_order_id == sub.id, StockReservation.status == "held"
            )
        )
    )


def _allowed(sub: SubOrder) -> list[str]:
    """The sub-order's next statuses (a partially refunded one resumes fulfilment only if unshipped)."""
    if sub.status == states.PARTIALLY_REFUNDED:
        return states.allowed(sub.status, holds_stock=_holds_stock(sub))
    return states.allowed(sub.status)


def _move(sub: SubOrder, target: str, *, actor_id: int | None, note: str | None = None) -> None:
    """Move one sub-order (checked against the table), record it, re-derive the parent's status."""
    current = sub.status
    if not states.is_allowed(current, target):
        raise illegal(current, target)
    _record(sub, target, actor_id=actor_id, note=note)


def _record(sub: SubOrder, target: str, *, actor_id: int | None, note: str | None = None) -> None:
    current = sub.status
    sub.status = target
    order = sub.order
    db.session.add(
        OrderEvent(
            order_id=order.id,
            sub_order_id=sub.id,
            from_status=current,
            to_status=target,
            actor_user_id=actor_id,
            note=note,
        )
    )
    parent_before = order.status
    order.status = states.derive_parent_status([s.status for s in order.sub_orders])
    if order.status != parent_before:
        db.session.add(
            OrderEvent(
                order_id=order.id,
                from_status=parent_before,
                to_status=order.status,
                actor_user_id=actor_id,
                note=note,
            )
        )
    publish(
        "order.status_changed",
        {
            "order_id": order.id,
            "sub_order_id": sub.id,
            "seller_id": sub.seller_id,
            "customer_user_id": order.customer_user_id,
            "from_status": current,
            "to_status": target,
            "order_status": order.status,
        },
        aggregate="order",
        aggregate_id=order.id,
    )


def _stock(sub: SubOrder, *, release: bool, actor_id: int | None) -> None:
    """Release (cancel) or sell (ship) the units a sub-order holds, in stock-row key order."""
    held = db.session.scalars(
        select(StockReservation)
        .where(StockReservation.sub_order_id == sub.id, StockReservation.status == "held")
        .order_by(StockReservation.stock_level_id)
        .with_for_update()
    ).all()
    for reservation in held:
        if release:
            moved = inventory.move_stock(
                reservation.stock_level_id,
                d_reserved=-reservation.quantity,
                reason="release",
                reference=f"order:{sub.number}",
                actor_id=actor_id,
            )
        else:
            moved = inventory.move_stock(
                reservation.stock_level_id,
                d_on_hand=-reservation.quantity,
                d_reserved=-reservation.quantity,
                reason="sale",
                reference=f"order:{sub.number}",
                actor_id=actor_id,
            )
        if moved is None:  # cannot happen while CHECK constraints hold; never leave it silently
            raise Conflict(
                "stock reservation is inconsistent",
                code="stock_inconsistent",
                details={"stock_level_id": reservation.stock_level_id},
            )
        reservation.status = "released" if release else "consumed"


def check_transition(sub: SubOrder, target: str) -> None:
    """May `sub` take a fulfilment step to `target` now? The state machine (409 illegal_transition:
    a partially refunded sub-order resumes only while it holds stock), then the money
    (`check_fulfilment`: 409 order_refunded once what was paid for it has gone back). Shipments
    ask this before a label is made."""
    if not states.is_allowed(sub.status, target):
        raise illegal(sub.status, target, _allowed(sub))
    if (
        sub.status == states.PARTIALLY_REFUNDED
        and target in states.RESUMABLE
        and not _holds_stock(sub)
    ):
        raise illegal(sub.status, target, _allowed(sub))
    check_fulfilment(sub, target)


def set_status(
    sub: SubOrder, target: str, *, actor_id: int | None, note: str | None = None
) -> None:
    """A fulfilment step (processing, shipped, delivered, completed) inside the caller's transaction.
    Shipped: the units held become a sale. Delivered: `order.delivered` is published (after
    `order.status_changed`), which shipments consumes to mark the sub-order's shipments delivered
    (shipments sits above orders: a reaction, not a call)."""
    if target not in states.MANUAL_TARGETS:
        raise illegal(sub.status, target)
    check_transition(sub, target)
    _move(sub, target, actor_id=actor_id, note=note)
    if target == states.SHIPPED:
        _stock(sub, release=False, actor_id=actor_id)
    elif target == states.DELIVERED:  # its shipments follow (shipments consumes the event)
        publish(
            "order.delivered",
            {
                "order_id": sub.order_id,
                "sub_order_id": sub.id,
                "seller_id": sub.seller_id,
                "delivered_at": utcnow().isoformat(),
            },
            aggregate="order",
            aggregate_id=sub.order_id,
        )


def _subs_to_change(viewer: Viewer, order: Order, sub_order_id: int | None) -> list[SubOrder]:
    subs = viewer.subs(order)
    if sub_order_id is not None:
        subs = [s for s in subs if s.id == sub_order_id]
        if not subs:
            raise NotFound(
                "no such sub-order in this order", details={"sub_order_id": sub_order_id}
            )
    return subs


def update_order(user, order_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Sellers and admins move the status; the customer edits notes and address while pending."""
    with transaction():
        viewer = Viewer(user)
        order = find_order(viewer, order_id, lock=True)
        if "status" in data:
            if viewer.is_customer:
                raise PermissionDenied("customers cannot change an order's status")
            for sub in _subs_to_change(viewer, order, data.get("sub_order_id")):
                set_status(sub, data["status"], actor_id=user.id, note=data.get("note"))
        customer_fields = {k: data[k] for k in ("notes", "shipping_address") if k in data}
        if customer_fields:
            if not (viewer.is_customer or viewer.is_admin):
                raise PermissionDenied("only the customer edits notes and the address")
            if order.status != states.PENDING:
                raise Conflict(
                    "notes and address can only change while the order is pending",
                    code="order_not_editable",
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


def cancel_order(user, order_id: int, reason: str | None = None) -> dict[str, Any]:
    """Cancel what can still be cancelled (pending, paid, processing) of the caller's share of the
    order; its stock is released. When the whole order is cancelled, payments then voids what is
    only authorized or pending and refunds what was captured; when part of a paid order is, the
    cancelled sub-orders' totals are refunded."""
    with transaction():
        viewer = Viewer(user)
        order = find_order(viewer, order_id, lock=True)
        subs = [s for s in viewer.subs(order) if s.status in states.CANCELLABLE]
        if not subs:
            current = viewer.subs(order)[0].status
            raise illegal(current, states.CANCELLED)
        was_paid = order.paid_at is not None
        position = refund_position(order) if was_paid else None
        refunds = []
        for sub in subs:
            _cancel_sub(sub, actor_id=viewer.actor_id, note=reason or "cancelled")
        fully = order.status == states.CANCELLED
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
                    status="approved",
                    decided_by_user_id=viewer.actor_id,
                    decided_at=utcnow(),
                )
                db.session.add(refund)
                db.session.flush()
                refunds.append((refund.id, refund.amount))
        order_id = order.id
    if fully:  # paid: refunded; only authorized or pending (unpaid order): voided
        _void_or_refund(order_id)
    for refund_id, amount in refunds:
        _refund_payment(order_id, refund_id, amount, reason or "sub-order cancelled")
    with transaction():
        return order_view(find_order(viewer, order_id), viewer)


def _cancel_sub(sub: SubOrder, *, actor_id: int | None, note: str) -> None:
    was_sold = sub.status in (states.PAID, states.PROCESSING)
    _move(sub, states.CANCELLED, actor_id=actor_id, note=note)
    _stock(sub, release=True, actor_id=actor_id)
    if was_sold:
        _count_sold(sub, -1)


def _count_sold(sub: SubOrder, sign: int) -> None:
    """Products' sold_count (the storefront's popularity sort) follows paid and cancelled sub-orders;
    product rows are updated in key order."""
    units: dict[int, int] = {}
    for line in sub.lines:
        if line.product_id is not None:
            units[line.product_id] = units.get(line.product_id, 0) + line.quantity
    for product_id in sorted(units):
        new = Product.sold_count + sign * units[product_id]
        db.session.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(sold_count=case((new < 0, 0), else_=new))
            .execution_options(synchronize_session=False)
        )


def _void_or_refund(order_id: int) -> None:
    payments.void_or_refund_for_cancel(order_id)


# --- what is still refundable and fulfillable: ONE rule, every refund counted ---------------------
#
# Money goes back to a buyer by several paths: a refund request paid out (approved by the seller or
# an admin), the cancel of part of a paid order (an approved request too), the cancel of a whole
# order and an Admin's refund through /api/v1/payments/refund/ (payment refunds that answer no
# request), an admin's retry of a failed one, a refund Stripe settles later by webhook. What a
# sub-order may still be refunded, and whether it may still be processed and shipped, is computed
# here only, from what payments captured and EVERY payment refund of the order, whatever made it.
#
# A payment refund that answers no request pays back the order, not a sub-order (a payment covers
# the parent order; payments knows nothing of sub-orders): it is attributed to none. It lowers what
# the order as a whole has left, which caps every sub-order: a sub-order has left
#     min(its total - its live requests, captured - payment refunds outside requests - all live requests)
# where live requests are those neither rejected, failed nor closed (their money is asked for, being
# paid out or paid out) and payment refunds count from the moment payments reserves their amount
# (pending) until they fail. When the order's payments are refunded in full (completed refunds reach
# what was captured), every sub-order still open moves to refunded (`follow_refunds`).


@dataclass
class RefundPosition:
    """An order's money: what its payments captured, the payment refunds (pending or completed) that
    answer no refund request, and per sub-order the live requests."""

    captured: Decimal = ZERO
    outside: Decimal = ZERO
    asked: dict[int, Decimal] = field(default_factory=dict)

    @property
    def order_left(self) -> Decimal:
        return max(self.captured - self.outside - sum(self.asked.values(), ZERO), ZERO)

    def left(self, sub: SubOrder) -> Decimal:
        """What may still be refunded for `sub` (asked in a request, or paid back on cancel)."""
        return max(min(sub.total - self.asked.get(sub.id, ZERO), self.order_left), ZERO)

    def claim(self, sub_id: int, amount: Decimal) -> None:
        """A live request of `amount` for sub-order `sub_id` (also one made in this transaction)."""
        self.asked[sub_id] = self.asked.get(sub_id, ZERO) + amount


@dataclass
class RefundFacts:
    """What the order views show of refunds: the position and the refund requests (with lines)."""

    position: RefundPosition = field(default_factory=RefundPosition)
    requests: list[RefundRequest] = field(default_factory=list)

    def returned_units(self) -> dict[int, int]:
        """Units of each line asked back in live requests."""
        units: dict[int, int] = {}
        for request in self.requests:
            if request.status in LIVE_REQUEST:
                for rl in request.lines:
                    units[rl.order_line_id] = units.get(rl.order_line_id, 0) + rl.quantity
        return units


def _captured_and_outside(order_ids: list[int]) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    captured = db.session.execute(
        select(Payment.order_id, func.sum(Payment.amount_captured))
        .where(Payment.order_id.in_(order_ids))
        .group_by(Payment.order_id)
    ).all()
    outside = db.session.execute(
        select(Refund.order_id, func.sum(Refund.amount))
        .where(
            Refund.order_id.in_(order_ids),
            Refund.status.in_(("pending", "completed")),
            ~exists().where(RefundRequest.payment_refund_id == Refund.id),
        )
        .group_by(Refund.order_id)
    ).all()
    return (
        {order_id: Decimal(amount or 0) for order_id, amount in captured},
        {order_id: Decimal(amount or 0) for order_id, amount in outside},
    )


def _never_paid(order: Order) -> bool:
    """Nothing was ever captured for it (so no refund or refund request can exist either)."""
    return order.paid_at is None and order.payment_status in ("unpaid", "failed")


def refund_position(order: Order) -> RefundPosition:
    """The order's money as it stands now (three small queries; none for an order never paid)."""
    if _never_paid(order):
        return RefundPosition()
    captured, outside = _captured_and_outside([order.id])
    asked = dict(
        db.session.execute(
            select(RefundRequest.sub_order_id, func.sum(RefundRequest.amount))
            .where(RefundRequest.order_id == order.id, RefundRequest.status.in_(LIVE_REQUEST))
            .group_by(RefundRequest.sub_order_id)
        ).all()
    )
    return RefundPosition(
        captured.get(order.id, ZERO),
        outside.get(order.id, ZERO),
        {sub_id: Decimal(amount) for sub_id, amount in asked.items()},
    )


def refund_facts(orders: list[Order]) -> dict[int, RefundFacts]:
    """Refund facts of several orders (a page of them) in three queries, whatever their number."""
    facts = {order.id: RefundFacts() for order in orders}
    paid = [o.id for o in orders if not _never_paid(o)]
    if not paid:
        return facts
    captured, outside = _captured_and_outside(paid)
    for request in db.session.scalars(
        select(RefundRequest).where(RefundRequest.order_id.in_(paid)).order_by(RefundRequest.id)
    ):
        facts[request.order_id].requests.append(request)
    for order_id in paid:
        position = facts[order_id].position
        position.captured, position.outside = (
            captured.get(order_id, ZERO),
            outside.get(order_id, ZERO),
        )
        for request in facts[order_id].requests:
            if request.status in LIVE_REQUEST:
                position.claim(request.sub_order_id, request.amount)
    return facts


def check_fulfilment(sub: SubOrder, target: str) -> None:
    """A sub-order is processed or shipped only while money paid for it remains: once every cent
    of it has gone back (or is on its way back: a pending refund), whatever path refunded it, the
    seller may neither process nor ship it (409 order_refunded). A sub-order that cost nothing, or
    whose order nothing was refunded or asked back of, is never held back by money."""
    if target not in states.RESUMABLE or sub.total <= ZERO:
        return
    position = refund_position(sub.order)
    if position.left(sub) <= ZERO and (position.outside > ZERO or position.asked):
        raise Conflict(
            "the money paid for this sub-order has been refunded (or is being refunded): it cannot be "
            "processed or shipped",
            code="order_refunded",
            details={"sub_order_id": sub.id, "status": sub.status, "refundable": str(ZERO)},
        )


def follow_refunds(order: Order) -> None:
    """Inside the caller's transaction, the order row locked: when the order's payments have been
    refunded in full (its completed refunds, whatever made them, reach what was captured), every
    sub-order still open goes to refunded through the state machine: held stock is released (those
    units never ship) and a request still waiting for a decision is closed (there is no money left
    to pay it out). Sub-orders still pending (not yet marked paid: mark_paid calls this again),
    cancelled or already refunded are left alone. Idempotent."""
    if order.refunded_total <= ZERO:
        return
    captured, _ = _captured_and_outside([order.id])
    paid = captured.get(order.id, ZERO)
    if paid <= ZERO or order.refunded_total < paid:
        return
    now = utcnow()
    for sub in order.sub_orders:
        if sub.status in (states.PENDING, states.CANCELLED, states.REFUNDED):
            continue
        for request in db.session.scalars(
            select(RefundRequest)
            .where(RefundRequest.sub_order_id == sub.id, RefundRequest.status == "requested")
            .with_for_update()
        ):
            request.status, request.decided_at = "closed", now
        was_sold, held = sub.status in (states.PAID, states.PROCESSING), _holds_stock(sub)
        _move(sub, states.REFUNDED, actor_id=None, note="the order's payment was refunded in full")
        if held:
            _stock(sub, release=True, actor_id=None)
        if was_sold:
            _count_sold(sub, -1)


# --- refunds -------------------------------------------------------------------------------------


def request_refund(user, order_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """The customer asks for a refund (or return) of a sub-order, of every paid sub-order, of an
    amount of one sub-order, or of units of order lines (`lines`: [{"line_id", "quantity"}], one
    request per sub-order they belong to); a seller may ask for one of its own sub-orders (an admin
    then decides). The order row is locked, so concurrent requests are counted one after the
    other: never more units than were ordered, never more money than was paid."""
    with transaction():
        viewer = Viewer(user)
        if viewer.is_admin:
            raise PermissionDenied(
                "the customer or the sub-order's seller requests a refund; "
                "admins decide with request_id"
            )
        order = find_order(viewer, order_id, lock=True)
        subs = _subs_to_change(viewer, order, data.get("sub_order_id"))
        if data.get("lines"):
            if data.get("amount") is not None:
                raise ValidationError(
                    "give lines or an amount, not both", details={"amount": ["not with lines"]}
                )
            _request_lines(viewer, order, subs, data)
            db.session.flush()
            return order_view(order, viewer)
        if data.get("amount") is not None and len(subs) != 1:
            raise ValidationError(
                "an amount needs a sub_order_id", details={"sub_order_id": ["required with amount"]}
            )
        position = refund_position(order)
        for sub in subs:
            refundable = _refundable(order, sub, position)
            amount = data.get("amount") or refundable
            if amount > refundable:
                raise ValidationError(
                    "more than can be refunded",
                    details={"amount": [f"at most {refundable} for this sub-order"]},
                )
            sub.status_before_refund = sub.status
            _move(sub, states.REFUND_REQUESTED, actor_id=viewer.actor_id, note=data["reason"])
            shipping = (
                ZERO
                if data.get("amount")
                else min(_shipping_share(sub) - _shipping_committed(sub), amount)
            )
            db.session.add(
                RefundRequest(
                    order_id=order.id,
                    sub_order_id=sub.id,
                    requested_by_user_id=viewer.actor_id,
                    amount=amount,
                    reason=data["reason"],
                    status="requested",
                    shipping_amount=max(shipping, ZERO),
                )
            )
            position.claim(sub.id, amount)
        db.session.flush()
        return order_view(order, viewer)


# a rejected, failed or closed request gives its units and money back
LIVE_REQUEST = ("requested", "approved", "completed")


def _refundable(order: Order, sub: SubOrder, position: RefundPosition) -> Decimal:
    """What `sub` may still be asked to refund (`RefundPosition.left`), or why nothing: 409
    nothing_to_refund once the money paid for it has gone back (or is going back), whatever path
    refunded it; 409 illegal_transition when its status takes no request (unpaid, cancelled, a
    request of it still open)."""
    left = position.left(sub)
    requestable = states.is_allowed(sub.status, states.REFUND_REQUESTED)
    if sub.status == states.REFUNDED or (requestable and left <= ZERO):
        raise Conflict(
            "nothing is left to refund on this sub-order: what was paid for it has been refunded "
            "or asked for",
            code="nothing_to_refund",
            details={"sub_order_id": sub.id, "status": sub.status, "refundable": str(left)},
        )
    if not requestable:
        raise illegal(sub.status, states.REFUND_REQUESTED)
    return left


def _shipping_share(sub: SubOrder) -> Decimal:
    """What the buyer paid for the sub-order's shipping (with its tax when prices exclude tax)."""
    return sub.total - sum((line.total for line in sub.lines), ZERO)


def _shipping_committed(sub: SubOrder) -> Decimal:
    done = db.session.scalars(
        select(RefundRequest.shipping_amount).where(
            RefundRequest.sub_order_id == sub.id, RefundRequest.status.in_(LIVE_REQUEST)
        )
    ).all()
    return sum(done, ZERO)


def _line_committed(line_ids: list[int]) -> dict[int, tuple[int, Decimal]]:
    """Per order line: (units, money) asked for and not refused (neither rejected nor failed)."""
    rows = db.session.execute(
        select(
            RefundRequestLine.order_line_id,
            func.sum(RefundRequestLine.quantity),
            func.sum(RefundRequestLine.amount),
        )
        .join(RefundRequest, RefundRequest.id == RefundRequestLine.refund_request_id)
        .where(
            RefundRequestLine.order_line_id.in_(line_ids), RefundRequest.status.in_(LIVE_REQUEST)
        )
        .group_by(RefundRequestLine.order_line_id)
    ).all()
    return {line_id: (int(units or 0), Decimal(amount or 0)) for line_id, units, amount in rows}


def line_refund_amount(
    line: OrderLine, units_before: int, amount_before: Decimal, units: int
) -> Decimal:
    """The paid share of `units` more units of a line (its price, less its discounts, plus its tax):
    the line's total pro rata, rounded half-up on the running total so that refunding every unit,
    in any steps, gives back exactly the line's total and never more."""
    if units_before + units >= line.quantity:
        return line.total - amount_before
    share = quantize_money(line.total * (units_before + units) / line.quantity) - amount_before
    return max(share, ZERO)


def _request_lines(
    viewer: Viewer, order: Order, subs: list[SubOrder], data: dict[str, Any]
) -> None:
    by_line = {line.id: (sub, line) for sub in subs for line in sub.lines}
    wanted: dict[int, int] = {}
    for position, entry in enumerate(data["lines"]):
        if entry["line_id"] not in by_line:
            raise NotFound(
                "no such line in this order",
                details={"lines": {position: {"line_id": [entry["line_id"]]}}},
            )
        wanted[entry["line_id"]] = wanted.get(entry["line_id"], 0) + entry["quantity"]
    committed = _line_committed(sorted(wanted))
    per_sub: dict[int, list[tuple[OrderLine, int, Decimal]]] = {}
    for line_id, units in wanted.items():
        sub, line = by_line[line_id]
        before_units, before_amount = committed.get(line_id, (0, ZERO))
        left = line.quantity - before_units
        if units > left:
            raise ValidationError(
                "more units than can be returned",
                details={"lines": {str(line_id): [f"at most {left} of {line.quantity} units"]}},
            )
        per_sub.setdefault(sub.id, []).append(
            (line, units, line_refund_amount(line, before_units, before_amount, units))
        )
    position = refund_position(order)
    for sub in subs:
        if sub.id not in per_sub:
            continue
        captured_left = _refundable(order, sub, position)
        chosen = per_sub[sub.id]
        amount = sum((a for _, _, a in chosen), ZERO)
        # shipping goes back once: asked for, or with the last units of the sub-order
        asked = {line.id: units for line, units, _ in chosen}
        all_back = all(
            committed.get(line.id, (0, ZERO))[0] + asked.get(line.id, 0) >= line.quantity
            for line in sub.lines
        )
        shipping = ZERO
        if data.get("include_shipping") or all_back:
            shipping = max(_shipping_share(sub) - _shipping_committed(sub), ZERO)
        amount += shipping
        if amount > captured_left:  # guards rounding, amount-only requests and refunds made before
            amount = captured_left
            shipping = min(shipping, amount)
        if amount <= ZERO:
            raise Conflict(
                "nothing is left to refund for these units",
                code="nothing_to_refund",
                details={"sub_order_id": sub.id},
            )
        position.claim(sub.id, amount)
        sub.status_before_refund = sub.status
        _move(sub, states.REFUND_REQUESTED, actor_id=viewer.actor_id, note=data["reason"])
        db.session.add(
            RefundRequest(
                order_id=order.id,
                sub_order_id=sub.id,
                requested_by_user_id=viewer.actor_id,
                amount=amount,
                reason=data["reason"],
                status="requested",
                shipping_amount=shipping,
                lines=[
                    RefundRequestLine(order_line_id=line.id, quantity=units, amount=line_amount)
                    for line, units, line_amount in chosen
                ],
            )
        )


def _refunded(sub: SubOrder) -> Decimal:
    done = db.session.scalars(
        select(RefundRequest.amount).where(
            RefundRequest.sub_order_id == sub.id, RefundRequest.status == "completed"
        )
    ).all()
    return sum(done, ZERO)


def decide_refund(
    user,
    order_id: int,
    request_id: int,
    approve: bool,
    note: str | None = None,
    restock: bool = False,
) -> dict[str, Any]:
    """The sub-order's seller or an admin approves (payments then refunds) or rejects (the
    sub-order returns to where it was); a request the seller made itself is for an admin.
    Approving a return of units still held (not shipped) releases them; with `restock`, shipped
    units go back on hand in the stock rows they were sold from (a `return` stock movement each).
    When the gateway refuses the refund at once, the request ends "failed" (`on_refund_failed`) and
    this answers 409 refund_failed; one the gateway settles later fails the same way by webhook."""
    with transaction():
        viewer = Viewer(user)
        if viewer.is_customer:
            raise PermissionDenied("the seller or an admin decides on refunds")
        order = find_order(viewer, order_id, lock=True)
        sub_ids = {s.id for s in viewer.subs(order)}
        refund = db.session.scalar(
            select(RefundRequest)
            .where(RefundRequest.id == request_id, RefundRequest.order_id == order.id)
            .with_for_update()
        )
        if refund is None or refund.sub_order_id not in sub_ids:
            raise NotFound("no such refund request", details={"request_id": request_id})
        if refund.status != "requested":
            raise Conflict(
                "this refund request was decided already",
                code="refund_decided",
                details={"status": refund.status},
            )
        if viewer.seller_id is not None and refund.requested_by_user_id == user.id:
            raise PermissionDenied("an admin decides on a refund its seller requested")
        refund.decided_by_user_id = user.id
        refund.decided_at = utcnow()
        sub = next(s for s in order.sub_orders if s.id == refund.sub_order_id)
        if approve:
            refund.status = "approved"
            refund.restock = bool(restock)
            if refund.lines:
                _return_units(sub, refund, restock=bool(restock), actor_id=user.id)
        else:
            refund.status = "rejected"
            _record(
                sub,
                sub.status_before_refund or states.PAID,
                actor_id=user.id,
                note=note or "refund rejected",
            )
        refund_id, amount = refund.id, refund.amount
    if approve:
        try:
            _refund_payment(order_id, refund_id, amount, note)
        except DomainError as exc:
            _fail_unstarted_refund(order_id, refund_id, exc.code)
            raise
        with transaction():
            failed = db.session.scalar(
                select(RefundRequest.failure_code).where(
                    RefundRequest.id == refund_id, RefundRequest.status == "failed"
                )
            )
        if failed is not None:  # refused at once: the request is failed (on_refund_failed), say so
            raise Conflict(
                "the payment refund was refused; the refund request failed and its units and money "
                "can be asked for again",
                code="refund_failed",
                details={"request_id": refund_id, "failure_code": failed},
            )
    with transaction():
        return order_view(find_order(viewer, order_id), viewer)


def _return_units(
    sub: SubOrder, refund: RefundRequest, *, restock: bool, actor_id: int | None
) -> None:
    """Stock of the returned units, in stock-row key order: held units are released; shipped
    (consumed) units go back on hand where they came from when `restock`."""
    line_ids = [rl.order_line_id for rl in refund.lines]
    reservations = db.session.scalars(
        select(StockReservation)
        .where(
            StockReservation.order_line_id.in_(line_ids),
            StockReservation.status.in_(("held", "consumed")),
        )
        .order_by(StockReservation.stock_level_id, StockReservation.id)
        .with_for_update()
    ).all()
    restocked_before = dict(
        db.session.execute(
            select(RefundRequestLine.order_line_id, func.sum(RefundRequestLine.restocked_quantity))
            .where(
                RefundRequestLine.order_line_id.in_(line_ids),
                RefundRequestLine.refund_request_id != refund.id,
            )
            .group_by(RefundRequestLine.order_line_id)
        ).all()
    )
    reference = f"refund:{sub.number}:{refund.id}"
    for refund_line in refund.lines:
        need = refund_line.quantity
        skip = int(
            restocked_before.get(refund_line.order_line_id) or 0
        )  # consumed units already back
        for reservation in (
            r for r in reservations if r.order_line_id == refund_line.order_line_id
        ):
            if need == 0:
                break
            if reservation.status == "held":
                take = min(need, reservation.quantity)
                moved = inventory.move_stock(
                    reservation.stock_level_id,
                    d_reserved=-take,
                    reason="release",
                    reference=reference,
                    actor_id=actor_id,
                )
                if take == reservation.quantity:
                    reservation.status = "released"
                else:
                    reservation.quantity -= take
            elif restock:
                available = reservation.quantity - min(skip, reservation.quantity)
                skip -= reservation.quantity - available
                take = min(need, available)
                if take == 0:
                    continue
                moved = inventory.move_stock(
                    reservation.stock_level_id,
                    d_on_hand=take,
                    reason="return",
                    reference=reference,
                    actor_id=actor_id,
                )
                refund_line.restocked_quantity += take
            else:
                continue
            if moved is None:
                raise Conflict(
                    "stock reservation is inconsistent",
                    code="stock_inconsistent",
                    details={"stock_level_id": reservation.stock_level_id},
                )
            need -= take


def retry_failed_refund(refund_id: int, *, user_id: int | None = None):
    """Admin ("Retry refund" at /admin/refunds): pay out again a payment refund the gateway refused,
    through payments' `retry_refund` (what remains to refund, one retry per failed refund, 409
    refund_not_failed / refund_already_retried). A refund that paid out a refund request is
    refused there (409 refund_has_request: a new refund request pays that money out); which
    request it answered is orders' to know, so it is read here and handed down."""
    with transaction():
        request_id = db.session.scalar(
            select(RefundRequest.id).where(RefundRequest.payment_refund_id == refund_id).limit(1)
        )
    return payments.retry_refund(refund_id, answered_request_id=request_id, user_id=user_id)


def _refund_payment(
    order_id: int, refund_request_id: int, amount: Decimal, note: str | None
) -> None:
    """After the commit: payments refunds the amount from the order's captured payment (it never
    refunds more than was captured); its `refund.completed` event completes the request, its
    `refund.failed` event fails it (`on_refund_failed`).

    The request is linked to the payment refund (`payment_refund_id`) in the very transaction that
    writes the refund row, before the gateway is called (payments.refund's `on_created`), so every
    outcome of that refund (the gateway's answer, a webhook that overtakes it) finds exactly its
    request by the refund's id, and a refund that answers no request (an API refund, a cancelled
    order's, an admin's retry) can never be taken for one."""
    with transaction():
        candidates = db.session.scalars(
            select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
        ).all()
        payment_id = next((p.id for p in candidates if p.refundable >= amount), None)
    if payment_id is None:
        raise Conflict(
            "no captured payment of this order covers the refund",
            code="refund_exceeds_captured",
            details={"amount": str(amount)},
        )

    def link(refund_id: int) -> None:
        db.session.execute(
            update(RefundRequest)
            .where(RefundRequest.id == refund_request_id, RefundRequest.payment_refund_id.is_(None))
            .values(payment_refund_id=refund_id)
            .execution_options(synchronize_session=False)
        )

    with dispatch_after_block():  # the events of the refund's two commits leave in one batch
        payments.refund(
            payment_id,
            amount,
            note or "refund approved",
            idempotency_key=f"refund-request-{refund_request_id}",
            on_created=link,
        )


# --- payment outcomes (event consumers) and system transitions ------------------------------------


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
    order.payment_status = "captured"
    if order.status != states.PENDING:
        if order.status == states.CANCELLED:  # payments refunds it (refund_if_order_cancelled)
            log.warning(
                "order %s was paid after it was cancelled; payments refunds it", order.number
            )
        return order
    order.paid_at = utcnow()
    for sub in order.sub_orders:
        if sub.status == states.PENDING:
            _move(sub, states.PAID, actor_id=actor_id, note="payment captured")
            _count_sold(sub, +1)
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
    if db.session.scalar(select(Order.status).where(Order.id == order_id)) != states.CANCELLED:
        return
    db.session.commit()
    log.warning(
        "payment %s captured after order %s was cancelled: refunding it",
        event.payload.get("payment_id"),
        order_id,
    )
    payments.void_or_refund_for_cancel(order_id)


def on_payment_failed(event) -> None:
    """The order stays pending (the buyer may pay again) until its reservation expires."""
    order = db.session.get(Order, int(event.payload["order_id"]))
    if order is None or order.status != states.PENDING:
        return
    order.payment_status = "failed"
    db.session.add(
        OrderEvent(
            order_id=order.id,
            from_status=order.status,
            to_status=order.status,
            note="payment failed",
        )
    )


def _request_answered_by(order: Order, refund_id: int | None) -> RefundRequest | None:
    """The approved request of the order that payment refund `refund_id` pays out: the one linked to
    it (linked when the refund row was written, before any outcome of it existed). A refund no
    request is linked to (an API refund, a cancelled order's, an admin's retry) answers none."""
    if refund_id is None:
        return None
    return db.session.scalar(
        select(RefundRequest)
        .where(
            RefundRequest.order_id == order.id,
            RefundRequest.status == "approved",
            RefundRequest.payment_refund_id == int(refund_id),
        )
        .with_for_update()
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
        "refunded" if order.refunded_total >= order.total else "partially_refunded"
    )
    refund = _request_answered_by(order, payload.get("refund_id"))
    if refund is not None:
        refund.status = "completed"
        sub = next(s for s in order.sub_orders if s.id == refund.sub_order_id)
        db.session.flush()
        target = states.REFUNDED if _refunded(sub) >= sub.total else states.PARTIALLY_REFUNDED
        if sub.status == states.REFUND_REQUESTED:
            _move(sub, target, actor_id=None, note=f"refunded {amount}")
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
      (`_return_units` counts units restocked by every other request).

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
    request = _request_answered_by(order, payload.get("refund_id"))
    if request is None:
        return
    _fail_request(order, request, payload.get("failure_code"))


def _fail_request(order: Order, request: RefundRequest, code: str | None) -> None:
    """`request` (approved, locked) ends failed; its sub-order goes back (on_refund_failed)."""
    code = (code or "refund_failed")[:64]
    request.status, request.failure_code = "failed", code
    sub = next(s for s in order.sub_orders if s.id == request.sub_order_id)
    if sub.status == states.REFUND_REQUESTED:
        _record(
            sub,
            sub.status_before_refund or states.PAID,
            actor_id=None,
            note=f"refund of {request.amount} failed ({code})",
        )


def _fail_unstarted_refund(order_id: int, request_id: int, code: str) -> None:
    """The approval committed, then payments refused to even start the refund (no captured payment
    of the order covers it any more, the payment is not refundable, another refund of it is in
    progress): no refund event will ever answer the request, so it fails now with that error's
    code, exactly as a refused refund does (`on_refund_failed`), instead of staying "approved"
    with nothing paid out and no way to ask again. A request a refund event answered meanwhile
    (the gateway refused after the refund was made) is left as that event left it."""
    with transaction():
        order = db.session.scalar(
            select(Order)
            .where(Order.id == order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        request = db.session.scalar(
            select(RefundRequest)
            .where(
                RefundRequest.id == request_id,
                RefundRequest.status == "approved",
                RefundRequest.payment_refund_id.is_(None),
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if order is not None and request is not None:
            _fail_request(order, request, code)


def expire_unpaid(now=None, limit: int = 200) -> int:
    """Cron: cancel unpaid orders past their reservation TTL and release their stock, in every
    tenant. Each order in its own transaction, locked and re-checked (a payment may land meanwhile)."""
    now = now or utcnow()
    with unscoped():
        due = db.session.execute(
            select(Order.id, Order.tenant_id)
            .where(Order.status == states.PENDING, Order.reservation_expires_at < now)
            .order_by(Order.id)
            .limit(limit)
        ).all()
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
                or order.status != states.PENDING
                or order.reservation_expires_at >= now
            ):
                continue
            for sub in order.sub_orders:
                if sub.status == states.PENDING:
                    _cancel_sub(sub, actor_id=None, note="not paid in time: reservation expired")
            order.cancelled_at = now
            done += 1
        with tenant_scope(
            tenant_id
        ):  # after the commit: its pending or authorized payments are voided
            _void_or_refund(order_id)
    return done
