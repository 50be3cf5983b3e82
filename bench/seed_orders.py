"""Orders for the bench database: N orders over the last months, written fast.

    from seed_orders import seed_orders
    made = seed_orders(100_000, rng=random.Random(42), log=print)     # inside an app context

bench/seed_bench.py calls it for `--orders N` (also with `--keep`, to add orders to a product
database made before). The demo's history (admin/demo/history.py) places orders through the
services, which is right for 450 orders and far too slow for 100,000; here every row is a Core
INSERT executemany (admin.demo.seed's `_insert`, ids handed out by its `_Ids`), one transaction
per chunk of orders, like the products of the seeder.

What is written is what the services would have written for the same baskets:
- orders numbered in the house format (`YYMMDD-XXXXXXXXXX`, the placement date and 10 random hex
  digits, as app.checkout.services._order_number), sub-orders `<number>-<n>` per seller in
  order of the sellers' first line, lines carrying the variant's SKU, product title and price;
- line total = subtotal - discount + tax (prices exclusive of tax, the tenant's first active tax
  rule), commission = the seller's rate × the taxable amount (checkout's formula), sub-order
  totals = the sum of their lines + shipping, order totals = the sum of its sub-orders;
- statuses: pending (placed in the last hours, payment pending), paid, processing, shipped
  (a label_created shipment with an S10 tracking number), delivered (a delivered shipment),
  completed, cancelled (the card payment failed: order payment_status failed) and refunded (payment
  refunded in full: a completed refund, the order's refunded_total = total). A captured payment
  has a capture transaction, a refund a refund transaction;
- the timeline (order_events): "order placed", then each sub-order's steps, as update_order
  writes them; the order's paid_at / cancelled_at and every created_at follow the same clock;
- about 15 % guest orders (a random access-token hash, no customer); the rest spread over all
  customers of the tenant, a few of them buying often;
- `big` orders (default 20) with 8-12 sellers and 40-80 lines: the order desk's worst pages.

What is left out: stock reservations and movements (stock levels are not decremented), products'
sold_count, promotions, refund requests and outbox events; none of the admin pages timed by
bench/admin_list_bench.py read them for these orders.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import func, select

from admin.demo.seed import _Ids, _insert
from app.catalog.models import Product, ProductVariant
from app.checkout.services import ADDRESS_FIELDS
from app.core.tenancy import unscoped
from app.core.types import quantize_money
from app.customers.models import Address, CustomerProfile
from app.extensions import db
from app.orders.models import Order, OrderEvent, OrderLine, SubOrder
from app.payments.models import Payment, PaymentTransaction, Refund
from app.security.models import User
from app.sellers.models import SellerProfile
from app.shipments.models import Shipment, TrackingEvent
from app.shipping.carriers import make_tracking_number
from app.shipping.models import ShippingMethod
from app.tax.models import TaxRule
from app.tenants.models import Tenant

ZERO = Decimal("0.00")
# the fate of an order (all its sub-orders) and its weight among orders older than a week;
# younger ones are more often still pending, paid or processing (see _fate)
FATES = {
    "delivered": 34,
    "completed": 20,
    "shipped": 12,
    "processing": 5,
    "paid": 5,
    "pending": 3,
    "cancelled": 13,
    "refunded": 8,
}
# the sub-order steps after "pending" that each fate went through (the timeline)
STEPS = {
    "pending": [],
    "paid": ["paid"],
    "processing": ["paid", "processing"],
    "shipped": ["paid", "processing", "shipped"],
    "delivered": ["paid", "processing", "shipped", "delivered"],
    "completed": ["paid", "processing", "shipped", "delivered", "completed"],
    "cancelled": ["cancelled"],
    "refunded": ["paid", "processing", "refunded"],
}


def _q(value: Decimal) -> Decimal:
    return quantize_money(value, "USD")  # cents, half-up: the rule of every order line


def _fate(rng: random.Random, age_days: float) -> str:
    if age_days < 0.2:
        return rng.choice(["pending", "pending", "paid", "cancelled"])
    if age_days < 7:
        return rng.choices(
            ["paid", "processing", "shipped", "delivered", "cancelled", "refunded"],
            [15, 25, 30, 15, 10, 5],
        )[0]
    fates = [f for f in FATES if f != "pending"]
    return rng.choices(fates, [FATES[f] for f in fates])[0]


def _facts(tid: int, sample: int, rng: random.Random) -> dict:
    """Sellers, customers (with an address), sellable variants and the tax rule of the tenant."""
    with unscoped():
        sellers = dict(
            db.session.execute(
                select(SellerProfile.id, SellerProfile.commission_rate).where(
                    SellerProfile.tenant_id == tid
                )
            ).all()
        )
        customers = db.session.execute(
            select(
                User.id,
                User.email,
                Address.full_name,
                Address.company,
                Address.line1,
                Address.line2,
                Address.city,
                Address.region,
                Address.postal_code,
                Address.country,
                Address.phone,
            )
            .join(CustomerProfile, CustomerProfile.user_id == User.id)
            .join(
                Address,
                (Address.customer_id == CustomerProfile.id) & Address.is_default.is_(True),
            )
            .where(CustomerProfile.tenant_id == tid)
        ).all()
        top = db.session.scalar(
            select(func.max(ProductVariant.id)).where(ProductVariant.tenant_id == tid)
        )
        variants = db.session.execute(
            select(
                ProductVariant.id,
                ProductVariant.product_id,
                ProductVariant.seller_id,
                ProductVariant.sku,
                ProductVariant.price,
                ProductVariant.currency,
                Product.title,
            )
            .join(Product, Product.id == ProductVariant.product_id)
            .where(
                ProductVariant.tenant_id == tid,
                ProductVariant.is_active.is_(True),
                Product.status == "active",
                # a sample spread over the whole id range (every seller's products)
                ProductVariant.id % max(1, (top or 0) // sample or 1) == 0,
            )
        ).all()
        rule = db.session.execute(
            select(TaxRule.id, TaxRule.name, TaxRule.rate)
            .where(TaxRule.tenant_id == tid, TaxRule.is_active.is_(True))
            .order_by(TaxRule.priority.desc(), TaxRule.id)
            .limit(1)
        ).first()
        method = db.session.execute(
            select(ShippingMethod.id, ShippingMethod.name, ShippingMethod.flat_rate)
            .where(ShippingMethod.tenant_id == tid)
            .order_by(ShippingMethod.position, ShippingMethod.id)
            .limit(1)
        ).first()
    if not variants or not customers or not sellers:
        raise SystemExit("the tenant has no sellable products or no customers: seed products first")
    by_seller: dict[int, list] = {}
    for v in variants:
        by_seller.setdefault(v.seller_id, []).append(v)
    # a few customers buy often (a long tail, as shops see)
    weights = [1.0 / (1 + (i % 400)) ** 0.5 for i in range(len(customers))]
    rng.shuffle(weights)
    return {
        "sellers": sellers,
        "customers": customers,
        "customer_weights": weights,
        "variants": variants,
        "by_seller": by_seller,
        "seller_ids": sorted(by_seller),
        "tax": rule,
        "method": method,
    }


def _basket(rng: random.Random, facts: dict, big: bool) -> list[tuple]:
    """(variant, quantity) pairs, grouped so that a few sellers share an order."""
    if big:
        sellers = rng.sample(facts["seller_ids"], min(len(facts["seller_ids"]), rng.randint(8, 12)))
        n_lines = rng.randint(40, 80)
    else:
        n_sellers = rng.choices([1, 2, 3, 4], [62, 25, 9, 4])[0]
        sellers = rng.sample(facts["seller_ids"], min(len(facts["seller_ids"]), n_sellers))
        n_lines = max(n_sellers, rng.choices([1, 2, 3, 4, 5, 6], [40, 25, 15, 10, 6, 4])[0])
    picked: dict[int, tuple] = {}
    for i in range(n_lines):
        pool = facts["by_seller"][sellers[i % len(sellers)]]
        v = rng.choice(pool)
        if v.id not in picked:
            picked[v.id] = (v, rng.choices([1, 2, 3], [80, 15, 5])[0])
    return list(picked.values())


def seed_orders(
    n: int,
    *,
    tenant_slug: str = "default",
    rng: random.Random | None = None,
    months: int = 6,
    big: int = 20,
    chunk: int = 2000,
    sample_variants: int = 20_000,
    log: Callable[[str], None] = print,
) -> Counter:
    """Write `n` orders (of which `big` have many sellers and lines) into the tenant; returns the
    rows written per table. The caller's app context; each chunk of orders is one transaction."""
    rng = rng or random.Random(42)
    created: Counter = Counter()
    with unscoped():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == tenant_slug)).scalar_one()
        tid = tenant.id
        taken = set(db.session.scalars(select(Order.number).where(Order.tenant_id == tid)).all())
    facts = _facts(tid, sample_variants, rng)
    log(
        f"[{tenant_slug}] {len(facts['variants']):,} variants of {len(facts['by_seller'])} sellers, "
        f"{len(facts['customers']):,} customers to draw orders from"
    )
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    span = dt.timedelta(days=30 * months).total_seconds()
    # placement times, growing month by month (more recent orders), in id order
    times = sorted(now - dt.timedelta(seconds=span * (1 - rng.random() ** 0.8)) for _ in range(n))
    bigs = set(rng.sample(range(n), min(big, n)))
    ids = _Ids()
    done = 0
    for start in range(0, n, chunk):
        rows = _Rows()
        for k in range(start, min(n, start + chunk)):
            _order(
                rows, rng, facts, tid, tenant.default_currency, times[k], now, k in bigs, ids, taken
            )
        for table, values in rows.tables():
            _insert(table, values, created)
        db.session.commit()
        done = min(n, start + chunk)
        if done % 10_000 == 0 or done == n:
            log(f"[{tenant_slug}] {done:,}/{n:,} orders")
    return created


class _Rows:
    def __init__(self):
        self.by_table: dict = {}

    def add(self, table, row: dict) -> None:
        self.by_table.setdefault(table, []).append(row)

    def tables(self):
        # parents before children (foreign keys)
        order = [
            Order,
            SubOrder,
            OrderLine,
            OrderEvent,
            Payment,
            Refund,
            PaymentTransaction,
            Shipment,
            TrackingEvent,
        ]
        for model in order:
            if model.__table__ in self.by_table:
                yield model.__table__, self.by_table[model.__table__]


def _order(rows, rng, facts, tid, currency, placed, now, big, ids, taken) -> None:
    age_days = (now - placed).total_seconds() / 86400
    fate = _fate(rng, age_days)
    guest = rng.random() < 0.15
    if guest:
        user_id, email = None, f"guest{rng.randrange(10**9)}@example.net"
        who = rng.choice(facts["customers"])
        address = {name: getattr(who, name) for name in ADDRESS_FIELDS}
        address["full_name"] = f"Guest {who.full_name.split()[-1]}"
    else:
        who = rng.choices(facts["customers"], facts["customer_weights"])[0]
        user_id, email = who.id, who.email
        address = {name: getattr(who, name) for name in ADDRESS_FIELDS}
    while True:
        number = f"{placed:%y%m%d}-{rng.getrandbits(40):010X}"
        if number not in taken:
            taken.add(number)
            break
    oid = ids.take(Order.__table__)
    steps = STEPS[fate]
    # the moment of each step, hours to days apart (capped at now)
    clock, at = placed, {}
    for step in steps:
        gap = {"paid": (0.0, 0.05), "cancelled": (0.1, 24)}.get(step, (2, 60))
        clock = min(now, clock + dt.timedelta(hours=rng.uniform(*gap)))
        at[step] = clock
    last = clock
    tax = facts["tax"]
    rate_tax = Decimal(tax.rate) if tax is not None else ZERO
    method = facts["method"]
    ship_cost = Decimal(method.flat_rate) if method is not None else Decimal("4.99")

    grouped: dict[int, list] = {}
    for v, qty in _basket(rng, facts, big):
        grouped.setdefault(v.seller_id, []).append((v, qty))
    o_sub = o_disc = o_tax = o_ship = o_total = ZERO
    captured = fate not in ("pending", "cancelled")
    events = [(None, None, "pending", user_id, "order placed", placed)]
    for position, (seller_id, items) in enumerate(grouped.items(), start=1):
        sid = ids.take(SubOrder.__table__)
        rate = Decimal(facts["sellers"][seller_id])
        s_sub = s_disc = s_tax = s_total = s_comm = ZERO
        for v, qty in items:
            price = Decimal(v.price)
            subtotal = _q(price * qty)
            discount = _q(subtotal * Decimal("0.10")) if rng.random() < 0.08 else ZERO
            taxable = subtotal - discount
            line_tax = _q(taxable * rate_tax)
            total = taxable + line_tax
            commission = _q(rate * taxable)
            rows.add(
                OrderLine.__table__,
                {
                    "id": ids.take(OrderLine.__table__),
                    "tenant_id": tid,
                    "order_id": oid,
                    "sub_order_id": sid,
                    "seller_id": seller_id,
                    "variant_id": v.id,
                    "product_id": v.product_id,
                    "sku": v.sku,
                    "title": v.title,
                    "quantity": qty,
                    "unit_price": price,
                    "subtotal": subtotal,
                    "discount_total": discount,
                    "discounts": [
                        {
                            "promotion_id": None,
                            "code": None,
                            "amount": str(discount),
                            "funded_by": "seller",
                        }
                    ]
                    if discount
                    else [],
                    "tax_total": line_tax,
                    "tax_breakdown": [
                        {
                            "rule_id": tax.id,
                            "name": tax.name,
                            "rate": str(tax.rate),
                            "amount": str(line_tax),
                        }
                    ]
                    if tax is not None
                    else [],
                    "total": total,
                    "commission_rate": rate,
                    "commission_amount": commission,
                },
            )
            s_sub += subtotal
            s_disc += discount
            s_tax += line_tax
            s_total += total
            s_comm += commission
        shipping = ZERO if s_sub - s_disc >= Decimal("50") else ship_cost
        s_total += shipping
        rows.add(
            SubOrder.__table__,
            {
                "id": sid,
                "tenant_id": tid,
                "order_id": oid,
                "seller_id": seller_id,
                "number": f"{number}-{position}",
                "status": fate,
                "status_before_refund": None,
                "subtotal": s_sub,
                "discount_total": s_disc,
                "tax_total": s_tax,
                "shipping_total": shipping,
                "total": s_total,
                "commission_rate": rate,
                "commission_amount": s_comm,
                "shipping_method_id": method.id if method is not None else None,
                "shipping_method_name": method.name if method is not None else "Standard",
                "carrier": "manual",
                "shipping_tax": [],
                "created_at": placed,
                "updated_at": last,
            },
        )
        before = "pending"
        for step in steps:
            events.append((sid, before, step, None, None, at[step]))
            before = step
        if "shipped" in steps:
            _shipment(rows, rng, ids, tid, oid, sid, seller_id, at, last)
        o_sub += s_sub
        o_disc += s_disc
        o_tax += s_tax
        o_ship += shipping
        o_total += s_total
    for sub_id, before, step, actor, note, when in events:
        rows.add(
            OrderEvent.__table__,
            {
                "id": ids.take(OrderEvent.__table__),
                "tenant_id": tid,
                "order_id": oid,
                "sub_order_id": sub_id,
                "from_status": before,
                "to_status": step,
                "actor_user_id": actor,
                "note": note,
                "created_at": when,
            },
        )
    token_hash = hashlib.sha256(rng.randbytes(32)).hexdigest() if guest else None
    refunded = fate == "refunded"
    rows.add(
        Order.__table__,
        {
            "id": oid,
            "tenant_id": tid,
            "number": number,
            "customer_user_id": user_id,
            "email": email,
            "status": fate,
            "currency": currency,
            "prices_include_tax": False,
            "subtotal": o_sub,
            "discount_total": o_disc,
            "tax_total": o_tax,
            "shipping_total": o_ship,
            "total": o_total,
            "refunded_total": o_total if refunded else ZERO,
            "shipping_address": address,
            "notes": None,
            "coupon_codes": [],
            "payment_method": "test_card",
            "payment_status": "refunded"
            if refunded
            else "captured"
            if captured
            else "failed"
            if fate == "cancelled"
            else "unpaid",
            "paid_at": at.get("paid"),
            "cancelled_at": at.get("cancelled"),
            "reservation_expires_at": placed + dt.timedelta(minutes=30),
            "access_token_hash": token_hash,
            "created_at": placed,
            "updated_at": last,
        },
    )
    _payment(
        rows, rng, ids, tid, oid, user_id, token_hash, currency, o_total, fate, at, placed, last
    )


def _payment(
    rows, rng, ids, tid, oid, user_id, token_hash, currency, total, fate, at, placed, last
):
    pid = ids.take(Payment.__table__)
    captured = fate not in ("pending", "cancelled")
    refunded = fate == "refunded"
    reference = f"test_{rng.getrandbits(64):016x}"
    status = {"pending": "pending", "cancelled": "failed", "refunded": "refunded"}.get(
        fate, "captured"
    )
    rows.add(
        Payment.__table__,
        {
            "id": pid,
            "tenant_id": tid,
            "order_id": oid,
            "customer_user_id": user_id,
            "guest_token_hash": token_hash,
            "method": "test_card",
            "gateway": "test",
            "status": status,
            "currency": currency,
            "amount": total,
            "amount_authorized": total if captured else ZERO,
            "amount_captured": total if captured else ZERO,
            "amount_refunded": total if refunded else ZERO,
            "gateway_reference": reference,
            "card_brand": "visa",
            "card_last4": "4242" if fate != "cancelled" else "0002",
            "failure_code": "card_declined" if fate == "cancelled" else None,
            "failure_message": "the card was declined" if fate == "cancelled" else None,
            "processing_until": None,
            "created_at": placed,
            "updated_at": last,
        },
    )
    if fate == "pending":
        return
    common = {
        "tenant_id": tid,
        "payment_id": pid,
        "order_id": oid,
        "customer_user_id": user_id,
        "currency": currency,
        "gateway": "test",
        "error_code": None,
        "raw_response": {},
        "refund_id": None,
    }
    rows.add(
        PaymentTransaction.__table__,
        {
            **common,
            "id": ids.take(PaymentTransaction.__table__),
            "kind": "capture",
            "status": "succeeded" if captured else "failed",
            "amount": total,
            "gateway_reference": reference,
            "error_code": None if captured else "card_declined",
            "created_at": at.get("paid", placed),
        },
    )
    if refunded:
        rid = ids.take(Refund.__table__)
        when = at["refunded"]
        rows.add(
            Refund.__table__,
            {
                "id": rid,
                "tenant_id": tid,
                "payment_id": pid,
                "order_id": oid,
                "amount": total,
                "currency": currency,
                "reason": "customer asked",
                "status": "completed",
                "gateway_reference": f"re_{rng.getrandbits(64):016x}",
                "failure_code": None,
                "created_by_user_id": None,
                "retry_of_refund_id": None,
                "created_at": when,
                "updated_at": when,
            },
        )
        rows.add(
            PaymentTransaction.__table__,
            {
                **common,
                "id": ids.take(PaymentTransaction.__table__),
                "kind": "refund",
                "status": "succeeded",
                "amount": total,
                "gateway_reference": reference,
                "refund_id": rid,
                "created_at": when,
            },
        )


def _shipment(rows, rng, ids, tid, oid, sid, seller_id, at, last) -> None:
    shid = ids.take(Shipment.__table__)
    delivered = "delivered" in at
    rows.add(
        Shipment.__table__,
        {
            "id": shid,
            "tenant_id": tid,
            "order_id": oid,
            "sub_order_id": sid,
            "seller_id": seller_id,
            "carrier": "manual",
            # the serial from the shipment id: unique per carrier, as the constraint wants
            "tracking_number": make_tracking_number("MN", "XX", shid % 10**8),
            "status": "delivered" if delivered else "label_created",
            "label_pdf": None,
            "shipped_at": at["shipped"],
            "created_at": at["shipped"],
            "updated_at": last,
        },
    )
    if delivered:
        rows.add(
            TrackingEvent.__table__,
            {
                "id": ids.take(TrackingEvent.__table__),
                "tenant_id": tid,
                "shipment_id": shid,
                "status": "delivered",
                "description": "Delivered",
                "location": None,
                "occurred_at": at["delivered"],
            },
        )
