"""The error codes of shipments."""

from __future__ import annotations

from app.core.errors import ErrorCode


class ShipmentError(ErrorCode):
    SHIPMENT_EXISTS = "shipment_exists", 409, "the sub-order has a shipment already"
