"""Pricing requests: `request_for_lines()` makes a basket's lines the PricingRequest of the
current tenant (its currency) and the buyer (roles, first order), for the cart and checkout
(through the cart's `pricing_request`) and for the endpoints that price a basket they are sent
(shipping/calculate, promotions/apply-coupon: `request_for` reads their lines from the catalog)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import select

from app.catalog.models import Product, ProductVariant
from app.core import cache
from app.core.errors import ValidationError
from app.core.tenancy import current_tenant_id
from app.extensions import db
from app.pricing import first_order
from app.pricing.inputs import BasketItem
from app.pricing_contract import Destination, LineInput, PricingRequest
from app.security.actor import Actor
from app.tenants.models import Tenant

# The tenant's currency is read by every priced cart, checkout and basket: cached under a namespace
# bumped after any commit that writes a tenant (one Redis round trip instead of loading the tenant
# row). The cart keeps the tenant's quantity limits under it too.
TENANT_CACHE_NAMESPACE = "tenant_settings"
cache.watch(Tenant, namespace=TENANT_CACHE_NAMESPACE)
CURRENCY_ENTRY = (TENANT_CACHE_NAMESPACE, "tenant-currency")  # (namespace, key) for cache.batched


def tenant_currency() -> str:
    tenant_id = current_tenant_id()

    def load(session) -> bytes:
        return (
            session.scalar(select(Tenant.default_currency).where(Tenant.id == tenant_id)) or "USD"
        ).encode()

    return cache.remember(*CURRENCY_ENTRY, load, 3600).decode()


def request_for_lines(
    lines: Iterable[LineInput],
    actor: Actor | None,
    *,
    destination: Destination | None = None,
    coupon_codes=(),
    shipping_method_ids: dict[int, int] | None = None,
    is_first_order: bool | None = None,
) -> PricingRequest:
    """The PricingRequest of `lines` for the current tenant, its currency and the buyer (`actor`;
    None: a guest). `is_first_order`: None asks app.pricing.first_order; a caller that asked it
    already passes the answer."""
    user_id = actor.user_id if actor is not None else None
    if is_first_order is None:
        is_first_order = first_order.is_first_order(user_id)
    return PricingRequest(
        tenant_id=current_tenant_id(),
        currency=tenant_currency(),
        lines=tuple(lines),
        destination=destination,
        coupon_codes=tuple(coupon_codes),
        customer_user_id=user_id,
        customer_roles=actor.role_names if actor is not None else frozenset(),
        is_first_order=is_first_order,
        shipping_method_ids=dict(shipping_method_ids or {}),
    )


def lines_for(items: Iterable[BasketItem]) -> tuple[LineInput, ...]:
    """Basket items -> lines at the variants' current prices. Unknown, inactive or unpublished
    variants and repeated variants are 422s naming the item."""
    items = list(items)
    ids = [item.variant_id for item in items]
    rows = (
        {
            v.id: (v, p)
            for v, p in db.session.execute(
                select(ProductVariant, Product)
                .join(Product, ProductVariant.product_id == Product.id)
                .where(
                    ProductVariant.id.in_(ids),
                    ProductVariant.is_active.is_(True),
                    Product.status == "active",
                )
            ).all()
        }
        if ids
        else {}
    )
    errors: dict[str, list[str]] = {}
    seen: set[int] = set()
    lines = []
    for i, item in enumerate(items):
        found = rows.get(item.variant_id)
        if found is None:
            errors[f"lines.{i}.variant_id"] = ["no such product variant for sale"]
            continue
        if item.variant_id in seen:
            errors[f"lines.{i}.variant_id"] = ["this variant is already in an earlier line"]
            continue
        seen.add(item.variant_id)
        variant, product = found
        lines.append(
            LineInput(
                key=str(variant.id),
                variant_id=variant.id,
                product_id=product.id,
                seller_id=variant.seller_id,
                category_id=product.category_id,
                quantity=item.quantity,
                unit_price=Decimal(variant.price),
                weight_kg=Decimal(variant.weight_kg) if variant.weight_kg is not None else None,
            )
        )
    if errors:
        raise ValidationError("invalid lines", details=errors)
    return tuple(lines)


def request_for(
    actor: Actor | None,
    items: Iterable[BasketItem],
    *,
    destination: Destination | None = None,
    coupon_codes=(),
    shipping_method_ids: dict[int, int] | None = None,
) -> PricingRequest:
    """The request of a basket sent as items and a destination (its codes upper-cased here)."""
    dest = None
    if destination is not None:
        dest = Destination(
            country=destination.country.upper(),
            region=(destination.region or "").upper() or None,
            postal_code=destination.postal_code,
        )
    return request_for_lines(
        lines_for(items),
        actor,
        destination=dest,
        coupon_codes=coupon_codes,
        shipping_method_ids=shipping_method_ids,
    )
