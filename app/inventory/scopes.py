"""Which inventory rows a seller sees, as SQL conditions: the one home of the rule, called by the
inventory services and by the admin's seller scoping (admin/views/inventory.py). A seller sees
its warehouses and the stock, movements and low-stock alerts of its variants (by their copy of
the product's seller, app.inventory.ownership: one indexed lookup); it stocks its variants in its
own warehouses or the platform's (no seller); an admin sees every row of the tenant. The same
rules for one row in hand (`owns_warehouse`, `may_stock`) are what the admin checks a seller's
save against."""

from __future__ import annotations

from app.catalog.models import ProductVariant
from app.catalog.scopes import owns_variant
from app.inventory.models import LowStockAlert, StockLevel, StockMovement, Warehouse
from app.sellers.services import seller_id_of


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


# --- the same rule for one row in hand (a form about to be saved) ---------------------------------


def owns_warehouse(seller_id: int, warehouse: Warehouse | None) -> bool:
    """Whether `warehouse`, as it stands (a form's choice of seller included), is run by seller
    `seller_id`."""
    return warehouse is not None and seller_id_of(warehouse) == seller_id


def may_stock(seller_id: int, variant: ProductVariant | None, warehouse: Warehouse | None) -> bool:
    """A seller keeps stock of its own variants, in its own warehouses or the platform's."""
    return (
        owns_variant(seller_id, variant)
        and warehouse is not None
        and warehouse.seller_id in (None, seller_id)
    )
