"""Domain events stored as notifications, so a user who was offline sees them later (the real-time
service pushes `notification.created` to those online): every real-time event of a person's
(order.created, order.status_changed, inventory.low_stock, payout.paid, review.created,
chat.message; inventory.stock_changed is a live figure on the seller's pages, not news, and is
not stored). Consumers of the outbox
(jobs/subscribers.py), applied once per event; each notice is also unique per (event, key) in the
database (app.inbox.services.notify), so a redelivery stores and sends nothing twice.

These notices go in the app and by SMS and push as each user's preferences say, but never by
e-mail: the transactional mails of the same events (order confirmation, a seller's new order, low
stock) are their own consumers' (issue 15, item 2), and a second mail of the same news would be
noise (the mails are app/inbox/mails.py).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from babel.core import Locale, UnknownLocaleError
from babel.numbers import format_currency
from sqlalchemy import select

from app.catalog.models import Product
from app.extensions import db
from app.inbox import services
from app.inbox.catalog import IN_APP, PUSH, SMS
from app.inbox.inputs import Message
from app.inventory.models import StockLevel
from app.orders.models import Order
from app.reviews.models import Review
from app.security import roles
from app.sellers.models import SellerProfile
from app.tenants.models import Tenant

WITHOUT_EMAIL = (IN_APP, SMS, PUSH)


def _seller_users(seller_ids) -> dict[int, int]:
    """seller id -> its user id."""
    return dict(
        db.session.execute(
            select(SellerProfile.id, SellerProfile.user_id).where(
                SellerProfile.id.in_(set(seller_ids))
            )
        ).all()
    )


def _amount(value, currency: str | None, tenant_id: int | None) -> str:
    """An amount as the shop's people read it ($26.31, 26,31 €), in the tenant's language; the
    bare figure and code when either is unusable."""
    tenant = db.session.get(Tenant, tenant_id) if tenant_id else None
    try:
        locale = Locale.parse((tenant.default_language if tenant else "en").replace("-", "_"))
        return format_currency(Decimal(str(value)), currency, locale=locale)
    except (InvalidOperation, UnknownLocaleError, ValueError, TypeError):
        return f"{value} {currency or ''}".strip()


def on_order_created(event) -> None:
    """Each seller of a new order is told of its sub-order; the customer, that it was placed."""
    payload = event.payload
    number = payload.get("number") or f"#{payload['order_id']}"
    currency = payload.get("currency")
    subs = payload.get("sub_orders") or []
    users = _seller_users(s["seller_id"] for s in subs)
    for sub in subs:
        user_id = users.get(sub["seller_id"])
        if user_id is None:
            continue
        services.notify(
            [user_id],
            Message(
                type="order.created",
                title=f"New order {number}",
                body=f"Your part comes to {_amount(sub['total'], currency, event.tenant_id)}.",
                link=f"/admin/sub-orders/show/{sub['sub_order_id']}",
                data={"order_id": payload["order_id"], "sub_order_id": sub["sub_order_id"]},
                channels=WITHOUT_EMAIL,
            ),
            source_event_id=event.id,
            source_key=f"seller:{sub['seller_id']}",
        )
    customer = payload.get("customer_user_id")
    if customer:
        services.notify(
            [customer],
            Message(
                type="order.created",
                title=f"Order {number} placed",
                body=f"Total {_amount(payload.get('total'), currency, event.tenant_id)}.",
                link=f"/orders/{number}",
                data={"order_id": payload["order_id"]},
                channels=WITHOUT_EMAIL,
            ),
            source_event_id=event.id,
            source_key="customer",
        )


def on_low_stock(event) -> None:
    """The seller of a variant at or below its reorder point is told, and the shop's admins."""
    payload = event.payload
    stock = db.session.get(StockLevel, int(payload["stock_level_id"]))
    if stock is None:
        return
    variant = stock.variant
    name = f"{variant.product.title} ({variant.sku})" if variant is not None else "A variant"
    recipients = [
        *_seller_users([stock.seller_id]).values(),
        *services.audience_ids(services.Audience(role=roles.ADMIN)),
    ]
    services.notify(
        recipients,
        Message(
            type="inventory.low_stock",
            title=f"Low stock: {name}"[:200],
            body=(
                f"{payload.get('available')} available in {stock.warehouse.name}, "
                f"reorder point {payload.get('reorder_point')}."
            ),
            link="/admin/low-stock/list/",
            data={
                "stock_level_id": stock.id,
                "variant_id": stock.variant_id,
                "alert_id": payload.get("alert_id"),
            },
            channels=WITHOUT_EMAIL,
        ),
        source_event_id=event.id,
        source_key="low_stock",
    )


def _words(status) -> str:
    return str(status or "").replace("_", " ").capitalize()


def on_order_status_changed(event) -> None:
    """The sub-order's seller and the order's customer (whom the real-time service tells too)."""
    payload = event.payload
    if payload.get("from_status") == payload.get("to_status"):
        return
    order_id, sub_id = payload["order_id"], payload.get("sub_order_id")
    number = db.session.scalar(select(Order.number).where(Order.id == order_id)) or f"#{order_id}"
    status = _words(payload.get("to_status"))
    data = {"order_id": order_id, "sub_order_id": sub_id, "status": payload.get("to_status")}
    seller_user = (
        _seller_users([payload["seller_id"]]).get(payload["seller_id"])
        if (payload.get("seller_id"))
        else None
    )
    if seller_user is not None and sub_id:
        services.notify(
            [seller_user],
            Message(
                type="order.status_changed",
                title=f"Order {number}: {status}",
                link=f"/admin/sub-orders/show/{sub_id}",
                data=data,
                channels=WITHOUT_EMAIL,
            ),
            source_event_id=event.id,
            source_key=f"seller:{payload['seller_id']}",
        )
    customer = payload.get("customer_user_id")
    if customer:
        services.notify(
            [customer],
            Message(
                type="order.status_changed",
                title=f"Order {number}: {status}",
                link=f"/orders/{number}",
                data=data,
                channels=WITHOUT_EMAIL,
            ),
            source_event_id=event.id,
            source_key="customer",
        )


def on_payout_paid(event) -> None:
    """The seller paid (its mail is payouts' own consumer's)."""
    payload = event.payload
    user = _seller_users([payload.get("seller_id")]).get(payload.get("seller_id"))
    if user is None:
        return
    services.notify(
        [user],
        Message(
            type="payout.paid",
            title=f"Payout of {_amount(payload.get('amount'), payload.get('currency'), event.tenant_id)} paid",
            body=f"Reference: {payload['reference']}." if payload.get("reference") else "",
            link=f"/admin/payouts/show/{payload.get('payout_id')}",
            data={"payout_id": payload.get("payout_id")},
            channels=WITHOUT_EMAIL,
        ),
        source_event_id=event.id,
        source_key="seller",
    )


def on_review_created(event) -> None:
    """The seller of the reviewed product, once the review is published."""
    review = db.session.get(Review, int(event.payload.get("review_id") or 0))
    if review is None or review.status != "approved":
        return
    product = db.session.get(Product, review.product_id)
    user = _seller_users([product.seller_id]).get(product.seller_id) if product else None
    if user is None:
        return
    services.notify(
        [user],
        Message(
            type="review.created",
            title=f"New {review.rating}-star review of {product.title}"[:200],
            body=review.title,
            link=f"/admin/reviews/show/{review.id}",
            data={"review_id": review.id, "product_id": product.id, "rating": review.rating},
            channels=WITHOUT_EMAIL,
        ),
        source_event_id=event.id,
        source_key="seller",
    )


def on_chat_message(event) -> None:
    """The conversation's other side (the payload names them; notify keeps the tenant's active
    users only). In the app and by push or SMS as each chose; chat is never mailed per message."""
    payload = event.payload
    recipients = [int(i) for i in payload.get("recipient_user_ids") or [] if str(i).isdigit()]
    if not recipients:
        return
    conversation = payload.get("conversation_id")
    services.notify(
        recipients,
        Message(
            type="chat.message",
            title="New chat message",
            body=str(payload.get("body") or "")[:500],
            # a customer wrote: the seller's people answer in the admin; else the customer, on
            # the storefront
            link=(
                f"/admin/chat/show/{conversation}"
                if payload.get("sender_side") == "customer"
                else f"/chat/{conversation}"
            ),
            data={"conversation_id": conversation, "message_id": payload.get("message_id")},
            channels=WITHOUT_EMAIL,
        ),
        source_event_id=event.id,
        source_key="chat",
    )
