"""Outbox consumers that turn domain events into Socket.IO events (wired in jobs/subscribers.py).

Each one decides the rooms (rooms.py) and a small payload, and emits after its consumption
commits. The payloads are documented in README.md ("Real-time") and docs/asyncapi.yaml; every one
carries `event_id` (the outbox id: clients drop one they have seen) and keeps to what its rooms may
see: a seller hears of its own sub-order of a new order, never of another seller's.
"""

from __future__ import annotations

from sqlalchemy import select

from app.catalog.models import ProductVariant
from app.core.tenancy import unscoped
from app.events.models import OutboxEvent
from app.extensions import db
from app.realtime import rooms
from app.realtime.emitter import emit_after_commit
from app.security.models import User


def _base(event: OutboxEvent) -> dict:
    return {"event_id": event.id, "occurred_at": event.created_at.isoformat()}


def on_order_created(event: OutboxEvent) -> None:
    """Each seller of the order (its own sub-order only), the customer, the tenant's staff."""
    data = event.payload
    order = {
        **_base(event),
        "order_id": data["order_id"],
        "number": data.get("number"),
        "currency": data.get("currency"),
    }
    for sub in data.get("sub_orders", []):
        emit_after_commit(
            "order.created",
            {**order, "sub_order_id": sub["sub_order_id"], "total": sub["total"]},
            [rooms.seller(sub["seller_id"])],
        )
    whole = {**order, "total": data.get("total")}
    if data.get("customer_user_id"):
        emit_after_commit("order.created", whole, [rooms.user(data["customer_user_id"])])
    if event.tenant_id is not None:
        emit_after_commit(
            "order.created",
            {**whole, "sub_orders": len(data.get("sub_orders", []))},
            [rooms.tenant_staff(event.tenant_id)],
        )


def on_order_status_changed(event: OutboxEvent) -> None:
    """The sub-order's seller and the order's customer."""
    data = event.payload
    targets = []
    if data.get("seller_id"):
        targets.append(rooms.seller(data["seller_id"]))
    if data.get("customer_user_id"):
        targets.append(rooms.user(data["customer_user_id"]))
    emit_after_commit(
        "order.status_changed",
        {
            **_base(event),
            "order_id": data["order_id"],
            "sub_order_id": data.get("sub_order_id"),
            "from_status": data.get("from_status"),
            "to_status": data.get("to_status"),
            "order_status": data.get("order_status"),
        },
        targets,
    )


def _variant(variant_id) -> ProductVariant | None:
    return db.session.get(ProductVariant, variant_id) if variant_id else None


def on_low_stock(event: OutboxEvent) -> None:
    """The seller of the product."""
    data = event.payload
    variant = _variant(data.get("variant_id"))
    if variant is None:  # deleted since
        return
    emit_after_commit(
        "inventory.low_stock",
        {
            **_base(event),
            "stock_level_id": data.get("stock_level_id"),
            "variant_id": variant.id,
            "product_id": variant.product_id,
            "sku": variant.sku,
            "available": data.get("available"),
            "reorder_point": data.get("reorder_point"),
        },
        [rooms.seller(variant.seller_id)],
    )


def on_stock_changed(event: OutboxEvent) -> None:
    """The seller of the product: what its stock row holds now."""
    data = event.payload
    variant = _variant(data.get("variant_id"))
    if variant is None:
        return
    on_hand, reserved = data.get("on_hand"), data.get("reserved")
    emit_after_commit(
        "inventory.stock_changed",
        {
            **_base(event),
            "stock_level_id": data.get("stock_level_id"),
            "variant_id": variant.id,
            "product_id": variant.product_id,
            "sku": variant.sku,
            "warehouse_id": data.get("warehouse_id"),
            "on_hand": on_hand,
            "reserved": reserved,
            "available": None if on_hand is None or reserved is None else on_hand - reserved,
            "reason": data.get("reason"),
        },
        [rooms.seller(variant.seller_id)],
    )


def on_payout_paid(event: OutboxEvent) -> None:
    """The seller paid: the payout's own fields (payouts publishes them), nothing else."""
    data = event.payload
    if not data.get("seller_id"):
        return
    payload = {key: value for key, value in data.items() if key != "seller_id"}
    emit_after_commit("payout.paid", {**payload, **_base(event)}, [rooms.seller(data["seller_id"])])


def on_addressed(event: OutboxEvent) -> None:
    """Generic: an event whose payload names its recipients ("recipient_user_ids": [...]) goes to
    each recipient's room, under the event's own name, without the list (`notification.created`,
    `chat.message`). Only users of the event's tenant are addressed, whatever the list says."""
    data = event.payload
    wanted = {int(i) for i in data.get("recipient_user_ids") or [] if str(i).isdigit()}
    if not wanted:
        return
    with unscoped():
        recipients = sorted(
            db.session.scalars(
                select(User.id).where(
                    User.id.in_(wanted),
                    User.tenant_id.is_(None)
                    if event.tenant_id is None
                    else User.tenant_id == event.tenant_id,
                )
            )
        )
    payload = {key: value for key, value in data.items() if key != "recipient_user_ids"}
    emit_after_commit(
        event.name, {**payload, **_base(event)}, [rooms.user(uid) for uid in recipients]
    )
