"""Checkout: the caller's cart becomes one parent order and one sub-order per seller.

In ONE transaction: claim the Idempotency-Key (unique per tenant, key and caller), price the cart
(app.pricing.engine.price), write the order, its sub-orders and lines (price, discounts and who
funds them, tax with its breakdown, shipping, the seller's commission rate of the moment), reserve
the stock, redeem the promotions (app.promotions.services.redeem), empty the cart, publish
`order.created`, and write the pending payment (app.payments.charges.open_payment). The gateway
is called after the commit, outside every row lock, and its outcome recorded in one more short
transaction; the events of both commits are dispatched together at the end.

Never oversold: the stock rows of every variant in the cart are locked in primary-key order
(SELECT ... FOR UPDATE), allocated, and each reservation is a conditional UPDATE that the database
refuses when on_hand - reserved would drop below zero (app.inventory.services.move_stock).

Idempotency: the same key and body return the first order; the same key with another body is a
409. A second request with the same key waits on the unique key until the first commits, then
reads its order. If the first fails, nothing was stored and the key is free again.

Rounding (done by the pricing engine): half-up to the cent at each line; every total is a sum of
rounded lines, so sub-orders add up to the parent. Commission: the rule app.commissions finds for
the line's seller and category (else the seller's own commission_rate): rate x (the line's taxable
amount, net of tax and discounts, + the discounts the platform funds: a seller is not charged for
those), half-up per line in the order's currency, + the rule's fixed part per line; a rule's fixed
part per order once on the sub-order. All frozen on the order: a rule changed later changes none.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload

from app.cart import services as carts
from app.cart.services import CartRef
from app.checkout.errors import CheckoutError
from app.checkout.inputs import CheckoutInput, PaymentChoice
from app.commissions import services as commissions
from app.core.db import is_deadlock, transaction
from app.core.errors import Conflict, DomainError, InsufficientStock, NotFound, ValidationError
from app.core.inputs import UNSET
from app.core.types import quantize_money, utcnow
from app.customers.models import Address, CustomerProfile
from app.events import idempotency
from app.events.bus import dispatch_after_block, publish
from app.events.idempotency import IdempotencyKey, KeyReleased
from app.extensions import db
from app.inventory import services as inventory
from app.inventory.models import StockLevel, Warehouse
from app.orders import access
from app.orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    ReservationStatus,
    StockReservation,
    SubOrder,
)
from app.orders.pay_later import reservation_window
from app.orders.refundable import ZERO, RefundFacts, RefundPosition
from app.orders.states import OrderStatus
from app.orders.visibility import OrderView, order_view
from app.payments import charges as payments
from app.payments.models import PaymentStatus
from app.pricing_contract import Destination, LineDiscount, PricingResult, TaxComponent
from app.promotions import services as promotions

ADDRESS_FIELDS = (
    "full_name",
    "company",
    "line1",
    "line2",
    "city",
    "region",
    "postal_code",
    "country",
    "phone",
)
DEADLOCK_RETRIES = 5
IDEMPOTENCY_DOMAIN = "checkout"


@dataclass(frozen=True)
class PaymentStart:
    """How the order's payment started at checkout: the payment (None when refused before it was
    written) and its status, or why it failed."""

    id: int | None
    status: str
    error_code: str | None
    message: str | None


def place_order(ref: CartRef, data: CheckoutInput, idempotency_key: str) -> tuple[OrderView, bool]:
    """POST /api/v1/orders/: check the cart out (`check_out`) and answer the order as placed, its
    `payment` and, for a guest, the order's access token (the same one when the checkout is
    replayed: app.orders.access). Returns (the order as placed, created)."""
    order, created, payment = check_out(ref, data, idempotency_key)
    # a new order has neither refunds nor requests yet, and its payment (when captured already, by
    # the in-process consumer) is of its total: no query; a replayed one may have had refunds since
    facts = (
        RefundFacts(RefundPosition(order.total if order.paid_at is not None else ZERO))
        if created
        else None
    )
    view = order_view(order, None, facts)
    token = access.issued_token(order, ref.token) if order.is_guest and ref.token else None
    return replace(view, payment=payment, access_token=token), created


def check_out(
    ref: CartRef, data: CheckoutInput, idempotency_key: str
) -> tuple[Order, bool, PaymentStart | None]:
    """Returns (order, created, payment). `created` is False when the key had been used with this
    body; `payment` says how the payment started (None without a payment in the request)."""
    carts.check_shopper(ref.actor)
    if ref.actor is None and not ref.token:
        raise Conflict("your cart is empty", code=CheckoutError.CART_EMPTY)
    # of the same dict as before the typed input: keys stored then still replay
    fingerprint = idempotency.request_hash(data.fingerprint_fields())
    with dispatch_after_block():  # the events of both commits (order, payment) leave in one batch
        for attempt in range(DEADLOCK_RETRIES):
            try:
                with transaction():
                    order, created = _place(ref, data, idempotency_key, fingerprint)
                    opened = (
                        _open_payment(order, data.payment, ref.token)
                        if created and data.payment is not UNSET
                        else None
                    )
                    order_id = order.id  # read before the commit expires it
                break
            except (OperationalError, KeyReleased) as exc:
                retry = isinstance(exc, KeyReleased) or is_deadlock(exc)
                if not retry or attempt == DEADLOCK_RETRIES - 1:
                    raise
                time.sleep(0.01 * (attempt + 1))
        payment = _run_payment(opened) if opened is not None else None
    return load_order(order_id), created, payment


def load_order(order_id: int) -> Order:
    """The order with its sub-orders and their lines, in one SELECT."""
    db.session.expire_all()
    order = (
        db.session.scalars(
            select(Order)
            .where(Order.id == order_id)
            .options(joinedload(Order.sub_orders).joinedload(SubOrder.lines))
            .execution_options(populate_existing=True)
        )
        .unique()
        .one_or_none()
    )
    if order is None:
        raise NotFound("no such order", details={"order_id": order_id})
    return order


def _claim_key(
    ref: CartRef, key: str, fingerprint: str
) -> tuple[IdempotencyKey | None, Order | None]:
    """Take the key for this request, or return the order it already stands for."""
    row, replay = idempotency.claim(IDEMPOTENCY_DOMAIN, ref.scope, key, "order", fingerprint)
    if not replay:
        return row, None
    return None, db.session.get(Order, row.result_id("order_id"))


def _destination(address: dict[str, str | None]) -> Destination:
    return Destination(
        country=address["country"],
        region=address.get("region") or None,
        postal_code=address.get("postal_code") or None,
    )


def _shipping_address(ref: CartRef, data: CheckoutInput) -> dict[str, str | None]:
    """The address the order stores (its JSON column): every field, None when not given."""
    if data.address_id is not UNSET:
        if ref.actor is None:
            raise ValidationError(
                "guests give the address itself", details={"address_id": ["customers only"]}
            )
        address = db.session.scalar(
            select(Address)
            .join(CustomerProfile, CustomerProfile.id == Address.customer_id)
            .where(Address.id == data.address_id, CustomerProfile.user_id == ref.actor.user_id)
        )
        if address is None:
            raise NotFound("no such address", details={"address_id": data.address_id})
        return {name: getattr(address, name) for name in ADDRESS_FIELDS}
    if data.shipping_address is UNSET:
        raise ValidationError(
            "a shipping address is needed",
            details={"shipping_address": ["give shipping_address or address_id"]},
        )
    given = data.shipping_address.given()
    return {name: given.get(name) for name in ADDRESS_FIELDS}


def _place(ref: CartRef, data: CheckoutInput, key: str, fingerprint: str) -> tuple[Order, bool]:
    claim, existing = _claim_key(ref, key, fingerprint)
    if existing is not None:
        return existing, False
    email = (data.email if data.email is not UNSET else None) or ref.email
    if not email:
        raise ValidationError(
            "guests give an e-mail address", details={"email": ["required for guest checkout"]}
        )
    address = _shipping_address(ref, data)
    cart = carts.find_cart(ref, lock=True)
    items = list(cart.items) if cart is not None else []
    if not items:
        raise Conflict("your cart is empty", code=CheckoutError.CART_EMPTY)
    # the tenant's quantity limits again (the cart may predate them, or they were lowered since):
    # refused before anything is priced, written or reserved
    carts.check_quantity_limits({i.variant_id: i.quantity for i in items})
    _check_sellable(items)
    methods = {m.seller_id: m.method_id for m in data.shipping_methods}
    result = carts.price(
        carts.pricing_request(
            items,
            actor=ref.actor,
            destination=_destination(address),
            coupon_codes=tuple(data.coupon_codes),
            shipping_method_ids=methods,
        )
    )
    _check_priced(result, methods)

    now = utcnow()
    method = data.payment.method if data.payment is not UNSET else None
    ttl = reservation_window(method)  # minutes for a card, days for a bank transfer
    number = _order_number(now)
    order = Order(
        number=number,
        customer_user_id=ref.actor.user_id if ref.actor is not None else None,
        # a guest's order access token is derived from its cart token and the number: its
        # hash is written with the order (app.orders.access)
        access_token_hash=access.new_order_token_hash(ref.token, number)
        if ref.actor is None
        else None,
        email=email,
        status=OrderStatus.PENDING,
        currency=result.currency,
        prices_include_tax=result.prices_include_tax,
        shipping_address=address,
        notes=data.notes if data.notes is not UNSET else None,
        coupon_codes=list(data.coupon_codes),
        reservation_expires_at=now + ttl,
        payment_method=method,
        sub_orders=[],
    )  # a new order has none: no lazy load when they are added
    lines = _write_sub_orders(order, items, result)
    _reserve(order, lines)
    if result.applied_promotions:
        promotions.redeem(
            result.applied_promotions, order_id=order.id, customer_user_id=order.customer_user_id
        )
    claim.result = {"order_id": order.id}
    db.session.add(
        OrderEvent(
            order_id=order.id,
            from_status=None,
            to_status=OrderStatus.PENDING,
            actor_user_id=order.customer_user_id,
            note="order placed",
        )
    )
    publish(
        "order.created",
        {
            "order_id": order.id,
            "number": order.number,
            "customer_user_id": order.customer_user_id,
            "total": str(order.total),
            "currency": order.currency,
            "sub_orders": [
                {"sub_order_id": s.id, "seller_id": s.seller_id, "total": str(s.total)}
                for s in order.sub_orders
            ],
        },
        aggregate="order",
        aggregate_id=order.id,
    )
    carts.empty_cart(cart.id)  # its DELETE flushes the rows above together (one INSERT per table)
    db.session.flush()
    return order, True


def _order_number(now: dt.datetime) -> str:
    return f"{now:%y%m%d}-{secrets.token_hex(5).upper()}"


def _check_sellable(items) -> None:
    """Every item must still be sold (app.cart.services.sellable_variant_ids: an active variant of
    a product on the storefront, app.catalog.scopes.on_storefront, so not of a suspended or
    rejected seller): otherwise a 409 naming the items to remove, before anything is priced,
    written or reserved."""
    for_sale = carts.sellable_variant_ids(i.variant_id for i in items)
    gone = [i for i in items if i.variant_id not in for_sale]
    if gone:
        raise Conflict(
            "some items are no longer sold; remove them from your cart: "
            + ", ".join(_item_name(i) for i in gone),
            code=CheckoutError.ITEM_UNAVAILABLE,
            details={
                "variant_ids": [i.variant_id for i in gone],
                "items": [
                    {
                        "item_id": i.id,
                        "variant_id": i.variant_id,
                        "sku": i.variant.sku if i.variant is not None else None,
                        "title": i.variant.product.title
                        if i.variant is not None and i.variant.product is not None
                        else None,
                    }
                    for i in gone
                ],
            },
        )


def _item_name(item) -> str:
    variant = item.variant
    if variant is None or variant.product is None:
        return f"item {item.id}"
    return f"{variant.product.title} ({variant.sku})"


def _check_priced(result: PricingResult, methods: dict[int, int]) -> None:
    if result.rejected_coupons:
        raise ValidationError(
            "a coupon cannot be used", details={"coupon_codes": dict(result.rejected_coupons)}
        )
    unserved = [q.seller_id for q in result.shipping if q.method_id is None]
    if unserved:
        raise Conflict(
            "no shipping method serves this address for some items",
            code=CheckoutError.NO_SHIPPING_METHOD,
            details={"seller_ids": unserved},
        )
    quoted = {q.seller_id: q.method_id for q in result.shipping}
    wrong = {
        str(s): ["this method does not serve this parcel"]
        for s, m in methods.items()
        if quoted.get(s) != m
    }
    if wrong:
        raise ValidationError(
            "a chosen shipping method cannot be used", details={"shipping_methods": wrong}
        )


def _write_sub_orders(order: Order, items, result: PricingResult) -> list[tuple[OrderLine, int]]:
    """Sub-orders and lines from the priced basket; returns (line, variant_id) pairs. The
    commission of each line is the rule app.commissions finds for its seller and category (the
    seller's own rate when none), frozen on the line with the rule's id, rate and fixed part; a
    rule's per-order fixed part is frozen once on the sub-order."""
    by_key = {str(i.id): i for i in items}
    seller_ids = result.seller_ids()
    book = commissions.commission_book(seller_ids, order.currency)
    quotes = {q.seller_id: q for q in result.shipping}
    written = []
    subs: list[SubOrder] = []  # attached to the order once it is written with its totals
    zero = Decimal("0.00")
    for position, seller_id in enumerate(seller_ids, start=1):
        quote = quotes[seller_id]
        sub = SubOrder(
            seller_id=seller_id,
            number=f"{order.number}-{position}",
            status=OrderStatus.PENDING,
            commission_rate=book.applied(seller_id, None).rate,
            shipping_method_id=quote.method_id,
            shipping_method_name=quote.method_name,
            carrier=quote.carrier,
            shipping_total=quote.cost,
            shipping_tax=[_tax(t) for t in quote.tax],
        )
        subs.append(sub)
        subtotal = discount = tax = total = commission = zero
        per_order: dict[int, Decimal] = {}  # rule id -> its fixed part per order
        for line in (pl for pl in result.lines if pl.seller_id == seller_id):
            item = by_key[line.key]
            platform_funded = sum(
                (d.amount for d in line.discounts if d.funded_by == "platform"), zero
            )
            applied = book.applied(seller_id, item.variant.product.category_id)
            line_commission = applied.line_amount(
                line.taxable_amount + platform_funded, order.currency
            )
            if applied.rule_id is not None and applied.fixed_per_order:
                per_order[applied.rule_id] = quantize_money(applied.fixed_per_order, order.currency)
            row = OrderLine(
                seller_id=seller_id,
                variant_id=item.variant_id,
                product_id=item.variant.product_id,
                sku=item.variant.sku,
                title=item.variant.product.title,
                quantity=line.quantity,
                unit_price=line.unit_price,
                subtotal=line.subtotal,
                discount_total=line.discount_total,
                discounts=[_discount(d) for d in line.discounts],
                tax_total=line.tax_total,
                tax_breakdown=[_tax(t) for t in line.tax],
                total=line.total,
                commission_rule_id=applied.rule_id,
                commission_rate=applied.rate,
                commission_fixed=quantize_money(applied.fixed_per_line, order.currency),
                commission_amount=line_commission,
            )
            sub.lines.append(row)
            written.append((row, item.variant_id))
            subtotal += line.subtotal
            discount += line.discount_total
            tax += line.tax_total
            total += line.total
            commission += line_commission
        sub.subtotal = subtotal
        sub.discount_total = discount
        sub.tax_total = tax + quote.tax_total
        sub.total = total + quote.cost + (zero if result.prices_include_tax else quote.tax_total)
        sub.commission_fixed = sum(per_order.values(), zero)
        sub.commission_amount = commission + sub.commission_fixed
    order.subtotal = sum((s.subtotal for s in subs), zero)
    order.discount_total = sum((s.discount_total for s in subs), zero)
    order.tax_total = sum((s.tax_total for s in subs), zero)
    order.shipping_total = sum((s.shipping_total for s in subs), zero)
    order.total = sum((s.total for s in subs), zero)
    if order.total != result.total:  # the engine's own sum must agree with ours, to the cent
        raise Conflict(
            "pricing totals do not add up",
            code=CheckoutError.PRICING_MISMATCH,
            details={"engine_total": str(result.total), "order_total": str(order.total)},
        )
    db.session.add(order)
    db.session.flush()  # the order, with its totals (one INSERT, no UPDATE after)
    for sub in subs:
        for row in sub.lines:
            row.order_id = order.id
        order.sub_orders.append(sub)
    db.session.flush()
    return written


def _reserve(order: Order, lines: list[tuple[OrderLine, int]]) -> None:
    """Lock the stock rows of every variant (primary-key order), allocate, reserve each row with a
    conditional UPDATE (in primary-key order too)."""
    variant_ids = sorted({variant_id for _, variant_id in lines})
    stock_ids = db.session.scalars(
        select(StockLevel.id)
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(StockLevel.variant_id.in_(variant_ids), Warehouse.is_active.is_(True))
    ).all()
    # lock the stock rows alone (no join: MariaDB would lock the joined rows too, and the order
    # lines just written hold shared locks on their variants), in primary-key order
    rows = (
        db.session.execute(
            select(
                StockLevel.id,
                StockLevel.variant_id,
                StockLevel.quantity_on_hand,
                StockLevel.quantity_reserved,
                StockLevel.tenant_id,
                StockLevel.seller_id,
                StockLevel.warehouse_id,
            )
            .where(StockLevel.id.in_(stock_ids))
            .order_by(StockLevel.id)
            .with_for_update()
        ).all()
        if stock_ids
        else []
    )
    free = {row.id: row.quantity_on_hand - row.quantity_reserved for row in rows}
    by_variant: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        by_variant[row.variant_id].append(row.id)
    plan: list[tuple[int, OrderLine, int]] = []  # (stock_level_id, line, quantity)
    for line, variant_id in lines:
        need = line.quantity
        for stock_id in by_variant[variant_id]:
            take = min(need, free[stock_id])
            if take > 0:
                plan.append((stock_id, line, take))
                free[stock_id] -= take
                need -= take
            if need == 0:
                break
        if need > 0:
            available = sum(max(free[s], 0) for s in by_variant[variant_id]) + line.quantity - need
            raise InsufficientStock(
                "not enough stock for an item in your cart",
                details={
                    "variant_id": variant_id,
                    "available": available,
                    "requested": line.quantity,
                },
            )
    plan.sort(key=lambda p: p[0])
    # a stock row two lines draw on is reserved once, with their sum (one UPDATE, ledger row, event)
    per_row: dict[int, int] = {}
    for stock_id, _, quantity in plan:
        per_row[stock_id] = per_row.get(stock_id, 0) + quantity
    refused = inventory.reserve_locked(
        {row.id: row for row in rows},
        list(per_row.items()),
        reason="reservation",
        reference=f"order:{order.number}",
    )
    if refused is not None:
        line = next(line for stock_id, line, _ in plan if stock_id == refused)
        raise InsufficientStock(
            "not enough stock for an item in your cart",
            details={"variant_id": line.variant_id, "requested": line.quantity},
        )
    db.session.add_all(
        [
            StockReservation(
                order_id=order.id,
                sub_order_id=line.sub_order_id,
                order_line_id=line.id,
                stock_level_id=stock_id,
                quantity=quantity,
                status=ReservationStatus.HELD,
            )
            for stock_id, line, quantity in plan
        ]
    )


def _discount(d: LineDiscount) -> dict[str, Any]:
    """A line's discount as its order line stores it (the JSON column `discounts`, amounts as
    text): the stored form, read back by the order's views, not an answer shaped here."""
    return {
        "promotion_id": d.promotion_id,
        "code": d.code,
        "amount": str(d.amount),
        "funded_by": d.funded_by,
    }


def _tax(t: TaxComponent) -> dict[str, Any]:
    """A tax component as an order line or sub-order stores it (the JSON columns `tax_breakdown`,
    `shipping_tax`, rate and amount as text)."""
    return {"rule_id": t.rule_id, "name": t.name, "rate": str(t.rate), "amount": str(t.amount)}


def _open_payment(order: Order, payment: PaymentChoice, guest_token: str | None):
    """In the order's transaction: the payments domain writes the pending payment (claimed for
    its gateway call) so that both commit together. A refused method or card leaves the order
    standing (stock held until it expires; pay again later): the answer says why."""
    try:
        return payments.open_payment(
            order_id=order.id,
            amount=order.total,
            currency=order.currency,
            method=payment.method,
            customer_user_id=order.customer_user_id,
            payment_details=dict(payment.details),
            idempotency_key=f"order-{order.id}",
            guest_token=guest_token,
            new_order=True,
        )
    except DomainError as exc:  # raised before the payments domain wrote anything
        return PaymentStart(
            id=None, status=PaymentStatus.FAILED, error_code=exc.code, message=exc.message
        )


def _run_payment(opened) -> PaymentStart:
    """After the commit, outside row locks: the gateway call and its outcome. The outcome also
    comes back as events (payment.captured / payment.failed) that move the order."""
    if isinstance(opened, PaymentStart):  # refused before it was written
        return opened
    try:
        outcome = payments.run_payment(opened)
    except DomainError as exc:  # e.g. the gateway is unreachable: the order stands, pay again later
        db.session.rollback()
        return PaymentStart(
            id=None, status=PaymentStatus.FAILED, error_code=exc.code, message=exc.message
        )
    if outcome is None:  # nothing sent to a gateway (no card details given)
        return PaymentStart(
            id=opened.payment_id,
            status=opened.status,
            error_code=opened.failure_code,
            message=None,
        )
    return PaymentStart(
        id=outcome.id, status=outcome.status, error_code=outcome.failure_code, message=None
    )
