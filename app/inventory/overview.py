"""Products as the admin's catalog pages show them: what a product list needs beside each row
(`list_facts`: its first image, its price range, its stock) for one page of products, in one query
each, and one product's page on one screen (`product_page`: its variants with their prices and
stock per warehouse, its images and attributes).

Here rather than in app.catalog because stock is inventory's (a layer above the catalog). Every
query runs in the current tenant (the ORM's tenancy hooks); `product_page` answers NotFound for a
product a seller does not own, as the admin's other pages of another seller's rows do."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.catalog import scopes as catalog_scopes
from app.catalog.models import Product, ProductAttributeValue, ProductImage, ProductVariant
from app.core.errors import NotFound
from app.extensions import db
from app.inventory.models import StockLevel
from app.security.actor import Actor

# stock levels, as the list colours them
OUT = "out"  # nothing available
LOW = "low"  # at or below the reorder points of its stock rows
OK = "ok"


def stock_level(available: int | None, reorder_point: int) -> str | None:
    """OUT, LOW or OK for `available` units against the stock rows' `reorder_point` (summed);
    None when there is no stock row."""
    if available is None:
        return None
    if available <= 0:
        return OUT
    return LOW if available <= reorder_point else OK


@dataclass(frozen=True, slots=True)
class PriceRange:
    """The lowest and highest price of a product's active variants in one currency."""

    currency: str
    low: Decimal
    high: Decimal


@dataclass(frozen=True, slots=True)
class ListFacts:
    """What a product list row shows beside the product's own columns. `available`: units on hand
    not reserved over every warehouse, of its active variants (None: no stock row at all);
    `reorder_point`: the sum of those stock rows' reorder points."""

    thumbnail_url: str | None = None
    thumbnail_alt: str | None = None
    prices: tuple[PriceRange, ...] = ()
    available: int | None = None
    reorder_point: int = 0

    @property
    def stock_level(self) -> str | None:
        return stock_level(self.available, self.reorder_point)


def list_facts(product_ids: Iterable[int]) -> dict[int, ListFacts]:
    """product id -> ListFacts for one page of products: three queries whatever the page's size
    (its images, its variants' prices, its stock), each keyed by the page's ids."""
    ids = sorted({i for i in product_ids if isinstance(i, int)})
    if not ids:
        return {}
    thumbnails: dict[int, tuple[str, str | None]] = {}
    images = db.session.execute(
        select(ProductImage.product_id, ProductImage.url, ProductImage.alt_text)
        .where(ProductImage.product_id.in_(ids))
        .order_by(ProductImage.product_id, ProductImage.position, ProductImage.id)
    ).all()
    for product_id, url, alt in images:
        thumbnails.setdefault(product_id, (url, alt))  # the first one, as the storefront shows

    prices: dict[int, list[PriceRange]] = defaultdict(list)
    for product_id, currency, low, high in db.session.execute(
        select(
            ProductVariant.product_id,
            ProductVariant.currency,
            func.min(ProductVariant.price),
            func.max(ProductVariant.price),
        )
        .where(ProductVariant.product_id.in_(ids), ProductVariant.is_active.is_(True))
        .group_by(ProductVariant.product_id, ProductVariant.currency)
        .order_by(ProductVariant.product_id, ProductVariant.currency)
    ).all():
        prices[product_id].append(PriceRange(currency, Decimal(low), Decimal(high)))

    stock = {
        product_id: (int(available or 0), int(reorder or 0))
        for product_id, available, reorder in db.session.execute(
            select(
                ProductVariant.product_id,
                func.sum(StockLevel.quantity_on_hand - StockLevel.quantity_reserved),
                func.sum(StockLevel.reorder_point),
            )
            .join(StockLevel, StockLevel.variant_id == ProductVariant.id)
            .where(ProductVariant.product_id.in_(ids), ProductVariant.is_active.is_(True))
            .group_by(ProductVariant.product_id)
        ).all()
    }
    facts = {}
    for product_id in ids:
        url, alt = thumbnails.get(product_id, (None, None))
        available, reorder = stock.get(product_id, (None, 0))
        facts[product_id] = ListFacts(
            thumbnail_url=url,
            thumbnail_alt=alt,
            prices=tuple(prices.get(product_id, ())),
            available=available,
            reorder_point=reorder,
        )
    return facts


# --- one product's page -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WarehouseName:
    id: int
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class StockCell:
    """A variant's stock row in one warehouse (its id: the stock row's admin page)."""

    stock_level_id: int
    warehouse_id: int
    on_hand: int
    reserved: int
    reorder_point: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True, slots=True)
class VariantLine:
    id: int
    sku: str
    title: str | None
    options_label: str
    price: Decimal
    compare_at_price: Decimal | None
    currency: str
    is_active: bool
    stock: dict[int, StockCell]  # warehouse id -> its row

    @property
    def available(self) -> int | None:
        """Units available over every warehouse; None without a stock row."""
        if not self.stock:
            return None
        return sum(cell.available for cell in self.stock.values())

    @property
    def stock_level(self) -> str | None:
        return stock_level(self.available, sum(c.reorder_point for c in self.stock.values()))


@dataclass(frozen=True, slots=True)
class ImageLine:
    id: int
    url: str
    alt_text: str | None
    variant_sku: str | None


@dataclass(frozen=True, slots=True)
class AttributeLine:
    id: int
    name: str
    value: str
    unit: str | None


@dataclass(frozen=True, slots=True)
class ProductPage:
    """One product on one screen: the product (with its seller, category and brand loaded), its
    variants with their stock per warehouse, the warehouses holding any of it (named, in the
    table's order), its images and attribute values."""

    product: Product
    variants: tuple[VariantLine, ...]
    warehouses: tuple[WarehouseName, ...]
    images: tuple[ImageLine, ...]
    attributes: tuple[AttributeLine, ...]

    @property
    def available(self) -> int | None:
        counted = [v.available for v in self.variants if v.available is not None]
        return sum(counted) if counted else None

    @property
    def by_warehouse(self) -> dict[int, int]:
        """warehouse id -> units available there over every variant."""
        totals: dict[int, int] = defaultdict(int)
        for variant in self.variants:
            for warehouse_id, cell in variant.stock.items():
                totals[warehouse_id] += cell.available
        return dict(totals)


def product_page(actor: Actor, product_id: int) -> ProductPage:
    """Product `product_id` as its admin page shows it, for staff; a seller's own only (another's,
    or one of another tenant, is NotFound)."""
    query = (
        select(Product)
        .options(
            joinedload(Product.seller), joinedload(Product.category), joinedload(Product.brand)
        )
        .where(Product.id == product_id)
    )
    if not actor.is_admin:
        seller_id = actor.seller_id if actor.is_seller else None
        if seller_id is None:
            raise NotFound("product not found")
        query = query.where(catalog_scopes.products_of_seller(seller_id))
    product = db.session.scalars(query).unique().one_or_none()
    if product is None:
        raise NotFound("product not found")

    variants = db.session.scalars(
        select(ProductVariant)
        .where(ProductVariant.product_id == product.id)
        .order_by(ProductVariant.position, ProductVariant.id)
    ).all()
    rows = (
        db.session.scalars(
            select(StockLevel).where(StockLevel.variant_id.in_([v.id for v in variants]))
        ).all()
        if variants
        else []
    )  # each with its warehouse (joined)
    by_variant: dict[int, dict[int, StockCell]] = defaultdict(dict)
    warehouses: dict[int, WarehouseName] = {}
    for row in rows:
        by_variant[row.variant_id][row.warehouse_id] = StockCell(
            stock_level_id=row.id,
            warehouse_id=row.warehouse_id,
            on_hand=row.quantity_on_hand,
            reserved=row.quantity_reserved,
            reorder_point=row.reorder_point,
        )
        warehouses[row.warehouse_id] = WarehouseName(
            row.warehouse.id, row.warehouse.code, row.warehouse.name
        )
    skus = {v.id: v.sku for v in variants}
    images = db.session.scalars(
        select(ProductImage)
        .where(ProductImage.product_id == product.id)
        .order_by(ProductImage.position, ProductImage.id)
    ).all()
    values = db.session.scalars(
        select(ProductAttributeValue).where(ProductAttributeValue.product_id == product.id)
    ).all()  # each with its attribute (joined)
    return ProductPage(
        product=product,
        variants=tuple(
            VariantLine(
                id=v.id,
                sku=v.sku,
                title=v.title,
                options_label=v.options_label,
                price=v.price,
                compare_at_price=v.compare_at_price,
                currency=v.currency,
                is_active=v.is_active,
                stock=dict(by_variant.get(v.id, {})),
            )
            for v in variants
        ),
        warehouses=tuple(sorted(warehouses.values(), key=lambda w: (w.name, w.code, w.id))),
        images=tuple(
            ImageLine(i.id, i.url, i.alt_text, skus.get(i.variant_id) if i.variant_id else None)
            for i in images
        ),
        attributes=tuple(
            sorted(
                (AttributeLine(a.id, a.attribute.name, a.value, a.attribute.unit) for a in values),
                key=lambda a: (a.name.lower(), a.id),
            )
        ),
    )
