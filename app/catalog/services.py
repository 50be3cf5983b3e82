"""Catalog operations: slugs, product ownership rules, counts."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import func, select

from app.catalog.models import PRODUCT_STATUSES, PRODUCT_TYPES, Brand, Category, Product, ProductVariant
from app.core.errors import ValidationError
from app.core.types import utcnow
from app.extensions import db
from app.inventory.models import LowStockAlert, StockLevel
from app.sellers.models import SellerProfile


def slugify(text: str, max_length: int = 200) -> str:
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:max_length].strip("-") or "item"


def unique_slug(model, base: str, exclude_id: int | None = None) -> str:
    """A slug not yet used in this tenant (the ORM hook limits the check to the current tenant)."""
    slug = slugify(base)
    candidate, n = slug, 1
    while True:
        query = select(model.id).where(model.slug == candidate)
        if exclude_id is not None:
            query = query.where(model.id != exclude_id)
        with db.session.no_autoflush:
            if db.session.scalar(query) is None:
                return candidate
        n += 1
        candidate = f"{slug}-{n}"


def prepare_product(product: Product) -> None:
    """Defaults and rules for a product about to be saved (admin form or API)."""
    errors = {}
    if not (product.title or "").strip():
        errors["title"] = "required"
    if product.status not in PRODUCT_STATUSES:
        errors["status"] = f"one of {', '.join(PRODUCT_STATUSES)}"
    if product.product_type not in PRODUCT_TYPES:
        errors["product_type"] = f"one of {', '.join(PRODUCT_TYPES)}"
    if errors:
        raise ValidationError("invalid product", details=errors)
    product.slug = unique_slug(Product, product.slug or product.title, exclude_id=product.id)
    if product.status == "active" and product.published_at is None:
        product.published_at = utcnow()


def prepare_variant(variant: ProductVariant) -> None:
    errors = {}
    if variant.price is None or variant.price < 0:
        errors["price"] = "zero or more"
    if variant.compare_at_price is not None and variant.compare_at_price < 0:
        errors["compare_at_price"] = "zero or more"
    if not re.fullmatch(r"[A-Z]{3}", variant.currency or ""):
        errors["currency"] = "an ISO 4217 code such as USD"
    if not (variant.sku or "").strip():
        errors["sku"] = "required"
    if errors:
        raise ValidationError("invalid variant", details=errors)
    variant.sku = variant.sku.strip()


def prepare_category(category: Category) -> None:
    if category.parent is not None:
        node, seen = category.parent, set()
        while node is not None:
            if node is category or node.id in seen or (category.id and node.id == category.id):
                raise ValidationError("a category cannot be its own ancestor", details={"parent": "cycle"})
            seen.add(node.id)
            node = node.parent
    category.slug = unique_slug(Category, category.slug or category.name, exclude_id=category.id)


def prepare_brand(brand: Brand) -> None:
    brand.slug = unique_slug(Brand, brand.slug or brand.name, exclude_id=brand.id)


def catalog_counts(seller_id: int | None = None) -> dict[str, int]:
    """Headline numbers for the admin home page; a seller's own numbers when seller_id is given."""
    products = select(func.count(Product.id))
    variants = select(func.count(ProductVariant.id)).join(Product)
    low = select(func.count(LowStockAlert.id)).where(LowStockAlert.resolved_at.is_(None))
    if seller_id is not None:
        products = products.where(Product.seller_id == seller_id)
        variants = variants.where(Product.seller_id == seller_id)
        low = low.join(StockLevel).join(ProductVariant).join(Product).where(Product.seller_id == seller_id)
    counts = {
        "Products": db.session.scalar(products) or 0,
        "Variants": db.session.scalar(variants) or 0,
        "Open low-stock alerts": db.session.scalar(low) or 0,
    }
    if seller_id is None:
        counts["Sellers"] = db.session.scalar(select(func.count(SellerProfile.id))) or 0
    return counts
