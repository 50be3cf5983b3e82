"""Shipments of sub-orders: carrier labels, tracking numbers and tracking events."""
