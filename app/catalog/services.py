"""Catalog operations: slugs, product ownership rules, counts."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.catalog import queries, scopes
from app.catalog.errors import CatalogError
from app.catalog.inputs import NewCategory, NewProduct, ProductChanges, ProductEdit
from app.catalog.models import (
    PRODUCT_STATUSES,
    PRODUCT_TYPES,
    Attribute,
    Brand,
    Category,
    Product,
    ProductAttributeValue,
    ProductImage,
    ProductVariant,
)
from app.catalog.views import CategoryDetail, ProductCard, ProductDetail
from app.core.db import transaction
from app.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.core.inputs import UNSET
from app.core.slugs import slugify, unique_slug
from app.core.tenancy import current_tenant_id
from app.core.types import utcnow
from app.events.bus import publish
from app.extensions import db
from app.security.actor import Actor
from app.sellers.models import SellerProfile
from app.sellers.services import require_approved
from app.tenants.models import Tenant


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
                raise ValidationError(
                    "a category cannot be its own ancestor", details={"parent": "cycle"}
                )
            seen.add(node.id)
            node = node.parent
    category.slug = unique_slug(Category, category.slug or category.name, exclude_id=category.id)


def prepare_brand(brand: Brand) -> None:
    brand.slug = unique_slug(Brand, brand.slug or brand.name, exclude_id=brand.id)


def catalog_counts(seller_id: int | None = None) -> dict[str, int]:
    """The catalog's headline numbers for the admin home page (products, variants, and sellers
    when seller_id is None); a seller's own numbers when seller_id is given. The page adds
    inventory's open low-stock alerts (app.inventory.services.open_low_stock_alerts)."""
    products = select(func.count(Product.id))
    variants = select(func.count(ProductVariant.id)).join(Product)
    if seller_id is not None:
        products = products.where(scopes.products_of_seller(seller_id))
        variants = variants.where(scopes.products_of_seller(seller_id))
    counts = {
        "Products": db.session.scalar(products) or 0,
        "Variants": db.session.scalar(variants) or 0,
    }
    if seller_id is None:
        counts["Sellers"] = db.session.scalar(select(func.count(SellerProfile.id))) or 0
    return counts


# --- API write side: products with variants, bulk, categories --------------------------------
#
# Sellers write only their own products (another seller's product answers 404) and only while
# their seller profile is approved; admins write any product of the tenant and name its seller.
# DELETE archives (status "archived"): order lines and reports keep pointing at the product, and
# an admin or the seller can bring it back with a PATCH. Variants missing from an update's list
# are deactivated, never deleted, for the same reason. Every write publishes
# catalog.product_changed (or catalog.category_changed) inside its transaction; the cache's
# after-commit hook (app.core.cache, watching the catalog models) invalidates the public catalog.

MAX_BULK_ITEMS = 100
_PRODUCT_FIELDS = (
    "title",
    "slug",
    "description",
    "status",
    "product_type",
    "is_featured",
    "category_id",
    "brand_id",
)


def _standing(actor: Actor) -> tuple[bool, SellerProfile | None]:
    """(is_admin, the actor's seller profile or None)."""
    if actor.is_admin:
        return True, None
    if actor.is_seller:
        profile = db.session.scalar(
            select(SellerProfile).where(SellerProfile.user_id == actor.user_id)
        )
        if profile is not None:
            return False, profile
    raise PermissionDenied("only sellers and admins manage products")


def _own_product(product_id: int, is_admin: bool, seller: SellerProfile | None) -> Product | None:
    if not 0 < product_id < 2**31:
        return None
    product = db.session.scalar(select(Product).where(Product.id == product_id))
    if product is None or (not is_admin and not scopes.owns_product(seller.id, product)):
        return None
    return product


def seller_may_write(seller_id: int) -> SellerProfile | None:
    """The seller's profile, when it may create and change its catalog rows (products, variants,
    images, attribute values): staff approved it, as the API's product writes require;
    PermissionDenied (seller_not_approved) otherwise."""
    seller = db.session.get(SellerProfile, seller_id)
    require_approved(seller)
    return seller


def own_by_seller(product: Product, seller_id: int, *, is_new: bool = True) -> None:
    """A product a seller creates is always its own, whatever its form said; a seller not
    approved may neither create nor change one."""
    seller = seller_may_write(seller_id)
    if is_new:
        product.seller = seller


def _given(value):
    """A field's value, None when it was not sent (UNSET)."""
    return None if value is UNSET else value


def _check_product(
    changes: ProductChanges,
    *,
    product: Product | None,
    is_admin: bool,
    seller: SellerProfile | None,
    taken_skus: set[str],
) -> dict:
    """Business checks of one product write; returns field errors (empty when valid).
    `taken_skus` collects the SKUs claimed by earlier items of the same request."""
    errors: dict[str, Any] = {}
    seller_id = _given(changes.seller_id)
    if is_admin:
        if product is None and seller_id is None:
            errors["seller_id"] = ["an admin must name the seller"]
        elif (
            seller_id is not None
            and db.session.scalar(select(SellerProfile.id).where(SellerProfile.id == seller_id))
            is None
        ):
            errors["seller_id"] = ["unknown seller"]
    elif not is_admin and seller_id not in (None, seller.id):
        errors["seller_id"] = ["a seller creates products for its own store only"]
    if not is_admin and changes.is_featured:
        errors["is_featured"] = ["only an admin features products"]
    category_id = _given(changes.category_id)
    if (
        category_id is not None
        and db.session.scalar(select(Category.id).where(Category.id == category_id)) is None
    ):
        errors["category_id"] = ["unknown category"]
    brand_id = _given(changes.brand_id)
    if (
        brand_id is not None
        and db.session.scalar(select(Brand.id).where(Brand.id == brand_id)) is None
    ):
        errors["brand_id"] = ["unknown brand"]
    slug = _given(changes.slug)
    if (
        slug
        and db.session.scalar(
            select(Product.id).where(
                Product.slug == slugify(slug), Product.id != (product.id if product else 0)
            )
        )
        is not None
    ):
        errors["slug"] = ["already used"]

    variants = _given(changes.variants)
    if variants is not None:
        if product is None and not variants:
            errors["variants"] = ["at least one variant"]
        own_ids = {v.id for v in product.variants} if product is not None else set()
        variant_errors: dict[int, dict] = {}
        skus = [(i, (v.sku or "").strip()) for i, v in enumerate(variants)]
        existing = {}
        wanted = [s for _, s in skus if s]
        if wanted:
            existing = {
                sku.upper(): variant_id
                for sku, variant_id in db.session.execute(
                    select(ProductVariant.sku, ProductVariant.id).where(
                        ProductVariant.sku.in_(wanted)
                    )
                ).all()
            }
        for i, v in enumerate(variants):
            errs: dict[str, list[str]] = {}
            if v.id is not None and v.id not in own_ids:
                errs["id"] = ["not a variant of this product"]
            sku = skus[i][1]
            if sku.upper() in taken_skus:
                errs["sku"] = ["used twice in this request"]
            elif sku.upper() in existing and existing[sku.upper()] != v.id:
                errs["sku"] = ["already used by another variant"]
            taken_skus.add(sku.upper())
            compare_at_price = _given(v.compare_at_price)
            if compare_at_price is not None and v.price is not None and compare_at_price < v.price:
                errs["compare_at_price"] = ["at least the price"]
            if errs:
                variant_errors[i] = errs
        if variant_errors:
            errors["variants"] = variant_errors

    attributes = _given(changes.attributes)
    if attributes:
        codes = {
            a.code: a
            for a in db.session.scalars(
                select(Attribute).where(Attribute.code.in_([a.code for a in attributes]))
            )
        }
        attr_errors = {
            i: {"code": ["unknown attribute"]}
            for i, a in enumerate(attributes)
            if a.code not in codes
        }
        seen: set[str] = set()
        for i, a in enumerate(attributes):
            if a.code in seen:
                attr_errors[i] = {"code": ["given twice"]}
            seen.add(a.code)
        if attr_errors:
            errors["attributes"] = attr_errors
    return errors


_VARIANT_FIELDS = (
    "sku",
    "title",
    "price",
    "compare_at_price",
    "currency",
    "weight_kg",
    "options",
    "is_active",
    "position",
)


def _apply(product: Product, changes: ProductChanges) -> None:
    for name in _PRODUCT_FIELDS:
        value = getattr(changes, name)
        if value is not UNSET:
            setattr(product, name, value)
    if changes.slug is not UNSET and not changes.slug:
        product.slug = None
    prepare_product(product)
    variants = _given(changes.variants)
    if variants is not None:
        by_id = {v.id: v for v in product.variants}
        kept: set[int] = set()
        for position, item in enumerate(variants):
            variant = by_id.get(item.id) if item.id is not None else None
            if variant is None:
                variant = ProductVariant(options={}, position=position)
                product.variants.append(variant)
            else:
                kept.add(variant.id)
            for name in _VARIANT_FIELDS:
                value = getattr(item, name)
                if value is not UNSET:
                    setattr(variant, name, dict(value) if name == "options" else value)
            prepare_variant(variant)
        for variant_id, variant in by_id.items():
            if variant_id not in kept:
                variant.is_active = False  # kept for order history; hidden from the storefront
    images = _given(changes.images)
    if images is not None:
        product.images.clear()
        for position, item in enumerate(images):
            product.images.append(
                ProductImage(
                    url=item.url,
                    alt_text=item.alt_text,
                    position=position if item.position is None else item.position,
                )
            )
    wanted = _given(changes.attributes)
    if wanted is not None:
        values = {a.code: a.value for a in wanted}
        attributes = (
            {
                a.code: a
                for a in db.session.scalars(select(Attribute).where(Attribute.code.in_(values)))
            }
            if values
            else {}
        )
        current = {pav.attribute.code: pav for pav in product.attribute_values}
        for code, pav in current.items():
            if code not in values:
                product.attribute_values.remove(pav)
        for code, value in values.items():
            if code in current:
                current[code].value = value
            else:
                product.attribute_values.append(
                    ProductAttributeValue(attribute=attributes[code], value=value)
                )


def _changed(product: Product, action: str) -> None:
    db.session.flush()
    publish(
        "catalog.product_changed",
        {"product_id": product.id, "action": action},
        aggregate="product",
        aggregate_id=product.id,
    )


def _write(fn):
    """Run a write in one transaction; a unique key lost to a concurrent writer becomes a 409."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with transaction():
                return fn(*args, **kwargs)
        except IntegrityError as exc:
            raise Conflict(
                "a concurrent change took a unique value (SKU or slug); try again",
                code=CatalogError.UNIQUE_CONFLICT,
            ) from exc

    return wrapper


def _new_product(new: NewProduct, is_admin: bool, seller: SellerProfile | None) -> Product:
    product = Product(
        seller_id=new.seller_id if is_admin else seller.id,
        status="draft",
        product_type="physical",
    )
    product.variants = []
    product.images = []
    product.attribute_values = []
    db.session.add(product)
    _apply(product, new)
    return product


def reserve_product_quota(adding: int) -> None:
    """Refuse to go beyond the tenant's plan limit (tenants.max_products; NULL: unlimited).

    Archived products do not count. The tenant row is locked (SELECT ... FOR UPDATE) before
    counting, so concurrent creations at one storefront are serialised here and cannot overshoot
    the limit together; the lock lasts until the caller's transaction ends."""
    tenant_id = current_tenant_id()
    if tenant_id is None or adding <= 0:
        return
    limit = db.session.execute(
        select(Tenant.max_products).where(Tenant.id == tenant_id).with_for_update()
    ).scalar_one_or_none()
    if limit is None:
        return
    current = (
        db.session.scalar(select(func.count(Product.id)).where(Product.status != "archived")) or 0
    )
    if current + adding > limit:
        raise Conflict(
            f"this storefront's plan allows {limit} products",
            code=CatalogError.PRODUCT_LIMIT_REACHED,
            details={"limit": limit, "current": current, "adding": adding},
        )


def reserve_quota_for_status(before: str | None, after: str) -> None:
    """A product counts against the plan limit unless archived: creating one (before=None) or
    bringing one back from the archive takes a place."""
    if after != "archived" and before in (None, "archived"):
        reserve_product_quota(1)


@_write
def _create_product(actor: Actor, new: NewProduct) -> int:
    is_admin, seller = _standing(actor)
    require_approved(seller)
    errors = _check_product(new, product=None, is_admin=is_admin, seller=seller, taken_skus=set())
    if errors:
        raise ValidationError("invalid product", details=errors)
    reserve_product_quota(1)
    product = _new_product(new, is_admin, seller)
    _changed(product, "created")
    return product.id


def create_product(actor: Actor, new: NewProduct) -> ProductDetail:
    """A product with its variants, images and attribute values; returns its detail."""
    product_id = _create_product(actor, new)
    return queries.get_product(product_id, queries.viewer_of(actor))


@_write
def _update_product(actor: Actor, product_id: int, changes: ProductChanges) -> int:
    is_admin, seller = _standing(actor)
    product = _own_product(product_id, is_admin, seller)
    if product is None:
        raise NotFound("no such product")
    require_approved(seller)
    if not is_admin:  # a seller's product stays in its store
        changes = dataclasses.replace(changes, seller_id=UNSET)
    errors = _check_product(
        changes, product=product, is_admin=is_admin, seller=seller, taken_skus=set()
    )
    if errors:
        raise ValidationError("invalid product", details=errors)
    if is_admin and changes.seller_id is not UNSET:
        product.seller_id = changes.seller_id
    reserve_quota_for_status(product.status, _given(changes.status) or product.status)
    _apply(product, changes)
    _changed(product, "updated")
    return product.id


def update_product(actor: Actor, product_id: int, changes: ProductChanges) -> ProductDetail:
    """Change a product (the fields sent only: PATCH any of them, PUT title and variants too);
    returns its detail."""
    _update_product(actor, product_id, changes)
    return queries.get_product(product_id, queries.viewer_of(actor))


@_write
def archive_product(actor: Actor, product_id: int) -> None:
    """DELETE: the product is archived (hidden from the storefront, kept for orders and reports)."""
    is_admin, seller = _standing(actor)
    product = _own_product(product_id, is_admin, seller)
    if product is None:
        raise NotFound("no such product")
    product.status = "archived"
    product.is_featured = False
    _changed(product, "archived")


def _bulk_errors(errors: dict[int, dict]) -> ValidationError:
    return ValidationError(
        f"{len(errors)} item(s) invalid; nothing was saved",
        details={"items": {str(i): e for i, e in sorted(errors.items())}},
    )


@_write
def _bulk_create(actor: Actor, items: Sequence[NewProduct]) -> list[int]:
    is_admin, seller = _standing(actor)
    require_approved(seller)
    if len(items) > MAX_BULK_ITEMS:
        raise ValidationError("too many items", details={"items": [f"at most {MAX_BULK_ITEMS}"]})
    taken: set[str] = set()
    errors = {}
    for i, new in enumerate(items):
        item_errors = _check_product(
            new, product=None, is_admin=is_admin, seller=seller, taken_skus=taken
        )
        if item_errors:
            errors[i] = item_errors
    if errors:
        raise _bulk_errors(errors)
    reserve_product_quota(len(items))
    ids = []
    for new in items:
        product = _new_product(new, is_admin, seller)
        _changed(product, "created")
        ids.append(product.id)
    return ids


def bulk_create_products(actor: Actor, items: Sequence[NewProduct]) -> list[ProductCard]:
    """All or nothing: every item is checked first; any error answers 422 with errors per item index."""
    return queries.product_cards(_bulk_create(actor, items))


@_write
def _bulk_update(actor: Actor, items: Sequence[ProductEdit]) -> list[int]:
    is_admin, seller = _standing(actor)
    require_approved(seller)
    if len(items) > MAX_BULK_ITEMS:
        raise ValidationError("too many items", details={"items": [f"at most {MAX_BULK_ITEMS}"]})
    taken: set[str] = set()
    errors: dict[int, dict] = {}
    products: list[Product | None] = []
    seen: set[int] = set()
    for i, edit in enumerate(items):
        product = _own_product(edit.id, is_admin, seller)
        products.append(product)
        if product is None:
            errors[i] = {"id": ["no such product"]}
            continue
        if product.id in seen:
            errors[i] = {"id": ["given twice"]}
            continue
        seen.add(product.id)
        item_errors = _check_product(
            edit, product=product, is_admin=is_admin, seller=seller, taken_skus=taken
        )
        if item_errors:
            errors[i] = item_errors
    if errors:
        raise _bulk_errors(errors)
    # bringing products back from the archive takes places under the plan limit, all at once
    reserve_product_quota(
        sum(
            1
            for product, edit in zip(products, items, strict=True)
            if product.status == "archived" and _given(edit.status) not in (None, "archived")
        )
    )
    for product, edit in zip(products, items, strict=True):
        if is_admin and edit.seller_id is not UNSET:  # a seller's was checked: its own store
            product.seller_id = edit.seller_id
        _apply(product, edit)
        _changed(product, "updated")
    return [p.id for p in products]


def bulk_update_products(actor: Actor, items: Sequence[ProductEdit]) -> list[ProductCard]:
    """All or nothing, as bulk_create_products; each item names the product `id` it changes."""
    return queries.product_cards(_bulk_update(actor, items))


@_write
def _create_category(new: NewCategory) -> str:
    parent = None
    if new.parent_id is not None:
        parent = db.session.scalar(select(Category).where(Category.id == new.parent_id))
        if parent is None:
            raise ValidationError("invalid category", details={"parent_id": ["unknown category"]})
    if new.slug and db.session.scalar(
        select(Category.id).where(Category.slug == slugify(new.slug))
    ):
        raise ValidationError("invalid category", details={"slug": ["already used"]})
    attributes = []
    if new.attribute_codes:
        attributes = list(
            db.session.scalars(select(Attribute).where(Attribute.code.in_(new.attribute_codes)))
        )
        unknown = sorted(set(new.attribute_codes) - {a.code for a in attributes})
        if unknown:
            raise ValidationError(
                "invalid category", details={"attribute_codes": [f"unknown: {', '.join(unknown)}"]}
            )
    category = Category(
        name=new.name,
        slug=new.slug,
        parent=parent,
        description=new.description,
        position=new.position,
        is_active=new.is_active,
        seo_title=new.seo_title,
        seo_description=new.seo_description,
    )
    category.filterable_attributes = attributes
    prepare_category(category)
    db.session.add(category)
    db.session.flush()
    publish(
        "catalog.category_changed",
        {"category_id": category.id, "action": "created"},
        aggregate="category",
        aggregate_id=category.id,
    )
    return category.slug


def create_category(actor: Actor, new: NewCategory) -> CategoryDetail:
    """Admins only (the API checks the role; this checks again)."""
    if not actor.is_admin:
        raise PermissionDenied("only admins manage categories")
    slug = _create_category(new)
    return queries.get_category(slug, include_inactive=True)
