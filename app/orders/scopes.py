"""Which order rows an actor may see, as SQL conditions: the one home of each rule, called by the
orders services (app.orders.visibility), by the money a seller sees (app.orders.shares) and by
the admin's seller scoping (admin/views/orders.py, admin/views/payments.py).

A customer sees its own orders; a guest the one order whose access token it holds; a seller the
orders holding one of its sub-orders and, of them, only its sub-orders, their lines, timeline
steps and refund requests; an admin every row of the tenant (no condition: tenancy is the ORM's).
"""

from __future__ import annotations

from sqlalchemy import select

from app.orders.access import GuestAccess
from app.orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    RefundRequest,
    RefundRequestLine,
    SubOrder,
)


def order_ids_of_seller(seller_id: int, *, sub_order_status: str | None = None):
    """SELECT of the ids of the orders holding one of the seller's sub-orders (in
    `sub_order_status`, when given)."""
    stmt = select(SubOrder.order_id).where(SubOrder.seller_id == seller_id)
    if sub_order_status is not None:
        stmt = stmt.where(SubOrder.status == sub_order_status)
    return stmt


def orders_of_seller(seller_id: int, *, sub_order_status: str | None = None):
    """Orders holding one of the seller's sub-orders (in `sub_order_status`, when given): IN
    (subquery), which MariaDB runs as one semi-join."""
    return Order.id.in_(order_ids_of_seller(seller_id, sub_order_status=sub_order_status))


def orders_of_customer(user_id: int):
    return Order.customer_user_id == user_id


def order_of_guest(guest: GuestAccess):
    """The guest order whose access token the guest holds."""
    return (
        (Order.id == guest.order_id)
        & Order.customer_user_id.is_(None)
        & (Order.access_token_hash == guest.token_hash)
    )


def sub_orders_of_seller(seller_id: int):
    return SubOrder.seller_id == seller_id


def sub_order_ids_of_seller(seller_id: int):
    return select(SubOrder.id).where(sub_orders_of_seller(seller_id))


def order_lines_of_seller(seller_id: int):
    return OrderLine.seller_id == seller_id


def order_events_of_seller(seller_id: int):
    """The timeline steps of the seller's sub-orders (not the whole order's)."""
    return OrderEvent.sub_order_id.in_(sub_order_ids_of_seller(seller_id))


def refund_requests_of_seller(seller_id: int):
    return RefundRequest.sub_order_id.in_(sub_order_ids_of_seller(seller_id))


def refund_request_lines_of_seller(seller_id: int):
    return RefundRequestLine.order_line_id.in_(
        select(OrderLine.id).where(order_lines_of_seller(seller_id))
    )
