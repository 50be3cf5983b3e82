"""Transactional mails (issue 15, item 2): consumers of the outbox (jobs/subscribers.py, queue
"high"), each applied once per event through app.events.bus.consume, so a redelivered event mails
nobody twice. A consumer decides who is mailed what (one audience each) and publishes one
`mail.requested` per mail in its own transaction; `deliver` renders and sends each in a job of its
own, once per event too: a mail that cannot be sent is retried alone and never resends another.

Who is told of what:
- order.created: the customer (order confirmation, to the order's address: guests too); each
  seller of the order its own part (its lines and total, never another seller's).
- order.status_changed to shipped (with the parcels' carrier and tracking number), delivered or
  cancelled: the customer, for the sub-order concerned.
- refund.requested: the sub-order's seller; the shop's admins when the seller asked itself.
- refund.decided (approved or refused) and refund.completed (the money went back): the customer.
- payment.failed: the customer, while its order still waits to be paid.
- inventory.low_stock: the product's seller and the shop's admins.
- review.created: the seller of the reviewed product (a published review only).

A user who switched the e-mail channel off for the type (app.inbox.preferences, the types are
app.notifications.templating.KINDS' `preference`) is not mailed; a guest customer has no
preferences and is always mailed. Inactive users are never mailed. Rendering is the tenant's
(its own templates, branding, currency, time zone: app.notifications.templating).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import select

from app.catalog.models import Product
from app.events.bus import publish
from app.extensions import db
from app.inbox import preferences
from app.inbox.catalog import EMAIL
from app.inventory.models import StockLevel
from app.notifications import mail, templating
from app.orders.models import Order, RefundRequest, SubOrder
from app.orders.states import OrderStatus
from app.reviews.models import Review
from app.security import roles
from app.security.models import User
from app.sellers.models import SellerProfile
from app.shipments.models import Shipment

log = logging.getLogger(__name__)

# one mail to send: {kind, to, recipient_name, user_id, context, source_event_id}
MAIL_REQUESTED = "mail.requested"


@dataclass(frozen=True)
class Recipient:
    email: str
    user_id: int | None = None  # None: a guest (no preferences)
    name: str = ""


def _users(ids) -> dict[int, User]:
    """The tenant's active users among `ids` (the tenant rule scopes the query)."""
    wanted = {int(i) for i in ids if i}
    if not wanted:
        return {}
    return {
        u.id: u
        for u in db.session.scalars(select(User).where(User.id.in_(wanted), User.active.is_(True)))
    }


def _admins() -> list[Recipient]:
    rows = db.session.scalars(
        select(User)
        .join(User.roles)
        .where(Role.name == roles.ADMIN, User.active.is_(True), User.email.is_not(None))
        .order_by(User.id)
        .distinct()
    )
    return [Recipient(u.email, u.id, u.first_name or "") for u in rows]


def _seller(seller_id) -> Recipient | None:
    profile = db.session.get(SellerProfile, int(seller_id)) if seller_id else None
    if profile is None or profile.user is None or not profile.user.active:
        return None
    to = profile.contact_email or profile.user.email
    return Recipient(to, profile.user_id, profile.store_name) if to else None


def _customer(order: Order) -> Recipient | None:
    if order.customer_user_id is None:
        return Recipient(order.email) if order.email else None
    user = _users([order.customer_user_id]).get(order.customer_user_id)
    if user is None:
        return None
    return Recipient(order.email or user.email, user.id, user.first_name or "")


def send(kind: str, recipients, context: dict, event) -> int:
    """Ask for `kind` to be mailed to each recipient whose e-mail preference for its type is on
    (one `mail.requested` event each, in the consumer's transaction); returns how many. Each mail
    is then sent by its own job (`deliver`), once: a mail that fails is retried alone and never
    sends another recipient's again."""
    recipients = [r for r in recipients if r is not None and r.email]
    unique: dict[str, Recipient] = {}
    for r in recipients:
        unique.setdefault(r.email.lower(), r)
    users = [r.user_id for r in unique.values() if r.user_id is not None]
    allowed = preferences.channels_for(users, templating.KINDS[kind].preference) if users else {}
    wanted = [
        r for r in unique.values() if r.user_id is None or allowed.get(r.user_id, {}).get(EMAIL)
    ]
    data = _jsonable(context)
    for r in wanted:
        publish(
            MAIL_REQUESTED,
            {
                "kind": kind,
                "to": r.email,
                "recipient_name": r.name,
                "user_id": r.user_id,
                "context": data,
                "source_event_id": event.id,
            },
            aggregate="mail",
            aggregate_id=event.id,
            tenant_id=event.tenant_id,
        )
    return len(wanted)


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def deliver(event) -> None:
    """Consumer of `mail.requested`: render the mail in its tenant's templates and branding, and
    send it (once per event through the outbox)."""
    payload = event.payload or {}
    kind = payload.get("kind")
    if kind not in templating.KINDS or not payload.get("to"):
        log.warning("mail request %s names no known mail or address; dropped", event.id)
        return
    tenant = templating.tenant_of(event.tenant_id)
    context = {**(payload.get("context") or {}), "recipient_name": payload.get("recipient_name")}
    rendered = templating.render(kind, context, tenant)
    shop = templating.shop_of(tenant)
    mail.deliver(templating.message(rendered, payload["to"], shop, key=f"mail-{event.id}"))


def _line(line) -> dict:
    return {
        "title": line.title,
        "sku": line.sku,
        "quantity": line.quantity,
        "unit_price": str(line.unit_price),
        "total": str(line.total),
    }


def _address(address) -> str:
    if not isinstance(address, dict):
        return str(address or "")
    keys = ("full_name", "line1", "line2", "postal_code", "city", "region", "country")
    return ", ".join(str(address[k]) for k in keys if address.get(k))


def _order_link(order: Order) -> str:
    return mail.frontend_link(f"/orders/{order.number}")


def _admin_link(path: str) -> str:
    return mail.frontend_link(path)


def _order(order_id) -> Order | None:
    return db.session.get(Order, int(order_id)) if order_id else None


def _sub(order: Order, sub_order_id) -> SubOrder | None:
    return next((s for s in order.sub_orders if s.id == int(sub_order_id or 0)), None)


# --- order placed ------------------------------------------------------------------------------


def order_confirmation(event) -> None:
    order = _order(event.payload.get("order_id"))
    if order is None:
        return
    lines = [_line(line) for sub in order.sub_orders for line in sub.lines]
    send(
        "order_confirmation",
        [_customer(order)],
        {
            "order_number": order.number,
            "placed_at": order.created_at,
            "total": str(order.total),
            "currency": order.currency,
            "lines": lines,
            "shipping_address": _address(order.shipping_address),
            "link": _order_link(order),
        },
        event,
    )


def seller_new_order(event) -> None:
    """Each seller its own part: its lines and its sub-order's total only."""
    order = _order(event.payload.get("order_id"))
    if order is None:
        return
    for sub in order.sub_orders:
        seller = _seller(sub.seller_id)
        if seller is None:
            continue
        send(
            "seller_new_order",
            [seller],
            {
                "order_number": order.number,
                "placed_at": order.created_at,
                "total": str(sub.total),
                "currency": order.currency,
                "lines": [_line(line) for line in sub.lines],
                "store_name": seller.name,
                "link": _admin_link(f"/admin/sub-orders/show/{sub.id}"),
            },
            event,
        )


# --- status changes ----------------------------------------------------------------------------

STATUS_KINDS = {
    OrderStatus.SHIPPED: "order_shipped",
    OrderStatus.DELIVERED: "order_delivered",
    OrderStatus.CANCELLED: "order_cancelled",
}


def status_changed(event) -> None:
    payload = event.payload
    kind = STATUS_KINDS.get(payload.get("to_status"))
    if kind is None or payload.get("from_status") == payload.get("to_status"):
        return
    order = _order(payload.get("order_id"))
    sub = _sub(order, payload.get("sub_order_id")) if order is not None else None
    if sub is None:
        return
    context = {
        "order_number": order.number,
        "store_name": sub.seller.store_name if sub.seller else "",
        "total": str(sub.total),
        "currency": order.currency,
        "lines": [_line(line) for line in sub.lines],
        "link": _order_link(order),
    }
    if kind == "order_shipped":
        context["shipments"] = [
            {"carrier": s.carrier, "tracking_number": s.tracking_number}
            for s in db.session.scalars(
                select(Shipment).where(Shipment.sub_order_id == sub.id).order_by(Shipment.id)
            )
        ]
    send(kind, [_customer(order)], context, event)


# --- refunds -----------------------------------------------------------------------------------


def refund_requested(event) -> None:
    """The sub-order's seller decides; a request the seller made itself is for the admins."""
    payload = event.payload
    order = _order(payload.get("order_id"))
    sub = _sub(order, payload.get("sub_order_id")) if order is not None else None
    request = db.session.get(RefundRequest, int(payload.get("refund_request_id") or 0))
    if sub is None or request is None:
        return
    seller = _seller(sub.seller_id)
    by_seller = seller is not None and payload.get("requested_by_user_id") == seller.user_id
    recipients = _admins() if by_seller or seller is None else [seller]
    path = f"/admin/refund-requests/show/{request.id}"
    send(
        "refund_requested",
        recipients,
        {
            "order_number": order.number,
            "store_name": sub.seller.store_name if sub.seller else "",
            "amount": str(request.amount),
            "currency": order.currency,
            "reason": request.reason,
            "link": _admin_link(path),
        },
        event,
    )


def refund_decided(event) -> None:
    payload = event.payload
    order = _order(payload.get("order_id"))
    sub = _sub(order, payload.get("sub_order_id")) if order is not None else None
    if sub is None:
        return
    send(
        "refund_decided",
        [_customer(order)],
        {
            "order_number": order.number,
            "store_name": sub.seller.store_name if sub.seller else "",
            "amount": payload.get("amount"),
            "currency": payload.get("currency") or order.currency,
            "approved": bool(payload.get("approved")),
            "note": payload.get("note") or "",
            "link": _order_link(order),
        },
        event,
    )


def refund_paid(event) -> None:
    payload = event.payload
    order = _order(payload.get("order_id"))
    if order is None:
        return
    send(
        "refund_paid",
        [_customer(order)],
        {
            "order_number": order.number,
            "amount": payload.get("amount"),
            "currency": payload.get("currency") or order.currency,
            "link": _order_link(order),
        },
        event,
    )


def payment_failed(event) -> None:
    """While the order waits to be paid (the customer may pay again); not once it is paid by
    another payment, or cancelled."""
    payload = event.payload
    order = _order(payload.get("order_id"))
    if order is None or order.status != OrderStatus.PENDING:
        return
    send(
        "payment_failed",
        [_customer(order)],
        {
            "order_number": order.number,
            "amount": payload.get("amount"),
            "currency": payload.get("currency") or order.currency,
            "failure_code": payload.get("failure_code") or "",
            "link": _order_link(order),
        },
        event,
    )


# --- low stock, reviews ------------------------------------------------------------------------


def low_stock(event) -> None:
    payload = event.payload
    stock = db.session.get(StockLevel, int(payload.get("stock_level_id") or 0))
    if stock is None or stock.variant is None:
        return
    variant = stock.variant
    seller = _seller(stock.seller_id)
    send(
        "low_stock",
        [seller, *_admins()],
        {
            "product_title": variant.product.title,
            "sku": variant.sku,
            "warehouse": stock.warehouse.name,
            "available": payload.get("available"),
            "reorder_point": payload.get("reorder_point"),
            "store_name": seller.name if seller else "",
            "link": _admin_link("/admin/low-stock/list/"),
        },
        event,
    )


def review_posted(event) -> None:
    payload = event.payload
    review = db.session.get(Review, int(payload.get("review_id") or 0))
    if review is None or review.status != "approved":
        return
    product = db.session.get(Product, review.product_id)
    seller = _seller(product.seller_id) if product is not None else None
    if seller is None:
        return
    customer = review.customer.user if review.customer is not None else None
    reviewer = " ".join(
        part
        for part in (
            getattr(customer, "first_name", "") or "",
            (getattr(customer, "last_name", "") or "")[:1] + "."
            if getattr(customer, "last_name", "")
            else "",
        )
        if part
    )
    send(
        "review_posted",
        [seller],
        {
            "product_title": product.title,
            "rating": review.rating,
            "title": review.title,
            "body": review.body or "",
            "reviewer": reviewer or "A customer",
            "store_name": seller.name,
            "link": _admin_link(f"/admin/reviews/show/{review.id}"),
        },
        event,
    )
