"""Which inventory rows a seller sees, as SQL conditions: the one home of the rule, called by the
inventory services and by the admin's seller scoping (admin/views/inventory.py). A seller sees
its warehouses and the stock, movements and low-stock alerts of its variants (by their copy of
the product's seller, app.inventory.ownership: one indexed lookup); it stocks its variants in its
own warehouses or the platform's (no seller); an admin sees every row of the tenant."""

from __future__ import annotations

from app.inventory.models import LowStockAlert, StockLevel, StockMovement, Warehouse


def warehouses_of_seller(seller_id: int):
    return Warehouse.seller_id == seller_id


def warehouses_usable_by_seller(seller_id: int):
    """Its own warehouses and the platform's (fulfilment) ones."""
    return warehouses_of_seller(seller_id) | Warehouse.seller_id.is_(None)


def stock_of_seller(seller_id: int):
    return StockLevel.seller_id == seller_id


def movements_of_seller(seller_id: int):
    return StockMovement.seller_id == seller_id


def alerts_of_seller(seller_id: int):
    return LowStockAlert.seller_id == seller_id
