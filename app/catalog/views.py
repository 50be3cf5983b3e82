"""What the catalog's read side answers: frozen values built inside the query that read the rows
(storefront_api's schemas dump them; search stores a ProductCard with each document).

Slotted: a list page builds a few hundred of these per request (cards and their references), and
slots make each one smaller and quicker to build and read. A field is absent from a class rather
than None when the answer never has it (a category of a flat list has a `depth`, a category's
children do not): what a face dumps is exactly what the answer holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Ref:
    """A brand or category as a card, a breadcrumb or a facet names it."""

    id: int
    name: str
    slug: str


@dataclass(frozen=True, slots=True)
class BrandRef(Ref):
    pass


@dataclass(frozen=True, slots=True)
class CategoryRef(Ref):
    pass


@dataclass(frozen=True, slots=True)
class CategoryPath(CategoryRef):
    """A product page's category: with its breadcrumb, from the root down to itself."""

    breadcrumb: tuple[CategoryRef, ...]


@dataclass(frozen=True, slots=True)
class SellerRef:
    id: int
    store_name: str
    slug: str


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A card's image: the product's first."""

    url: str
    alt_text: str | None


@dataclass(frozen=True, slots=True)
class Rating:
    average: Decimal | None
    count: int


@dataclass(frozen=True, slots=True)
class ProductCard:
    """A product as lists and search results show it. `price`, `compare_at_price` and
    `currency` are the lead variant's (the cheapest active one; None without one)."""

    id: int
    title: str
    slug: str
    status: str
    product_type: str
    is_featured: bool
    price: Decimal | None
    compare_at_price: Decimal | None
    currency: str | None
    image: ImageRef | None
    brand: BrandRef | None
    category: CategoryRef | None
    seller: SellerRef
    rating: Rating
    sold_count: int
    in_stock: bool
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class VariantView:
    id: int
    sku: str
    title: str | None
    price: Decimal | None
    compare_at_price: Decimal | None
    currency: str
    weight_kg: Decimal | None
    options: Mapping[str, str]
    is_active: bool
    position: int
    available: int  # on hand minus reserved, over every warehouse (never below 0)
    in_stock: bool


@dataclass(frozen=True, slots=True)
class ImageView:
    id: int
    url: str
    alt_text: str | None
    position: int
    variant_id: int | None


@dataclass(frozen=True, slots=True)
class AttributeValueView:
    code: str
    name: str
    value: str
    unit: str | None


@dataclass(frozen=True, slots=True)
class ProductDetail:
    """Everything a product page shows (variants: active ones only, except to the product's
    seller and admins)."""

    id: int
    title: str
    slug: str
    description: str | None
    status: str
    product_type: str
    is_featured: bool
    brand: BrandRef | None
    category: CategoryPath | None
    seller: SellerRef
    variants: tuple[VariantView, ...]
    images: tuple[ImageView, ...]
    attributes: tuple[AttributeValueView, ...]  # by code
    rating: Rating
    sold_count: int
    published_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


# --- categories ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CategoryInfo:
    """A category's own fields (a category page's children are these)."""

    id: int
    parent_id: int | None
    name: str
    slug: str
    description: str | None
    position: int
    seo_title: str | None
    seo_description: str | None


@dataclass(frozen=True, slots=True)
class CategoryNode(CategoryInfo):
    """A category of the flat list, with its depth in the tree (0: a root)."""

    depth: int


@dataclass(frozen=True, slots=True)
class CategoryDetail(CategoryInfo):
    """A category page: its breadcrumb (root first, itself last) and its active children."""

    breadcrumb: tuple[CategoryRef, ...]
    children: tuple[CategoryInfo, ...]


# --- facets (the catalog's category filters; search's facets have the same parts) ------------


@dataclass(frozen=True, slots=True)
class RefCount:
    """A brand or category facet value: how many products it would leave."""

    id: int
    name: str
    slug: str
    count: int


@dataclass(frozen=True, slots=True)
class PriceRange:
    min: Decimal
    max: Decimal | None  # exclusive; None for the open top range
    count: int


@dataclass(frozen=True, slots=True)
class PriceFacet:
    min: Decimal | None
    max: Decimal | None
    ranges: tuple[PriceRange, ...]


@dataclass(frozen=True, slots=True)
class FacetValue:
    value: str
    count: int


@dataclass(frozen=True, slots=True)
class AttributeFacet:
    code: str
    name: str
    unit: str | None
    param: str  # the list's query parameter, e.g. attr_colour
    values: tuple[FacetValue, ...]


@dataclass(frozen=True, slots=True)
class CategoryFilters:
    """Facets of a category and its descendants (active products)."""

    category: CategoryRef
    total: int
    brands: tuple[RefCount, ...]
    price: PriceFacet
    attributes: tuple[AttributeFacet, ...]
