"""The dashboards: a seller's figures (GET /api/v1/sellers/me/dashboard/, the Seller's admin home)
and the platform's (the Admin's admin home), over a period compared with the one before it.

A read model above several domains (orders, inventory, catalog, sellers), hence a top-layer module
like app.customer_analytics. Every figure is one aggregate query over indexed columns; nothing is
loaded row by row.

What the figures mean (the API documents the same):
- A period is whole UTC days, `start` to `end` inclusive; the previous period is the same number
  of days just before it. A sub-order belongs to the period it was placed in (created_at).
- A sale is a sub-order that was paid: any status but pending (not paid yet) and cancelled.
  Figures are per currency (a shop may sell in several; they are never added together).
- gross: the totals of those sub-orders (lines, shipping and tax, after discounts).
- refunded: what was paid back of them: a sub-order's whole total once it is `refunded`, else its
  completed refund requests.
- commission: the commission frozen at checkout, for the part not refunded (a sub-order refunded
  by half keeps half its commission; a refunded one none).
- net: gross - refunded - commission, what the seller keeps of its sales.
- orders: sales counted (a seller's: its sub-orders; the platform's: the orders holding them);
  average order value: gross / orders.
- orders by status: every sub-order placed in the period (pending and cancelled included).
- top products: the order lines of the period's sales, by revenue (line totals) and by units.
- low stock: the seller's stock levels whose available units (on hand - reserved) are at or below
  their reorder point, now; needing action: sub-orders paid (to process), processing (to ship) and
  refund requests waiting for a decision, now, whatever the period.
- balances: the seller's money by state (pending, available, paid) per currency, as the payouts
  ledger derives it from its entries (app.payouts.statements.balances).
- next payout: when the payout job runs next and, per currency, what it would pay now or why not
  (app.payouts.batches.next_payout).

Indexes these queries rely on (migration 0022): sub_orders (tenant_id, seller_id, created_at, ...)
and (tenant_id, created_at, ...) for the period's sales, covering the columns they read;
(tenant_id, seller_id, status) for the work waiting; order_refund_requests (tenant_id, status) for
the requests waiting, (tenant_id, order_id) for a sub-order's refunds; order_lines (tenant_id,
sub_order_id); stock_levels (tenant_id, seller_id, id); sellers.status. Migration 0029: orders
(tenant_id, id, currency) for each sale's currency (forced: see _currency_hint), order_lines
(tenant_id, seller_id, sub_order_id, ...) for the top products, order_refund_requests (tenant_id,
status, sub_order_id).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, case, func, select

from app.catalog.models import Product, ProductVariant
from app.core import cache
from app.core.errors import PermissionDenied, ValidationError
from app.core.tenancy import current_tenant_id
from app.core.types import quantize_money, utcnow
from app.extensions import db
from app.inventory.models import StockLevel, Warehouse
from app.orders.models import Order, OrderLine, RefundRequest, RefundRequestStatus, SubOrder
from app.orders.states import STATUSES, OrderStatus
from app.payouts.batches import NextPayout, PayableNow, next_payout
from app.payouts.models import (
    Payout,
    PayoutItem,
    PayoutSettings,
    SellerLedgerEntry,
    SellerLedgerRelease,
)
from app.payouts.statements import Balance, current_balances
from app.security.actor import Actor
from app.sellers.banking.models import SellerBankAccount
from app.sellers.models import SellerProfile
from app.sellers.services import require_approved
from app.tenants.models import Tenant

log = logging.getLogger(__name__)

DEFAULT_DAYS = 30
MAX_DAYS = 366
TOP_PRODUCTS = 5
LOW_STOCK_ITEMS = 10
RECENT_ACTIONS = 10
ZERO = Decimal("0")
# a sale: paid, whatever happened after (refunds included); not pending, not cancelled
NOT_SALES = (OrderStatus.PENDING, OrderStatus.CANCELLED)
# the work waiting for a seller, in the order the page shows it
TO_PROCESS, TO_SHIP = OrderStatus.PAID, OrderStatus.PROCESSING


# --- the period ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole UTC days, `start` to `end` inclusive."""

    start: dt.date
    end: dt.date

    @classmethod
    def of(
        cls, start: dt.date | None, end: dt.date | None, *, today: dt.date | None = None
    ) -> Period:
        """The period asked for: the last 30 days to today when neither is given, 30 days up to
        `end` or from `start` when one is. ValidationError (naming `from`/`to`) when it ends
        before it starts, lasts more than 366 days or starts in the future."""
        today = today or dt.datetime.now(dt.timezone.utc).date()
        span = dt.timedelta(days=DEFAULT_DAYS - 1)
        if start is None and end is None:
            end = today
        if start is None:
            start = end - span
        if end is None:
            end = min(start + span, today)
        if start > today:
            raise ValidationError(
                "the period starts in the future", details={"from": ["after today"]}
            )
        if end < start:
            raise ValidationError(
                "the period ends before it starts", details={"to": ["before from"]}
            )
        if (end - start).days + 1 > MAX_DAYS:
            raise ValidationError(
                f"a period lasts at most {MAX_DAYS} days",
                details={"to": [f"at most {MAX_DAYS} days after from"]},
            )
        return cls(start, end)

    @classmethod
    def last(cls, days: int, *, today: dt.date | None = None) -> Period:
        today = today or dt.datetime.now(dt.timezone.utc).date()
        return cls.of(today - dt.timedelta(days=days - 1), today, today=today)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> Period:
        """The same number of days just before this one."""
        return Period(self.start - dt.timedelta(days=self.days), self.start - dt.timedelta(days=1))

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[first instant, first instant after) in UTC."""
        start = dt.datetime.combine(self.start, dt.time(), tzinfo=dt.timezone.utc)
        return start, start + dt.timedelta(days=self.days)

    def day_list(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]


# --- the figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sales:
    """One currency's sales over one period (see the module's docstring)."""

    currency: str
    gross: Decimal
    refunded: Decimal
    commission: Decimal
    net: Decimal
    orders: int
    average_order_value: Decimal


@dataclass(frozen=True)
class SalesComparison:
    """One currency's sales in the period and in the previous one; change in percent of the
    previous gross and orders (None when the previous period had none)."""

    currency: str
    current: Sales
    previous: Sales
    gross_change_pct: Decimal | None
    orders_change_pct: Decimal | None


@dataclass(frozen=True)
class DaySales:
    day: dt.date
    currency: str
    gross: Decimal
    orders: int


@dataclass(frozen=True)
class ProductSales:
    product_id: int | None
    title: str
    currency: str
    revenue: Decimal
    units: int


@dataclass(frozen=True)
class LowStockItem:
    stock_level_id: int
    sku: str
    title: str  # the product's, and its variant's when it has one ("Tee – XL / Green")
    warehouse: str
    available: int
    reorder_point: int


@dataclass(frozen=True)
class WaitingSubOrder:
    """A sub-order that needs the seller: to process, to ship, or a refund request to decide."""

    sub_order_id: int
    order_id: int
    number: str
    status: str
    currency: str
    total: Decimal
    placed_at: dt.datetime


@dataclass(frozen=True)
class Actions:
    to_process: int
    to_ship: int
    refund_requests: int
    recent: tuple[WaitingSubOrder, ...]


@dataclass(frozen=True)
class TopProducts:
    by_revenue: tuple[ProductSales, ...]
    by_units: tuple[ProductSales, ...]


@dataclass(frozen=True)
class LowStock:
    total: int  # every stock level at or below its reorder point
    items: tuple[LowStockItem, ...]  # the lowest ones


@dataclass(frozen=True)
class SellerDashboard:
    seller_id: int
    currency: str  # the shop's own, shown when nothing sold yet
    period: Period
    previous_period: Period
    sales: tuple[SalesComparison, ...]
    sales_by_day: tuple[DaySales, ...]
    orders_by_status: dict[str, int]
    top_products: TopProducts
    low_stock: LowStock
    actions: Actions
    # money by state per currency, derived from the payouts ledger's entries
    balances: tuple[Balance, ...] = ()
    next_payout: NextPayout | None = None


@dataclass(frozen=True)
class PlatformDashboard:
    currency: str
    period: Period
    previous_period: Period
    sales: tuple[SalesComparison, ...]  # gross is the GMV, commission what the platform earned
    sales_by_day: tuple[DaySales, ...]
    orders_by_status: dict[str, int]
    sellers_pending_review: int
    refund_requests_waiting: int


# --- the services --------------------------------------------------------------------------------


def _own_seller_id(actor: Actor) -> int:
    """The calling seller's id: a Seller with an approved profile only (PermissionDenied
    otherwise; seller_not_approved for a profile not approved)."""
    seller_id = actor.seller_id if actor.is_seller else None
    if seller_id is None:
        raise PermissionDenied("only a seller has a seller dashboard")
    require_approved(db.session.get(SellerProfile, seller_id))
    return seller_id


def seller_dashboard(actor: Actor, period: Period) -> SellerDashboard:
    """The calling seller's own figures (see _own_seller_id for who may ask), from the cache
    when nothing they read has changed since they were computed (see "The cache" below)."""
    seller_id = _own_seller_id(actor)
    return _cached(
        f"seller:{seller_id}:{period.start}:{period.end}",
        lambda: _seller_figures(seller_id, period),
    )


def _seller_figures(seller_id: int, period: Period) -> tuple[SellerDashboard, dt.datetime | None]:
    """The figures, and the moment they change by time alone (the next entry of the seller's
    ledger to become available: its pending money moves to available then), or None."""
    money, changes_at = current_balances(seller_id)
    upcoming = next_payout(seller_id, current_tenant_id())
    top, low = _top_products(period, seller_id), _low_stock(seller_id)
    figures = SellerDashboard(
        seller_id=seller_id,
        currency=_shop_currency(),
        period=period,
        previous_period=period.previous,
        sales=_compare(period, seller_id),
        sales_by_day=_sales_by_day(period, seller_id),
        orders_by_status=_orders_by_status(period, seller_id),
        top_products=top,
        low_stock=low,
        actions=_actions(seller_id),
        balances=tuple(money),
        next_payout=upcoming,
    )
    # the next run's moment is a figure: the cached one must not outlive it
    return figures, min(changes_at, upcoming.run_at) if changes_at else upcoming.run_at


def seller_top_products(actor: Actor, period: Period) -> TopProducts:
    seller_id = _own_seller_id(actor)
    return _cached(
        f"top:{seller_id}:{period.start}:{period.end}",
        lambda: (_top_products(period, seller_id), None),
    )


def seller_low_stock(actor: Actor) -> LowStock:
    seller_id = _own_seller_id(actor)
    return _cached(f"low:{seller_id}", lambda: (_low_stock(seller_id), None))


def platform_dashboard(actor: Actor, period: Period) -> PlatformDashboard:
    """The whole shop's figures: Admin and Super Admin only."""
    if not actor.is_admin:
        raise PermissionDenied("only staff see the platform's figures")
    return PlatformDashboard(
        currency=_shop_currency(),
        period=period,
        previous_period=period.previous,
        sales=_compare(period, None),
        sales_by_day=_sales_by_day(period, None),
        orders_by_status=_orders_by_status(period, None),
        sellers_pending_review=db.session.scalar(
            select(func.count(SellerProfile.id)).where(SellerProfile.status == "pending")
        )
        or 0,
        refund_requests_waiting=db.session.scalar(
            select(func.count(RefundRequest.id)).where(
                RefundRequest.status == RefundRequestStatus.REQUESTED
            )
        )
        or 0,
    )


# --- the cache ----------------------------------------------------------------------------------
#
# A seller's figures are cached (Redis, shared by the web processes; in-process without it) under
# the tenant's version of CACHE_NAMESPACE, which app.core.cache bumps after every commit that wrote
# a model they read (WATCHED, through the ORM: the ledger's consumers, checkout, order and stock
# changes, refunds, adjustments). A change that committed is never served stale; the version is
# the tenant's, so any write in the shop recomputes every seller's figures on their next request
# (a miss costs what the figures cost without a cache: bench/seller_ledger_bench.py times both).
# Figures that change with time alone: the period's days are in the key, and an entry is cached
# no longer than until the seller's next pending ledger money becomes available (balances), and
# at most CACHE_SECONDS. Code that writes these tables with Core or raw SQL must call
# cache.bump(CACHE_NAMESPACE, tenant_id) itself. A figure added to SellerDashboard must come from
# a WATCHED model (or be watched here) and be a dataclass listed in _CACHEABLE: a value of
# another type is computed every time (never cached, logged) rather than cached wrongly.

CACHE_NAMESPACE = "seller-dashboard"
CACHE_SECONDS = 300
WATCHED = (
    Order,
    SubOrder,
    OrderLine,
    RefundRequest,
    StockLevel,
    Warehouse,
    Product,
    ProductVariant,
    SellerProfile,
    Tenant,
    SellerLedgerEntry,
    SellerLedgerRelease,
    Payout,
    PayoutItem,
    PayoutSettings,
    SellerBankAccount,
)
cache.watch(*WATCHED, namespace=CACHE_NAMESPACE)


def _cached(key: str, compute):
    """compute() -> (value, moment it changes by time alone or None), cached as described above."""
    tenant_id = current_tenant_id()
    if tenant_id is None:
        return compute()[0]
    full_key = f"{CACHE_NAMESPACE}:{key}:{tenant_id}"
    version, stored = cache.get_versioned(CACHE_NAMESPACE, tenant_id, full_key)
    if stored is not None:
        until, value = _decode(stored)
        if until is None or until > utcnow():
            return value
    # on SQLite a transaction reads one snapshot, possibly older than the version: not stored
    snapshot_may_be_older = db.engine.dialect.name == "sqlite" and db.session().in_transaction()
    value, changes_at = compute()
    ttl = CACHE_SECONDS
    if changes_at is not None:
        ttl = min(ttl, int((changes_at - utcnow()).total_seconds()))
    if ttl >= 1 and not snapshot_may_be_older:
        try:
            encoded = _encode(value, changes_at)
        except TypeError:
            log.warning("dashboard figure %s not cacheable", key, exc_info=True)
        else:
            cache.put_versioned(version, full_key, encoded, ttl)
    return value


def _cacheable() -> dict[str, type]:
    return {
        cls.__name__: cls
        for cls in (
            Period,
            Sales,
            SalesComparison,
            DaySales,
            ProductSales,
            LowStockItem,
            WaitingSubOrder,
            Actions,
            TopProducts,
            LowStock,
            SellerDashboard,
            Balance,
            NextPayout,
            PayableNow,
        )
    }


def _to_json(value):
    if dataclasses.is_dataclass(value) and type(value).__name__ in _cacheable():
        return {
            "@": type(value).__name__,
            **{f.name: _to_json(getattr(value, f.name)) for f in dataclasses.fields(value)},
        }
    if isinstance(value, Decimal):
        return {"@d": str(value)}
    if isinstance(value, dt.datetime):
        return {"@t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"@D": value.isoformat()}
    if isinstance(value, tuple | list):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {"@m": {str(k): _to_json(v) for k, v in value.items()}}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"{type(value).__name__} is not a cacheable dashboard figure")


def _from_json(value, classes: dict[str, type]):
    if isinstance(value, list):
        return tuple(_from_json(v, classes) for v in value)
    if not isinstance(value, dict):
        return value
    if "@d" in value:
        return Decimal(value["@d"])
    if "@t" in value:
        return dt.datetime.fromisoformat(value["@t"])
    if "@D" in value:
        return dt.date.fromisoformat(value["@D"])
    if "@m" in value:
        return {k: _from_json(v, classes) for k, v in value["@m"].items()}
    cls = classes[value["@"]]
    return cls(**{k: _from_json(v, classes) for k, v in value.items() if k != "@"})


def _encode(value, changes_at: dt.datetime | None) -> bytes:
    until = changes_at.isoformat() if changes_at is not None else None
    return json.dumps({"until": until, "value": _to_json(value)}).encode()


def _decode(stored: bytes):
    data = json.loads(stored)
    until = dt.datetime.fromisoformat(data["until"]) if data["until"] else None
    return until, _from_json(data["value"], _cacheable())


# --- the queries ---------------------------------------------------------------------------------


def _shop_currency() -> str:
    tenant_id = current_tenant_id()
    tenant = db.session.get(Tenant, tenant_id) if tenant_id is not None else None
    return tenant.default_currency if tenant is not None else "USD"


# An order's currency is read for every sub-order a figure sums (a sale is counted in its
# order's currency). MariaDB reads it from the order's row by primary key, one random read of a
# wide row per sub-order; the covering (tenant_id, id, currency) index of migration 0029 holds it
# in a few megabytes, but the optimizer prefers the primary key, hence the hint (the top products
# of the bench's biggest seller, 30 days: 1.5 s -> 0.15-0.3 s). Other databases ignore it.
_ORDER_CURRENCY_INDEX = "FORCE INDEX (ix_orders_tenant_currency)"


# The top products' lines: on small tables MariaDB merges the tenant and seller keys instead of
# the seller's covering index, which is the right one at any size (a lookup per sub-order).
_LINE_SALES_INDEX = "FORCE INDEX (ix_order_lines_seller_sales)"


def _currency_hint(stmt, *, lines: bool = False):
    """`stmt` with the order currency's index hint, and the lines' when it sums lines."""
    hints = ((Order, _ORDER_CURRENCY_INDEX), (OrderLine, _LINE_SALES_INDEX))
    for table, hint in hints if lines else hints[:1]:
        for dialect in ("mysql", "mariadb"):
            stmt = stmt.with_hint(table, hint, dialect)
    return stmt


def _placed_in(period: Period, seller_id: int | None) -> list:
    """The conditions on SubOrder: placed in the period, the seller's own when one is given."""
    start, end = period.bounds
    conditions = [SubOrder.created_at >= start, SubOrder.created_at < end]
    if seller_id is not None:
        conditions.append(SubOrder.seller_id == seller_id)
    return conditions


def _refunded():
    """What was paid back of a sub-order: all of it once refunded, else its completed requests."""
    by_requests = (
        select(func.coalesce(func.sum(RefundRequest.amount), 0))
        .where(
            RefundRequest.order_id == SubOrder.order_id,
            RefundRequest.sub_order_id == SubOrder.id,
            RefundRequest.status == RefundRequestStatus.COMPLETED,
        )
        .correlate(SubOrder)
        .scalar_subquery()
    )
    return case((SubOrder.status == OrderStatus.REFUNDED, SubOrder.total), else_=by_requests)


def _sales(period: Period, seller_id: int | None) -> dict[str, Sales]:
    refunded = _refunded()
    kept_commission = case(
        (
            SubOrder.total > 0,
            SubOrder.commission_amount * (SubOrder.total - refunded) / SubOrder.total,
        ),
        else_=0,
    )
    counted = SubOrder.id if seller_id is not None else SubOrder.order_id
    rows = db.session.execute(
        _currency_hint(
            select(
                Order.currency,
                func.sum(SubOrder.total),
                func.sum(refunded),
                func.sum(kept_commission),
                func.count(func.distinct(counted)),
            )
            .join(Order, Order.id == SubOrder.order_id)
            .where(*_placed_in(period, seller_id), SubOrder.status.not_in(NOT_SALES))
            .group_by(Order.currency)
        )
    ).all()
    return {
        currency: _figures(currency, gross, refunds, commission, orders)
        for currency, gross, refunds, commission, orders in rows
    }


def _money(value, currency: str) -> Decimal:
    return quantize_money(Decimal(str(value or 0)), currency)


def _figures(currency: str, gross, refunded, commission, orders: int) -> Sales:
    gross, refunded = _money(gross, currency), _money(refunded, currency)
    commission = _money(commission, currency)
    return Sales(
        currency=currency,
        gross=gross,
        refunded=refunded,
        commission=commission,
        net=gross - refunded - commission,
        orders=orders,
        average_order_value=_money(gross / orders, currency) if orders else _money(0, currency),
    )


def _change(now, before) -> Decimal | None:
    if not before:
        return None
    return ((Decimal(now) - Decimal(before)) * 100 / Decimal(before)).quantize(Decimal("0.1"))


def _compare(period: Period, seller_id: int | None) -> tuple[SalesComparison, ...]:
    """Per currency, the shop's own first, then the others by code."""
    now, before = _sales(period, seller_id), _sales(period.previous, seller_id)
    own = _shop_currency()
    comparisons = []
    for currency in sorted(now.keys() | before.keys(), key=lambda code: (code != own, code)):
        empty = _figures(currency, 0, 0, 0, 0)
        current, previous = now.get(currency, empty), before.get(currency, empty)
        comparisons.append(
            SalesComparison(
                currency=currency,
                current=current,
                previous=previous,
                gross_change_pct=_change(current.gross, previous.gross),
                orders_change_pct=_change(current.orders, previous.orders),
            )
        )
    return tuple(comparisons)


def _day(value) -> dt.date:
    """func.date(): a date on MariaDB, an ISO string on SQLite."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _sales_by_day(period: Period, seller_id: int | None) -> tuple[DaySales, ...]:
    day = func.date(SubOrder.created_at)
    counted = SubOrder.id if seller_id is not None else SubOrder.order_id
    rows = db.session.execute(
        _currency_hint(
            select(
                day, Order.currency, func.sum(SubOrder.total), func.count(func.distinct(counted))
            )
            .join(Order, Order.id == SubOrder.order_id)
            .where(*_placed_in(period, seller_id), SubOrder.status.not_in(NOT_SALES))
            .group_by(day, Order.currency)
            .order_by(day, Order.currency)
        )
    ).all()
    return tuple(
        DaySales(_day(d), currency, _money(gross, currency), orders)
        for d, currency, gross, orders in rows
    )


def _orders_by_status(period: Period, seller_id: int | None) -> dict[str, int]:
    rows = db.session.execute(
        select(SubOrder.status, func.count(SubOrder.id))
        .where(*_placed_in(period, seller_id))
        .group_by(SubOrder.status)
    ).all()
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: n for status, n in rows})
    return counts


def _top_products(period: Period, seller_id: int) -> TopProducts:
    return TopProducts(
        by_revenue=_top(period, seller_id, by_units=False),
        by_units=_top(period, seller_id, by_units=True),
    )


def _top(period: Period, seller_id: int, *, by_units: bool) -> tuple[ProductSales, ...]:
    revenue, units = func.sum(OrderLine.total), func.sum(OrderLine.quantity)
    # the period's sub-orders of the seller, then their lines on the seller's covering
    # (tenant_id, seller_id, sub_order_id, product_id, quantity, total, title) index (0029):
    # a line's seller is its sub-order's
    rows = db.session.execute(
        _currency_hint(
            select(OrderLine.product_id, func.max(OrderLine.title), Order.currency, revenue, units)
            .select_from(SubOrder)
            .join(
                OrderLine,
                and_(
                    OrderLine.seller_id == SubOrder.seller_id,
                    OrderLine.sub_order_id == SubOrder.id,
                ),
            )
            .join(Order, Order.id == SubOrder.order_id)
            .where(*_placed_in(period, seller_id), SubOrder.status.not_in(NOT_SALES))
            .group_by(OrderLine.product_id, Order.currency)
            .order_by(
                *((units.desc(), revenue.desc()) if by_units else (revenue.desc(), units.desc()))
            )
            .order_by(OrderLine.product_id)
            .limit(TOP_PRODUCTS),
            lines=True,
        )
    ).all()
    return tuple(
        ProductSales(product_id, title, currency, _money(total, currency), int(n or 0))
        for product_id, title, currency, total, n in rows
    )


def _is_low():
    return StockLevel.quantity_on_hand - StockLevel.quantity_reserved <= StockLevel.reorder_point


def _low_stock(seller_id: int) -> LowStock:
    total = db.session.scalar(
        select(func.count(StockLevel.id)).where(StockLevel.seller_id == seller_id, _is_low())
    )
    return LowStock(total=total or 0, items=_lowest(seller_id))


def _lowest(seller_id: int) -> tuple[LowStockItem, ...]:
    available = StockLevel.quantity_on_hand - StockLevel.quantity_reserved
    rows = db.session.execute(
        select(
            StockLevel.id,
            ProductVariant.sku,
            Product.title,
            ProductVariant.title,
            Warehouse.name,
            available,
            StockLevel.reorder_point,
        )
        .join(ProductVariant, ProductVariant.id == StockLevel.variant_id)
        .join(Product, Product.id == ProductVariant.product_id)
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(StockLevel.seller_id == seller_id, _is_low())
        .order_by(available, StockLevel.id)
        .limit(LOW_STOCK_ITEMS)
    ).all()
    return tuple(
        LowStockItem(
            level_id,
            sku,
            f"{product} – {variant}" if variant else product,
            warehouse,
            int(units),
            reorder,
        )
        for level_id, sku, product, variant, warehouse, units, reorder in rows
    )


def _actions(seller_id: int) -> Actions:
    waiting = (TO_PROCESS, TO_SHIP, OrderStatus.REFUND_REQUESTED)
    counts = dict(
        db.session.execute(
            select(SubOrder.status, func.count(SubOrder.id))
            .where(SubOrder.seller_id == seller_id, SubOrder.status.in_(waiting))
            .group_by(SubOrder.status)
        ).all()
    )
    requests = db.session.scalar(
        select(func.count(RefundRequest.id))
        .join(SubOrder, SubOrder.id == RefundRequest.sub_order_id)
        .where(
            SubOrder.seller_id == seller_id,
            RefundRequest.status == RefundRequestStatus.REQUESTED,
        )
    )
    rows = db.session.execute(
        select(SubOrder.id, SubOrder.order_id, SubOrder.number, SubOrder.status, Order.currency)
        .add_columns(SubOrder.total, SubOrder.created_at)
        .join(Order, Order.id == SubOrder.order_id)
        .where(SubOrder.seller_id == seller_id, SubOrder.status.in_(waiting))
        .order_by(SubOrder.id.desc())
        .limit(RECENT_ACTIONS)
    ).all()
    return Actions(
        to_process=counts.get(TO_PROCESS, 0),
        to_ship=counts.get(TO_SHIP, 0),
        refund_requests=requests or 0,
        recent=tuple(WaitingSubOrder(*row) for row in rows),
    )
