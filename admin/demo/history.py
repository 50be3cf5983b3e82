"""The demo's history: months of orders in every state, their payments, shipments, refunds and
reviews, promotions with redemptions, a few open carts and refund requests waiting for a decision.

    from admin.demo.history import seed_history
    made = seed_history(tenant_id, region, orders=450, rng=random.Random("42:main:history"))

Everything here goes through the domain services, as the storefront API and the admin call them,
so the rows are consistent by construction (totals, tax, commission, stock reservations and the
ledger, payments and their transactions, refunds, the state machine's timeline, products'
sold_count and rating counters):

    cart.add_item -> checkout.place_order (test card, or a bank transfer that an admin marks
    received: payments.mark_received) -> orders.update_order (processing, delivered, completed)
    -> shipments.create_label (a real PDF label; ships the sub-order) -> orders.request_refund ->
    orders.decide_refund (approved with restock, or rejected) / orders.cancel_order ->
    reviews.create_review; promotions.create_promotion before, cart.add_item after.

The services react to each other through outbox events (a captured payment marks the order paid,
a refund completes its request, a delivery updates the shipment). While the history is written
those consumers run in this process, right after each commit, whatever JOBS_MODE says
(`_consumers_in_process`): the next step of an order needs the previous one applied, and a
seeding command must not leave work for a worker that may not be running. Search indexing is the
one consumer left out: `flask search reindex` (which `make run` runs after `flask seed`) indexes
the whole seeded catalogue, stock included.

Time. A service stamps what it writes with the clock (`utcnow()`), and none of them can be told
another time. So the history is written now, in order of placement, and then moved into the past
by `_backdate`: one SELECT of the rows the history wrote (ids above the high-water marks taken
before it) and one UPDATE (executemany, by primary key) per table, each timestamp set from the
order's planned timeline (placed, paid, processing, shipped, ...), the kind of row telling which
step wrote it. Order numbers carry their date (`YYMMDD-XXXXXXXXXX`): each is renumbered to its
placement date right after checkout, before anything copies it (sub-order numbers, the label, the
ledger references, a guest's access token). What stays of the seeding's own time: the outbox and
processed-event rows (the plumbing, as it ran), the low-stock alerts the orders opened, products'
and stock rows' updated_at, and the date printed on the PDF labels (the carrier draws it).

The seller ledger is append-only: its rows can never be moved into the past afterwards. So its
consumers are held while the history is written and run at the end, in the order their steps
happened, each row inserted with the moment of its step (`_write_ledger`): a sale when its
sub-order was paid, a release when it was delivered (its money available the tenant's hold period
later: older deliveries' money is available, the last days' still pending), a refund when it was
decided. The entries' ids then follow their dates, as a statement reads them.

Orders are spread over the last six months in the tenant's time zone (more in the evening and
at weekends, growing month by month); an order's state follows from its age (only recent orders
are still pending, paid or processing). Pending orders are bank transfers placed in the last day
or so, waiting for an admin to mark the money received: an order paid by hand holds its stock
ORDER_PAY_BY_HAND_DAYS (app.orders.pay_later.reservation_window; a card order's 30 minutes would
cancel them soon after `make run`), so they wait on the order desk for days, and the reservation
cron cancels them as unpaid after that, as it would any order. What needs staff or sellers
without a deadline (paid orders to process, processing ones to ship, refund requests to decide)
waits however late the demo is looked at. Deterministic for a given rng (card references,
tracking numbers and the random part of order numbers are drawn by the services themselves).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, event, func, select, update

from app.cart import services as carts
from app.cart.models import Cart, CartItem
from app.catalog.models import Product, ProductVariant
from app.checkout.inputs import CheckoutInput, PaymentChoice, ShippingChoice
from app.checkout.services import place_order
from app.core.crypto import hash_token
from app.core.db import transaction
from app.core.errors import DomainError
from app.core.tenancy import tenant_scope, unscoped
from app.core.types import utcnow
from app.customers.inputs import AddressInput
from app.customers.models import Address, CustomerProfile
from app.events.bus import consume, get_bus
from app.events.models import OutboxEvent
from app.extensions import db
from app.inbox.models import Notification, NotificationReceipt
from app.inventory.models import LowStockAlert, StockLevel, StockMovement, Warehouse
from app.orders import access
from app.orders.inputs import OrderChanges, RefundAsk, RefundLine
from app.orders.lifecycle import cancel_order, update_order
from app.orders.models import (
    Order,
    OrderEvent,
    RefundRequest,
    StockReservation,
    SubOrder,
)
from app.orders.refunds import decide_refund, request_refund
from app.payments.charges import mark_received
from app.payments.models import Payment, PaymentTransaction, Refund
from app.payouts.models import SellerLedgerEntry, SellerLedgerRelease
from app.promotions.inputs import NewPromotion
from app.promotions.models import Promotion, PromotionRedemption
from app.promotions.services import create_promotion
from app.reviews.inputs import NewReview
from app.reviews.models import Review
from app.reviews.services import create_review
from app.security import roles
from app.security.actor import Actor
from app.security.models import User
from app.sellers.actors import seller_id_of
from app.sellers.models import SellerProfile
from app.shipments.models import Shipment, TrackingEvent
from app.shipments.services import create_label
from app.shipping.models import ShippingMethod, ShippingZone
from app.tenants.models import Tenant

HISTORY_DAYS = 182
CARD = {"card_number": "4242424242424242"}  # the test gateway's card that pays
DECLINED_CARD = {"card_number": "4000000000000002"}
# the demo's time zone of a tenant, by its region (a tenant with a `timezone` of its own uses it)
REGION_TIME_ZONES = {"US": "America/New_York", "GB": "Europe/London", "EU": "Europe/Amsterdam"}

# how an order ends: (share of the orders, how many at least, its placement's age in hours
# (min, max)); `orders` below the sum of the leasts gets that sum
FATES: dict[str, tuple[float, int, tuple[float, float]]] = {
    "pending": (2, 2, (2 / 60, 30)),  # bank transfers waiting to be marked received
    "paid": (3, 1, (0.75, 20)),
    "processing": (4, 1, (8, 60)),
    "shipped": (5, 1, (30, 130)),
    "delivered": (40, 1, (110, HISTORY_DAYS * 24)),
    "completed": (12, 1, (720, HISTORY_DAYS * 24)),
    "cancelled": (8, 2, (3, HISTORY_DAYS * 24)),
    "refund_requested": (4, 2, (160, 600)),
    "refunded": (5, 1, (260, HISTORY_DAYS * 24)),
    "partially_refunded": (5, 1, (260, HISTORY_DAYS * 24)),
    "refund_rejected": (2, 1, (360, HISTORY_DAYS * 24)),
}
GUEST_FATES = {"paid", "processing", "shipped", "delivered", "completed"}
REFUND_FATES = {"refund_requested", "refunded", "partially_refunded", "refund_rejected"}
# local hour of day -> relative weight of orders placed then
HOUR_WEIGHTS = (
    1.0, 0.6, 0.3, 0.2, 0.2, 0.3, 0.8, 1.5, 2.4, 3.0, 3.2, 3.3,
    3.8, 3.6, 3.2, 3.0, 3.0, 3.2, 3.8, 4.5, 5.0, 4.6, 3.2, 2.0,
)  # fmt: skip

RETURN_REASONS = (
    "Doesn't fit: too small",
    "Doesn't fit: too big",
    "Not as described on the product page",
    "Changed my mind",
    "Arrived damaged",
    "Ordered the wrong size",
    "Colour is different from the pictures",
    "Found it cheaper elsewhere",
)
PARTIAL_REASONS = (
    "Arrived with a scratch; happy to keep it for a partial refund",
    "One item was missing from the parcel",
    "Delivered three days late",
    "Box was crushed; goods are fine",
)
MONEY_BACK_REASONS = (
    "Arrived broken beyond repair; photos attached",
    "Wrong item sent; the shop said to keep it",
    "Stopped working after two days",
)
REJECT_NOTES = (
    "Outside our 30-day return window",
    "Item shows clear signs of use",
    "Returned without its original packaging and tags",
)
CANCEL_REASONS = {
    "customer": ("Ordered by mistake", "Found a better price", "No longer needed"),
    "staff": (
        "Out of stock at the warehouse",
        "Payment flagged as suspicious",
        "Address undeliverable",
    ),
    "declined": ("Card declined; will order again later",),
}
REVIEW_TEXT = {
    5: (
        ("Love it", "Exactly as described and beautifully made. Would buy again."),
        ("Excellent quality", "Better than I expected for the price. Fast delivery too."),
        ("Five stars", "Does everything I wanted. Highly recommended."),
        ("Perfect", "Great fit and finish; my second one from this shop."),
    ),
    4: (
        ("Very good", "Solid quality and good value. Packaging could be better."),
        ("Happy with it", "Works well; took a day longer than promised to arrive."),
        ("Great value", "Nice product, minor niggles but would recommend."),
    ),
    3: (
        ("It's okay", "Does the job, nothing special."),
        ("Average", "Decent, but the pictures flatter it a little."),
    ),
    2: (
        ("Disappointed", "Quality not what I hoped for at this price."),
        ("Not great", "Finish is rough and the sizing runs small."),
    ),
    1: (
        ("Would not recommend", "Broke within a week."),
        ("Poor", "Nothing like the description."),
    ),
}


# --------------------------------------------------------------------------------------------
# Events: consumers run now, in this process
# --------------------------------------------------------------------------------------------


class _InProcess:
    """A task runner for the event bus that applies each consumer at once (app.events.bus.consume,
    once per event and consumer, as a worker would), with these exceptions. Search indexing is left
    to `flask search reindex` (see the module doc); mails, outbound deliveries and live pushes are
    not made for the past (NOT_FOR_THE_PAST). The low-stock check reads a stock row as it is
    when it runs, so of the many stock changes of one row only the last is checked, once the
    history is written (`finish`): the alerts are those of the stock as it ends. The seller
    ledger's consumers are held (`ledger_jobs`) and run once the history is written, in the order
    their steps happened and stamped with those moments (`_write_ledger`)."""

    LOW_STOCK = "inventory.low_stock_check"
    # a history is the past: no one is mailed about it (transactional mails, the notification
    # centre's e-mail/SMS/push deliveries) and no one is connected to hear it live; its
    # notifications are stored, dated and read as they would have been (_settle_notifications)
    NOT_FOR_THE_PAST = ("search.", "mail.", "realtime.")
    LEDGER = ("payouts.ledger_sale", "payouts.ledger_release", "payouts.ledger_refund")

    def __init__(self):
        self.low_stock: dict[int, int] = {}  # stock level id -> its latest stock_changed event
        self.ledger_jobs: list[tuple[int, str]] = []  # (event id, consumer)

    def enqueue(self, task, event_id, consumer, queue="default", job_id=None, timeout=None) -> None:
        if consumer.startswith(self.NOT_FOR_THE_PAST) or consumer == "inbox.deliver":
            return
        if consumer in self.LEDGER:
            self.ledger_jobs.append((event_id, consumer))
            return
        if consumer == self.LOW_STOCK:
            with unscoped():
                row = db.session.get(OutboxEvent, event_id)
                self.low_stock[int(row.payload["stock_level_id"])] = event_id
            return
        consume(event_id, consumer)

    def finish(self) -> None:
        for event_id in sorted(self.low_stock.values()):
            consume(event_id, self.LOW_STOCK)
        self.low_stock.clear()


@contextmanager
def _consumers_in_process() -> Iterator[_InProcess]:
    bus = get_bus()
    runner = _InProcess()
    previous, bus.runner = bus.runner, runner
    try:
        yield runner
        runner.finish()
    finally:
        bus.runner = previous


@contextmanager
def _sqlite_without_fsync() -> Iterator[None]:
    """SQLite (`make run`'s file) waits for the disk at every commit, and the history makes some
    fifteen thousand small ones: while it is written, connections skip that wait (PRAGMA
    synchronous=OFF; a crash meanwhile loses the demo, which `flask seed` makes again). The pool
    is emptied afterwards, so no connection keeps the setting. Other databases: unchanged."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        yield
        return

    def no_fsync(dbapi_connection, record, proxy) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()

    event.listen(engine, "checkout", no_fsync)
    try:
        yield
    finally:
        event.remove(engine, "checkout", no_fsync)
        db.session.commit()
        engine.dispose()


# --------------------------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------------------------


@dataclass
class _Customer:
    user_id: int
    profile_id: int
    email: str
    role_names: frozenset
    address_id: int
    weight: float


@dataclass
class _Variant:
    id: int
    product_id: int
    seller_id: int
    price: Decimal
    available: int
    quality: float  # the product's rating (what its reviews say), 0: none yet


@dataclass
class _Plan:
    fate: str
    at: dict[str, dt.datetime]
    customer: _Customer | None  # None: a guest
    items: list[tuple[_Variant, int]]
    method: str  # card, bank_transfer, declined
    coupon: str | None = None
    express: bool = False
    cancel_by: str | None = None  # customer, staff, declined
    refund: str | None = None  # lines, part_lines, amount
    reviews: list[tuple[int, int]] = field(default_factory=list)  # (product_id, rating)
    review_at: dict[int, dt.datetime] = field(default_factory=dict)  # product_id -> when
    # filled while it runs
    order_id: int | None = None
    number: str | None = None
    old_number: str | None = None
    payment_id: int | None = None
    cart_token: str | None = None  # a guest's
    subs: list[tuple[int, int, list[tuple[int, int]]]] = field(default_factory=list)
    failed: str | None = None

    @property
    def last(self) -> dt.datetime:
        """When its last step happened (`at`: placed, paid, processing, shipped, delivered,
        completed, requested, decided, cancelled: those it goes through)."""
        return max(self.at.values())


@dataclass
class HistoryResult:
    """What seed_history made: rows per table, and the plans that a service refused (none
    expected; each is reported as '<fate>: <error code>')."""

    created: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


class _Shop:
    """What the plan draws on, read once: the tenant's time zone, its Admin, approved sellers,
    customers with an address it ships to, guests' addresses, sellable variants."""

    def __init__(self, tid: int, region: str, rng: random.Random, now: dt.datetime):
        self.tid, self.region, self.rng, self.now = tid, region, rng, now
        tz_name = getattr(db.session.get(Tenant, tid), "timezone", None)
        self.tz = ZoneInfo(tz_name or REGION_TIME_ZONES.get(region, "UTC"))
        zones = db.session.scalars(select(ShippingZone)).all()
        users = {
            u.id: u
            for u in db.session.scalars(
                select(User).where(User.tenant_id == tid).order_by(User.id)
            ).all()
        }
        # the tenant's (first) Admin cancels orders and makes the platform's promotions
        self.admin_id = next((uid for uid, u in users.items() if roles.ADMIN in u.role_names), None)
        self.sellers = dict(
            db.session.execute(
                select(SellerProfile.id, SellerProfile.user_id).where(
                    SellerProfile.status == "approved"
                )
            ).all()
        )  # seller profile id -> user id
        addresses = db.session.execute(
            select(
                CustomerProfile.id,
                CustomerProfile.user_id,
                Address.id,
                Address.country,
                Address.region,
            )
            .join(Address, Address.customer_id == CustomerProfile.id)
            .order_by(CustomerProfile.id, Address.is_default.desc(), Address.id)
        ).all()
        self.customers: list[_Customer] = []
        seen: set[int] = set()
        for profile_id, user_id, address_id, country, area in addresses:
            user = users.get(user_id)
            if profile_id in seen or user is None or not (user.role_names & roles.CUSTOMER_ROLES):
                continue
            if not any(z.is_active and z.covers(country, area) for z in zones):
                continue  # no shipping to that address: this customer does not order here
            seen.add(profile_id)
            self.customers.append(
                _Customer(
                    user_id=user_id,
                    profile_id=profile_id,
                    email=user.email,
                    role_names=frozenset(user.role_names),
                    address_id=address_id,
                    weight=rng.paretovariate(1.5),  # a few loyal customers, a long tail
                )
            )
        self.guest_addresses = [
            dict(row._mapping)
            for row in db.session.execute(
                select(
                    Address.full_name,
                    Address.line1,
                    Address.line2,
                    Address.city,
                    Address.region,
                    Address.postal_code,
                    Address.country,
                    Address.phone,
                )
                .order_by(Address.id)
                .limit(400)
            ).all()
            if any(z.is_active and z.covers(row.country, row.region) for z in zones)
        ]
        self.express = dict(
            db.session.execute(
                select(ShippingMethod.zone_id, ShippingMethod.id).where(
                    ShippingMethod.name == "Express", ShippingMethod.is_active.is_(True)
                )
            ).all()
        )
        self.variants = self._sellable()

    def _sellable(self) -> list[_Variant]:
        """Physical variants of active products with stock to sell, the most popular products
        drawn more often (their sold_count), a few hundred products in all."""
        free = (
            select(
                StockLevel.variant_id,
                func.sum(StockLevel.quantity_on_hand - StockLevel.quantity_reserved).label("free"),
            )
            .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
            .where(Warehouse.is_active.is_(True))
            .group_by(StockLevel.variant_id)
            .subquery()
        )
        rows = db.session.execute(
            select(
                ProductVariant.id,
                ProductVariant.product_id,
                Product.seller_id,
                ProductVariant.price,
                free.c.free,
                Product.rating_avg,
                Product.sold_count,
            )
            .join(Product, Product.id == ProductVariant.product_id)
            .join(free, free.c.variant_id == ProductVariant.id)
            .where(
                Product.status == "active",
                Product.product_type == "physical",
                ProductVariant.is_active.is_(True),
                free.c.free > 2,
                Product.seller_id.in_(list(self.sellers)),
            )
            .order_by(Product.sold_count.desc(), ProductVariant.id)
            .limit(1500)
        ).all()
        return [
            _Variant(v, p, s, Decimal(price), int(available), float(rating or 0))
            for v, p, s, price, available, rating, _sold in rows
        ]


def _quotas(n: int) -> list[str]:
    total = sum(share for share, _, _ in FATES.values())
    counts = {f: max(least, round(n * share / total)) for f, (share, least, _) in FATES.items()}
    # the most common fate takes up the rounding (never below its least)
    counts["delivered"] = max(FATES["delivered"][1], counts["delivered"] + n - sum(counts.values()))
    return [fate for fate, k in counts.items() for _ in range(k)]


def _black_friday(year: int) -> dt.date:
    november = dt.date(year, 11, 1)
    thanksgiving = november + dt.timedelta(days=(3 - november.weekday()) % 7 + 21)
    return thanksgiving + dt.timedelta(days=1)


def _local_time(shop: _Shop, earliest: dt.datetime, latest: dt.datetime) -> dt.datetime:
    """A moment between two instants, drawn as shoppers shop in the tenant's time zone: evenings
    and weekends more, Black Friday to Cyber Monday much more, and more in recent months (a
    growing shop)."""
    rng = shop.rng
    if latest - earliest < dt.timedelta(hours=6):
        return earliest + (latest - earliest) * rng.random()
    for _ in range(80):
        at = earliest + (latest - earliest) * rng.random()
        local = at.astimezone(shop.tz)
        age_days = (shop.now - at).total_seconds() / 86400
        weight = HOUR_WEIGHTS[local.hour] / 5.0
        weight *= 1.25 if local.weekday() >= 5 else 1.0
        weight *= 1.0 - 0.55 * min(age_days, HISTORY_DAYS) / HISTORY_DAYS
        if 0 <= (local.date() - _black_friday(local.year)).days <= 3:
            weight *= 2.5
        if rng.random() * 3.2 < weight:
            return at
    return at


def _working_hours(shop: _Shop, at: dt.datetime) -> dt.datetime:
    """Staff work 8:00 to 19:00 local time: a step due outside those hours happens next morning."""
    local = at.astimezone(shop.tz)
    if 8 <= local.hour < 19:
        return at
    morning = local.replace(hour=8, minute=shop.rng.randint(0, 59), second=shop.rng.randint(0, 59))
    if local.hour >= 19:
        morning += dt.timedelta(days=1)
    return morning.astimezone(dt.timezone.utc)


def _timeline(shop: _Shop, fate: str, method: str, cancel_by: str | None) -> dict[str, dt.datetime]:
    rng, now = shop.rng, shop.now
    low, high = FATES[fate][2]
    placed = _local_time(shop, now - dt.timedelta(hours=high), now - dt.timedelta(hours=low))
    placed = placed.replace(microsecond=0)

    def after(t: dt.datetime, lo_hours: float, hi_hours: float, staff: bool = False):
        moment = t + dt.timedelta(hours=rng.uniform(lo_hours, hi_hours))
        return _working_hours(shop, moment) if staff else moment

    at = {"placed": placed}
    if fate == "pending" or (fate == "cancelled" and cancel_by in ("customer", "declined")):
        if fate == "cancelled":
            at["cancelled"] = after(placed, 0.05, 0.4)
    else:
        at["paid"] = (
            after(placed, 0.005, 0.03) if method == "card" else after(placed, 3, 28, staff=True)
        )
        if fate == "cancelled":
            at["cancelled"] = after(at["paid"], 1, 20, staff=True)
        elif fate != "paid":
            at["processing"] = after(at["paid"], 0.5, 14, staff=True)
            if fate != "processing":
                at["shipped"] = after(at["processing"], 1, 26, staff=True)
                if fate != "shipped":
                    at["delivered"] = after(at["shipped"], 20, 110)
                    if fate == "completed":
                        at["completed"] = after(at["delivered"], 24 * 7, 24 * 20, staff=True)
                    elif fate in REFUND_FATES:
                        at["requested"] = after(at["delivered"], 12, 24 * 8)
                        if fate != "refund_requested":
                            at["decided"] = after(at["requested"], 4, 60, staff=True)
    limit = now - dt.timedelta(minutes=1)
    last = max(at.values())
    if last > limit:  # squeeze the steps into the time there was, the last one a while ago
        span, room = (last - placed), (limit - placed) * rng.uniform(0.6, 0.97)
        at = {k: placed + (v - placed) * (room / span) for k, v in at.items()}
    return {k: v.replace(microsecond=0) for k, v in at.items()}


def _items(shop: _Shop, fate: str, used: Counter) -> list[tuple[_Variant, int]]:
    rng = shop.rng
    sellers = 1 if fate in REFUND_FATES or rng.random() < 0.75 else 2
    lines = rng.choices((1, 2, 3), (55, 30, 15))[0]
    lines = max(lines, sellers)
    picked: list[tuple[_Variant, int]] = []
    seller_ids: list[int] = []
    weights = [1.0 / (i + 8) ** 0.9 for i in range(len(shop.variants))]  # bestsellers first
    for _ in range(60):
        if len(picked) == lines:
            break
        v = rng.choices(shop.variants, weights)[0]
        if any(p.product_id == v.product_id for p, _ in picked):
            continue
        if v.seller_id not in seller_ids and len(seller_ids) == sellers:
            continue
        quantity = rng.choices((1, 2, 3), (80, 15, 5))[0] if v.price < 60 else 1
        if v.available - used[v.id] < quantity + 1:
            continue
        picked.append((v, quantity))
        used[v.id] += quantity
        if v.seller_id not in seller_ids:
            seller_ids.append(v.seller_id)
    return picked


def _rating(rng: random.Random, quality: float) -> int:
    return max(1, min(5, round(rng.gauss(quality or 4.2, 0.8))))


@dataclass(frozen=True)
class _Coupon:
    """When a coupon may be used in the plan: from `starts`, on a first order only, on the
    products of one seller only."""

    starts: dt.datetime
    first_order: bool = False
    seller_id: int | None = None


def _plans(
    shop: _Shop, n: int, coupons: dict[str, _Coupon], fates: list[str] | None = None
) -> list[_Plan]:
    """About `n` orders' plans, their fates by FATES' shares (or the `fates` given, one a plan)."""
    rng = shop.rng
    fates = list(fates) if fates is not None else _quotas(n)
    rng.shuffle(fates)
    used: Counter = Counter()
    reviewed: set[tuple[int, int]] = set()
    plans = []
    customer_weights = [c.weight for c in shop.customers]
    for fate in fates:
        # a guest now and then (never one who asks for a refund: that needs an account here)
        guest = fate in GUEST_FATES and rng.random() < 0.15 and bool(shop.guest_addresses)
        customer = None if guest else rng.choices(shop.customers, customer_weights)[0]
        cancel_by = None
        if fate == "cancelled":
            cancel_by = rng.choices(("customer", "staff", "declined"), (45, 35, 20))[0]
        if fate == "pending":
            method = "bank_transfer"
        elif cancel_by == "declined":
            method = "declined"
        elif cancel_by == "customer":
            method = "bank_transfer"
        else:
            method = "bank_transfer" if rng.random() < 0.15 else "card"
        items = _items(shop, fate, used)
        if not items:
            continue
        plan = _Plan(
            fate=fate,
            at=_timeline(shop, fate, method, cancel_by),
            customer=customer,
            items=items,
            method=method,
            cancel_by=cancel_by,
            express=rng.random() < 0.1,
        )
        if fate in ("refunded", "refund_requested", "refund_rejected"):
            plan.refund = "lines" if rng.random() < 0.7 else "amount"
        elif fate == "partially_refunded":
            units = sum(q for _, q in items)
            plan.refund = "part_lines" if units > 1 and rng.random() < 0.6 else "amount"
        if customer is not None and "delivered" in plan.at and fate != "refunded":
            for v, _ in items:
                pair = (customer.user_id, v.product_id)
                at = plan.at["delivered"] + dt.timedelta(hours=rng.uniform(30, 24 * 14))
                # two in five delivered lines are reviewed, and always the history's first (a
                # small history, or an unlucky date, would otherwise show no verified review)
                wanted = rng.random() < 0.4 or not reviewed
                if wanted and pair not in reviewed and at < shop.now:
                    reviewed.add(pair)
                    plan.reviews.append((v.product_id, _rating(rng, v.quality)))
                    plan.review_at[v.product_id] = at.replace(microsecond=0)
        if rng.random() < 0.25 and coupons:
            plan.coupon = rng.choice(list(coupons))
        plans.append(plan)
    plans.sort(key=lambda p: p.at["placed"])
    # a coupon is used while it runs, on its seller's products, a welcome one on a first order
    first_seen: set[int] = set()
    for plan in plans:
        first = plan.customer is not None and plan.customer.user_id not in first_seen
        if plan.customer is not None:
            first_seen.add(plan.customer.user_id)
        rule = coupons.get(plan.coupon or "")
        if rule is None:
            continue
        if (
            plan.at["placed"] < rule.starts
            or (rule.first_order and not first)
            or (
                rule.seller_id is not None
                and all(v.seller_id != rule.seller_id for v, _ in plan.items)
            )
        ):
            plan.coupon = None
    return plans


# --------------------------------------------------------------------------------------------
# Running it through the services
# --------------------------------------------------------------------------------------------


def _actor(user_id: int, tid: int, role_names) -> Actor:
    return Actor(
        user_id=user_id,
        tenant_id=tid,
        role_names=frozenset(role_names),
        find_seller_id=seller_id_of,
    )


def _promotions(shop: _Shop, oldest: dt.datetime) -> dict[str, _Coupon]:
    """A platform welcome coupon (first order only), an automatic spend-and-save offer, a winter
    sale coupon started ten days ago, the biggest seller's own coupon, and a sale scheduled for
    next month; returns the coupons the plan may use."""
    admin = _actor(shop.admin_id, shop.tid, [roles.ADMIN])
    currency_threshold = Decimal("500.00")
    started = (oldest - dt.timedelta(days=14)).replace(microsecond=0)
    winter = (shop.now - dt.timedelta(days=10)).replace(hour=6, minute=0, second=0, microsecond=0)
    specs = [
        (
            admin,
            NewPromotion(
                name="Welcome offer: 10 % off your first order",
                kind="percentage",
                value=Decimal("10"),
                code="WELCOME10",
                first_order_only=True,
                usage_limit_per_customer=1,
                starts_at=started,
                description="For new customers, on their first order.",
            ),
            _Coupon(started, first_order=True),
        ),
        (
            admin,
            NewPromotion(
                name=f"Spend {currency_threshold:.0f}, save 40",
                kind="fixed_amount",
                value=Decimal("40.00"),
                min_subtotal=currency_threshold,
                starts_at=started,
                priority=5,
                description="Taken off automatically at checkout.",
            ),
            None,  # automatic: no code to use
        ),
        (
            admin,
            NewPromotion(
                name="Winter sale: 20 % off",
                kind="percentage",
                value=Decimal("20"),
                code="WINTER20",
                starts_at=winter,
                ends_at=shop.now + dt.timedelta(days=21),
                usage_limit=500,
                description="Site-wide winter sale.",
            ),
            _Coupon(winter),
        ),
        (
            admin,
            NewPromotion(
                name="New year sale: 25 % off",
                kind="percentage",
                value=Decimal("25"),
                code="NEWYEAR25",
                starts_at=shop.now + dt.timedelta(days=26),
                ends_at=shop.now + dt.timedelta(days=40),
                description="Scheduled: not live yet.",
            ),
            None,  # not live: nobody can use it yet
        ),
    ]
    biggest = Counter(v.seller_id for v in shop.variants).most_common(1)
    if biggest:
        seller_id = biggest[0][0]
        store = db.session.get(SellerProfile, seller_id).store_name
        letters = "".join(ch for ch in store.upper() if ch.isalpha())[:8] or "SHOP"
        specs.append(
            (
                _actor(shop.sellers[seller_id], shop.tid, [roles.SELLER]),
                NewPromotion(
                    name=f"{store}: 15 % off our range",
                    kind="percentage",
                    value=Decimal("15"),
                    code=f"{letters}15",
                    starts_at=started + dt.timedelta(days=30),
                    usage_limit=200,
                    usage_limit_per_customer=1,
                    description="Funded by the seller, on its own products.",
                ),
                _Coupon(started + dt.timedelta(days=30), seller_id=seller_id),
            )
        )
    usable: dict[str, _Coupon] = {}
    for actor, spec, rule in specs:
        view = create_promotion(actor, spec)
        if rule is not None:
            usable[view.code] = rule
    return usable


def _run(shop: _Shop, plan: _Plan, result: HistoryResult) -> None:
    """One order through its life, one service call per step; a refusal stops it (reported)."""
    try:
        _place(shop, plan)
        _follow(shop, plan)
    except DomainError as exc:
        plan.failed = exc.code
        result.failures.append(f"{plan.fate}: {exc.code} ({exc.message})")
        db.session.rollback()
        if plan.customer is not None:  # nothing of a failed checkout stays in the cart
            carts.clear(carts.CartRef(actor=_customer_actor(shop, plan.customer)))


def _customer_actor(shop: _Shop, customer: _Customer) -> Actor:
    return _actor(customer.user_id, shop.tid, customer.role_names)


def _place(shop: _Shop, plan: _Plan) -> None:
    rng = shop.rng
    if plan.customer is not None:
        ref = carts.CartRef(actor=_customer_actor(shop, plan.customer), email=plan.customer.email)
        ask = CheckoutInput(address_id=plan.customer.address_id)
    else:
        ref = carts.CartRef()
        address = dict(rng.choice(shop.guest_addresses))  # a real street, another person's name
        first = rng.choice(shop.guest_addresses)["full_name"].split()[0]
        last = rng.choice(shop.guest_addresses)["full_name"].split()[-1]
        address["full_name"] = f"{first} {last}"
        first = first.lower()
        ask = CheckoutInput(
            email=f"{first}.{rng.randint(10, 9999)}@guest.example.com",
            shipping_address=AddressInput(**address),
        )
    for variant, quantity in plan.items:
        carts.add_item(ref, variant.id, quantity)
    ask = replace(
        ask,
        payment=PaymentChoice(
            method="test_card" if plan.method in ("card", "declined") else "bank_transfer",
            details=CARD
            if plan.method == "card"
            else DECLINED_CARD
            if plan.method == "declined"
            else {},
        ),
    )
    if plan.express and shop.express:
        ask = replace(
            ask,
            shipping_methods=tuple(
                ShippingChoice(seller_id=s, method_id=next(iter(shop.express.values())))
                for s in dict.fromkeys(v.seller_id for v, _ in plan.items)
            ),
        )
    if plan.coupon:
        ask = replace(ask, coupon_codes=(plan.coupon,))
    try:
        view, _ = place_order(ref, ask, uuid.UUID(int=rng.getrandbits(128)).hex)
    except DomainError:
        if not (plan.coupon or ask.shipping_methods):
            raise
        # the coupon or the express method does not apply to this basket: the shopper goes on
        # without (the cart is still full: a refused checkout changes nothing)
        ask = replace(ask, coupon_codes=(), shipping_methods=())
        plan.coupon, plan.express = None, False
        view, _ = place_order(ref, ask, uuid.UUID(int=rng.getrandbits(128)).hex)
    plan.order_id, plan.old_number = view.id, view.number
    plan.cart_token = ref.token if plan.customer is None else None
    _renumber(plan, plan.cart_token)
    plan.subs = [
        (s.id, s.seller_id, [(line.id, line.quantity) for line in s.lines]) for s in view.sub_orders
    ]
    plan.payment_id = view.payment.id if view.payment is not None else None


def _renumber(plan: _Plan, guest_token: str | None) -> None:
    """The order number carries the checkout's date; the demo's order was placed months ago. Set
    before anything copies it (sub-order numbers now, the label and ledger later)."""
    suffix = plan.old_number.split("-", 1)[1]
    plan.number = f"{plan.at['placed']:%y%m%d}-{suffix}"
    with transaction():
        values = {"number": plan.number}
        if guest_token:  # a guest's access token is derived from the number
            values["access_token_hash"] = access.new_order_token_hash(guest_token, plan.number)
        db.session.execute(
            update(Order.__table__).where(Order.__table__.c.id == plan.order_id).values(**values)
        )
        subs = SubOrder.__table__
        for sub_id, number in db.session.execute(
            select(subs.c.id, subs.c.number).where(subs.c.order_id == plan.order_id)
        ).all():
            db.session.execute(
                update(subs)
                .where(subs.c.id == sub_id)
                .values(number=plan.number + number[len(plan.old_number) :])
            )
    db.session.expire_all()


def _follow(shop: _Shop, plan: _Plan) -> None:
    rng, tid, order_id = shop.rng, shop.tid, plan.order_id
    admin = _actor(shop.admin_id, tid, [roles.ADMIN])
    customer = _customer_actor(shop, plan.customer) if plan.customer is not None else None

    def seller(seller_id: int) -> Actor:
        return _actor(shop.sellers[seller_id], tid, [roles.SELLER])

    def each_sub(status: str, note: str | None = None) -> None:
        for sub_id, seller_id, _ in plan.subs:
            update_order(
                seller(seller_id),
                order_id,
                OrderChanges(status=status, sub_order_id=sub_id, note=note),
            )

    if "paid" in plan.at and plan.method == "bank_transfer":
        mark_received(plan.payment_id)
    if "cancelled" in plan.at:
        who = customer if plan.cancel_by in ("customer", "declined") and customer else admin
        cancel_order(who, order_id, rng.choice(CANCEL_REASONS[plan.cancel_by]))
        return
    if "processing" in plan.at:
        each_sub("processing")
    if "shipped" in plan.at:
        for sub_id, seller_id, _ in plan.subs:
            create_label(seller(seller_id), sub_id)
    if "delivered" in plan.at:
        each_sub("delivered", "Delivered by the carrier")
    if "requested" in plan.at:
        sub_id, seller_id, lines = plan.subs[0]
        if plan.refund == "lines":
            ask = RefundAsk(
                reason=rng.choice(RETURN_REASONS),
                sub_order_id=sub_id,
                lines=tuple(RefundLine(line_id, quantity) for line_id, quantity in lines),
            )
        elif plan.refund == "part_lines":
            line_id, _ = max(lines, key=lambda line: line[1])
            ask = RefundAsk(
                reason=rng.choice(RETURN_REASONS),
                sub_order_id=sub_id,
                lines=(RefundLine(line_id, 1),),
            )
        elif plan.fate == "partially_refunded":  # a goodwill part of the price
            total = sum(v.price * q for v, q in plan.items)
            amount = (total * Decimal(rng.uniform(0.1, 0.3))).quantize(Decimal("1"))
            ask = RefundAsk(
                reason=rng.choice(PARTIAL_REASONS),
                sub_order_id=sub_id,
                amount=max(amount, Decimal("1")),
            )
        else:  # the money back, the goods not worth returning
            ask = RefundAsk(reason=rng.choice(MONEY_BACK_REASONS), sub_order_id=sub_id)
        view = request_refund(customer, order_id, ask)
        if "decided" in plan.at:
            request_id = view.refund_requests[-1].id
            if plan.fate == "refund_rejected":
                decide_refund(
                    seller(seller_id), order_id, request_id, False, rng.choice(REJECT_NOTES)
                )
            else:
                decide_refund(
                    seller(seller_id),
                    order_id,
                    request_id,
                    True,
                    "Refund approved",
                    restock=plan.refund != "amount",
                )
    if "completed" in plan.at:
        each_sub("completed")
    for product_id, rating in plan.reviews:
        title, body = rng.choice(REVIEW_TEXT[rating])
        try:
            create_review(
                customer, NewReview(product_id=product_id, rating=rating, title=title, body=body)
            )
        except DomainError:  # reviewed already (in the catalogue's reviews): one per product
            db.session.rollback()


def _open_carts(shop: _Shop, registered: int, guests: int) -> dict[int, dt.datetime]:
    """Shoppers who filled a cart and have not checked out (yet): {cart id: when}."""
    rng, made = shop.rng, {}
    shoppers = rng.sample(shop.customers, min(registered, len(shop.customers)))
    for customer in [*shoppers, *([None] * guests)]:
        ref = (
            carts.CartRef(actor=_customer_actor(shop, customer), email=customer.email)
            if customer is not None
            else carts.CartRef()
        )
        picks = rng.sample(shop.variants, min(len(shop.variants), rng.randint(1, 3)))
        try:
            for variant in picks:
                carts.add_item(ref, variant.id, 1)
        except DomainError:
            db.session.rollback()
            continue
        with transaction():
            cart = carts.find_cart(ref)
            if cart is not None:
                made[cart.id] = shop.now - dt.timedelta(minutes=rng.randint(20, 72 * 60))
    return made


# --------------------------------------------------------------------------------------------
# Into the past
# --------------------------------------------------------------------------------------------

# the tables the history writes; their ids above the high-water mark are the history's rows
_TABLES: tuple[Table, ...] = (
    Order.__table__,
    SubOrder.__table__,
    OrderEvent.__table__,
    StockReservation.__table__,
    RefundRequest.__table__,
    Payment.__table__,
    PaymentTransaction.__table__,
    Refund.__table__,
    Shipment.__table__,
    TrackingEvent.__table__,
    StockMovement.__table__,
    Promotion.__table__,
    PromotionRedemption.__table__,
    Review.__table__,
    Cart.__table__,
    CartItem.__table__,
)


# ... and the tables whose new rows are only counted (the consumers' low-stock alerts)
_COUNTED: tuple[Table, ...] = (*_TABLES, LowStockAlert.__table__)


def _marks() -> dict[str, int]:
    with unscoped():
        return {
            t.name: db.session.scalar(select(func.coalesce(func.max(t.c.id), 0))) for t in _COUNTED
        }


def _new_rows(tid: int, marks: dict[str, int], table: Table, *columns) -> list:
    with unscoped():
        return db.session.execute(
            select(table.c.id, *(table.c[c] for c in columns))
            .where(table.c.id > marks[table.name], table.c.tenant_id == tid)
            .order_by(table.c.id)
        ).all()


def _update_by_id(table: Table, values: list[dict]) -> None:
    """ONE UPDATE statement, executed for every row (executemany), by primary key."""
    if not values:
        return
    names = [name for name in values[0] if name != "id"]
    stmt = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values({name: bindparam(f"new_{name}") for name in names})
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        stmt, [{"row_id": v["id"], **{f"new_{n}": v[n] for n in names}} for v in values]
    )


def _when(plan: _Plan, *steps: str) -> dt.datetime:
    """The first of `steps` the order went through (its last step when none)."""
    return next((plan.at[s] for s in steps if s in plan.at), plan.last)


_EVENT_STEP = {
    "pending": "placed",
    "paid": "paid",
    "processing": "processing",
    "shipped": "shipped",
    "delivered": "delivered",
    "completed": "completed",
    "refund_requested": "requested",
    "refunded": "decided",
    "partially_refunded": "decided",
    "cancelled": "cancelled",
}


def _backdate(
    shop: _Shop,
    plans: list[_Plan],
    marks: dict[str, int],
    cart_times: dict[int, dt.datetime],
    promotion_times: dict[int, dt.datetime],
) -> None:
    """The services stamped every row with the time it was written (now) and cannot be told
    another: set each timestamp the history wrote to the moment its order's timeline gives that
    step, with one UPDATE per table (see the module doc)."""
    tid, s = shop.tid, dt.timedelta(seconds=1)
    by_order = {p.order_id: p for p in plans if p.order_id is not None}
    by_number: dict[str, _Plan] = {}
    for p in by_order.values():
        by_number[p.number] = by_number[p.old_number] = p

    rows = _new_rows(
        tid,
        marks,
        Order.__table__,
        "paid_at",
        "cancelled_at",
        "reservation_expires_at",
        "created_at",
    )
    values = []
    for oid, paid_at, cancelled_at, expires, written in rows:
        p = by_order.get(oid)
        if p is None:
            continue
        values.append(
            {
                "id": oid,
                "created_at": p.at["placed"],
                "updated_at": p.last,
                "paid_at": _when(p, "paid") if paid_at is not None else None,
                "cancelled_at": _when(p, "cancelled") if cancelled_at is not None else None,
                # the window checkout gave it (minutes for a card, days for a transfer)
                "reservation_expires_at": p.at["placed"] + (expires - written)
                if expires is not None
                else None,
            }
        )
    _update_by_id(Order.__table__, values)

    def simple(table: Table, fn: Callable[[_Plan, tuple], dict], *columns: str) -> None:
        out = []
        for row in _new_rows(tid, marks, table, "order_id", *columns):
            p = by_order.get(row[1])
            if p is not None:
                out.append({"id": row[0], **fn(p, row)})
        _update_by_id(table, out)

    simple(SubOrder.__table__, lambda p, r: {"created_at": p.at["placed"], "updated_at": p.last})

    def event_time(p: _Plan, r) -> dict:
        _, _, from_status, to_status, note = r
        if from_status == "refund_requested" and to_status != "cancelled":
            at = _when(p, "decided")
        elif to_status == "pending" and from_status == "pending":  # "payment failed"
            at = p.at["placed"] + 15 * s
        else:
            at = _when(p, _EVENT_STEP.get(to_status, "placed"))
        return {"created_at": at}

    simple(OrderEvent.__table__, event_time, "from_status", "to_status", "note")

    def reservation_time(p: _Plan, r) -> dict:
        status = r[2]
        changed = {
            "held": p.at["placed"],
            "consumed": _when(p, "decided")
            if p.refund and "decided" in p.at
            else _when(p, "shipped"),
            "released": _when(p, "cancelled", "decided"),
        }.get(status, p.last)
        return {"created_at": p.at["placed"], "updated_at": changed}

    simple(StockReservation.__table__, reservation_time, "status")

    def request_time(p: _Plan, r) -> dict:
        asked = _when(p, "requested", "cancelled")
        decided = _when(p, "decided", "cancelled") if r[2] is not None else None
        return {"created_at": asked, "updated_at": decided or asked, "decided_at": decided}

    simple(RefundRequest.__table__, request_time, "decided_at")
    simple(
        Payment.__table__,
        lambda p, r: {
            "created_at": p.at["placed"],
            "updated_at": max(
                p.at[k] for k in ("placed", "paid", "cancelled", "decided") if k in p.at
            ),
        },
    )

    def transaction_time(p: _Plan, r) -> dict:
        kind = r[2]
        if kind in ("authorize", "confirm"):
            at = p.at["placed"] + 4 * s if p.method != "card" else _when(p, "paid") - 2 * s
            if p.method == "declined":
                at = p.at["placed"] + 10 * s
        elif kind in ("capture", "mark_received"):
            at = _when(p, "paid")
        elif kind == "void":
            at = _when(p, "cancelled")
        else:  # refund
            at = _when(p, "decided", "cancelled")
        return {"created_at": at}

    simple(PaymentTransaction.__table__, transaction_time, "kind")
    simple(
        Refund.__table__,
        lambda p, r: {
            "created_at": _when(p, "decided", "cancelled"),
            "updated_at": _when(p, "decided", "cancelled"),
        },
    )
    shipment_orders = {}

    def shipment_time(p: _Plan, r) -> dict:
        shipment_orders[r[0]] = p
        shipped = _when(p, "shipped")
        return {
            "created_at": shipped,
            "shipped_at": shipped,
            "updated_at": _when(p, "delivered") if r[2] == "delivered" else shipped,
        }

    simple(Shipment.__table__, shipment_time, "status")
    values = []
    for tid_, shipment_id, status in _new_rows(
        tid, marks, TrackingEvent.__table__, "shipment_id", "status"
    ):
        p = shipment_orders.get(shipment_id)
        if p is not None:
            at = _when(p, "delivered") if status == "delivered" else _when(p, "shipped")
            values.append({"id": tid_, "occurred_at": at})
    _update_by_id(TrackingEvent.__table__, values)
    simple(PromotionRedemption.__table__, lambda p, r: {"created_at": p.at["placed"]})

    values = []
    for mid, reference, reason in _new_rows(
        tid, marks, StockMovement.__table__, "reference", "reason"
    ):
        kind, _, rest = (reference or "").partition(":")
        number = rest.split(":")[0]
        p = by_number.get(number) or by_number.get(number.rsplit("-", 1)[0])
        if kind not in ("order", "refund") or p is None:
            continue
        at = {
            "reservation": p.at["placed"],
            "sale": _when(p, "shipped"),
            "release": _when(p, "cancelled", "decided"),
            "return": _when(p, "decided"),
        }.get(reason, p.last)
        if number == p.old_number:
            reference = f"{kind}:{p.number}{rest[len(number) :]}"
        values.append({"id": mid, "created_at": at, "reference": reference})
    _update_by_id(StockMovement.__table__, values)

    reviewed = {
        (p.customer.profile_id, product_id): at
        for p in by_order.values()
        if p.customer is not None
        for product_id, at in p.review_at.items()
    }
    values = []
    for rid, customer_id, product_id in _new_rows(
        tid, marks, Review.__table__, "customer_id", "product_id"
    ):
        at = reviewed.get((customer_id, product_id))
        if at is not None:
            values.append({"id": rid, "created_at": at, "updated_at": at})
    _update_by_id(Review.__table__, values)

    _update_by_id(
        Promotion.__table__,
        [{"id": i, "created_at": at, "updated_at": at} for i, at in promotion_times.items()],
    )
    # carts: a customer's one cart since its first order (the checkouts emptied it), a guest's
    # from its checkout, and the carts still open
    shoppers: dict[int, list[dt.datetime]] = {}
    for p in by_order.values():
        if p.customer is not None:
            shoppers.setdefault(p.customer.user_id, []).append(p.at["placed"])
    guests = {hash_token(p.cart_token): p.at["placed"] for p in by_order.values() if p.cart_token}
    values = []
    for cart_id, user_id, token_hash in _new_rows(
        tid, marks, Cart.__table__, "user_id", "token_hash"
    ):
        times = [
            *shoppers.get(user_id, ()),
            *([guests[token_hash]] if token_hash in guests else ()),
        ]
        if cart_id in cart_times:
            times.append(cart_times[cart_id])
        if times:
            values.append({"id": cart_id, "created_at": min(times), "updated_at": max(times)})
    _update_by_id(Cart.__table__, values)
    values = []
    for item_id, cart_id in _new_rows(tid, marks, CartItem.__table__, "cart_id"):
        if cart_id in cart_times:
            values.append(
                {
                    "id": item_id,
                    "created_at": cart_times[cart_id],
                    "updated_at": cart_times[cart_id],
                }
            )
    _update_by_id(CartItem.__table__, values)


# --------------------------------------------------------------------------------------------
# The seller ledger, written at the moments its steps happened
# --------------------------------------------------------------------------------------------

# the step of an order whose moment a ledger consumer's entries carry
_LEDGER_STEP = {
    "payouts.ledger_release": ("delivered",),
    "payouts.ledger_refund": ("decided", "cancelled"),
}


@contextmanager
def _ledger_clock() -> Iterator[SimpleNamespace]:
    """While it is open, the ledger rows a flush inserts carry `clock.at` instead of the seeding's
    time: an entry's created_at; a release's delivered_at, its available_at (moved by as much: the
    tenant's hold period counted from that delivery, as the consumer computed it) and created_at.
    The ledger is append-only (its triggers refuse UPDATE and DELETE, not INSERT), so its rows are
    dated as they are written, never moved afterwards."""
    clock = SimpleNamespace(at=None)

    def stamp(session, flush_context, instances) -> None:
        if clock.at is None:
            return
        for row in session.new:
            if isinstance(row, SellerLedgerEntry):
                row.created_at = clock.at
                if row.available_at is not None:  # none of the history's: an adjustment's
                    row.available_at = clock.at
            elif isinstance(row, SellerLedgerRelease):
                shift = clock.at - row.delivered_at
                row.delivered_at += shift
                row.available_at += shift
                row.created_at = clock.at

    event.listen(db.session, "before_flush", stamp)
    try:
        yield clock
    finally:
        event.remove(db.session, "before_flush", stamp)


def _write_ledger(plans: list[_Plan], jobs: list[tuple[int, str]]) -> None:
    """Run the held ledger consumers (through consume, once per event as a worker would) in the
    order their steps happened, each stamped with its moment: a sale when its sub-order was paid,
    a release when it was delivered (so the money of deliveries older than the hold period is
    available, the recent ones' still pending), a refund when it was decided. A job of an order no
    plan knows runs as it is, dated now."""
    if not jobs:
        return
    by_order = {p.order_id: p for p in plans if p.order_id is not None}
    with unscoped():
        payloads = dict(
            db.session.execute(
                select(OutboxEvent.id, OutboxEvent.payload).where(
                    OutboxEvent.id.in_({event_id for event_id, _ in jobs})
                )
            ).all()
        )
    db.session.commit()
    now = utcnow()
    timed: list[tuple[dt.datetime, int, str, dt.datetime | None]] = []
    for event_id, consumer in jobs:
        payload = payloads.get(event_id) or {}
        plan = by_order.get(int(payload.get("order_id") or 0))
        if plan is None:
            at = None
        elif consumer in _LEDGER_STEP:
            at = _when(plan, *_LEDGER_STEP[consumer])
        else:  # a status change: the step it moved the sub-order to
            at = _when(plan, _EVENT_STEP.get(payload.get("to_status"), "placed"))
        timed.append((at or now, event_id, consumer, at))
    timed.sort()
    with _ledger_clock() as clock:
        for _, event_id, consumer, at in timed:
            clock.at = at
            consume(event_id, consumer)


# --------------------------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------------------------


def seed_history(
    tenant_id: int,
    region: str,
    *,
    orders: int,
    rng: random.Random,
    now: dt.datetime | None = None,
    log: Callable[[str], None] | None = None,
) -> HistoryResult:
    """Write the tenant's history (about `orders` orders; a few more when that is too few for
    every state) unless it has orders already. Needs its catalogue, sellers, customers, an Admin
    and shipping (admin.demo.seed makes them)."""
    log = log or (lambda message: None)
    result = HistoryResult()
    now = now or utcnow().replace(microsecond=0)
    with tenant_scope(tenant_id):
        if orders <= 0 or db.session.scalar(select(func.count(Order.id))):
            return result
        marks = _marks()
        first_notice = _notification_mark()
        shop = _Shop(tenant_id, region, rng, now)
        db.session.commit()
        if not shop.variants or shop.admin_id is None or not shop.customers:
            log("no stock, admin or customer to make orders with: no order history")
            return result
        with _sqlite_without_fsync(), _consumers_in_process() as runner:
            coupons = _promotions(shop, now - dt.timedelta(days=HISTORY_DAYS))
            plans = _plans(shop, orders, coupons)
            for plan in plans:
                _run(shop, plan, result)
            cart_times = _open_carts(shop, registered=6, guests=2)
            _write_ledger(plans, runner.ledger_jobs)
        with transaction():
            promotions = {
                pid: min(starts or now, now) - dt.timedelta(days=2)
                for pid, starts in db.session.execute(
                    select(Promotion.id, Promotion.starts_at).where(
                        Promotion.id > marks[Promotion.__tablename__]
                    )
                ).all()
            }
            _backdate(shop, plans, marks, cart_times, promotions)
            _settle_notifications(tenant_id, first_notice, now)
        _count_new(result, tenant_id, marks)
    return result


UNREAD_DAYS = 2  # the history's notifications of the last days stay unread; older ones were read


def _notification_mark() -> int:
    with unscoped():
        return db.session.scalar(select(func.coalesce(func.max(Notification.id), 0)))


def _settle_notifications(tid: int, mark: int, now: dt.datetime) -> None:
    """The inbox consumers stored the history's notifications as it was written, so each carries
    the seeding's moment and is unread: a seller opening the demo would find hundreds of unread
    notices of the same minute. Date each one when its order reached that step (the order's, or
    its sub-order's, event of that status, both backdated already) and mark the ones older than
    UNREAD_DAYS read an hour later, as a seller working the shop would have."""
    with unscoped():
        notices = db.session.execute(
            select(Notification.id, Notification.data, Notification.created_at).where(
                Notification.id > mark, Notification.tenant_id == tid
            )
        ).all()
        order_ids = {int(d["order_id"]) for _, d, _ in notices if (d or {}).get("order_id")}
        placed = dict(
            db.session.execute(
                select(Order.id, Order.created_at).where(Order.id.in_(order_ids))
            ).all()
        )
        reached: dict[tuple, dt.datetime] = {}
        for order_id, sub_id, status, at in db.session.execute(
            select(
                OrderEvent.order_id,
                OrderEvent.sub_order_id,
                OrderEvent.to_status,
                OrderEvent.created_at,
            ).where(OrderEvent.order_id.in_(order_ids))
        ):
            for key in ((order_id, sub_id, status), (order_id, None, status)):
                if key not in reached or at < reached[key]:
                    reached[key] = at
    dated, receipts = [], []
    for notice_id, data, written in notices:
        data = data or {}
        if not data.get("order_id"):
            at = written
        else:
            order_id = int(data["order_id"])
            status = data.get("status")
            at = placed.get(order_id, written)
            if status:
                at = reached.get((order_id, data.get("sub_order_id"), status)) or reached.get(
                    (order_id, None, status), at
                )
        dated.append({"id": notice_id, "created_at": at})
        read = at + dt.timedelta(hours=1) if at < now - dt.timedelta(days=UNREAD_DAYS) else None
        receipts.append({"notification_id": notice_id, "created_at": at, "read_at": read})
    _update_by_id(Notification.__table__, dated)
    if receipts:
        table = NotificationReceipt.__table__
        db.session.execute(
            update(table)
            .where(table.c.notification_id == bindparam("nid"))
            .values(created_at=bindparam("at"), read_at=bindparam("read"))
            .execution_options(synchronize_session=False),
            [
                {"nid": r["notification_id"], "at": r["created_at"], "read": r["read_at"]}
                for r in receipts
            ],
        )


def _count_new(result: HistoryResult, tenant_id: int, marks: dict[str, int]) -> None:
    for table in _COUNTED:
        made = len(_new_rows(tenant_id, marks, table))
        if made:
            result.created[table.name] += made


WAITING_ORDERS = 3  # bank transfers placed again when none waits for its money any more


def top_up_waiting(
    tenant_id: int,
    region: str,
    *,
    rng: random.Random,
    orders: int = WAITING_ORDERS,
    now: dt.datetime | None = None,
) -> HistoryResult:
    """A demo seeded earlier and started again (`make run`: `flask seed --if-empty`): its bank
    transfers waited for the money ORDER_PAY_BY_HAND_DAYS and the reservation cron has cancelled
    them, as it cancels any unpaid order. So that the order desk still shows orders waiting for
    an admin to mark the money received, however late the demo is started again, `orders` new
    ones are placed (through checkout, as the history's are) when none of the tenant's orders
    waits any more. Nothing for a tenant without orders (seed_history writes its history)."""
    result = HistoryResult()
    now = now or utcnow().replace(microsecond=0)
    with tenant_scope(tenant_id):
        placed_before = db.session.scalar(select(func.count(Order.id)))
        waiting = db.session.scalar(
            select(func.count(Order.id)).where(
                Order.status == "pending", Order.reservation_expires_at > now
            )
        )
        if not placed_before or waiting or orders <= 0:
            return result
        marks = _marks()
        shop = _Shop(tenant_id, region, rng, now)
        db.session.commit()
        if not shop.variants or shop.admin_id is None or not shop.customers:
            return result
        with _sqlite_without_fsync(), _consumers_in_process() as runner:
            plans = _plans(shop, orders, {}, fates=["pending"] * orders)
            for plan in plans:
                _run(shop, plan, result)
            _write_ledger(plans, runner.ledger_jobs)
        with transaction():
            _backdate(shop, plans, marks, {}, {})
        _count_new(result, tenant_id, marks)
    return result
