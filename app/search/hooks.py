"""Keep the index in step with catalog writes made through the ORM, wherever they come from
(API services, admin views, imports, seeds, tests): after each flush, the products, variants,
images, stock levels, categories, brands, attributes and sellers it touched are named in one
`search.reindex_requested` outbox event per tenant, in the same transaction. The indexing
consumer (jobs/subscribers.py) then re-reads those products after commit.

Changes the ORM does not see (Core UPDATEs such as the inventory's conditional stock updates) are
covered by their own domain events (`inventory.stock_changed`), to which the consumer also
subscribes. The listeners below are installed by app/hooks.py, with every other session hook.
"""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from app.catalog.models import (
    Attribute,
    Brand,
    Category,
    Product,
    ProductAttributeValue,
    ProductImage,
    ProductVariant,
)
from app.core.tenancy import current_tenant_id
from app.events.bus import publish
from app.inventory.models import StockLevel
from app.sellers.models import SellerProfile

EVENT = "search.reindex_requested"
_KEY = "search_touched"


def _touched(obj) -> tuple[str, int | None] | None:
    if isinstance(obj, Product):
        return "product_ids", obj.id
    if isinstance(obj, (ProductVariant, ProductAttributeValue, ProductImage)):
        return "product_ids", obj.product_id
    if isinstance(obj, StockLevel):
        return "variant_ids", obj.variant_id
    if isinstance(obj, Category):
        return "category_ids", obj.id
    if isinstance(obj, Brand):
        return "brand_ids", obj.id
    if isinstance(obj, Attribute):
        return "attribute_ids", obj.id
    if isinstance(obj, SellerProfile):
        return "seller_ids", obj.id
    return None


def _card_fields_changed(seller: SellerProfile) -> bool:
    state = inspect(seller)
    # the status too: a suspended seller's products leave the index, a reinstated one's return
    return any(state.attrs[name].history.has_changes() for name in ("store_name", "slug", "status"))


def collect(session: Session, flush_context) -> None:
    """after_flush: the products, variants, stock levels, categories, brands, attributes and
    sellers (store name or slug) this flush touched, per tenant."""
    pending = session.info.setdefault(_KEY, {})
    for obj in (*session.new, *session.dirty, *session.deleted):
        found = _touched(obj)
        if found is None or found[1] is None:
            continue
        if obj in session.dirty and not session.is_modified(obj, include_collections=False):
            continue
        if (
            isinstance(obj, SellerProfile)
            and obj in session.dirty
            and not _card_fields_changed(obj)
        ):
            continue  # payouts, balances, settings: nothing a search document shows
        tenant_id = getattr(obj, "tenant_id", None) or current_tenant_id()
        pending.setdefault(tenant_id, {}).setdefault(found[0], set()).add(int(found[1]))


def publish_requests(session: Session, flush_context) -> None:
    """after_flush_postexec: one search.reindex_requested outbox event per tenant, in the same
    transaction (flushed with the next flush)."""
    pending = session.info.pop(_KEY, None)
    if not pending:
        return
    for tenant_id, refs in pending.items():
        if tenant_id is None:
            continue
        publish(
            EVENT,
            {k: sorted(v) for k, v in sorted(refs.items())},
            aggregate="search",
            tenant_id=tenant_id,
        )


def forget_on_rollback(session: Session) -> None:
    """after_rollback: nothing of a transaction that did not commit is indexed (a savepoint's
    rollback keeps the outer transaction's requests; reindexing a row more is harmless)."""
    if session.in_nested_transaction():
        return
    session.info.pop(_KEY, None)
