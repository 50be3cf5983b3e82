"""The search service: one backend-neutral API over the embedded engine (Tantivy, default) and
Elasticsearch (when ELASTICSEARCH_URL is set).

    search_products(q, filters, sort=..., page=..., page_size=..., facets=True, highlight=True)
    suggestions(prefix, limit)
    search_filters(q, filters)            # facet counts only
    index_products(product_ids)           # the indexing consumer's work (idempotent)
    reindex_all()                         # full rebuild, swapped in without downtime
    index_status()

Filters are the catalog's (`app.catalog.queries.ProductFilters`, same parameters and the same
422s for unknown categories, brands, sellers and attributes): the service resolves them against
the database (a few indexed lookups), hands the engine plain ids, and answers the catalog's own
product cards (`queries.product_cards`), stored in the index with each document when it was
indexed: a search reads no product row from the database, and search results and catalog
lists look alike. Every query carries the current tenant: one tenant never finds another's products.

The backends answer plain values (hits, facet dicts, status dicts); the service answers its
callers the frozen values of app/search/types.py (`SearchPage`, `SearchFilters`, `Suggestion`,
`IndexStatus`, `IndexBuild`), which the faces shape.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator

from flask import Flask, current_app
from sqlalchemy import func, select

from app.catalog import queries
from app.catalog.models import Attribute, Brand, category_attributes
from app.catalog.views import (
    AttributeFacet,
    FacetValue,
    PriceFacet,
    PriceRange,
    ProductCard,
    RefCount,
)
from app.core import cache
from app.core.errors import TenantError, ValidationError
from app.core.tenancy import current_tenant_id, tenant_scope
from app.extensions import db
from app.search import documents
from app.search.analytics import record_search
from app.search.types import (
    Hit,
    IndexBuild,
    IndexStatus,
    SearchFacets,
    SearchFilters,
    SearchHit,
    SearchPage,
    SearchRequest,
    SearchResult,
    Suggestion,
    tokens,
)
from app.sellers.models import SellerProfile
from app.tenants.errors import TenancyError
from app.tenants.services import tenant_ids

log = logging.getLogger(__name__)

SUGGESTION_LIMIT = 10


def make_backend(app: Flask):
    # Only the configured backend's client is imported: the Elasticsearch client takes ~170 ms to
    # import and is never used by the embedded default, nor Tantivy's native module under
    # Elasticsearch. (Lazy for that reason, not to dodge an import cycle.)
    if app.config.get("ELASTICSEARCH_URL"):
        from app.search.elastic import ElasticBackend

        return ElasticBackend.from_config(app.config)
    from app.search.tantivy_backend import TantivyBackend

    return TantivyBackend(app.config["SEARCH_INDEX_DIR"])


def backend():
    """This app's search backend (made once per app)."""
    app = current_app._get_current_object()
    found = app.extensions.get("search")
    if found is None:
        found = app.extensions["search"] = make_backend(app)
    return found


def _tenant() -> int:
    tenant_id = current_tenant_id()
    if tenant_id is None:
        raise TenantError("search needs a storefront (tenant)", code=TenancyError.TENANT_REQUIRED)
    return tenant_id


# --- filters ---------------------------------------------------------------------------------


def resolve(
    q: str,
    filters: queries.ProductFilters,
    *,
    sort: str,
    page: int = 1,
    page_size: int = 24,
    facets: bool = False,
    highlight: bool = False,
) -> SearchRequest:
    """The engine's request for these filters; unknown references answer 422 as the catalog does."""
    req = SearchRequest(
        tenant_id=_tenant(),
        q=q or "",
        sort=sort,
        page=page,
        page_size=page_size,
        facets=facets,
        highlight=highlight,
        min_price=filters.min_price,
        max_price=filters.max_price,
        in_stock=filters.in_stock,
        min_rating=filters.min_rating,
        featured=filters.featured,
    )
    if filters.category:
        category_id, codes = _category(filters.category, req.tenant_id)
        req.category_id = category_id
        if facets:
            req.facet_attributes = codes or None
    if filters.brand:
        req.brand_ids = sorted(set(queries.resolve_ids(Brand, filters.brand, "brand")))
    if filters.seller:
        ref = filters.seller.strip()
        seller_id = db.session.scalar(
            select(SellerProfile.id).where(
                SellerProfile.id == queries.as_id(ref)
                if queries.as_id(ref) is not None
                else SellerProfile.slug == ref
            )
        )
        if seller_id is None:
            raise ValidationError("unknown seller", details={"seller": ["unknown seller"]})
        req.seller_id = seller_id
    if filters.attrs:
        known = {
            c.lower()
            for c in db.session.scalars(
                select(Attribute.code).where(
                    func.lower(Attribute.code).in_([c.lower() for c in filters.attrs])
                )
            )
        }
        unknown = [c for c in filters.attrs if c.lower() not in known]
        if unknown:
            raise ValidationError(
                "unknown attribute", details={f"attr_{c}": ["unknown attribute"] for c in unknown}
            )
        req.attrs = {
            code.lower(): [v.lower() for v in values] for code, values in filters.attrs.items()
        }
    return req


def _category(ref: str, tenant_id: int) -> tuple[int, list[str]]:
    """(id, codes of the attributes its facets count: those filterable on it or an ancestor) of
    the category a filter names; 422 when there is none. Kept in the catalog's versioned cache
    (any committed change to categories or attributes invalidates it), so a filtered search makes
    no database round trip."""
    key = f"search:category:{tenant_id}:{ref.strip()}"
    version, stored = cache.get_versioned(queries.CACHE_NAMESPACE, tenant_id, key)
    if stored is not None:
        found = json.loads(stored)
        return found["id"], found["codes"]
    category = queries.category_by_ref(ref)
    if category is None:
        raise ValidationError("unknown category", details={"category": ["unknown category"]})
    ancestors = [c.id for c in queries.category_ancestors(category.id)]
    codes = sorted(
        db.session.scalars(
            select(Attribute.code)
            .join(category_attributes, category_attributes.c.attribute_id == Attribute.id)
            .where(category_attributes.c.category_id.in_(ancestors))
        )
    )
    cache.put_versioned(
        version,
        key,
        json.dumps({"id": category.id, "codes": codes}).encode(),
        int(current_app.config.get("CATALOG_CACHE_SECONDS", 300)),
    )
    return category.id, codes


# --- reading ---------------------------------------------------------------------------------


def run(req: SearchRequest) -> SearchResult:
    return backend().search(req)


def search_products(
    q: str,
    filters: queries.ProductFilters,
    *,
    sort: str = "relevance",
    page: int = 1,
    page_size: int = 24,
    facets: bool = False,
    highlight: bool = False,
    require_words: bool = True,
    log_as: str | None = None,
    user_id: int | None = None,
) -> SearchPage:
    """A page of product cards for `q` and the filters, with facets and highlights on request.
    `log_as` names the endpoint in the search analytics (recorded asynchronously)."""
    if require_words and not tokens(q):
        raise ValidationError("a search needs words", details={"q": ["enter at least one word"]})
    req = resolve(
        q, filters, sort=sort, page=page, page_size=page_size, facets=facets, highlight=highlight
    )
    result = run(req)
    body = SearchPage(
        items=_search_hits(result.hits, highlight),
        total=result.total,
        page=page,
        page_size=page_size,
        facets=facets_of(result.facets) if facets else None,
    )
    if log_as and current_app.config.get("SEARCH_LOG_QUERIES", True):
        record_search(
            q, endpoint=log_as, total=result.total, filters=filters, sort=sort, user_id=user_id
        )
    return body


def cards_of(hits: list[Hit]) -> list[ProductCard]:
    """The product cards of these hits, in order: from the index (stored with each document, so
    no database round trip); any hit without one (a document written before cards were stored)
    is read from the catalog in one batch."""
    cards: dict[int, ProductCard] = {
        h.id: documents.card_from_source(h.card) for h in hits if h.card is not None
    }
    missing = [h.id for h in hits if h.card is None]
    if missing:
        cards.update((card.id, card) for card in queries.product_cards(missing))
    return [cards[h.id] for h in hits if h.id in cards]


_CARD_FIELDS = tuple(f.name for f in dataclasses.fields(ProductCard))


def _search_hits(hits: list[Hit], highlight: bool) -> list[SearchHit]:
    """cards_of() as results: with each hit's highlights when asked for ({} when none matched),
    else None; built straight from the stored card (no card copied)."""
    found: dict[int, SearchHit] = {
        h.id: documents.card_from_source(
            h.card, SearchHit, highlight=(h.highlight or {}) if highlight else None
        )
        for h in hits
        if h.card is not None
    }
    missing = {h.id: h for h in hits if h.card is None}
    if missing:
        for card in queries.product_cards(list(missing)):
            given = {name: getattr(card, name) for name in _CARD_FIELDS}
            hit = missing[card.id]
            found[card.id] = SearchHit(
                **given, highlight=(hit.highlight or {}) if highlight else None
            )
    return [found[h.id] for h in hits if h.id in found]


def _ref_counts(buckets: list[dict]) -> tuple[RefCount, ...]:
    return tuple(
        RefCount(id=b["id"], name=b["name"], slug=b["slug"], count=b["count"]) for b in buckets
    )


def facets_of(raw: dict | None) -> SearchFacets | None:
    """The engine's facet counts (app/search/facets.py parse()'s dict) as SearchFacets."""
    return None if raw is None else _facet_parts(SearchFacets, raw)


def _facet_parts(cls, raw: dict, **given):
    price = raw.get("price") or {}
    return cls(
        brands=_ref_counts(raw.get("brands") or ()),
        categories=_ref_counts(raw.get("categories") or ()),
        price=PriceFacet(
            min=price.get("min"),
            max=price.get("max"),
            ranges=tuple(
                PriceRange(min=r["min"], max=r["max"], count=r["count"])
                for r in price.get("ranges") or ()
            ),
        ),
        attributes=tuple(
            AttributeFacet(
                code=a["code"],
                name=a["name"],
                unit=a["unit"],
                param=a["param"],
                values=tuple(FacetValue(value=v["value"], count=v["count"]) for v in a["values"]),
            )
            for a in raw.get("attributes") or ()
        ),
        **given,
    )


def search_filters(q: str, filters: queries.ProductFilters) -> SearchFilters:
    """Facet counts (brands, categories, price ranges, attributes) for a query and filters."""
    req = resolve(q, filters, sort="relevance", page=1, page_size=1, facets=True)
    req.page_size = 0
    result = run(req)
    return _facet_parts(SearchFilters, result.facets or {}, total=result.total)


def suggestions(prefix: str, limit: int = SUGGESTION_LIMIT) -> list[Suggestion]:
    """Products whose title or brand has words starting with what was typed, best ranked first."""
    return list(backend().suggest(_tenant(), prefix, limit))


def index_status() -> IndexStatus:
    return IndexStatus(**backend().status())


# --- writing ---------------------------------------------------------------------------------


def index_products(product_ids) -> int:
    """Bring the index in line with the database for these products of the current tenant: read
    them now (so events may arrive in any order), skip those whose document is unchanged, remove
    those gone or no longer active. Returns how many index changes were made."""
    ids = sorted({int(i) for i in product_ids if i is not None})
    if not ids:
        return 0
    docs = documents.build_documents(ids)
    engine = backend()
    current = engine.fingerprints(ids)
    upserts = [
        d for pid, d in docs.items() if d is not None and current.get(pid) != d["fingerprint"]
    ]
    deletes = [pid for pid, d in docs.items() if d is None and pid in current]
    return engine.apply(upserts, deletes)


def _all_documents() -> Iterator[dict]:
    for tenant_id in tenant_ids():
        with tenant_scope(tenant_id):
            yield from documents.iter_documents()


def reindex_all() -> IndexBuild:
    """Rebuild the whole index (every tenant) from the database and swap it in."""
    return IndexBuild(**backend().rebuild(_all_documents()))


# --- event consumers (subscribed in jobs/subscribers.py) -------------------------------------


def on_catalog_event(event) -> None:
    """catalog.product_changed, review.*: re-index the product named in the payload."""
    index_products([event.payload.get("product_id")])


def on_stock_event(event) -> None:
    """inventory.stock_changed: re-index the variant's product (in stock may have flipped)."""
    variant_id = event.payload.get("variant_id")
    if variant_id is not None:
        index_products(documents.product_ids_for(variant_ids=[variant_id]))


def on_reindex_requested(event) -> None:
    """search.reindex_requested (app/search/hooks.py): catalog rows changed through the ORM."""
    p = event.payload
    ids = set(p.get("product_ids") or ())
    ids |= documents.product_ids_for(
        variant_ids=p.get("variant_ids") or (),
        category_ids=p.get("category_ids") or (),
        brand_ids=p.get("brand_ids") or (),
        attribute_ids=p.get("attribute_ids") or (),
        seller_ids=p.get("seller_ids") or (),
    )
    index_products(ids)
