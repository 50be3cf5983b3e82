"""Shipment use cases: a label for a sub-order (the seller's, or an admin's doing), which ships it;
the tracking of a shipment, and of an order's shipments, for whoever may see its order; the
shipments of a delivered sub-order say delivered (`record_delivery`, a consumer of orders'
`order.delivered` event).

Creating a label calls the carrier adapter (app.shipping.carriers; the built-in "manual" carrier
draws a real PDF) outside every row lock: the sub-order is checked first, the label is made, then
the sub-order is locked, checked again and moved to shipped (its reserved stock becomes a sale)
together with the new shipment and its first tracking event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import select

from app.catalog.models import ProductVariant
from app.core.db import transaction
from app.core.errors import Conflict, NotFound, PermissionDenied
from app.core.views import view_of
from app.extensions import db
from app.inventory.models import Warehouse
from app.orders import scopes, transitions, visibility
from app.orders.access import GuestAccess
from app.orders.models import Order, OrderEvent, SubOrder
from app.orders.refundable import refund_facts
from app.orders.states import OrderStatus
from app.security.actor import Actor
from app.sellers.models import SellerProfile
from app.shipments.errors import ShipmentError
from app.shipments.models import Shipment, TrackingEvent
from app.shipments.scopes import shipments_of_seller
from app.shipping import carriers

DEFAULT_CARRIER = "manual"


@dataclass(frozen=True)
class TrackingEventView:
    status: str
    description: str
    location: str | None
    at: dt.datetime


@dataclass(frozen=True)
class ShipmentView:
    """A shipment and its tracking events, read inside the transaction."""

    id: int
    sub_order_id: int
    carrier: str
    tracking_number: str
    status: str
    shipped_at: dt.datetime | None
    events: tuple[TrackingEventView, ...]


@dataclass(frozen=True)
class TimelineEntry:
    sub_order_id: int | None
    from_status: str | None
    to_status: str
    note: str | None
    at: dt.datetime


@dataclass(frozen=True)
class OrderTracking:
    """What the caller may see of an order's progress: its refund requests, its status timeline and
    its shipments (a seller: those of its sub-orders)."""

    order_id: int
    number: str
    status: str
    refund_requests: tuple[visibility.RefundRequestView, ...]
    timeline: tuple[TimelineEntry, ...]
    shipments: tuple[ShipmentView, ...]


def _event_view(e) -> TrackingEventView:
    """Ours (TrackingEvent) or a carrier's: the same four facts."""
    return view_of(TrackingEventView, e, at=e.occurred_at)


def shipment_view(shipment: Shipment) -> ShipmentView:
    return view_of(ShipmentView, shipment, events=tuple(_event_view(e) for e in shipment.events))


def order_tracking(actor: Actor | GuestAccess, order_id: int) -> OrderTracking:
    """GET /api/v1/orders/<id>/tracking/: the order's timeline, refund requests and shipments, as
    far as the caller may see the order (app.orders.visibility: a seller its sub-orders' only; a
    customer or guest not the notes staff wrote, app.orders.lifecycle.add_note)."""
    with transaction():
        viewer = visibility.Viewer(actor)
        order = visibility.find_order(viewer, order_id)
        sub_ids = {s.id for s in viewer.subs(order)}
        events = db.session.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
        ).all()
        shipments = db.session.scalars(
            select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id)
        ).all()
        requests = refund_facts([order])[order.id].requests
        return OrderTracking(
            order_id=order.id,
            number=order.number,
            status=order.status,
            refund_requests=tuple(
                visibility.refund_request_view(r) for r in requests if r.sub_order_id in sub_ids
            ),
            timeline=tuple(
                TimelineEntry(
                    sub_order_id=e.sub_order_id,
                    from_status=e.from_status,
                    to_status=e.to_status,
                    note=e.note,
                    at=e.created_at,
                )
                for e in events
                if (e.sub_order_id is None or e.sub_order_id in sub_ids)
                and not (viewer.is_customer and e.is_note)  # staff notes are for staff
            ),
            shipments=tuple(shipment_view(s) for s in shipments if s.sub_order_id in sub_ids),
        )


def _staff_sub_order(
    viewer: visibility.Viewer, sub_order_id: int, *, lock: bool = False
) -> SubOrder:
    if viewer.is_customer:
        raise PermissionDenied("only the seller of the sub-order or an admin ships it")
    stmt = (
        select(SubOrder)
        .where(SubOrder.id == sub_order_id)
        .execution_options(populate_existing=True)
    )
    if viewer.seller_id is not None:
        stmt = stmt.where(scopes.sub_orders_of_seller(viewer.seller_id))
    if lock:
        stmt = stmt.with_for_update()
    sub = db.session.scalar(stmt)
    if sub is None:
        raise NotFound("no such sub-order", details={"sub_order_id": sub_order_id})
    return sub


def _check_shippable(sub: SubOrder) -> None:
    """The orders rule for shipping (state machine and money: a sub-order whose payment was refunded
    is not shipped, whatever refunded it), checked before the carrier makes a label and again after."""
    transitions.check_transition(sub, OrderStatus.SHIPPED)
    if db.session.scalar(select(Shipment.id).where(Shipment.sub_order_id == sub.id)) is not None:
        raise Conflict(
            "this sub-order has a shipment already",
            code=ShipmentError.SHIPMENT_EXISTS,
            details={"sub_order_id": sub.id},
        )


def _label_request(sub: SubOrder, weight_kg: Decimal | None) -> carriers.LabelRequest:
    seller = db.session.get(SellerProfile, sub.seller_id)
    warehouse = db.session.scalar(
        select(Warehouse)
        .where(Warehouse.seller_id == sub.seller_id, Warehouse.is_active.is_(True))
        .order_by(Warehouse.id)
    )
    sender = carriers.Party(
        name=seller.store_name,
        line1=warehouse.name if warehouse else seller.store_name,
        city=(warehouse.city if warehouse else None) or "-",
        postal_code="-",
        country=warehouse.country if warehouse else "US",
    )
    to = sub.order.shipping_address
    recipient = carriers.Party(
        name=to["full_name"],
        line1=to["line1"],
        line2=to.get("line2"),
        city=to["city"],
        postal_code=to["postal_code"],
        country=to["country"],
        region=to.get("region"),
        phone=to.get("phone"),
    )
    if weight_kg is None:
        weights = dict(
            db.session.execute(
                select(ProductVariant.id, ProductVariant.weight_kg).where(
                    ProductVariant.id.in_(
                        [line.variant_id for line in sub.lines if line.variant_id]
                    )
                )
            ).all()
        )
        weight_kg = sum(
            (Decimal(weights.get(line.variant_id) or 0) * line.quantity for line in sub.lines),
            Decimal("0"),
        )
    return carriers.LabelRequest(
        reference=sub.number,
        sender=sender,
        recipient=recipient,
        weight_kg=weight_kg,
        service=sub.shipping_method_name,
    )


def create_label(actor: Actor, sub_order_id: int, weight_kg: Decimal | None = None) -> ShipmentView:
    with transaction():
        viewer = visibility.Viewer(actor)
        sub = _staff_sub_order(viewer, sub_order_id)
        _check_shippable(sub)
        request = _label_request(sub, weight_kg)
        code = sub.carrier or DEFAULT_CARRIER
        adapter = carriers.get(code)
    label = adapter.create_label(request)  # outside row locks: a real carrier is a remote call
    with transaction():
        sub = _staff_sub_order(viewer, sub_order_id, lock=True)
        _check_shippable(sub)  # still (nobody shipped it meanwhile)
        shipment = Shipment(
            order_id=sub.order_id,
            sub_order_id=sub.id,
            seller_id=sub.seller_id,
            carrier=label.carrier,
            tracking_number=label.tracking_number,
            status="label_created",
            label_pdf=label.pdf_bytes,
            shipped_at=label.created_at,
        )
        shipment.events.append(
            TrackingEvent(
                status="label_created",
                description="Label created; parcel shipped",
                occurred_at=label.created_at,
            )
        )
        db.session.add(shipment)
        transitions.set_status(
            sub,
            OrderStatus.SHIPPED,
            actor_id=actor.user_id,
            note=f"{label.carrier} {label.tracking_number}",
        )
        db.session.flush()
        return shipment_view(shipment)


def _visible_shipment(viewer: visibility.Viewer, shipment_id: int) -> Shipment:
    stmt = (
        select(Shipment)
        .join(Order, Order.id == Shipment.order_id)
        .where(Shipment.id == shipment_id)
    )
    if viewer.is_customer:
        stmt = stmt.where(scopes.orders_of_customer(viewer.actor_id))
    elif viewer.seller_id is not None:
        stmt = stmt.where(shipments_of_seller(viewer.seller_id))
    shipment = db.session.scalar(stmt)
    if shipment is None:
        raise NotFound("no such shipment", details={"shipment_id": shipment_id})
    return shipment


def tracking(actor: Actor | GuestAccess, shipment_id: int) -> ShipmentView:
    """The shipment and its timeline: our events, plus the carrier's (none for the manual carrier)."""
    with transaction():
        shipment = _visible_shipment(visibility.Viewer(actor), shipment_id)
        view = shipment_view(shipment)
        code, number = shipment.carrier, shipment.tracking_number
    remote = carriers.get(code).track(number)
    events = sorted(view.events + tuple(_event_view(e) for e in remote), key=lambda e: e.at)
    return replace(view, events=tuple(events))


def label_pdf(actor: Actor, shipment_id: int) -> tuple[str, bytes]:
    with transaction():
        viewer = visibility.Viewer(actor)
        if viewer.is_customer:
            raise PermissionDenied("labels are for the seller and admins")
        shipment = _visible_shipment(viewer, shipment_id)
        return shipment.tracking_number, shipment.label_pdf or b""


def record_delivery(event) -> None:
    """Consumer of `order.delivered` (orders published it in the transaction that moved the
    sub-order to delivered; shipments sits above orders, so this is a reaction, not a call): the
    sub-order's shipments say delivered, with a tracking event at the moment of the transition.
    Applied once per event (app.events.bus.consume)."""
    payload = event.payload
    at = dt.datetime.fromisoformat(payload["delivered_at"])
    for shipment in db.session.scalars(
        select(Shipment).where(Shipment.sub_order_id == int(payload["sub_order_id"]))
    ):
        shipment.status = "delivered"
        shipment.events.append(
            TrackingEvent(status="delivered", description="Delivered", occurred_at=at)
        )
