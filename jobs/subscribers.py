"""Which app service consumes which domain event, and on which queue."""

from __future__ import annotations

from app.events.bus import EventBus
from app.inventory import services as inventory


def subscribe_all(bus: EventBus) -> None:
    bus.subscribe("inventory.stock_changed", "inventory.low_stock_check", inventory.check_low_stock, queue="high")
