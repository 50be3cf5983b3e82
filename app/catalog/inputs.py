"""What the catalog's write use cases take (built by the faces from what they validated).

A product's write is a partial one even when whole: a field left UNSET was not sent and keeps its
value (on a new product, the column's default); None is a value (it clears an optional field, and
a slug sent empty or None is made again from the title). A list given (variants, images,
attributes) replaces the current one: variants by id (listed ones are changed or added, missing
ones deactivated, never deleted).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from app.core.inputs import UNSET, Changes, Unset


@dataclass(frozen=True, slots=True, kw_only=True)
class VariantInput:
    """A variant as a product write lists it: `id` names one of the product's own to change
    (None: a new one). UNSET fields keep the variant's value (a new one's: the default)."""

    id: int | None = None
    sku: str
    price: Decimal
    title: str | None | Unset = UNSET
    compare_at_price: Decimal | None | Unset = UNSET
    currency: str = "USD"
    weight_kg: Decimal | None | Unset = UNSET
    options: Mapping[str, str] = field(default_factory=dict)
    is_active: bool = True
    position: int | Unset = UNSET  # UNSET: a new variant takes its place in the list


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageInput:
    url: str
    alt_text: str | None = None
    position: int | None = None  # None: its place in the list


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributeInput:
    code: str
    value: str


@dataclass(frozen=True, kw_only=True)
class ProductChanges(Changes):
    """A product's fields as a write sends them (PATCH: any of them; PUT: title and variants
    too). `seller_id`: an admin moves the product to that seller; a seller's is ignored on a
    single update, checked (its own or none) on a bulk one."""

    title: str | Unset = UNSET
    slug: str | None | Unset = UNSET
    description: str | None | Unset = UNSET
    status: str | Unset = UNSET
    product_type: str | Unset = UNSET
    is_featured: bool | Unset = UNSET
    category_id: int | None | Unset = UNSET
    brand_id: int | None | Unset = UNSET
    seller_id: int | Unset = UNSET
    variants: tuple[VariantInput, ...] | Unset = UNSET
    images: tuple[ImageInput, ...] | Unset = UNSET
    attributes: tuple[AttributeInput, ...] | Unset = UNSET


@dataclass(frozen=True, kw_only=True)
class NewProduct(ProductChanges):
    """A product to create: a title and at least one variant; `seller_id` is the store an admin
    creates it for (a seller's own store when a seller creates it)."""

    title: str
    variants: tuple[VariantInput, ...]


@dataclass(frozen=True, kw_only=True)
class ProductEdit(ProductChanges):
    """One item of a bulk update: the product `id` and its changes."""

    id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class NewCategory:
    """A category to create (admins); `attribute_codes`: the attributes storefronts filter it by."""

    name: str
    slug: str | None = None
    parent_id: int | None = None
    description: str | None = None
    position: int = 0
    is_active: bool = True
    seo_title: str | None = None
    seo_description: str | None = None
    attribute_codes: tuple[str, ...] = ()
