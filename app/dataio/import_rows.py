"""What each importable entity's rows hold, how a row is checked and how it is written.

A file has a header row naming its columns (any order; unknown or missing required columns are
errors of the header, row 1) and one row per record:

- products: one row per variant; the rows of one product share its `handle` (its slug) and come
  one after another. Product columns are read from the product's first row. A product is matched
  by its handle, a variant by its SKU: re-importing a file updates, never duplicates.
- stock: a SKU's units on hand in a warehouse (by code); every change is a movement of the stock
  ledger (app.inventory.stock.bulk_update, reason "count").
- customers: one row per customer (matched by e-mail), with at most one address (matched by its
  label).
- prices: a variant's price (by SKU).

Checking is in two steps: `parse` (the row alone: required, types, currency, price below zero,
duplicates within the file) then `check` (a chunk of rows against the shop: unknown category or
warehouse, a SKU or handle of another product or seller). `apply` writes one group (a product with
its variants; one row otherwise) through the domains' models and services. A seller reaches only
its own catalog: a row naming another seller's SKU or handle is an error, never an update.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, insert, select
from sqlalchemy.orm import selectinload
from werkzeug.security import generate_password_hash

from app.catalog.models import (
    PRODUCT_STATUSES,
    Attribute,
    Brand,
    Category,
    Product,
    ProductAttributeValue,
    ProductImage,
    ProductVariant,
)
from app.catalog.services import reserve_product_quota
from app.core import cache
from app.core.errors import ValidationError
from app.core.slugs import slugify, unique_slug
from app.core.types import utcnow
from app.customers.models import Address, CustomerProfile
from app.events.bus import publish
from app.extensions import db
from app.inventory import scopes as inventory_scopes
from app.inventory import stock as stock_service
from app.inventory.models import StockLevel, Warehouse
from app.security import roles
from app.security import services as users
from app.security.actor import Actor
from app.security.models import User
from app.sellers.models import SellerProfile

MONEY_MAX = Decimal("9999999999.99")
MAX_UNITS = stock_service.MAX_UNITS
_CURRENCY = re.compile(r"[A-Z]{3}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_COUNTRY = re.compile(r"[A-Z]{2}")
_URL = re.compile(r"https?://[^\s]+")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "text"  # text, decimal, money, int, bool, currency, email, country, urls, pairs
    required: bool = False
    max_len: int = 255
    example: str = ""
    staff_only: bool = False


@dataclass
class Row:
    number: int  # in the file; 1 is the header
    values: list[str]  # as uploaded, in the file's column order
    data: dict = field(default_factory=dict)  # typed values by column name (given ones only)
    errors: dict[str, str] = field(default_factory=dict)

    def fail(self, column: str, message: str) -> None:
        self.errors.setdefault(column, message)


@dataclass
class Group:
    """The rows written together: a product and its variants, or one row."""

    key: str | None
    rows: list[Row]

    @property
    def ok(self) -> bool:
        return not any(r.errors for r in self.rows)

    def spread_errors(self) -> None:
        """A product is written whole or not at all: its other rows say which row failed."""
        bad = [r.number for r in self.rows if r.errors]
        if bad:
            for r in self.rows:
                if not r.errors:
                    r.fail("handle", f"not imported: row {bad[0]} of this product is invalid")


@dataclass
class Context:
    """Who imports (staff of the tenant: seller_id None) and what the file has shown so far."""

    actor: Actor
    tenant_id: int
    seller_id: int | None
    default_currency: str
    seen_keys: set = field(default_factory=set)  # SKUs, handles, e-mails, (sku, warehouse)
    seen_handles: set = field(default_factory=set)
    last_handle: str | None = None
    caches: dict = field(default_factory=dict)

    @property
    def is_staff(self) -> bool:
        return self.seller_id is None


class HeaderError(ValidationError):
    """The header row is not the template's (unknown, repeated or missing columns)."""


# --- cells -----------------------------------------------------------------------------------


def _decimal(text: str, column: Column) -> Decimal:
    try:
        value = Decimal(text.replace(",", "")) if "," in text and "." in text else Decimal(text)
    except InvalidOperation as exc:
        raise ValueError("a number such as 19.99") from exc
    if not value.is_finite():
        raise ValueError("a number such as 19.99")
    if column.kind == "money":
        if value < 0:
            raise ValueError("zero or more")
        if value > MONEY_MAX or value != value.quantize(Decimal("0.01")):
            raise ValueError("at most 2 decimals and 9,999,999,999.99")
    elif value < 0:
        raise ValueError("zero or more")
    return value


def _pairs(text: str) -> dict[str, str]:
    out = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError("name=value pairs separated by ';'")
        out[key.strip()] = value.strip()
    return out


def parse_cell(column: Column, text: str):
    kind = column.kind
    if len(text) > (2000 if kind in ("urls", "pairs") else column.max_len):
        raise ValueError(f"at most {column.max_len} characters")
    if kind == "text":
        return text
    if kind in ("decimal", "money"):
        return _decimal(text, column)
    if kind == "int":
        if not re.fullmatch(r"\d+", text):
            raise ValueError("a whole number, zero or more")
        value = int(text)
        if value > MAX_UNITS:
            raise ValueError(f"at most {MAX_UNITS}")
        return value
    if kind == "bool":
        low = text.lower()
        if low in ("1", "true", "yes", "y"):
            return True
        if low in ("0", "false", "no", "n"):
            return False
        raise ValueError("true or false")
    if kind == "currency":
        if not _CURRENCY.fullmatch(text):
            raise ValueError("an ISO 4217 code such as USD")
        return text
    if kind == "email":
        if not _EMAIL.fullmatch(text):
            raise ValueError("an e-mail address")
        return text.lower()
    if kind == "country":
        if not _COUNTRY.fullmatch(text.upper()):
            raise ValueError("an ISO 3166 code such as GB")
        return text.upper()
    if kind == "urls":
        urls = [u.strip() for u in text.split("|") if u.strip()]
        for url in urls:
            if not _URL.fullmatch(url) or len(url) > 500:
                raise ValueError("http(s) URLs of at most 500 characters, separated by '|'")
        return urls
    if kind == "pairs":
        return _pairs(text)
    raise AssertionError(kind)


# --- entities --------------------------------------------------------------------------------


class Entity:
    name: str
    columns: tuple[Column, ...]
    staff_only = False
    group_by: str | None = None  # column whose consecutive equal values make one group

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def header(self, ctx: Context | None = None) -> list[str]:
        return [c.name for c in self.columns if not (c.staff_only and ctx and not ctx.is_staff)]

    def example(self, ctx: Context | None = None) -> list[str]:
        return [c.example for c in self.columns if not (c.staff_only and ctx and not ctx.is_staff)]

    def read_header(self, cells: list[str], ctx: Context) -> list[Column | None]:
        """The file's columns in order; unknown and missing required ones are errors of row 1."""
        errors: dict[str, str] = {}
        columns: list[Column | None] = []
        seen = set()
        for name in cells:
            key = name.strip().lower()
            column = self.column(key)
            if not key or key == "error":  # an error file uploaded again keeps its error column
                columns.append(None)
                continue
            if column is None:
                errors[name] = "unknown column"
            elif key in seen:
                errors[name] = "column given twice"
            elif column.staff_only and not ctx.is_staff:
                errors[name] = "only staff import this column"
            seen.add(key)
            columns.append(column)
        for column in self.columns:
            if column.required and column.name not in seen:
                errors[column.name] = "missing column"
        if errors:
            raise HeaderError(
                "the header row does not match the template", details={"row": 1, "columns": errors}
            )
        return columns

    def parse(self, row: Row, columns: list[Column | None], ctx: Context) -> None:
        for column, text in zip(columns, row.values, strict=False):
            if column is None or text == "":
                continue
            try:
                row.data[column.name] = parse_cell(column, text)
            except ValueError as exc:
                row.fail(column.name, str(exc))
        for column in self.columns:
            if column.required and column.name not in row.data and column.name not in row.errors:
                row.fail(column.name, "required")
        self.parse_more(row, ctx)

    def parse_more(self, row: Row, ctx: Context) -> None:
        """Rules of a row on its own, beyond its cells' types."""

    def skip(self, row: Row, columns: list[Column | None], ctx: Context) -> None:
        """A row done before a resume: only what the rest of the file is compared with."""
        self.parse(row, columns, ctx)

    def check(self, groups: list[Group], ctx: Context) -> None:
        """The rows of a chunk against the shop (reads only)."""

    def before_apply(self, groups: list[Group], ctx: Context) -> None:
        """Before the good groups of a chunk are written (in their transaction)."""

    def apply(self, group: Group, ctx: Context) -> tuple[int, int]:
        """Write one group; (created, updated) rows."""
        raise NotImplementedError


def _once(row: Row, ctx: Context, column: str, key, what: str) -> None:
    """A key (SKU, e-mail, ...) used by one row of the file only."""
    if key in ctx.seen_keys:
        row.fail(column, f"duplicate {what} in the file")
    else:
        ctx.seen_keys.add(key)


def _sellers_by_slug(ctx: Context, slugs: Iterable[str]) -> dict[str, SellerProfile]:
    cache = ctx.caches.setdefault("sellers", {})
    wanted = {s for s in slugs if s not in cache}
    if wanted:
        for seller in db.session.scalars(
            select(SellerProfile).where(SellerProfile.slug.in_(wanted))
        ):
            cache[seller.slug] = seller.id
        for s in wanted:
            cache.setdefault(s, None)
    return cache


class Products(Entity):
    name = "products"
    group_by = "handle"
    columns = (
        Column("handle", required=True, max_len=200, example="linen-shirt"),
        Column("title", required=True, example="Linen shirt"),
        Column("description", max_len=20000, example="Washed linen, relaxed fit."),
        Column("status", example="active"),
        Column("category", max_len=140, example="shirts"),
        Column("brand", max_len=120, example="Acme"),
        Column("attributes", kind="pairs", example="material=linen"),
        Column("images", kind="urls", example="https://cdn.example.com/linen-shirt.jpg"),
        Column("seller", max_len=140, example="acme-store", staff_only=True),
        Column("sku", required=True, max_len=64, example="LINEN-SHIRT-M"),
        Column("variant_title", example="Medium"),
        Column("options", kind="pairs", example="size=M;colour=white"),
        Column("price", kind="money", required=True, example="49.90"),
        Column("compare_at_price", kind="money", example="59.90"),
        Column("currency", kind="currency", example="USD"),
        Column("weight_kg", kind="decimal", example="0.350"),
        Column("active", kind="bool", example="true"),
    )

    def parse_more(self, row: Row, ctx: Context) -> None:
        d = row.data
        status = d.get("status")
        if status is not None and status not in PRODUCT_STATUSES:
            row.fail("status", f"one of {', '.join(PRODUCT_STATUSES)}")
        if "handle" in d:
            d["handle"] = slugify(d["handle"])
        price, compare = d.get("price"), d.get("compare_at_price")
        if compare is not None and price is not None and compare < price:
            row.fail("compare_at_price", "at least the price")
        weight = d.get("weight_kg")
        if weight is not None and weight != weight.quantize(Decimal("0.001")):
            row.fail("weight_kg", "at most 3 decimals")
        if "sku" in d:
            _once(row, ctx, "sku", ("sku", d["sku"].lower()), "SKU")
        if ctx.is_staff and "seller" not in d and "seller" not in row.errors:
            row.fail("seller", "required: the store (its slug) the product belongs to")
        handle = d.get("handle")
        if handle is not None and handle != ctx.last_handle:
            if handle in ctx.seen_handles:
                row.fail("handle", "the rows of a product must follow one another")
            ctx.seen_handles.add(handle)
            ctx.last_handle = handle

    def check(self, groups: list[Group], ctx: Context) -> None:
        rows = [r for g in groups for r in g.rows]
        caches = ctx.caches
        if "categories" not in caches:
            caches["categories"] = {}
            for cid, slug, name in db.session.execute(
                select(Category.id, Category.slug, Category.name)
            ):
                caches["categories"][slug.lower()] = cid
                caches["categories"].setdefault(name.lower(), cid)
            caches["attributes"] = {
                code.lower(): aid
                for aid, code in db.session.execute(select(Attribute.id, Attribute.code))
            }
            caches["brands"] = {
                name.lower(): bid for bid, name in db.session.execute(select(Brand.id, Brand.name))
            }
        if ctx.is_staff:
            sellers = _sellers_by_slug(ctx, {r.data["seller"] for r in rows if "seller" in r.data})
        skus = {r.data["sku"] for r in rows if "sku" in r.data}
        handles = {g.key for g in groups if g.key}
        variants = {
            sku.lower(): (pid, seller_id)
            for sku, pid, seller_id in db.session.execute(
                select(
                    ProductVariant.sku, ProductVariant.product_id, ProductVariant.seller_id
                ).where(ProductVariant.sku.in_(skus))
            )
        }
        products = {
            slug: (pid, seller_id)
            for slug, pid, seller_id in db.session.execute(
                select(Product.slug, Product.id, Product.seller_id).where(Product.slug.in_(handles))
            )
        }
        for group in groups:
            first = group.rows[0]
            seller_id = ctx.seller_id
            if ctx.is_staff and "seller" in first.data:
                seller_id = sellers.get(first.data["seller"])
                if seller_id is None:
                    first.fail("seller", "no such store")
            for r in group.rows[1:]:
                if ctx.is_staff and r.data.get(
                    "seller", first.data.get("seller")
                ) != first.data.get("seller"):
                    r.fail("seller", "every row of a product names the same store")
            found = products.get(group.key)
            product_id = None
            if found is not None:
                if seller_id is not None and found[1] != seller_id:
                    first.fail("handle", "a product of another seller has this handle")
                else:
                    product_id = found[0]
            category = first.data.get("category")
            if category is not None and category.lower() not in caches["categories"]:
                first.fail("category", "unknown category")
            for code in first.data.get("attributes", {}):
                if code.lower() not in caches["attributes"]:
                    first.fail("attributes", f"unknown attribute {code}")
                    break
            for r in group.rows:
                sku = r.data.get("sku")
                if sku is None:
                    continue
                owner = variants.get(sku.lower())
                if owner is None:
                    continue
                if seller_id is not None and owner[1] != seller_id:
                    r.fail("sku", "this SKU belongs to another seller")
                elif product_id is None or owner[0] != product_id:
                    r.fail("sku", "duplicate SKU: another product of the shop has it")
            currency = first.data.get("currency")
            for r in group.rows:
                if r.data.get("currency", ctx.default_currency) != (
                    currency or ctx.default_currency
                ):
                    r.fail("currency", "every variant of a product has the same currency")
            group.spread_errors()
            first.data["_seller_id"] = seller_id
            first.data["_product_id"] = product_id

    def before_apply(self, groups: list[Group], ctx: Context) -> None:
        """The new products take their places in the plan's limit, and the brands the chunk
        names that the shop lacks are made, once per chunk (not a flush per product)."""
        reserve_product_quota(sum(1 for g in groups if g.rows[0].data.get("_product_id") is None))
        brands = ctx.caches["brands"]
        missing = {}
        for g in groups:
            name = g.rows[0].data.get("brand")
            if name is not None and name.lower() not in brands:
                missing.setdefault(name.lower(), name)
        if missing:
            made = []
            for name in missing.values():
                brand = Brand(name=name, slug=unique_slug(Brand, name))
                db.session.add(brand)
                made.append(brand)
            db.session.flush()
            for brand in made:
                brands[brand.name.lower()] = brand.id

    def apply_many(self, groups: list[Group], ctx: Context) -> tuple[int, int]:
        """Known products through the ORM (their variants, images and attributes compared and
        changed); new ones by multi-row Core INSERTs (a first import of a big catalog is
        mostly new products: the ORM's unit of work per object was most of its time)."""
        created = updated = 0
        new = []
        for group in groups:
            if group.rows[0].data.get("_product_id") is None:
                new.append(group)
            else:
                c, u = self.apply(group, ctx)
                created, updated = created + c, updated + u
        if new:
            created += self._insert_new(new, ctx)
        return created, updated

    def _insert_new(self, groups: list[Group], ctx: Context) -> int:
        """New products with their variants, images and attribute values: one INSERT per table.
        What the ORM hooks would do is done here: tenant and seller copied, min_price set,
        the search index asked to read the products, the catalog caches bumped after commit."""
        now = utcnow()
        products = []
        for group in groups:
            first = group.rows[0].data
            status = first.get("status", "draft")
            prices = [r.data["price"] for r in group.rows if r.data.get("active", True)]
            category = first.get("category")
            brand = first.get("brand")
            products.append(
                {
                    "tenant_id": ctx.tenant_id,
                    "seller_id": first["_seller_id"],
                    "slug": group.key,
                    "title": first["title"],
                    "description": first.get("description"),
                    "status": status,
                    "product_type": "physical",
                    "category_id": ctx.caches["categories"][category.lower()] if category else None,
                    "brand_id": self._brand(brand, ctx) if brand else None,
                    "min_price": min(prices) if prices else None,
                    "published_at": now if status == "active" else None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        table = Product.__table__
        ids = [
            row[0]
            for row in db.session.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True), products
            )
        ]
        currency_default = ctx.default_currency
        variants, images, values = [], [], []
        for product_id, group, product in zip(ids, groups, products, strict=True):
            first = group.rows[0].data
            currency = first.get("currency", currency_default)
            for position, row in enumerate(group.rows):
                d = row.data
                variants.append(
                    {
                        "tenant_id": ctx.tenant_id,
                        "product_id": product_id,
                        "seller_id": product["seller_id"],
                        "sku": d["sku"],
                        "title": d.get("variant_title"),
                        "price": d["price"],
                        "compare_at_price": d.get("compare_at_price"),
                        "currency": currency,
                        "weight_kg": d.get("weight_kg"),
                        "options": dict(d.get("options", {})),
                        "is_active": d.get("active", True),
                        "position": position,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            for position, url in enumerate(first.get("images", ())):
                images.append(
                    {
                        "tenant_id": ctx.tenant_id,
                        "product_id": product_id,
                        "url": url,
                        "position": position,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            for code, value in first.get("attributes", {}).items():
                values.append(
                    {
                        "tenant_id": ctx.tenant_id,
                        "product_id": product_id,
                        "attribute_id": ctx.caches["attributes"][code.lower()],
                        "value": value,
                    }
                )
        for model, rows in (
            (ProductVariant, variants),
            (ProductImage, images),
            (ProductAttributeValue, values),
        ):
            if rows:
                db.session.execute(insert(model.__table__), rows)
        publish(
            "search.reindex_requested",
            {"product_ids": sorted(ids)},
            aggregate="search",
            tenant_id=ctx.tenant_id,
        )
        cache.mark_core_writes(
            ctx.tenant_id, Product, ProductVariant, ProductImage, ProductAttributeValue
        )
        return len(variants)

    def apply(self, group: Group, ctx: Context) -> tuple[int, int]:
        first = group.rows[0].data
        product_id = first.get("_product_id")
        created = product_id is None
        if created:
            product = Product(
                seller_id=first["_seller_id"],
                slug=group.key,
                status="draft",
                product_type="physical",
            )
            product.variants, product.images, product.attribute_values = [], [], []
            db.session.add(product)
        else:
            product = db.session.scalars(
                select(Product)
                .where(Product.id == product_id)
                .options(
                    selectinload(Product.variants),
                    selectinload(Product.images),
                    selectinload(Product.attribute_values),
                )
            ).one()
        product.title = first["title"]
        if "description" in first:
            product.description = first["description"]
        status = first.get("status", product.status or "draft")
        product.status = status
        if status == "active" and product.published_at is None:
            product.published_at = utcnow()
        if "category" in first:
            product.category_id = ctx.caches["categories"][first["category"].lower()]
        if "brand" in first:
            product.brand_id = self._brand(first["brand"], ctx)
        if "images" in first:
            current = [i.url for i in product.images]
            if current != first["images"]:
                product.images.clear()
                for position, url in enumerate(first["images"]):
                    product.images.append(ProductImage(url=url, position=position))
        if "attributes" in first:
            wanted = first["attributes"]
            ids = ctx.caches["attributes"]
            current = {pav.attribute_id: pav for pav in product.attribute_values}
            keep = set()
            for code, value in wanted.items():
                attribute_id = ids[code.lower()]
                keep.add(attribute_id)
                if attribute_id in current:
                    if current[attribute_id].value != value:
                        current[attribute_id].value = value
                else:
                    product.attribute_values.append(
                        ProductAttributeValue(attribute_id=attribute_id, value=value)
                    )
            for attribute_id, pav in current.items():
                if attribute_id not in keep:
                    product.attribute_values.remove(pav)
        by_sku = {v.sku.lower(): v for v in product.variants}
        currency = first.get("currency", ctx.default_currency)
        for position, row in enumerate(group.rows):
            d = row.data
            variant = by_sku.get(d["sku"].lower())
            if variant is None:
                variant = ProductVariant(
                    sku=d["sku"], seller_id=product.seller_id, options={}, position=position
                )
                product.variants.append(variant)
            variant.price = d["price"]
            variant.currency = currency
            variant.position = position
            if "variant_title" in d:
                variant.title = d["variant_title"]
            if "compare_at_price" in d:
                variant.compare_at_price = d["compare_at_price"]
            if "weight_kg" in d:
                variant.weight_kg = d["weight_kg"]
            if "options" in d and dict(variant.options or {}) != d["options"]:
                variant.options = dict(d["options"])
            if "active" in d:
                variant.is_active = d["active"]
        return (len(group.rows), 0) if created else (0, len(group.rows))

    def _brand(self, name: str, ctx: Context) -> int:
        return ctx.caches["brands"][name.lower()]  # made by before_apply when new


class Stock(Entity):
    name = "stock"
    columns = (
        Column("sku", required=True, max_len=64, example="LINEN-SHIRT-M"),
        Column("warehouse", required=True, max_len=32, example="MAIN"),
        Column("quantity", kind="int", required=True, example="25"),
        Column("reorder_point", kind="int", example="5"),
    )

    def parse_more(self, row: Row, ctx: Context) -> None:
        d = row.data
        if "sku" in d and "warehouse" in d:
            _once(row, ctx, "sku", ("stock", d["sku"].lower(), d["warehouse"]), "SKU and warehouse")

    def check(self, groups: list[Group], ctx: Context) -> None:
        rows = [g.rows[0] for g in groups]
        skus = {r.data["sku"] for r in rows if "sku" in r.data}
        codes = {r.data["warehouse"] for r in rows if "warehouse" in r.data}
        variants = {
            sku.lower(): (vid, seller_id)
            for vid, sku, seller_id in db.session.execute(
                select(ProductVariant.id, ProductVariant.sku, ProductVariant.seller_id).where(
                    ProductVariant.sku.in_(skus)
                )
            )
        }
        stmt = select(Warehouse.id, Warehouse.code).where(Warehouse.code.in_(codes))
        if ctx.seller_id is not None:
            stmt = stmt.where(inventory_scopes.warehouses_usable_by_seller(ctx.seller_id))
        warehouses = {code: wid for wid, code in db.session.execute(stmt)}
        pairs = {}
        for r in rows:
            d = r.data
            variant = variants.get(d.get("sku", "").lower())
            if "sku" in d and variant is None:
                r.fail("sku", "no variant with this SKU")
            elif variant is not None and ctx.seller_id is not None and variant[1] != ctx.seller_id:
                r.fail("sku", "this SKU belongs to another seller")
            if "warehouse" in d and d["warehouse"] not in warehouses:
                r.fail("warehouse", "no such warehouse")
            if not r.errors:
                pairs[(variant[0], warehouses[d["warehouse"]])] = r
        if pairs:
            for variant_id, warehouse_id, reserved in db.session.execute(
                select(
                    StockLevel.variant_id, StockLevel.warehouse_id, StockLevel.quantity_reserved
                ).where(StockLevel.variant_id.in_({p[0] for p in pairs}))
            ):
                r = pairs.get((variant_id, warehouse_id))
                if r is not None and r.data["quantity"] < reserved:
                    r.fail("quantity", f"{reserved} units are reserved for open orders")

    def apply(self, group: Group, ctx: Context) -> tuple[int, int]:
        return self.apply_many([group], ctx)

    def apply_many(self, groups: list[Group], ctx: Context) -> tuple[int, int]:
        rows = [g.rows[0] for g in groups]
        result = stock_service.bulk_update(
            ctx.actor,
            [
                stock_service.BulkRow(
                    sku=r.data["sku"],
                    warehouse_code=r.data["warehouse"],
                    quantity=r.data["quantity"],
                    reason="count",
                    note="import",
                )
                for r in rows
            ],
        )
        points = [(r, item) for r, item in zip(rows, result.items, strict=True)]
        for r, item in points:
            if "reorder_point" in r.data:
                stock = db.session.get(StockLevel, item.stock_level_id)
                if stock.reorder_point != r.data["reorder_point"]:
                    stock.reorder_point = r.data["reorder_point"]
        return result.created, len(rows) - result.created


class Customers(Entity):
    name = "customers"
    staff_only = True
    columns = (
        Column("email", kind="email", required=True, max_len=254, example="ada@example.com"),
        Column("first_name", max_len=64, example="Ada"),
        Column("last_name", max_len=64, example="Lovelace"),
        Column("phone", max_len=32, example="+44 20 7946 0000"),
        Column("marketing_opt_in", kind="bool", example="false"),
        Column("address_label", max_len=50, example="Home"),
        Column("full_name", max_len=200, example="Ada Lovelace"),
        Column("company", max_len=200, example=""),
        Column("line1", max_len=200, example="12 St James's Square"),
        Column("line2", max_len=200, example=""),
        Column("city", max_len=100, example="London"),
        Column("region", max_len=100, example=""),
        Column("postal_code", max_len=20, example="SW1Y 4JH"),
        Column("country", kind="country", example="GB"),
    )
    _ADDRESS = ("line1", "city", "postal_code", "country")

    def parse_more(self, row: Row, ctx: Context) -> None:
        d = row.data
        if "email" in d:
            _once(row, ctx, "email", ("email", d["email"]), "e-mail")
        if any(d.get(name) for name in ("line1", "city", "postal_code", "country", "line2")):
            for name in self._ADDRESS:
                if name not in d and name not in row.errors:
                    row.fail(name, "required for an address")

    def check(self, groups: list[Group], ctx: Context) -> None:
        rows = [g.rows[0] for g in groups]
        emails = {r.data["email"] for r in rows if "email" in r.data}
        found = {}
        for user_id, email in db.session.execute(
            select(User.id, func.lower(User.email)).where(
                User.tenant_id == ctx.tenant_id, func.lower(User.email).in_(emails)
            )
        ):
            found[email] = user_id
        profiles = dict(
            db.session.execute(
                select(CustomerProfile.user_id, CustomerProfile.id).where(
                    CustomerProfile.user_id.in_(found.values())
                )
            ).all()
        )
        for r in rows:
            user_id = found.get(r.data.get("email"))
            if user_id is not None and user_id not in profiles:
                r.fail("email", "this e-mail belongs to an account that is not a customer")
            r.data["_user_id"] = user_id

    def apply(self, group: Group, ctx: Context) -> tuple[int, int]:
        d = group.rows[0].data
        user_id = d.get("_user_id") or db.session.scalar(
            select(User.id).where(
                User.tenant_id == ctx.tenant_id, func.lower(User.email) == d["email"]
            )
        )
        created = user_id is None
        if created:
            if "password_hash" not in ctx.caches:  # no password: the customer sets one by reset
                ctx.caches["password_hash"] = generate_password_hash(secrets.token_urlsafe(32))
            user = users.create_user(
                tenant_id=ctx.tenant_id,
                email=d["email"],
                password="",
                first_name=d.get("first_name", ""),
                last_name=d.get("last_name", ""),
                role_names=[roles.CUSTOMER],
                check_password=False,
                password_hash=ctx.caches["password_hash"],
            )
            db.session.flush()
            profile = CustomerProfile(user_id=user.id)
            db.session.add(profile)
        else:
            user = db.session.get(User, user_id)
            profile = db.session.scalars(
                select(CustomerProfile).where(CustomerProfile.user_id == user_id)
            ).one()
            for name in ("first_name", "last_name"):
                if name in d and getattr(user, name) != d[name][:64]:
                    setattr(user, name, d[name][:64] or "-")
        if "phone" in d and profile.phone != d["phone"]:
            profile.phone = d["phone"]
        if "marketing_opt_in" in d and profile.marketing_opt_in != d["marketing_opt_in"]:
            profile.marketing_opt_in = d["marketing_opt_in"]
        if "line1" in d:
            db.session.flush()
            self._address(profile, d)
        return (1, 0) if created else (0, 1)

    def _address(self, profile: CustomerProfile, d: dict) -> None:
        label = d.get("address_label") or "Home"
        addresses = list(
            db.session.scalars(select(Address).where(Address.customer_id == profile.id))
        )
        address = next((a for a in addresses if a.label == label), None)
        if address is None:
            address = Address(customer_id=profile.id, label=label, is_default=not addresses)
            db.session.add(address)
        values = {
            "full_name": d.get("full_name")
            or f"{d.get('first_name', '')} {d.get('last_name', '')}".strip()
            or d["email"],
            "company": d.get("company"),
            "line1": d["line1"],
            "line2": d.get("line2"),
            "city": d["city"],
            "region": d.get("region"),
            "postal_code": d["postal_code"],
            "country": d["country"],
        }
        for name, value in values.items():
            if getattr(address, name) != value:
                setattr(address, name, value)


class Prices(Entity):
    name = "prices"
    columns = (
        Column("sku", required=True, max_len=64, example="LINEN-SHIRT-M"),
        Column("price", kind="money", required=True, example="44.90"),
        Column("compare_at_price", kind="money", example="59.90"),
        Column("currency", kind="currency", example="USD"),
    )

    def parse_more(self, row: Row, ctx: Context) -> None:
        d = row.data
        if "sku" in d:
            _once(row, ctx, "sku", ("sku", d["sku"].lower()), "SKU")
        price, compare = d.get("price"), d.get("compare_at_price")
        if compare is not None and price is not None and compare < price:
            row.fail("compare_at_price", "at least the price")

    def check(self, groups: list[Group], ctx: Context) -> None:
        rows = [g.rows[0] for g in groups]
        skus = {r.data["sku"] for r in rows if "sku" in r.data}
        variants = {
            sku.lower(): (vid, seller_id)
            for vid, sku, seller_id in db.session.execute(
                select(ProductVariant.id, ProductVariant.sku, ProductVariant.seller_id).where(
                    ProductVariant.sku.in_(skus)
                )
            )
        }
        for r in rows:
            if "sku" not in r.data:
                continue
            found = variants.get(r.data["sku"].lower())
            if found is None:
                r.fail("sku", "no variant with this SKU")
            elif ctx.seller_id is not None and found[1] != ctx.seller_id:
                r.fail("sku", "this SKU belongs to another seller")
            else:
                r.data["_variant_id"] = found[0]

    def apply(self, group: Group, ctx: Context) -> tuple[int, int]:
        d = group.rows[0].data
        variant = db.session.get(ProductVariant, d["_variant_id"])
        variant.price = d["price"]
        if "compare_at_price" in d:
            variant.compare_at_price = d["compare_at_price"]
        if "currency" in d:
            variant.currency = d["currency"]
        return 0, 1


ENTITIES: dict[str, Entity] = {e.name: e for e in (Products(), Stock(), Customers(), Prices())}
