"""/api/v1/search: product search with facets and highlights, suggestions as you type, the
filters (facet counts) of a search, and clicks on results (search analytics). Served by the
search service (app/search): the embedded Tantivy index by default, Elasticsearch when
ELASTICSEARCH_URL is set. Public, per tenant, and rate limited per client IP like the products
search (API_SEARCH_RATE_LIMIT); clicks count as writes (API_WRITE_RATE_LIMIT).

Answers are not cached: the index is updated after the catalog's commit (by the indexing job), so
a cached body keyed by the catalog version could outlive the change it missed; the engine answers
in about a millisecond anyway.

Speed: the result cards come from the index (no database read), and the two facet-heavy answers
(products/, filters/) are written as JSON directly (`_page_body`, `_filters_body`, `_json`) rather
than dumped field by field by marshmallow, which cost more than the engine itself on a page of
cards with a few hundred facet values. The schemas still document them, and
tests/storefront_api/search/test_search.py checks that the body is exactly what the schema would
dump. Argument schemas are instantiated once, not per request.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import ROUND_HALF_UP, Decimal

from flask import Response, current_app
from flask_limiter.util import get_remote_address
from marshmallow import Schema, fields, post_dump, validate

from app.catalog.views import AttributeFacet, PriceFacet, Ref, RefCount
from app.core.errors import CoreError
from app.extensions import limiter
from app.search import analytics, service
from app.search.types import SORTS, SearchFacets, SearchFilters, SearchHit, SearchPage
from app.security.errors import SecurityError
from app.tenants.errors import TenancyError
from storefront_api.common import Blueprint, ViewSchema, current_api_user, document_errors
from storefront_api.errors import ApiError
from storefront_api.products import (
    AttributeFacetSchema,
    FacetBrandSchema,
    PriceFacetSchema,
    ProductCardSchema,
    ProductListArgs,
    _filters,
)

blp = Blueprint(
    "search", __name__, url_prefix="/api/v1/search", description="Product search and discovery"
)


def search_limit():
    return current_app.config["API_SEARCH_RATE_LIMIT"]


# --- arguments ---------------------------------------------------------------------------------


class SearchProductsArgs(ProductListArgs):
    """The product list's filters (attr_<code>=<value> included), plus words, sort and extras."""

    q = fields.String(
        load_default="",
        validate=validate.Length(max=200),
        metadata={"description": "words to find (typos tolerated); empty: browse with filters"},
    )
    sort = fields.String(load_default="relevance", validate=validate.OneOf(SORTS))
    facets = fields.Boolean(load_default=True, metadata={"description": "include facet counts"})
    highlight = fields.Boolean(
        load_default=True, metadata={"description": "include highlighted snippets"}
    )


class SearchFiltersArgs(ProductListArgs):
    q = fields.String(load_default="", validate=validate.Length(max=200))
    sort = fields.String(
        load_default="relevance",
        validate=validate.OneOf(SORTS),
        metadata={"description": "accepted for symmetry with products/; no effect on counts"},
    )


class ClickSchema(Schema):
    query = fields.String(
        load_default="",
        validate=validate.Length(max=200),
        metadata={"description": "the search the result came from"},
    )
    product_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    position = fields.Integer(
        validate=validate.Range(min=0, max=10_000),
        metadata={"description": "0-based rank of the result on its page"},
    )


class ClickRecordedSchema(Schema):
    recorded = fields.Boolean(required=True)


class SuggestionArgs(Schema):
    q = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "what has been typed so far"},
    )
    limit = fields.Integer(
        load_default=service.SUGGESTION_LIMIT, validate=validate.Range(min=1, max=20)
    )


# --- responses ---------------------------------------------------------------------------------


class HighlightSchema(ViewSchema):
    title = fields.String(
        metadata={"description": "HTML: matched words in <b>...</b>, the rest escaped"}
    )
    description = fields.String()


class SearchHitSchema(ProductCardSchema):
    highlight = fields.Nested(HighlightSchema)

    @post_dump
    def _without_unasked_highlight(self, data, **kwargs):
        if data.get("highlight", {}) is None:  # not asked for: no key (asked, none found: {})
            del data["highlight"]
        return data


class CategoryFacetSchema(FacetBrandSchema):
    pass


class FacetsSchema(ViewSchema):
    brands = fields.List(fields.Nested(FacetBrandSchema), required=True)
    categories = fields.List(fields.Nested(CategoryFacetSchema), required=True)
    price = fields.Nested(PriceFacetSchema, required=True)
    attributes = fields.List(
        fields.Nested(AttributeFacetSchema),
        required=True,
        metadata={
            "description": "per attribute, the 30 values with the most products (listed by value)"
        },
    )


class SearchPageSchema(ViewSchema):
    items = fields.List(fields.Nested(SearchHitSchema), required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total = fields.Integer(required=True)
    facets = fields.Nested(FacetsSchema)

    @post_dump
    def _without_unasked_facets(self, data, **kwargs):
        if data.get("facets", {}) is None:  # not asked for: no key
            del data["facets"]
        return data


class SearchFiltersSchema(FacetsSchema):
    total = fields.Integer(required=True)


class SuggestionSchema(ViewSchema):
    text = fields.String(required=True)
    product_id = fields.Integer(required=True)
    slug = fields.String(required=True)


class SuggestionListSchema(ViewSchema):
    items = fields.List(fields.Nested(SuggestionSchema), required=True)


# --- serialization -----------------------------------------------------------------------------

CENT = Decimal("0.01")


def _json_value(value):
    """The values JSON lacks, as the schemas write them: every Decimal here is money (2 places,
    half up: products._money), every datetime ISO 8601 (marshmallow's DateTime)."""
    if isinstance(value, Decimal):
        return str(value.quantize(CENT, rounding=ROUND_HALF_UP))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _ref(ref: Ref | None) -> dict | None:
    return None if ref is None else {"id": ref.id, "name": ref.name, "slug": ref.slug}


def _hit(hit: SearchHit) -> dict:
    """A result as SearchHitSchema would dump it (the keys in the order the answers have always
    had: a product card's, then its highlights when asked for)."""
    image, seller = hit.image, hit.seller
    body = {
        "id": hit.id,
        "title": hit.title,
        "slug": hit.slug,
        "status": hit.status,
        "product_type": hit.product_type,
        "is_featured": hit.is_featured,
        "price": hit.price,
        "compare_at_price": hit.compare_at_price,
        "currency": hit.currency,
        "image": None if image is None else {"url": image.url, "alt_text": image.alt_text},
        "brand": _ref(hit.brand),
        "category": _ref(hit.category),
        "seller": {"id": seller.id, "store_name": seller.store_name, "slug": seller.slug},
        "rating": {"average": hit.rating.average, "count": hit.rating.count},
        "sold_count": hit.sold_count,
        "in_stock": hit.in_stock,
        "created_at": hit.created_at,
    }
    if hit.highlight is not None:
        body["highlight"] = hit.highlight
    return body


def _counts(values: tuple[RefCount, ...]) -> list[dict]:
    return [{"id": v.id, "slug": v.slug, "name": v.name, "count": v.count} for v in values]


def _price(price: PriceFacet) -> dict:
    return {
        "min": price.min,
        "max": price.max,
        "ranges": [{"min": r.min, "max": r.max, "count": r.count} for r in price.ranges],
    }


def _attributes(attributes: tuple[AttributeFacet, ...]) -> list[dict]:
    return [
        {
            "code": a.code,
            "name": a.name,
            "unit": a.unit,
            "param": a.param,
            "values": [{"value": v.value, "count": v.count} for v in a.values],
        }
        for a in attributes
    ]


def _facets(facets: SearchFacets) -> dict:
    return {
        "brands": _counts(facets.brands),
        "categories": _counts(facets.categories),
        "price": _price(facets.price),
        "attributes": _attributes(facets.attributes),
    }


def _page_body(page: SearchPage) -> dict:
    """SearchPageSchema's dump of `page` (facets only when asked for)."""
    body = {
        "items": [_hit(hit) for hit in page.items],
        "page": page.page,
        "page_size": page.page_size,
        "total": page.total,
    }
    if page.facets is not None:
        body["facets"] = _facets(page.facets)
    return body


def _filters_body(found: SearchFilters) -> dict:
    """SearchFiltersSchema's dump of `found`."""
    return {"total": found.total, **_facets(found)}


def _json(body: dict) -> Response:
    """`body` (built by _page_body or _filters_body, whose keys are exactly the response
    schema's) as JSON."""
    return current_app.response_class(
        json.dumps(body, default=_json_value, separators=(",", ":")) + "\n",
        mimetype="application/json",
    )


# --- routes ------------------------------------------------------------------------------------


def _documented(fn):
    """A search read's errors: an invalid token sent (a guest may search), an unknown storefront,
    invalid arguments and too many searches."""
    return document_errors(
        blp,
        SecurityError.UNAUTHORIZED,
        TenancyError.TENANT_NOT_FOUND,
        CoreError.VALIDATION_ERROR,
        ApiError.RATE_LIMITED,
        optional_auth=True,
    )(fn)


@blp.route("/products/")
@limiter.limit(search_limit, key_func=get_remote_address)
@blp.arguments(SearchProductsArgs(), location="query")
@blp.response(200, SearchPageSchema)
@_documented
def search_products(args):
    """Search active products: words over title, brand, category, attributes and description
    (typos tolerated), the product list's filters, sorts, facet counts and highlights"""
    user = current_api_user(optional=True)
    filters, paging = _filters(args)
    return _json(
        _page_body(
            service.search_products(
                args["q"],
                filters,
                facets=args["facets"],
                highlight=args["highlight"],
                require_words=False,
                log_as="search.products",
                user_id=user.id if user else None,
                **paging,
            )
        )
    )


@blp.route("/suggestions/")
@limiter.limit(search_limit, key_func=get_remote_address)
@blp.arguments(SuggestionArgs(), location="query")
@blp.response(200, SuggestionListSchema)
@_documented
def suggestions(args):
    """Products whose title or brand has words starting with what was typed, best first"""
    current_api_user(optional=True)
    return {"items": service.suggestions(args["q"], args["limit"])}


@blp.route("/filters/")
@limiter.limit(search_limit, key_func=get_remote_address)
@blp.arguments(SearchFiltersArgs(), location="query")
@blp.response(200, SearchFiltersSchema)
@_documented
def search_filters(args):
    """Available filters for a search: brands, categories, price ranges and attribute values,
    each with the number of products it would leave"""
    current_api_user(optional=True)
    filters, _ = _filters(args)
    return _json(_filters_body(service.search_filters(args["q"], filters)))


@blp.route("/click/", methods=["POST"])
@blp.arguments(ClickSchema)
@blp.response(202, ClickRecordedSchema)
@document_errors(
    blp,
    ApiError.BAD_REQUEST,
    SecurityError.UNAUTHORIZED,
    CoreError.NOT_FOUND,
    CoreError.VALIDATION_ERROR,
    ApiError.RATE_LIMITED,
    optional_auth=True,
)
def click(data):
    """Record that a shopper opened a search result (search analytics; written asynchronously)"""
    user = current_api_user(optional=True)
    analytics.record_click(
        query=data["query"],
        product_id=data["product_id"],
        position=data.get("position"),
        user_id=user.id if user else None,
    )
    return {"recorded": True}
