"""Keeps `products.min_price` equal to the lowest price of the product's active variants.

After every flush that inserted, deleted or changed the price, activity or product of a variant,
one UPDATE recomputes the column for the products concerned, inside the same transaction (so it
commits or rolls back with the change). Core inserts that bypass the ORM (the demo seeder) set the
column themselves. The two listeners (collect, recompute) are installed by app/hooks.py.

Under READ COMMITTED, two transactions that change variants of the same product at the same time
each recompute from what was committed plus their own rows; the UPDATE of the products row is
serialised by its row lock, and the later one sees the earlier one's committed variants, so the
value that stays is computed last over everything committed before it.
"""

from __future__ import annotations

from sqlalchemy import func, inspect, select, update
from sqlalchemy.orm import Session

from app.catalog.models import Product, ProductVariant

_PENDING_IDS = "catalog.min_price.product_ids"
_PENDING_NEW = "catalog.min_price.new_variants"
_WATCHED = ("price", "is_active", "product_id")


def collect(session: Session, flush_context, instances) -> None:
    """before_flush: the products whose variants change (new variants are kept as objects:
    a variant added through a new product has its product_id only after the flush)."""
    ids: set[int] = session.info.setdefault(_PENDING_IDS, set())
    new: list[ProductVariant] = session.info.setdefault(_PENDING_NEW, [])
    for obj in session.new:
        if isinstance(obj, ProductVariant):
            new.append(obj)
    for obj in session.deleted:
        if isinstance(obj, ProductVariant):
            ids.add(obj.product_id)
    for obj in session.dirty:
        if isinstance(obj, ProductVariant):
            state = inspect(obj)
            for name in _WATCHED:
                hist = state.attrs[name].history
                if hist.has_changes():
                    ids.add(obj.product_id)
                    if name == "product_id":
                        ids.update(hist.deleted)


def recompute(session: Session, flush_context) -> None:
    """after_flush, in the same transaction: one UPDATE for the products concerned."""
    ids: set[int] = session.info.pop(_PENDING_IDS, set())
    ids.update(variant.product_id for variant in session.info.pop(_PENDING_NEW, []))
    ids.discard(None)
    if not ids:
        return
    variants, products = ProductVariant.__table__, Product.__table__
    lowest = (
        select(func.min(variants.c.price))
        .where(variants.c.product_id == products.c.id, variants.c.is_active.is_(True))
        .scalar_subquery()
    )
    # a Core statement: the tenant hook does not apply, and every id here came from this session's
    # own (tenant-checked) rows. Sorted: concurrent flushes lock the product rows in the same order.
    session.connection().execute(
        update(products).where(products.c.id.in_(sorted(ids))).values(min_price=lowest)
    )
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Product) and obj.id in ids:
            # after_flush still lists this flush's deletions in session.deleted; those have
            # nothing to reload (the audit hook reads them next)
            if obj not in session.deleted and not inspect(obj).was_deleted:
                session.expire(obj, ["min_price"])
