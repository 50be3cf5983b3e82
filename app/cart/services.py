"""Cart use cases. A signed-in customer has one persistent cart; a guest's cart is found by an
opaque token (shown once, only its SHA-256 stored). Quantities are checked against the stock
available now (on hand - reserved, active warehouses); prices, promotions, tax and shipping are
recomputed on every read by the pricing engine (app.pricing.engine.price), never stored.

Writes to one cart lock its row first (SELECT ... FOR UPDATE), so concurrent adds of the same
variant add up instead of racing on the (cart, variant) unique key.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, selectinload

from app.cart.errors import CartError
from app.cart.models import Cart, CartItem
from app.catalog.models import Product, ProductVariant
from app.catalog.scopes import on_storefront
from app.core import cache
from app.core.crypto import hash_token
from app.core.db import retry_on_deadlock, transaction, transactional
from app.core.errors import InsufficientStock, NotFound, PermissionDenied, ValidationError
from app.core.tenancy import current_tenant_id
from app.core.views import view_of
from app.extensions import db
from app.inventory.models import StockLevel, Warehouse
from app.pricing import basket
from app.pricing.engine import price  # checkout prices the cart with it too (carts.price)
from app.pricing_contract import (
    AppliedPromotion,
    Destination,
    LineDiscount,
    LineInput,
    PricingRequest,
    ShippingQuote,
    TaxComponent,
)
from app.security.actor import Actor
from app.tenants.models import DEFAULT_MAX_LINE_QUANTITY, DEFAULT_MAX_ORDER_UNITS, Tenant

MAX_LINE_QUANTITY = 10_000


def new_token() -> str:
    return secrets.token_urlsafe(32)


def check_shopper(actor: Actor | None) -> None:
    """Carts and checkout are for customers and guests; staff and sellers get a 403."""
    if actor is not None and not actor.is_customer:
        raise PermissionDenied("only customers and guests have a cart")


@dataclass
class CartRef:
    """Who the cart belongs to: a signed-in customer (its Actor, and its account's e-mail for
    checkout), or a guest holding a token."""

    actor: Actor | None = None
    token: str | None = None
    email: str | None = None

    @property
    def scope(self) -> str:
        return (
            f"user:{self.actor.user_id}"
            if self.actor is not None
            else f"guest:{hash_token(self.token or '')}"
        )


def find_cart(ref: CartRef, *, lock: bool = False) -> Cart | None:
    if ref.actor is not None:
        stmt = select(Cart).where(Cart.user_id == ref.actor.user_id)
    elif ref.token:
        stmt = select(Cart).where(Cart.token_hash == hash_token(ref.token), Cart.user_id.is_(None))
    else:
        return None
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(stmt)


def _cart_for_write(ref: CartRef) -> tuple[Cart, str | None]:
    """The caller's cart, locked; made on first use (a guest then gets a new token)."""
    cart = find_cart(ref, lock=True)
    if cart is not None:
        return cart, None
    if ref.actor is None:  # a new random token: nobody else can be making this cart, no savepoint
        issued = ref.token = new_token()
        cart = Cart(token_hash=hash_token(issued), items=[])
        db.session.add(cart)
        return cart, issued
    cart = Cart(user_id=ref.actor.user_id, items=[])
    try:
        with db.session.begin_nested():
            db.session.add(cart)
    except IntegrityError:  # a concurrent first write of the same customer made it: use theirs
        return find_cart(ref, lock=True), None
    return cart, None  # ours, just inserted (its row is locked by the insert), with no items yet


def available_stock(variant_ids: list[int]) -> dict[int, int]:
    """Units that can still be sold per variant: on hand - reserved over active warehouses."""
    if not variant_ids:
        return {}
    rows = db.session.execute(
        select(
            StockLevel.variant_id,
            func.sum(StockLevel.quantity_on_hand - StockLevel.quantity_reserved),
        )
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(StockLevel.variant_id.in_(variant_ids), Warehouse.is_active.is_(True))
        .group_by(StockLevel.variant_id)
    ).all()
    found = {variant_id: int(units or 0) for variant_id, units in rows}
    return {variant_id: found.get(variant_id, 0) for variant_id in variant_ids}


def _sellable():
    """The conditions of a variant a customer can buy now: active, of a product on the storefront
    (app.catalog.scopes.on_storefront: active, and of a seller neither suspended nor rejected).
    The one rule of the cart's add, its view and checkout."""
    return (ProductVariant.is_active.is_(True), *on_storefront())


def sellable_variant_ids(variant_ids) -> set[int]:
    """Those of `variant_ids` a customer can buy now (`_sellable`), in one SELECT."""
    variant_ids = sorted(set(variant_ids))
    if not variant_ids:
        return set()
    return set(
        db.session.scalars(
            select(ProductVariant.id)
            .join(Product, Product.id == ProductVariant.product_id)
            .where(ProductVariant.id.in_(variant_ids), *_sellable())
        )
    )


def sellable_variant(variant_id: int) -> ProductVariant:
    variant = db.session.scalar(
        select(ProductVariant)
        .join(Product, Product.id == ProductVariant.product_id)
        .where(ProductVariant.id == variant_id, *_sellable())
        .options(
            contains_eager(ProductVariant.product)
        )  # the product from the same row: one SELECT
    )
    if variant is None:
        raise NotFound("no such product variant", details={"variant_id": variant_id})
    return variant


def _check_stock(variant_id: int, quantity: int, stock: dict[int, int] | None = None) -> None:
    available = (stock if stock is not None else available_stock([variant_id]))[variant_id]
    if quantity > available:
        raise InsufficientStock(
            "not enough stock for this quantity",
            details={
                "variant_id": variant_id,
                "available": max(available, 0),
                "requested": quantity,
            },
        )


# --- pricing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuantityLimits:
    line: int  # units of one item (variant)
    order: int  # units in all


def quantity_limits() -> QuantityLimits:
    """The current tenant's limits (tenants.max_line_quantity, max_order_units), cached like its
    currency (app.pricing.basket) and dropped after any commit that writes a tenant."""
    tenant_id = current_tenant_id()

    def load(session) -> bytes:
        row = session.execute(
            select(Tenant.max_line_quantity, Tenant.max_order_units).where(Tenant.id == tenant_id)
        ).first()
        line, order = (
            row if row is not None else (DEFAULT_MAX_LINE_QUANTITY, DEFAULT_MAX_ORDER_UNITS)
        )
        return f"{line},{order}".encode()

    line, order = (
        cache.remember(basket.TENANT_CACHE_NAMESPACE, "tenant-quantity-limits", load, 3600)
        .decode()
        .split(",")
    )
    return QuantityLimits(int(line), int(order))


def check_quantity_limits(
    quantities: dict[int, int], *, before: dict[int, int] | None = None
) -> None:
    """The one rule on how much one cart or order may hold (`quantities`: units per variant, as they
    would be): at most the tenant's `max_line_quantity` units of one variant (422
    line_quantity_limit) and `max_order_units` in all (422 order_quantity_limit); details name the
    limit. So no one, a guest least of all, holds a variant's whole stock with one unpaid order.
    The cart checks each change (`before`: the cart as it was; a change that only lowers what is
    over a limit lowered since is let through), and checkout checks the cart again."""
    limits = quantity_limits()
    before = before or {}
    for variant_id, units in quantities.items():
        if units > limits.line and units > before.get(variant_id, 0):
            raise ValidationError(
                f"at most {limits.line} units of one item per order",
                code=CartError.LINE_QUANTITY_LIMIT,
                details={
                    "quantity": [f"at most {limits.line} units of one item"],
                    "limit": limits.line,
                    "requested": units,
                    "variant_id": variant_id,
                },
            )
    total = sum(quantities.values())
    if total > limits.order and total > sum(before.values()):
        raise ValidationError(
            f"at most {limits.order} units per order",
            code=CartError.ORDER_QUANTITY_LIMIT,
            details={
                "quantity": [f"at most {limits.order} units in one order"],
                "limit": limits.order,
                "requested": total,
            },
        )


def pricing_request(
    items: list[CartItem],
    *,
    actor: Actor | None = None,
    destination: Destination | None = None,
    coupon_codes: tuple[str, ...] = (),
    shipping_method_ids: dict[int, int] | None = None,
    is_first_order: bool | None = None,
) -> PricingRequest:
    """The PricingRequest of the cart's items (app.pricing.basket.request_for_lines: tenant,
    currency, buyer, and first order unless the caller passes what it asked already)."""
    return basket.request_for_lines(
        (
            LineInput(
                key=str(item.id),
                variant_id=item.variant_id,
                product_id=item.variant.product_id,
                seller_id=item.variant.seller_id,
                category_id=item.variant.product.category_id,
                quantity=item.quantity,
                unit_price=Decimal(item.variant.price),
                weight_kg=item.variant.weight_kg,
            )
            for item in items
        ),
        actor,
        destination=destination,
        coupon_codes=coupon_codes,
        shipping_method_ids=shipping_method_ids,
        is_first_order=is_first_order,
    )


@dataclass(frozen=True)
class CartLineView:
    """A cart item priced now (its priced line, app.pricing_contract.PricedLine, with the item's
    product facts), and the units of its variant that can be sold now. `for_sale` False: the
    item is no longer sold (its variant or product withdrawn, its seller suspended): none of it
    is available and checkout refuses the cart until it is removed."""

    id: int
    variant_id: int
    product_id: int
    seller_id: int
    sku: str
    title: str
    options: dict
    quantity: int
    available: int
    in_stock: bool
    for_sale: bool
    unit_price: Decimal
    subtotal: Decimal
    discount_total: Decimal
    discounts: tuple[LineDiscount, ...]
    tax_total: Decimal
    tax: tuple[TaxComponent, ...]
    total: Decimal


@dataclass(frozen=True)
class CartView:
    """The cart priced now (the pricing engine's result, with the cart's id, token, lines, units
    and limits; an empty one when there is none yet: id None), read inside the transaction;
    `cart_token` only for a guest's cart."""

    id: int | None
    cart_token: str | None
    currency: str
    prices_include_tax: bool
    items: tuple[CartLineView, ...]
    item_count: int
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    shipping_total: Decimal
    total: Decimal
    shipping: tuple[ShippingQuote, ...]
    applied_promotions: tuple[AppliedPromotion, ...]
    rejected_coupons: dict[str, str]
    quantity_limits: QuantityLimits


def cart_view(
    cart: Cart | None,
    *,
    actor: Actor | None = None,
    token: str | None = None,
    destination: Destination | None = None,
    coupon_codes: tuple[str, ...] = (),
    stock: dict[int, int] | None = None,
) -> CartView:
    """The cart as the storefront shows it, priced now (`stock`: available units per variant, when
    the caller read them already in this transaction)."""
    items = list(cart.items) if cart is not None else []
    variant_ids = [item.variant_id for item in items]
    if stock is None or any(v not in stock for v in variant_ids):
        stock = available_stock(variant_ids)
    for_sale = sellable_variant_ids(variant_ids)
    # what is no longer sold has no units to sell
    stock = {v: (units if v in for_sale else 0) for v, units in stock.items()}
    result = price(
        pricing_request(
            items,
            actor=actor,
            destination=destination,
            coupon_codes=coupon_codes,
        )
    )
    priced = {line.key: line for line in result.lines}
    limits = quantity_limits()
    # the priced line echoes the item's variant, seller and quantity: the rest is the item's
    lines = tuple(
        view_of(
            CartLineView,
            priced[str(item.id)],
            id=item.id,
            product_id=item.variant.product_id,
            sku=item.variant.sku,
            title=item.variant.product.title,
            options=item.variant.options or {},
            available=stock.get(item.variant_id, 0),
            in_stock=item.quantity <= stock.get(item.variant_id, 0),
            for_sale=item.variant_id in for_sale,
        )
        for item in items
    )
    return view_of(
        CartView,
        result,
        id=cart.id if cart is not None else None,
        cart_token=token if (cart is not None and cart.user_id is None) else None,
        items=lines,
        item_count=sum(item.quantity for item in items),
        rejected_coupons=dict(result.rejected_coupons),
        quantity_limits=limits,
    )


# --- use cases -------------------------------------------------------------------------------------


def get_cart(
    ref: CartRef, *, destination: Destination | None = None, coupon_codes: tuple[str, ...] = ()
) -> CartView:
    check_shopper(ref.actor)
    with transaction():
        cart = find_cart(ref)
        return cart_view(
            cart,
            actor=ref.actor,
            token=ref.token,
            destination=destination,
            coupon_codes=coupon_codes,
        )


@retry_on_deadlock()
def add_item(ref: CartRef, variant_id: int, quantity: int) -> CartView:
    check_shopper(ref.actor)
    with transaction():
        variant = sellable_variant(variant_id)
        cart, _ = _cart_for_write(ref)
        item = next((i for i in cart.items if i.variant_id == variant_id), None)
        wanted = quantity + (item.quantity if item is not None else 0)
        held = {i.variant_id: i.quantity for i in cart.items}
        check_quantity_limits({**held, variant_id: wanted}, before=held)
        # one read of the available units: for the check, and for the view of every item
        stock = available_stock(sorted({i.variant_id for i in cart.items} | {variant_id}))
        _check_stock(variant_id, wanted, stock)
        if item is None:  # the new item has the highest id: appended, the items stay in id order
            cart.items.append(CartItem(variant=variant, variant_id=variant_id, quantity=wanted))
        else:
            item.quantity = wanted
        db.session.flush()
        return cart_view(cart, actor=ref.actor, token=ref.token, stock=stock)


def _own_item(ref: CartRef, item_id: int) -> tuple[Cart, CartItem]:
    cart = find_cart(ref, lock=True)
    item = next((i for i in cart.items if i.id == item_id), None) if cart is not None else None
    if item is None:
        raise NotFound("no such item in your cart", details={"item_id": item_id})
    return cart, item


@retry_on_deadlock()
def update_item(ref: CartRef, item_id: int, quantity: int) -> CartView:
    """Set an item's quantity; 0 removes it."""
    check_shopper(ref.actor)
    with transaction():
        cart, item = _own_item(ref, item_id)
        if quantity == 0:
            cart.items.remove(item)
        else:
            held = {i.variant_id: i.quantity for i in cart.items}
            check_quantity_limits({**held, item.variant_id: quantity}, before=held)
            _check_stock(item.variant_id, quantity)
            item.quantity = quantity
        db.session.flush()
        return cart_view(cart, actor=ref.actor, token=ref.token)


@retry_on_deadlock()
def remove_item(ref: CartRef, item_id: int) -> CartView:
    check_shopper(ref.actor)
    with transaction():
        cart, item = _own_item(ref, item_id)
        cart.items.remove(item)
        db.session.flush()
        return cart_view(cart, actor=ref.actor, token=ref.token)


@retry_on_deadlock()
def clear(ref: CartRef) -> CartView:
    check_shopper(ref.actor)
    with transaction():
        cart = find_cart(ref, lock=True)
        if cart is not None:
            db.session.execute(
                delete(CartItem)
                .where(CartItem.cart_id == cart.id)
                .execution_options(synchronize_session=False)
            )
            db.session.expire(cart, ["items"])
        return cart_view(cart, actor=ref.actor, token=ref.token)


@transactional
def merge_guest_cart(actor: Actor | None, token: str | None) -> Cart | None:
    """On login: move a guest cart's items into the customer's cart (quantities add up, capped at
    the stock available and the tenant's quantity limits), then delete the guest cart. Unknown or
    spent tokens change nothing."""
    if not token or actor is None or not actor.is_customer:
        return None
    guest = db.session.scalar(
        select(Cart)
        .where(Cart.token_hash == hash_token(token), Cart.user_id.is_(None))
        .options(selectinload(Cart.items))
        .with_for_update()
    )
    if guest is None:
        return None
    cart, _ = _cart_for_write(CartRef(actor=actor))
    stock = available_stock([i.variant_id for i in guest.items])
    limits = quantity_limits()
    mine = {i.variant_id: i for i in cart.items}
    room = limits.order - sum(i.quantity for i in cart.items)  # units the order limit still allows
    for item in guest.items:
        had = mine[item.variant_id].quantity if item.variant_id in mine else 0
        wanted = min(
            item.quantity + had,
            max(stock.get(item.variant_id, 0), 0),
            limits.line,
            had + max(room, 0),
        )
        if item.variant_id in mine:
            mine[item.variant_id].quantity = max(wanted, had)
        elif wanted > 0:
            cart.items.append(CartItem(variant_id=item.variant_id, quantity=wanted))
        room -= max(wanted - had, 0)
    db.session.delete(guest)
    db.session.flush()
    return cart


def empty_cart(cart_id: int) -> None:
    """Inside checkout's transaction: the cart's items were ordered."""
    db.session.execute(
        delete(CartItem)
        .where(CartItem.cart_id == cart_id)
        .execution_options(synchronize_session=False)
    )
