"""Inventory's read side: which products have stock, and how many units each variant (or product)
has available; the one home of "in stock" (an active variant with units on hand not reserved).
Product lists and pages (app/catalog/queries.py, a layer below) call these through the StockReads
that install() hands them at start-up; the search index (above) imports them."""

from __future__ import annotations

from sqlalchemy import func, select

from app.catalog import queries as catalog_queries
from app.catalog.models import ProductVariant
from app.core import cache
from app.extensions import db
from app.inventory.models import StockLevel, Warehouse


def products_in_stock():
    """A subquery: the ids of products with an active variant that has units available."""
    return (
        select(ProductVariant.product_id)
        .join(StockLevel, StockLevel.variant_id == ProductVariant.id)
        .where(
            ProductVariant.is_active.is_(True),
            StockLevel.quantity_on_hand - StockLevel.quantity_reserved > 0,
        )
    )


def available_of(variant_id):
    """Units available (on hand minus reserved, over every warehouse; 0 without stock rows) of
    the variant whose id is the column `variant_id`: a correlated scalar subquery, so that a
    statement reading variants reads their stock too (product cards)."""
    s = StockLevel.__table__
    return (
        select(func.coalesce(func.sum(s.c.quantity_on_hand - s.c.quantity_reserved), 0))
        .where(s.c.variant_id == variant_id)
        .scalar_subquery()
    )


def units_in_stock_by_product(product_ids: list[int]) -> dict[int, int]:
    """Units available per product (its active variants' stock rows with units available; the
    search index's in-stock flag). A product with none is absent."""
    rows = db.session.execute(
        select(
            ProductVariant.product_id,
            func.sum(StockLevel.quantity_on_hand - StockLevel.quantity_reserved),
        )
        .join(StockLevel, StockLevel.variant_id == ProductVariant.id)
        .where(
            ProductVariant.product_id.in_(product_ids),
            ProductVariant.is_active.is_(True),
            StockLevel.quantity_on_hand - StockLevel.quantity_reserved > 0,
        )
        .group_by(ProductVariant.product_id)
    ).all()
    return {pid: int(n or 0) for pid, n in rows}


def install() -> None:
    """Called once by create_app(): product lists and pages read stock through these, and a
    write to stock or a warehouse invalidates the cached catalog like a write to a product."""
    catalog_queries.read_stock_with(
        catalog_queries.StockReads(products_in_stock=products_in_stock, available_of=available_of)
    )
    cache.watch(StockLevel, Warehouse, namespace=catalog_queries.CACHE_NAMESPACE)
    cache.watch(StockLevel, Warehouse, namespace=catalog_queries.STOCK_CACHE_NAMESPACE)
