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
  ledger derives it from its entries (app.payouts.statements.balances). The next payout arrives
  with the payout batches.

Indexes these queries rely on (migration 0022): sub_orders (tenant_id, seller_id, created_at, ...)
and (tenant_id, created_at, ...) for the period's sales, covering the columns they read;
(tenant_id, seller_id, status) for the work waiting; order_refund_requests (tenant_id, status) for
the requests waiting, (tenant_id, order_id) for a sub-order's refunds; order_lines (tenant_id,
sub_order_id); stock_levels (tenant_id, seller_id, id); sellers.status.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, func, select

from app.catalog.models import Product, ProductVariant
from app.core.errors import PermissionDenied, ValidationError
from app.core.tenancy import current_tenant_id
from app.core.types import quantize_money
from app.extensions import db
from app.inventory.models import StockLevel, Warehouse
from app.orders.models import Order, OrderLine, RefundRequest, RefundRequestStatus, SubOrder
from app.orders.states import STATUSES, OrderStatus
from app.payouts.statements import Balance, balances
from app.security.actor import Actor
from app.sellers.models import SellerProfile
from app.sellers.services import require_approved
from app.tenants.models import Tenant

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
    """The calling seller's own figures (see _own_seller_id for who may ask)."""
    seller_id = _own_seller_id(actor)
    top, low = _top_products(period, seller_id), _low_stock(seller_id)
    return SellerDashboard(
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
        balances=tuple(balances(seller_id)),
    )


def seller_top_products(actor: Actor, period: Period) -> TopProducts:
    return _top_products(period, _own_seller_id(actor))


def seller_low_stock(actor: Actor) -> LowStock:
    return _low_stock(_own_seller_id(actor))


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


# --- the queries ---------------------------------------------------------------------------------


def _shop_currency() -> str:
    tenant_id = current_tenant_id()
    tenant = db.session.get(Tenant, tenant_id) if tenant_id is not None else None
    return tenant.default_currency if tenant is not None else "USD"


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
        select(day, Order.currency, func.sum(SubOrder.total), func.count(func.distinct(counted)))
        .join(Order, Order.id == SubOrder.order_id)
        .where(*_placed_in(period, seller_id), SubOrder.status.not_in(NOT_SALES))
        .group_by(day, Order.currency)
        .order_by(day, Order.currency)
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
    rows = db.session.execute(
        select(OrderLine.product_id, func.max(OrderLine.title), Order.currency, revenue, units)
        .join(SubOrder, SubOrder.id == OrderLine.sub_order_id)
        .join(Order, Order.id == SubOrder.order_id)
        .where(*_placed_in(period, seller_id), SubOrder.status.not_in(NOT_SALES))
        .group_by(OrderLine.product_id, Order.currency)
        .order_by(*((units.desc(), revenue.desc()) if by_units else (revenue.desc(), units.desc())))
        .order_by(OrderLine.product_id)
        .limit(TOP_PRODUCTS)
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
