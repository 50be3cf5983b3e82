"""Keeps the copied `seller_id` of variants, stock levels, stock movements and low-stock alerts
equal to their product's seller, inside every flush (a before_flush listener, installed by
app/hooks.py).

The copy makes "this seller's rows" one indexed lookup (seller lists in the admin, a seller's
API) instead of a join through products on tables that grow to millions of rows. Core inserts
that bypass the ORM (the demo seeder) must set it themselves. It lives with inventory, the higher
of the two domains whose tables it keeps (catalog's variants, inventory's stock rows).
"""

from __future__ import annotations

from sqlalchemy import inspect, select, update
from sqlalchemy.orm import Session

from app.catalog.models import Product, ProductVariant
from app.inventory.models import LowStockAlert, StockLevel, StockMovement


def sync_seller_ids(session: Session, flush_context, instances) -> None:
    """before_flush: variants take their product's seller_id, stock levels their variant's,
    movements and alerts their stock level's; a product given to another seller moves them all."""
    pending = list(session.new) + list(session.dirty)
    with session.no_autoflush:
        # products first: a change of seller moves everything the product owns
        for obj in pending:
            if isinstance(obj, Product) and obj.id is not None:
                hist = inspect(obj).attrs.seller_id.history
                if hist.deleted and hist.added and hist.deleted[0] != hist.added[0]:
                    _move_product(session, obj.id, hist.added[0])
        for obj in pending:
            if isinstance(obj, ProductVariant):
                product = (
                    obj.product if obj.product is not None else session.get(Product, obj.product_id)
                )
                if product is not None and obj.seller_id != product.seller_id:
                    obj.seller_id = product.seller_id
        for obj in pending:
            if isinstance(obj, StockLevel):
                variant = (
                    obj.variant
                    if obj.variant is not None
                    else session.get(ProductVariant, obj.variant_id)
                )
                if variant is not None and obj.seller_id != variant.seller_id:
                    obj.seller_id = variant.seller_id
        for obj in pending:
            if isinstance(obj, (StockMovement, LowStockAlert)) and obj.seller_id is None:
                stock = (
                    obj.stock_level
                    if obj.stock_level is not None
                    else session.get(StockLevel, obj.stock_level_id)
                )
                if stock is not None:
                    obj.seller_id = stock.seller_id


def _move_product(session: Session, product_id: int, seller_id: int) -> None:
    conn = session.connection()
    variant_ids = select(ProductVariant.id).where(ProductVariant.product_id == product_id)
    stock_ids = select(StockLevel.id).where(StockLevel.variant_id.in_(variant_ids))
    # Core statements: the tenant hook does not apply, but every id here is the product's own
    conn.execute(
        update(ProductVariant.__table__)
        .where(ProductVariant.__table__.c.product_id == product_id)
        .values(seller_id=seller_id)
    )
    conn.execute(
        update(StockLevel.__table__)
        .where(StockLevel.__table__.c.variant_id.in_(variant_ids))
        .values(seller_id=seller_id)
    )
    for model in (StockMovement, LowStockAlert):
        conn.execute(
            update(model.__table__)
            .where(model.__table__.c.stock_level_id.in_(stock_ids))
            .values(seller_id=seller_id)
        )
    for obj in list(session.identity_map.values()):
        if isinstance(obj, (ProductVariant, StockLevel, StockMovement, LowStockAlert)):
            session.expire(obj, ["seller_id"])
