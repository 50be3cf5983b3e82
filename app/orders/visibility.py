"""Who sees which orders, and how: a customer sees its own orders; a seller the orders holding one
of its sub-orders (only its sub-orders, totals over them, and its share of what was refunded:
app.orders.shares); an admin every order of the tenant; a guest the one order whose access token
it holds (app.orders.access), as its customer. Another user's order (or a wrong token) answers
404, never its data. `order_view` is what the viewer sees of an order (OrderView), which the
faces shape."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from app.core.db import transaction
from app.core.errors import NotFound, PermissionDenied
from app.core.paging import Page, paginate
from app.core.views import view_of
from app.extensions import db
from app.orders import scopes
from app.orders.access import GuestAccess
from app.orders.models import Order, RefundRequest, SubOrder
from app.orders.refundable import ZERO, RefundFacts, refund_facts
from app.orders.shares import SellerShares
from app.orders.states import OrderStatus
from app.orders.transitions import allowed_targets
from app.security.actor import Actor


class Viewer:
    """The caller's standing towards orders: admin, seller (with its profile id), customer, or a
    guest holding one order's access token (a customer of that order alone, with no user)."""

    def __init__(self, actor: Actor | GuestAccess):
        self.guest = actor if isinstance(actor, GuestAccess) else None
        if self.guest is not None:
            self.actor, self.is_admin, self.seller_id, self.is_customer = None, False, None, True
            return
        self.actor = actor
        self.is_admin = actor.is_admin
        self.seller_id = actor.seller_id  # looked up here only for a seller
        self.is_customer = not self.is_admin and self.seller_id is None and actor.is_customer
        if not (self.is_admin or self.seller_id is not None or self.is_customer):
            raise PermissionDenied("your role has no orders")

    @property
    def actor_id(self) -> int | None:
        return self.actor.user_id if self.actor is not None else None

    def subs(self, order: Order) -> list[SubOrder]:
        if self.seller_id is not None:
            return [s for s in order.sub_orders if s.seller_id == self.seller_id]
        return list(order.sub_orders)


def visible_orders(viewer: Viewer, *, status: str | None = None):
    """SELECT of the orders the viewer sees (app.orders.scopes); `status`: only those in it (for
    a seller: holding one of its sub-orders in it)."""
    stmt = select(Order)
    if viewer.guest is not None:
        stmt = stmt.where(scopes.order_of_guest(viewer.guest))
    elif viewer.is_customer:
        stmt = stmt.where(scopes.orders_of_customer(viewer.actor_id))
    elif viewer.seller_id is not None:
        stmt = stmt.where(scopes.orders_of_seller(viewer.seller_id, sub_order_status=status))
        return stmt
    if status:
        stmt = stmt.where(Order.status == status)
    return stmt


def find_order(viewer: Viewer, order_id: int, *, lock: bool = False) -> Order:
    stmt = (
        visible_orders(viewer).where(Order.id == order_id).execution_options(populate_existing=True)
    )
    if lock:
        stmt = stmt.with_for_update(of=Order)
    order = db.session.scalar(stmt)
    if order is None:
        raise NotFound("no such order", details={"order_id": order_id})
    return order


def subs_to_change(viewer: Viewer, order: Order, sub_order_id: int | None) -> list[SubOrder]:
    subs = viewer.subs(order)
    if sub_order_id is not None:
        subs = [s for s in subs if s.id == sub_order_id]
        if not subs:
            raise NotFound(
                "no such sub-order in this order", details={"sub_order_id": sub_order_id}
            )
    return subs


@dataclass(frozen=True)
class OrderLineView:
    """An order line, and how many of its units were asked back (requests neither rejected nor failed)."""

    id: int
    variant_id: int | None
    product_id: int | None
    sku: str
    title: str
    quantity: int
    unit_price: Decimal
    subtotal: Decimal
    discount_total: Decimal
    discounts: list
    tax_total: Decimal
    tax_breakdown: list
    total: Decimal
    commission_rate: Decimal
    commission_amount: Decimal
    returned_quantity: int


@dataclass(frozen=True)
class SubOrderView:
    """A sub-order, the statuses it may move to and what a refund request may still ask for it."""

    id: int
    number: str
    seller_id: int
    status: str
    allowed_transitions: list[str]
    refundable: Decimal
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    shipping_total: Decimal
    total: Decimal
    commission_rate: Decimal
    commission_amount: Decimal
    shipping_method_id: int | None
    shipping_method_name: str | None
    carrier: str | None
    shipping_tax: list
    lines: tuple[OrderLineView, ...]


@dataclass(frozen=True)
class RefundRequestLineView:
    line_id: int
    quantity: int
    amount: Decimal
    restocked_quantity: int


@dataclass(frozen=True)
class RefundRequestView:
    """A refund request: its id is what the seller or an admin decides with."""

    id: int
    sub_order_id: int
    status: str
    amount: Decimal
    shipping_amount: Decimal
    reason: str
    requested_by_user_id: int | None
    restock: bool
    failure_code: str | None
    decided_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    lines: tuple[RefundRequestLineView, ...]


@dataclass(frozen=True)
class OrderView:
    """An order as one viewer may see it (a seller: its sub-orders, their totals, their refund
    requests and its share of what was refunded), read inside the transaction: plain values, so
    shaping it after the commit reads nothing more. `payment` and `access_token`: only for the
    order just placed (app.checkout)."""

    id: int
    number: str
    status: str
    email: str
    customer_user_id: int | None
    is_guest: bool
    currency: str
    prices_include_tax: bool
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    shipping_total: Decimal
    total: Decimal
    refunded_total: Decimal
    payment_status: str
    payment_method: str | None
    paid_at: dt.datetime | None
    shipping_address: dict
    notes: str | None
    coupon_codes: list[str]
    reservation_expires_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    sub_orders: tuple[SubOrderView, ...]
    refund_requests: tuple[RefundRequestView, ...]
    payment: Any = None  # app.checkout's PaymentStart (checkout sits above orders)
    access_token: str | None = None


def order_view(
    order: Order,
    viewer: Viewer | None,
    facts: RefundFacts | None = None,
    seller_shares: SellerShares | None = None,
) -> OrderView:
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

    return view_of(
        OrderView,
        order,
        subtotal=total("subtotal"),
        discount_total=total("discount_total"),
        tax_total=total("tax_total"),
        shipping_total=total("shipping_total"),
        total=total("total"),
        refunded_total=refunded,
        reservation_expires_at=order.reservation_expires_at
        if order.status == OrderStatus.PENDING
        else None,
        sub_orders=tuple(_sub_view(s, returned, facts.position.left(s)) for s in subs),
        refund_requests=tuple(refund_request_view(r) for r in requests),
    )


def refund_request_view(request: RefundRequest) -> RefundRequestView:
    return view_of(
        RefundRequestView,
        request,
        lines=tuple(
            view_of(RefundRequestLineView, rl, line_id=rl.order_line_id) for rl in request.lines
        ),
    )


def _sub_view(
    sub: SubOrder, returned: dict[int, int] | None = None, refundable: Decimal = ZERO
) -> SubOrderView:
    return view_of(
        SubOrderView,
        sub,
        allowed_transitions=allowed_targets(sub),
        refundable=refundable,
        lines=tuple(
            view_of(OrderLineView, line, returned_quantity=(returned or {}).get(line.id, 0))
            for line in sub.lines
        ),
    )


def list_orders(actor: Actor, *, status: str | None, page: int, page_size: int) -> Page[OrderView]:
    with transaction():
        viewer = Viewer(actor)
        stmt = visible_orders(viewer, status=status or None)
        result = paginate(stmt.order_by(Order.id.desc()), page, page_size)
        facts = refund_facts(result.items)
        shares = (
            SellerShares.for_orders(viewer.seller_id, [o.id for o in result.items])
            if viewer.seller_id is not None
            else None
        )
        views = [order_view(o, viewer, facts[o.id], shares) for o in result.items]
        return replace(result, items=views)


def get_order(actor: Actor | GuestAccess, order_id: int) -> OrderView:
    with transaction():
        viewer = Viewer(actor)
        return order_view(find_order(viewer, order_id), viewer)
