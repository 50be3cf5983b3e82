"""From catalog rows to search documents: one plain dict per active product.

The notions are the catalog's own (app/catalog/queries.py): a product is searchable when a
customer may see it (app.catalog.scopes.on_storefront: active, its seller not suspended); its
price is the lowest price among its active variants; it is in stock when some active variant has
stock on hand beyond what is reserved, in any warehouse; rating, rating count and sold count are
the product's columns; a category filter covers the category's descendants, so each document
carries the ids of its category and of every ancestor.

Documents are built in batches with a fixed number of queries per batch (no N+1), inside the
current tenant (the ORM hooks scope every query).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Iterator
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload, selectinload

from app.catalog import queries, scopes
from app.catalog.models import Category, Product, ProductAttributeValue, ProductVariant
from app.catalog.views import (
    BrandRef,
    CategoryRef,
    ImageRef,
    ProductCard,
    Rating,
    Ref,
    SellerRef,
)
from app.extensions import db
from app.inventory import queries as stock_reads
from app.search.types import facet_key, tokens

MAX_PREFIX = 20
BATCH = 500


def rank_of(in_stock: bool, rating: float, rating_count: int, sold: int) -> float:
    """The ranking signal mixed into relevance (engines multiply the text score by log2(2 + rank)):
    in stock counts most, then a rating backed by reviews, then sales (log scale, capped)."""
    return round(
        (3.0 if in_stock else 0.0)
        + 2.0 * (rating / 5.0) * min(rating_count, 10) / 10.0
        + min(math.log10(1 + max(sold, 0)), 3.0),
        4,
    )


def prefixes(*texts: str) -> list[str]:
    """Every prefix of every word (edge n-grams), for suggestions as you type."""
    out: set[str] = set()
    for text in texts:
        for word in tokens(text):
            for i in range(1, min(len(word), MAX_PREFIX) + 1):
                out.add(word[:i])
    return sorted(out)


def _category_paths() -> dict[int, tuple[int | None, str, str]]:
    return {
        row.id: (row.parent_id, row.name, row.slug)
        for row in db.session.execute(
            select(Category.id, Category.parent_id, Category.name, Category.slug)
        )
    }


def _ancestry(category_id: int | None, paths: dict) -> list[int]:
    chain: list[int] = []
    while (
        category_id is not None
        and category_id in paths
        and category_id not in chain
        and len(chain) < 50
    ):
        chain.append(category_id)
        category_id = paths[category_id][0]
    return chain


def build_documents(product_ids: list[int]) -> dict[int, dict | None]:
    """{product id: document, or None when the product is gone or not active (remove it)}."""
    result: dict[int, dict | None] = {pid: None for pid in product_ids}
    if not product_ids:
        return result
    products = (
        db.session.scalars(
            select(Product)
            .where(Product.id.in_(product_ids), *scopes.on_storefront())
            .options(
                joinedload(Product.brand),
                lazyload(Product.seller),
                lazyload(Product.category),
                selectinload(Product.variants),
                lazyload(Product.images),
                selectinload(Product.attribute_values).options(
                    joinedload(ProductAttributeValue.attribute)
                ),
            )
        )
        .unique()
        .all()
    )
    if not products:
        return result
    paths = _category_paths()
    stock = stock_reads.units_in_stock_by_product([p.id for p in products])
    cards = {card.id: card for card in queries.product_cards([p.id for p in products])}
    for p in products:
        result[p.id] = document(p, paths, stock.get(p.id, 0) > 0, cards.get(p.id))
    return result


# --- the stored product card ----------------------------------------------------------------
# Search answers with the catalog's own list items (queries.product_cards), stored in the index
# with each document, so a search reads nothing from the database. Stored as JSON: money as
# strings ("12.50"), times as ISO 8601, the nested references as objects, keys in the order
# below (documents written before keep working: the format is the one indexes already hold);
# card_from_source() turns them back into a card equal to the one product_cards() builds.

C = TypeVar("C", bound=ProductCard)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _ref(ref: Ref | None) -> dict | None:
    return None if ref is None else {"id": ref.id, "name": ref.name, "slug": ref.slug}


def card_source(card: ProductCard) -> dict:
    """A product card (queries.product_cards) as plain JSON values."""
    image, seller, created = card.image, card.seller, card.created_at
    return {
        "id": card.id,
        "title": card.title,
        "slug": card.slug,
        "status": card.status,
        "product_type": card.product_type,
        "is_featured": card.is_featured,
        "price": _text(card.price),
        "compare_at_price": _text(card.compare_at_price),
        "currency": card.currency,
        "image": None if image is None else {"url": image.url, "alt_text": image.alt_text},
        "brand": _ref(card.brand),
        "category": _ref(card.category),
        "seller": {"id": seller.id, "store_name": seller.store_name, "slug": seller.slug},
        "rating": {"average": _text(card.rating.average), "count": card.rating.count},
        "sold_count": card.sold_count,
        "in_stock": card.in_stock,
        "created_at": created.isoformat() if isinstance(created, dt.datetime) else created,
    }


def card_from_source(source: dict, cls: type[C] = ProductCard, **extra) -> C:
    """The inverse of card_source(): the card (`cls`: a ProductCard or a subclass, whose further
    fields are `extra`) with Decimals and a timezone-aware datetime again."""
    image, brand, category, seller = (
        source["image"],
        source["brand"],
        source["category"],
        source["seller"],
    )
    rating = source["rating"]
    created = source["created_at"]
    if isinstance(created, str):
        created = dt.datetime.fromisoformat(created)
        if created.tzinfo is None:
            created = created.replace(tzinfo=dt.timezone.utc)
    return cls(
        id=source["id"],
        title=source["title"],
        slug=source["slug"],
        status=source["status"],
        product_type=source["product_type"],
        is_featured=source["is_featured"],
        price=_decimal(source["price"]),
        compare_at_price=_decimal(source["compare_at_price"]),
        currency=source["currency"],
        image=None if image is None else ImageRef(url=image["url"], alt_text=image["alt_text"]),
        brand=None if brand is None else BrandRef(brand["id"], brand["name"], brand["slug"]),
        category=None
        if category is None
        else CategoryRef(category["id"], category["name"], category["slug"]),
        seller=SellerRef(seller["id"], seller["store_name"], seller["slug"]),
        rating=Rating(average=_decimal(rating["average"]), count=rating["count"]),
        sold_count=source["sold_count"],
        in_stock=source["in_stock"],
        created_at=created,
        **extra,
    )


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def document(p: Product, paths: dict, in_stock: bool, card: ProductCard | None = None) -> dict:
    prices = [v.price for v in p.variants if v.is_active]
    price = min(prices) if prices else None
    chain = _ancestry(p.category_id, paths)
    category = paths.get(p.category_id) if p.category_id else None
    attrs = sorted(
        (
            (a.attribute.code, a.attribute.name, a.attribute.unit, a.value)
            for a in p.attribute_values
        ),
        key=lambda a: (a[0], a[3]),
    )
    rating = float(p.rating_avg or 0)
    brand = p.brand
    doc = {
        "id": p.id,
        "tenant_id": p.tenant_id,
        "title": p.title,
        "slug": p.slug,
        "description": p.description or "",
        "brand": brand.name if brand else "",
        "brand_id": brand.id if brand else None,
        "brand_facet": facet_key(brand.id, brand.slug, brand.name) if brand else None,
        "category": " ".join(paths[c][1] for c in reversed(chain)),
        "category_id": p.category_id,
        "category_ids": chain,
        "category_facet": facet_key(p.category_id, category[2], category[1]) if category else None,
        "seller_id": p.seller_id,
        "attributes": " ".join(a[3] for a in attrs),
        "attr_filter": sorted({f"{a[0].lower()}={a[3].lower()}" for a in attrs}),
        "attr_facet": [facet_key(a[0], a[1], a[2], a[3]) for a in attrs],
        "price": float(Decimal(price).quantize(Decimal("0.01"))) if price is not None else None,
        "in_stock": bool(in_stock),
        "featured": bool(p.is_featured),
        "rating": rating,
        "rating_count": int(p.rating_count or 0),
        # one sortable number: average first, then how many reviews back it
        "rating_key": round(rating * 100_000 + min(int(p.rating_count or 0), 99_999), 2),
        "sold_count": int(p.sold_count or 0),
        "created_at": int(p.created_at.timestamp()) if p.created_at else 0,
        "rank": rank_of(bool(in_stock), rating, int(p.rating_count or 0), int(p.sold_count or 0)),
        "suggest": prefixes(p.title, brand.name if brand else ""),
        "card": card_source(card) if card is not None else None,
    }
    doc["fingerprint"] = fingerprint(doc)
    return doc


def fingerprint(doc: dict) -> str:
    body = {k: v for k, v in doc.items() if k != "fingerprint"}
    return hashlib.sha1(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def iter_documents(batch: int = BATCH) -> Iterator[dict]:
    """Every active product of the current tenant, as documents, in id order."""
    last = 0
    while True:
        ids = list(
            db.session.scalars(
                select(Product.id)
                .where(*scopes.on_storefront(), Product.id > last)
                .order_by(Product.id)
                .limit(batch)
            )
        )
        if not ids:
            return
        for doc in build_documents(ids).values():
            if doc is not None:
                yield doc
        last = ids[-1]
        db.session.expunge_all()  # keep memory flat over 100,000 products


def product_ids_for(
    *, variant_ids=(), category_ids=(), brand_ids=(), attribute_ids=(), seller_ids=()
) -> set[int]:
    """Products whose documents depend on the given variants, categories (and their descendants),
    brands, attributes or sellers (the card shows the seller's name and slug)."""
    ids: set[int] = set()
    if seller_ids:
        ids |= set(db.session.scalars(select(Product.id).where(Product.seller_id.in_(seller_ids))))
    if variant_ids:
        ids |= set(
            db.session.scalars(
                select(ProductVariant.product_id).where(ProductVariant.id.in_(variant_ids))
            )
        )
    if category_ids:
        paths = _category_paths()
        wanted = set(category_ids)
        subtree = {c for c in paths if wanted & set(_ancestry(c, paths))}
        if subtree:
            ids |= set(
                db.session.scalars(select(Product.id).where(Product.category_id.in_(subtree)))
            )
    if brand_ids:
        ids |= set(db.session.scalars(select(Product.id).where(Product.brand_id.in_(brand_ids))))
    if attribute_ids:
        ids |= set(
            db.session.scalars(
                select(ProductAttributeValue.product_id).where(
                    ProductAttributeValue.attribute_id.in_(attribute_ids)
                )
            )
        )
    return ids
