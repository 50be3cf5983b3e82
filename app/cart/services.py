"""Cart use cases. A signed-in customer has one persistent cart; a guest's cart is found by an
opaque token (shown once, only its SHA-256 stored). Quantities are checked against the stock
available now (on hand - reserved, active warehouses); prices, promotions, tax and shipping are
recomputed on every read by the pricing engine (app.pricing.engine.price), never stored.

Writes to one cart lock its row first (SELECT ... FOR UPDATE), so concurrent adds of the same
variant add up instead of racing on the (cart, variant) unique key.

The cart's own reads are two prebuilt Core statements (its items; their variants' facts), and an
add answers from what it read for its checks; its writes are ORM writes (audit, session hooks).
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import and_, bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload, selectinload

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
from app.pricing import basket, engine
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
from app.tenants import orm as tenant_orm
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


def _units_available(variants=ProductVariant.__table__):
    """Units that can still be sold of each row of `variants` (the product_variants table or an
    alias of it): on hand - reserved over active warehouses, a correlated subquery (NULL without
    stock rows): the one rule of the cart's reads and of available_stock()."""
    s, w = StockLevel.__table__, Warehouse.__table__
    return (
        select(func.sum(s.c.quantity_on_hand - s.c.quantity_reserved))
        .select_from(s.join(w, w.c.id == s.c.warehouse_id))
        .where(
            s.c.variant_id == variants.c.id,
            s.c.tenant_id == variants.c.tenant_id,
            w.c.is_active.is_(True),
        )
        .scalar_subquery()
    )


def available_stock(variant_ids: list[int]) -> dict[int, int]:
    """Units that can still be sold per variant (`_units_available`); 0 for an unknown id."""
    if not variant_ids:
        return {}
    rows = db.session.execute(
        select(ProductVariant.id, _units_available()).where(ProductVariant.id.in_(variant_ids))
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


# --- the cart's reads: prebuilt Core statements (tenant_orm.read_rows) -----------------------------
# An add, a view or a change of the cart reads its items and their variants with two of these (the
# items, locked for a write; then every variant's facts, whether it is sold and its units
# available): no ORM object is loaded to answer, which was most of an add's CPU (issue 19). The
# writes themselves stay ORM writes, so the audit rows and the session hooks see them as before.


@dataclass(frozen=True)
class Held:
    """An item of the cart as stored: its id, variant and quantity."""

    id: int
    variant_id: int
    quantity: int


@functools.cache
def _items_statement(scoped: bool, by_user: bool, lock: bool):
    """The cart of a customer (:user_id) or a guest (:token_hash) with its items (none: one row of
    NULLs), in id order; `lock`: FOR UPDATE, the cart's row (and its items') first, as every write
    of a cart does."""
    c, i = Cart.__table__, CartItem.__table__
    who = (
        c.c.user_id == bindparam("user_id")
        if by_user
        else and_(c.c.token_hash == bindparam("token_hash"), c.c.user_id.is_(None))
    )
    statement = (
        select(c.c.id, i.c.id.label("item_id"), i.c.variant_id, i.c.quantity)
        .select_from(c.outerjoin(i, i.c.cart_id == c.c.id))
        .where(who)
        .order_by(i.c.id)
    )
    if scoped:
        statement = statement.where(c.c.tenant_id == bindparam("tenant_id"))
    return statement.with_for_update() if lock else statement


def _cart_items(ref: CartRef, *, lock: bool = False) -> tuple[int | None, list[Held]]:
    """(the caller's cart id or None when it has none, its items): one SELECT."""
    if ref.actor is not None:
        params, by_user = {"user_id": ref.actor.user_id}, True
    elif ref.token:
        params, by_user = {"token_hash": hash_token(ref.token)}, False
    else:
        return None, []
    rows = tenant_orm.read_rows(lambda scoped: _items_statement(scoped, by_user, lock), **params)
    if not rows:
        return None, []
    return rows[0].id, [Held(r.item_id, r.variant_id, r.quantity) for r in rows if r.item_id]


@dataclass(frozen=True)
class VariantFacts:
    """What a cart shows and prices of a variant, read now: its product's, its price and weight,
    whether it is sold (`_sellable`) and its units available (`_units_available`)."""

    id: int
    product_id: int
    seller_id: int
    category_id: int | None
    sku: str
    title: str
    options: dict | None
    price: Decimal
    weight_kg: Decimal | None
    for_sale: bool
    available: int


@functools.cache
def _facts_statement(scoped: bool):
    v, p = ProductVariant.__table__, Product.__table__
    statement = (
        select(
            v.c.id,
            v.c.product_id,
            v.c.seller_id,
            p.c.category_id,
            v.c.sku,
            p.c.title,
            v.c.options,
            v.c.price,
            v.c.weight_kg,
            and_(*_sellable()).label("for_sale"),
            _units_available(v).label("available"),
        )
        .select_from(v.join(p, p.c.id == v.c.product_id))
        .where(v.c.id.in_(bindparam("ids", expanding=True)))
    )
    return statement.where(v.c.tenant_id == bindparam("tenant_id")) if scoped else statement


def variant_facts(variant_ids) -> dict[int, VariantFacts]:
    """VariantFacts of the current tenant's `variant_ids` (absent: no such variant), one SELECT."""
    ids = sorted(set(variant_ids))
    if not ids:
        return {}
    return {
        r.id: VariantFacts(
            id=r.id,
            product_id=r.product_id,
            seller_id=r.seller_id,
            category_id=r.category_id,
            sku=r.sku,
            title=r.title,
            options=r.options,
            price=r.price,
            weight_kg=r.weight_kg,
            for_sale=bool(r.for_sale),
            available=int(r.available or 0),
        )
        for r in tenant_orm.read_rows(_facts_statement, ids=ids)
    }


def _item_row(item_id: int) -> CartItem:
    """The ORM row of an item about to be changed or removed (its audit row needs it), alone."""
    return db.session.get(CartItem, item_id, options=[lazyload(CartItem.variant)])


def _check_stock(variant_id: int, quantity: int, available: int) -> None:
    """`quantity` units of the variant must be available now (`available`: read in this
    transaction, VariantFacts.available)."""
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


LIMITS_ENTRY = (basket.TENANT_CACHE_NAMESPACE, "tenant-quantity-limits")  # for cache.batched


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

    line, order = cache.remember(*LIMITS_ENTRY, load, 3600).decode().split(",")
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


@contextmanager
def _cached_settings(destination: Destination | None = None) -> Iterator[None]:
    """The cached settings a priced cart reads (currency, quantity limits and what the pricing
    engine reads), read ahead in one Redis round trip (app.core.cache.batched)."""
    with cache.batched(
        basket.CURRENCY_ENTRY,
        LIMITS_ENTRY,
        *engine.cached_entries(destination=destination is not None),
    ):
        yield


def _view(
    cart_id: int | None,
    items: list[Held],
    facts: dict[int, VariantFacts],
    *,
    actor: Actor | None = None,
    token: str | None = None,
    destination: Destination | None = None,
    coupon_codes: tuple[str, ...] = (),
) -> CartView:
    """The cart as the storefront shows it, priced now, from its items and their variants' facts
    read in this transaction (`facts`: of every item's variant). What is no longer sold has no
    units to sell."""
    lines = []
    for item in items:
        f = facts[item.variant_id]
        lines.append(
            LineInput(
                key=str(item.id),
                variant_id=item.variant_id,
                product_id=f.product_id,
                seller_id=f.seller_id,
                category_id=f.category_id,
                quantity=item.quantity,
                unit_price=Decimal(f.price),
                weight_kg=f.weight_kg,
            )
        )
    result = price(
        basket.request_for_lines(lines, actor, destination=destination, coupon_codes=coupon_codes)
    )
    priced = {line.key: line for line in result.lines}
    # the priced line echoes the item's variant, seller and quantity: the rest is the item's
    views = []
    for item in items:
        f = facts[item.variant_id]
        available = f.available if f.for_sale else 0
        views.append(
            view_of(
                CartLineView,
                priced[str(item.id)],
                id=item.id,
                product_id=f.product_id,
                sku=f.sku,
                title=f.title,
                options=f.options or {},
                available=available,
                in_stock=item.quantity <= available,
                for_sale=f.for_sale,
            )
        )
    return view_of(
        CartView,
        result,
        id=cart_id,
        cart_token=token if (cart_id is not None and actor is None) else None,
        items=tuple(views),
        item_count=sum(item.quantity for item in items),
        rejected_coupons=dict(result.rejected_coupons),
        quantity_limits=quantity_limits(),
    )


def _view_now(cart_id: int | None, items: list[Held], ref: CartRef, **pricing) -> CartView:
    return _view(
        cart_id,
        items,
        variant_facts(i.variant_id for i in items),
        actor=ref.actor,
        token=ref.token,
        **pricing,
    )


# --- use cases -------------------------------------------------------------------------------------


def get_cart(
    ref: CartRef, *, destination: Destination | None = None, coupon_codes: tuple[str, ...] = ()
) -> CartView:
    check_shopper(ref.actor)
    with transaction(), _cached_settings(destination):
        cart_id, items = _cart_items(ref)
        return _view_now(cart_id, items, ref, destination=destination, coupon_codes=coupon_codes)


def _locked_cart(ref: CartRef) -> tuple[int | None, list[Held]]:
    """The caller's cart, locked, with its items; a customer's is made on first use (a guest's is
    made by its first add, which gives it its token). (None, []) for a guest without one."""
    cart_id, items = _cart_items(ref, lock=True)
    if cart_id is not None or ref.actor is None:
        return cart_id, items
    cart = Cart(user_id=ref.actor.user_id)
    try:
        with db.session.begin_nested():
            db.session.add(cart)
    except IntegrityError:  # a concurrent first write of the same customer made it: use theirs
        return _cart_items(ref, lock=True)
    return cart.id, []  # ours, just inserted (its row is locked by the insert), with no items yet


@retry_on_deadlock()
def add_item(ref: CartRef, variant_id: int, quantity: int) -> CartView:
    """Add `quantity` units of a variant a customer can buy now (`_sellable`: else 404); the units
    held add up and must be in stock now and within the tenant's quantity limits. Answers the
    cart priced now, from the items and variant facts read for the checks (no second read)."""
    check_shopper(ref.actor)
    with transaction(), _cached_settings():
        cart_id, items = _locked_cart(ref)
        facts = variant_facts([*(i.variant_id for i in items), variant_id])
        added = facts.get(variant_id)
        if added is None or not added.for_sale:
            raise NotFound("no such product variant", details={"variant_id": variant_id})
        item = next((i for i in items if i.variant_id == variant_id), None)
        wanted = quantity + (item.quantity if item is not None else 0)
        held = {i.variant_id: i.quantity for i in items}
        check_quantity_limits({**held, variant_id: wanted}, before=held)
        _check_stock(variant_id, wanted, added.available)
        if item is not None:
            _item_row(item.id).quantity = wanted
            db.session.flush()
            items = [replace(i, quantity=wanted) if i is item else i for i in items]
        else:
            row = CartItem(variant_id=variant_id, quantity=wanted)
            if cart_id is None:  # a guest's first add: a new cart, and its token
                ref.token = new_token()
                cart = Cart(token_hash=hash_token(ref.token), items=[row])
                db.session.add(cart)
            else:
                row.cart_id = cart_id
                db.session.add(row)
            db.session.flush()
            cart_id = row.cart_id
            # the new item has the highest id: appended, the items stay in id order
            items = [*items, Held(row.id, variant_id, wanted)]
        return _view(cart_id, items, facts, actor=ref.actor, token=ref.token)


def _own_item(ref: CartRef, item_id: int) -> tuple[int, list[Held], Held]:
    cart_id, items = _cart_items(ref, lock=True)
    item = next((i for i in items if i.id == item_id), None)
    if item is None:
        raise NotFound("no such item in your cart", details={"item_id": item_id})
    return cart_id, items, item


@retry_on_deadlock()
def update_item(ref: CartRef, item_id: int, quantity: int) -> CartView:
    """Set an item's quantity; 0 removes it."""
    check_shopper(ref.actor)
    with transaction(), _cached_settings():
        cart_id, items, item = _own_item(ref, item_id)
        if quantity == 0:
            db.session.delete(_item_row(item.id))
            db.session.flush()
            return _view_now(cart_id, [i for i in items if i is not item], ref)
        held = {i.variant_id: i.quantity for i in items}
        check_quantity_limits({**held, item.variant_id: quantity}, before=held)
        facts = variant_facts(held)
        _check_stock(item.variant_id, quantity, facts[item.variant_id].available)
        _item_row(item.id).quantity = quantity
        db.session.flush()
        items = [replace(i, quantity=quantity) if i is item else i for i in items]
        return _view(cart_id, items, facts, actor=ref.actor, token=ref.token)


@retry_on_deadlock()
def remove_item(ref: CartRef, item_id: int) -> CartView:
    check_shopper(ref.actor)
    with transaction(), _cached_settings():
        cart_id, items, item = _own_item(ref, item_id)
        db.session.delete(_item_row(item.id))
        db.session.flush()
        return _view_now(cart_id, [i for i in items if i is not item], ref)


@retry_on_deadlock()
def clear(ref: CartRef) -> CartView:
    check_shopper(ref.actor)
    with transaction(), _cached_settings():
        cart_id, _ = _cart_items(ref, lock=True)
        if cart_id is not None:
            db.session.execute(
                delete(CartItem)
                .where(CartItem.cart_id == cart_id)
                .execution_options(synchronize_session=False)
            )
        return _view(cart_id, [], {}, actor=ref.actor, token=ref.token)


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
