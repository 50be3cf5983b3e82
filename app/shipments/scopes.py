"""Which shipment rows an actor may see, as SQL conditions: the one home of the rule, called by the
shipments services and by the admin's seller scoping (admin/views/orders.py). A seller sees the
shipments of its sub-orders and their tracking events; a customer those of its orders
(app.orders.scopes); an admin every one of the tenant."""

from __future__ import annotations

from sqlalchemy import select

from app.shipments.models import Shipment, TrackingEvent


def shipments_of_seller(seller_id: int):
    return Shipment.seller_id == seller_id


def tracking_events_of_seller(seller_id: int):
    return TrackingEvent.shipment_id.in_(select(Shipment.id).where(shipments_of_seller(seller_id)))
