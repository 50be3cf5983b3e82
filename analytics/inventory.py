"""Inventory analytics: daily stock facts kept by a job, and the figures the inventory analytics API
answers from them (GET /api/v1/inventory/analytics/).

The facts (tenant-scoped tables, migration 0037):
- `inventory_daily_stock`: one row per local day x warehouse x variant, the stock as the job last
  saw it that day: units on hand, reserved, the reorder point, and the value of the units on hand.
  The catalog has no cost price (a variant has only its selling `price` and `currency`; unit costs
  exist only on purchase order lines, not for every variant): stock is valued at the variant's
  price, in the variant's currency, and values are only ever added up within one currency.
- `inventory_daily_sales`: units sold per local day x variant, from the order lines of sales as
  app.dashboards defines them (a sub-order that was paid: any status but pending and cancelled,
  refunds included), on the day the sub-order was placed.

Days are the tenant's local days (`Tenant.time_zone`, UTC when unset or unknown). The job
(`refresh`, every hour on queue `low`) overwrites today's snapshot with the stock it sees now (the
last run of a day leaves that day's closing stock) and folds in the sales of yesterday and of today
so far, replacing what those days held: running it twice changes nothing, and a sale paid after
midnight for an order placed the day before is still counted on the day it was placed.

The figures (`inventory_analytics`):
- stock value now (live stock levels) and per day over the period (the snapshots), per currency;
- turnover = units sold in the period / average units on hand over the period's snapshot days
  (units, not COGS: there is no cost price to value the goods sold at); null without snapshots;
- days of cover (per variant) = units on hand now / average daily units sold in the period
  (units sold / the period's days); null when nothing sold;
- dead stock: a stock level (a variant in a warehouse) with units on hand, in stock for at least
  `dead_days` days (created before the window) and whose variant sold nothing in the last
  `dead_days` local days, today included;
- low stock: a stock level whose available units (on hand - reserved) are at or below its reorder
  point, as app.inventory and app.dashboards define it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_appbuilder import Model
from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    and_,
    case,
    exists,
    func,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.catalog.models import Product, ProductVariant
from app.core.errors import NotFound, PermissionDenied, ValidationError
from app.core.tenancy import current_tenant_id, tenant_scope
from app.core.types import MONEY, UTCDateTime, quantize_money, utcnow
from app.dashboards import NOT_SALES, Period
from app.extensions import db
from app.inventory.models import StockLevel, Warehouse
from app.orders.models import OrderLine, SubOrder
from app.security.actor import Actor
from app.sellers.models import SellerProfile
from app.tenants.models import Tenant, TenantScoped
from app.tenants.services import tenant_ids as all_tenant_ids

VALUE = Numeric(16, 2)  # units x price: wider than one price
DEFAULT_DEAD_DAYS = 90
MAX_DEAD_DAYS = 730
GROUPS = ("variant", "warehouse", "seller")


class DailyStock(TenantScoped, Model):
    __tablename__ = "inventory_daily_stock"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "day", "warehouse_id", "variant_id", name="uq_inventory_daily_stock_day"
        ),
        Index("ix_inventory_daily_stock_seller", "tenant_id", "seller_id", "day"),
    )
    __audit__ = False  # derived facts, rewritten by a job

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    warehouse_id: Mapped[int] = mapped_column(
        ForeignKey("warehouses.id", ondelete="CASCADE"), nullable=False
    )
    variant_id: Mapped[int] = mapped_column(
        ForeignKey("product_variants.id", ondelete="CASCADE"), nullable=False, index=True
    )
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), nullable=False)
    on_hand: Mapped[int] = mapped_column(Integer, nullable=False)
    reserved: Mapped[int] = mapped_column(Integer, nullable=False)
    reorder_point: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_value: Mapped[Decimal] = mapped_column(MONEY, nullable=False)  # the variant's price
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    value: Mapped[Decimal] = mapped_column(VALUE, nullable=False)  # on_hand x unit_value
    captured_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class DailySales(TenantScoped, Model):
    __tablename__ = "inventory_daily_sales"
    __table_args__ = (
        UniqueConstraint("tenant_id", "day", "variant_id", name="uq_inventory_daily_sales_day"),
        Index("ix_inventory_daily_sales_variant", "tenant_id", "variant_id", "day"),
        Index("ix_inventory_daily_sales_seller", "tenant_id", "seller_id", "day"),
    )
    __audit__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    variant_id: Mapped[int] = mapped_column(
        ForeignKey("product_variants.id", ondelete="CASCADE"), nullable=False
    )
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), nullable=False)
    units: Mapped[int] = mapped_column(Integer, nullable=False)


# --- days ----------------------------------------------------------------------------------------


def tenant_zone(tenant_id: int | None = None) -> dt.tzinfo:
    """The tenant's time zone (the current tenant's by default); UTC when unset or unknown."""
    tenant = db.session.get(Tenant, tenant_id or current_tenant_id())
    name = tenant.time_zone if tenant is not None else None
    try:
        return ZoneInfo(name) if name else dt.timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        return dt.timezone.utc


def local_today(zone: dt.tzinfo, now: dt.datetime | None = None) -> dt.date:
    return (now or utcnow()).astimezone(zone).date()


def day_bounds(start: dt.date, end: dt.date, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """[first instant of `start`, first instant after `end`) of local days, in UTC."""
    first = dt.datetime.combine(start, dt.time(), tzinfo=zone)
    after = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return first.astimezone(dt.timezone.utc), after.astimezone(dt.timezone.utc)


# --- the job -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefreshResult:
    tenant_id: int
    day: dt.date
    stock_rows: int
    sales_rows: int
    changed: int  # rows inserted, updated or deleted: 0 on a second run with nothing new


def refresh_all(now: dt.datetime | None = None) -> list[RefreshResult]:
    """The job: every tenant's `refresh`."""
    return [refresh(tenant_id, now) for tenant_id in all_tenant_ids()]


def refresh(tenant_id: int, now: dt.datetime | None = None) -> RefreshResult:
    """Today's snapshot (the tenant's local day at `now`) and the sales of yesterday and today,
    written over what those days held; one transaction."""
    with tenant_scope(tenant_id):
        zone = tenant_zone(tenant_id)
        today = local_today(zone, now)
        stock_rows, stock_changed = snapshot(today)
        sales_rows, sales_changed = fold_sales(today - dt.timedelta(days=1), today, zone)
        db.session.commit()
    return RefreshResult(tenant_id, today, stock_rows, sales_rows, stock_changed + sales_changed)


def snapshot(day: dt.date) -> tuple[int, int]:
    """The current tenant's stock levels now, as `day`'s rows (updated in place): (rows, changed)."""
    live = db.session.execute(
        select(
            StockLevel.warehouse_id,
            StockLevel.variant_id,
            StockLevel.seller_id,
            StockLevel.quantity_on_hand,
            StockLevel.quantity_reserved,
            StockLevel.reorder_point,
            ProductVariant.price,
            ProductVariant.currency,
        ).join(ProductVariant, ProductVariant.id == StockLevel.variant_id)
    ).all()
    wanted = {
        (w, v): {
            "seller_id": s,
            "on_hand": on_hand,
            "reserved": reserved,
            "reorder_point": point,
            "unit_value": Decimal(price),
            "currency": currency,
            "value": quantize_money(Decimal(price) * on_hand),
        }
        for w, v, s, on_hand, reserved, point, price, currency in live
    }
    existing = {
        (row.warehouse_id, row.variant_id): row
        for row in db.session.scalars(select(DailyStock).where(DailyStock.day == day))
    }
    changed = _apply(DailyStock, existing, wanted, day=day)
    return len(wanted), changed


def fold_sales(start: dt.date, end: dt.date, zone: dt.tzinfo | None = None) -> tuple[int, int]:
    """The current tenant's units sold per variant on each local day `start`..`end`, written over
    what those days held (a day with no sale of a variant loses its row): (rows, changed). Also
    the backfill of a longer history."""
    zone = zone or tenant_zone()
    first, after = day_bounds(start, end, zone)
    lines = db.session.execute(
        select(SubOrder.created_at, OrderLine.variant_id, OrderLine.seller_id, OrderLine.quantity)
        .join(SubOrder, SubOrder.id == OrderLine.sub_order_id)
        .where(
            SubOrder.created_at >= first,
            SubOrder.created_at < after,
            SubOrder.status.not_in(tuple(NOT_SALES)),
            OrderLine.variant_id.is_not(None),
        )
    ).all()
    units: dict[tuple[dt.date, int], dict] = {}
    for placed_at, variant_id, seller_id, quantity in lines:
        if placed_at.tzinfo is None:
            placed_at = placed_at.replace(tzinfo=dt.timezone.utc)
        key = (placed_at.astimezone(zone).date(), variant_id)
        row = units.setdefault(key, {"seller_id": seller_id, "units": 0})
        row["units"] += quantity
    existing = {
        (row.day, row.variant_id): row
        for row in db.session.scalars(
            select(DailySales).where(DailySales.day >= start, DailySales.day <= end)
        )
    }
    changed = _apply(DailySales, existing, units)
    return len(units), changed


def _apply(model, existing: dict, wanted: dict, **fixed) -> int:
    """Make the rows `existing` (by key) hold `wanted` (key -> values): update, add, delete."""
    changed = 0
    key_names = ("warehouse_id", "variant_id") if model is DailyStock else ("day", "variant_id")
    for key, values in wanted.items():
        row = existing.pop(key, None)
        if row is None:
            db.session.add(model(**dict(zip(key_names, key, strict=True)), **fixed, **values))
            changed += 1
            continue
        if any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            if model is DailyStock:
                row.captured_at = utcnow()
            changed += 1
    for row in existing.values():
        db.session.delete(row)
        changed += 1
    db.session.flush()
    return changed


# --- the figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    currency: str
    value: Decimal
    units: int


@dataclass(frozen=True)
class DayValue:
    day: dt.date
    currency: str
    value: Decimal
    units: int


@dataclass(frozen=True)
class Demand:
    expected_daily_demand: Decimal
    lead_time_days: int
    service_level: Decimal
    safety_stock: int
    reorder_point: int
    reorder_quantity: int


@dataclass(frozen=True)
class Row:
    """A variant, a warehouse or a seller: its figures (see the module's docstring)."""

    key: int
    label: str
    seller_id: int | None
    stock_value: tuple[Money, ...]
    on_hand: int
    reserved: int
    available: int
    units_sold: int | None
    average_on_hand: Decimal | None
    turnover: Decimal | None
    days_of_cover: Decimal | None
    low_stock: int  # stock levels at or below their reorder point
    dead_stock: int  # stock levels that are dead stock
    last_sold_on: dt.date | None = None
    sku: str | None = None
    reorder_point: int | None = None
    demand: Demand | None = None


@dataclass(frozen=True)
class ModelInfo:
    version_id: int
    version: int
    trained_at: dt.datetime
    metrics: dict
    baseline: dict


@dataclass(frozen=True)
class InventoryAnalytics:
    today: dt.date
    time_zone: str
    period: Period
    by: str
    dead_days: int
    seller_id: int | None
    stock_value: tuple[Money, ...]
    stock_value_series: tuple[DayValue, ...]
    snapshot_days: int
    totals: Row
    dead_stock_value: tuple[Money, ...]
    demand_model: ModelInfo | None
    items: tuple[Row, ...]
    page: int
    page_size: int
    total: int


def scope_for(actor: Actor, seller_id: int | None) -> int | None:
    """Whose stock: a seller's own (another seller's id is a 404, as any resource that is not the
    caller's), an admin's tenant or the `seller_id` it names; anyone else 403."""
    if actor.is_admin:
        return seller_id
    if actor.is_seller and actor.seller_id is not None:
        if seller_id not in (None, actor.seller_id):
            raise NotFound("no such seller")
        return actor.seller_id
    raise PermissionDenied("your role may not see inventory analytics")


def period_for(start: dt.date | None, end: dt.date | None, zone: dt.tzinfo) -> Period:
    """The period in the tenant's local days (app.dashboards.Period's rules, today local)."""
    return Period.of(start, end, today=local_today(zone))


def inventory_analytics(
    actor: Actor,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    by: str = "variant",
    dead_days: int = DEFAULT_DEAD_DAYS,
    seller_id: int | None = None,
    page: int = 1,
    page_size: int = 24,
    now: dt.datetime | None = None,
) -> InventoryAnalytics:
    if by not in GROUPS:
        raise ValidationError("unknown grouping", details={"by": [f"one of {list(GROUPS)}"]})
    if not 1 <= dead_days <= MAX_DEAD_DAYS:
        raise ValidationError("bad dead_days", details={"dead_days": [f"1..{MAX_DEAD_DAYS}"]})
    seller = scope_for(actor, seller_id)
    zone = tenant_zone()
    today = local_today(zone, now)
    period = Period.of(start, end, today=today)
    figures = _Figures(seller, period, today, dead_days, zone)
    rows = {"variant": figures.variants, "warehouse": figures.warehouses, "seller": figures.sellers}
    items, total = rows[by](page, page_size)
    return InventoryAnalytics(
        today=today,
        time_zone=str(zone) if zone is not dt.timezone.utc else "UTC",
        period=period,
        by=by,
        dead_days=dead_days,
        seller_id=seller,
        stock_value=figures.stock_value(),
        stock_value_series=figures.series(),
        snapshot_days=figures.snapshot_days,
        totals=figures.totals(),
        dead_stock_value=figures.dead_value(),
        demand_model=figures.model_info(),
        items=tuple(items),
        page=page,
        page_size=page_size,
        total=total,
    )


def _money_list(rows) -> tuple[Money, ...]:
    """(currency, value, units) rows -> Money per currency, by currency."""
    return tuple(
        Money(currency, quantize_money(Decimal(str(value or 0)), currency), int(units or 0))
        for currency, value, units in sorted(rows, key=lambda r: r[0])
    )


def _with_variant(statement):
    """`statement` over stock rows, joined to their variant and its product (inner joins)."""
    return statement.join(ProductVariant, ProductVariant.id == StockLevel.variant_id).join(
        Product, Product.id == ProductVariant.product_id
    )


def _count(condition):
    """COUNT ... FILTER (WHERE condition), which MariaDB does not have."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _ratio(numerator, denominator, places: str = "0.01") -> Decimal | None:
    if denominator in (None, 0) or numerator is None:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal(places))


class _Figures:
    """The queries of one answer: every figure is an aggregate over indexed columns, items are
    paged in SQL (variants) or few (warehouses, sellers)."""

    def __init__(self, seller_id, period: Period, today: dt.date, dead_days: int, zone):
        self.seller_id, self.period, self.today, self.zone = seller_id, period, today, zone
        self.dead_since = today - dt.timedelta(days=dead_days - 1)  # first day of the window
        self.dead_before = day_bounds(self.dead_since, self.dead_since, zone)[0]
        self.snapshot_days = (
            db.session.scalar(
                select(func.count(func.distinct(DailyStock.day))).where(
                    DailyStock.day >= period.start, DailyStock.day <= period.end
                )
            )
            or 0
        )

    # conditions
    def _levels(self, *conditions):
        where = list(conditions)
        if self.seller_id is not None:
            where.append(StockLevel.seller_id == self.seller_id)
        return where

    def _dead(self):
        sold = exists().where(
            DailySales.variant_id == StockLevel.variant_id,
            DailySales.day >= self.dead_since,
            DailySales.units > 0,
        )
        return and_(
            StockLevel.quantity_on_hand > 0, StockLevel.created_at < self.dead_before, ~sold
        )

    @staticmethod
    def _low():
        return (
            StockLevel.quantity_on_hand - StockLevel.quantity_reserved <= StockLevel.reorder_point
        )

    def _sales_in_period(self, *conditions):
        where = [DailySales.day >= self.period.start, DailySales.day <= self.period.end]
        if self.seller_id is not None:
            where.append(DailySales.seller_id == self.seller_id)
        return where + list(conditions)

    def _snapshots_in_period(self):
        where = [DailyStock.day >= self.period.start, DailyStock.day <= self.period.end]
        if self.seller_id is not None:
            where.append(DailyStock.seller_id == self.seller_id)
        return where

    def _value_expr(self):
        return func.sum(StockLevel.quantity_on_hand * ProductVariant.price)

    # the answer's parts
    def stock_value(self) -> tuple[Money, ...]:
        rows = db.session.execute(
            select(
                ProductVariant.currency, self._value_expr(), func.sum(StockLevel.quantity_on_hand)
            )
            .join(ProductVariant, ProductVariant.id == StockLevel.variant_id)
            .where(*self._levels())
            .group_by(ProductVariant.currency)
        ).all()
        return _money_list(rows)

    def dead_value(self) -> tuple[Money, ...]:
        rows = db.session.execute(
            select(
                ProductVariant.currency, self._value_expr(), func.sum(StockLevel.quantity_on_hand)
            )
            .join(ProductVariant, ProductVariant.id == StockLevel.variant_id)
            .where(*self._levels(self._dead()))
            .group_by(ProductVariant.currency)
        ).all()
        return _money_list(rows)

    def series(self) -> tuple[DayValue, ...]:
        rows = db.session.execute(
            select(
                DailyStock.day,
                DailyStock.currency,
                func.sum(DailyStock.value),
                func.sum(DailyStock.on_hand),
            )
            .where(*self._snapshots_in_period())
            .group_by(DailyStock.day, DailyStock.currency)
            .order_by(DailyStock.day, DailyStock.currency)
        ).all()
        return tuple(
            DayValue(day, currency, quantize_money(Decimal(str(value)), currency), int(units))
            for day, currency, value, units in rows
        )

    def _flow(self, units_sold, on_hand_sum, on_hand_now):
        """(units sold, average on hand, turnover, days of cover) from the period's sums."""
        average = _ratio(on_hand_sum, self.snapshot_days) if self.snapshot_days else None
        turnover = _ratio(units_sold, average) if average else None
        daily = Decimal(units_sold) / self.period.days if units_sold else None
        cover = _ratio(on_hand_now, daily, "0.1") if daily else None
        return average, turnover, cover

    def totals(self) -> Row:
        on_hand, reserved, low, dead = db.session.execute(
            select(
                func.coalesce(func.sum(StockLevel.quantity_on_hand), 0),
                func.coalesce(func.sum(StockLevel.quantity_reserved), 0),
                _count(self._low()),
                _count(self._dead()),
            ).where(*self._levels())
        ).one()
        sold = db.session.scalar(
            select(func.coalesce(func.sum(DailySales.units), 0)).where(*self._sales_in_period())
        )
        on_hand_sum = db.session.scalar(
            select(func.coalesce(func.sum(DailyStock.on_hand), 0)).where(
                *self._snapshots_in_period()
            )
        )
        average, turnover, cover = self._flow(int(sold), int(on_hand_sum), int(on_hand))
        return Row(
            key=self.seller_id or 0,
            label="all",
            seller_id=self.seller_id,
            stock_value=self.stock_value(),
            on_hand=int(on_hand),
            reserved=int(reserved),
            available=int(on_hand) - int(reserved),
            units_sold=int(sold),
            average_on_hand=average,
            turnover=turnover,
            days_of_cover=cover,
            low_stock=int(low),
            dead_stock=int(dead),
        )

    def model_info(self) -> ModelInfo | None:
        from analytics import registry

        version = registry.active(registry.DEMAND)
        if version is None:
            return None
        return ModelInfo(
            version.id, version.version, version.trained_at, version.metrics, version.baseline
        )

    # items
    def _grouped_levels(self, key):
        """Per `key` (a StockLevel column): on hand, reserved, low and dead levels."""
        return db.session.execute(
            select(
                key,
                func.sum(StockLevel.quantity_on_hand),
                func.sum(StockLevel.quantity_reserved),
                _count(self._low()),
                _count(self._dead()),
            )
            .where(*self._levels())
            .group_by(key)
        ).all()

    def _grouped_values(self, key) -> dict[int, tuple[Money, ...]]:
        rows = db.session.execute(
            select(
                key,
                ProductVariant.currency,
                self._value_expr(),
                func.sum(StockLevel.quantity_on_hand),
            )
            .join(ProductVariant, ProductVariant.id == StockLevel.variant_id)
            .where(*self._levels())
            .group_by(key, ProductVariant.currency)
        ).all()
        by_key = defaultdict(list)
        for k, currency, value, units in rows:
            by_key[k].append((currency, value, units))
        return {k: _money_list(v) for k, v in by_key.items()}

    def variants(self, page: int, page_size: int) -> tuple[list[Row], int]:
        # only stock rows whose variant (and its product) this reader sees: a SQLite file written
        # before foreign keys were enforced there (app/core/db.py) may hold a deleted product's
        # stock rows, their variant id reused in another tenant; the page and its total then
        # agree on the rows it can describe (a stock row without one was a KeyError, a 500)
        total = db.session.scalar(
            _with_variant(select(func.count(func.distinct(StockLevel.variant_id)))).where(
                *self._levels()
            )
        )
        levels = db.session.execute(
            _with_variant(
                select(
                    StockLevel.variant_id,
                    func.sum(StockLevel.quantity_on_hand),
                    func.sum(StockLevel.quantity_reserved),
                    func.sum(StockLevel.reorder_point),
                    _count(self._low()),
                    _count(self._dead()),
                )
            )
            .where(*self._levels())
            .group_by(StockLevel.variant_id)
            .order_by(StockLevel.variant_id)
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
        ids = [row[0] for row in levels]
        if not ids:
            return [], total or 0
        info = {
            vid: (sku, product, title, seller, price, currency)
            for vid, sku, product, title, seller, price, currency in db.session.execute(
                select(
                    ProductVariant.id,
                    ProductVariant.sku,
                    Product.title,
                    ProductVariant.title,
                    ProductVariant.seller_id,
                    ProductVariant.price,
                    ProductVariant.currency,
                )
                .join(Product, Product.id == ProductVariant.product_id)
                .where(ProductVariant.id.in_(ids))
            )
        }
        sold = dict(
            db.session.execute(
                select(DailySales.variant_id, func.sum(DailySales.units))
                .where(*self._sales_in_period(DailySales.variant_id.in_(ids)))
                .group_by(DailySales.variant_id)
            ).all()
        )
        last_sold = dict(
            db.session.execute(
                select(DailySales.variant_id, func.max(DailySales.day))
                .where(DailySales.variant_id.in_(ids), DailySales.units > 0)
                .group_by(DailySales.variant_id)
            ).all()
        )
        on_hand_sums = dict(
            db.session.execute(
                select(DailyStock.variant_id, func.sum(DailyStock.on_hand))
                .where(*self._snapshots_in_period(), DailyStock.variant_id.in_(ids))
                .group_by(DailyStock.variant_id)
            ).all()
        )
        from analytics.ml import demand

        demands = demand.active_predictions(ids)
        items = []
        for vid, on_hand, reserved, point, low, dead in levels:
            sku, product, title, seller, price, currency = info[vid]
            units = int(sold.get(vid) or 0)
            on_hand = int(on_hand or 0)
            average, turnover, cover = self._flow(units, int(on_hand_sums.get(vid) or 0), on_hand)
            items.append(
                Row(
                    key=vid,
                    label=f"{product} – {title}" if title else product,
                    seller_id=seller,
                    stock_value=(
                        Money(currency, quantize_money(Decimal(price) * on_hand), on_hand),
                    ),
                    on_hand=on_hand,
                    reserved=int(reserved or 0),
                    available=on_hand - int(reserved or 0),
                    units_sold=units,
                    average_on_hand=average,
                    turnover=turnover,
                    days_of_cover=cover,
                    low_stock=int(low),
                    dead_stock=int(dead),
                    last_sold_on=last_sold.get(vid),
                    sku=sku,
                    reorder_point=int(point or 0),
                    demand=demands.get(vid),
                )
            )
        return items, total or 0

    def warehouses(self, page: int, page_size: int) -> tuple[list[Row], int]:
        """Per warehouse: stock, value, low and dead levels. Sales are not recorded per warehouse
        (an order line names no warehouse), so units sold, turnover and cover are null here."""
        levels = self._grouped_levels(StockLevel.warehouse_id)
        values = self._grouped_values(StockLevel.warehouse_id)
        names = {
            wid: (code, name, seller)
            for wid, code, name, seller in db.session.execute(
                select(Warehouse.id, Warehouse.code, Warehouse.name, Warehouse.seller_id).where(
                    Warehouse.id.in_([row[0] for row in levels])
                )
            )
        }
        rows = []
        for wid, on_hand, reserved, low, dead in sorted(levels, key=lambda r: r[0]):
            code, name, seller = names[wid]
            rows.append(
                Row(
                    key=wid,
                    label=f"{code} — {name}",
                    seller_id=seller,
                    stock_value=values.get(wid, ()),
                    on_hand=int(on_hand or 0),
                    reserved=int(reserved or 0),
                    available=int(on_hand or 0) - int(reserved or 0),
                    units_sold=None,
                    average_on_hand=None,
                    turnover=None,
                    days_of_cover=None,
                    low_stock=int(low),
                    dead_stock=int(dead),
                )
            )
        start = (page - 1) * page_size
        return rows[start : start + page_size], len(rows)

    def sellers(self, page: int, page_size: int) -> tuple[list[Row], int]:
        levels = self._grouped_levels(StockLevel.seller_id)
        values = self._grouped_values(StockLevel.seller_id)
        ids = [row[0] for row in levels]
        names = dict(
            db.session.execute(
                select(SellerProfile.id, SellerProfile.store_name).where(SellerProfile.id.in_(ids))
            ).all()
        )
        sold = dict(
            db.session.execute(
                select(DailySales.seller_id, func.sum(DailySales.units))
                .where(*self._sales_in_period())
                .group_by(DailySales.seller_id)
            ).all()
        )
        on_hand_sums = dict(
            db.session.execute(
                select(DailyStock.seller_id, func.sum(DailyStock.on_hand))
                .where(*self._snapshots_in_period())
                .group_by(DailyStock.seller_id)
            ).all()
        )
        rows = []
        for sid, on_hand, reserved, low, dead in sorted(levels, key=lambda r: r[0]):
            units, on_hand = int(sold.get(sid) or 0), int(on_hand or 0)
            average, turnover, cover = self._flow(units, int(on_hand_sums.get(sid) or 0), on_hand)
            rows.append(
                Row(
                    key=sid,
                    label=names.get(sid, ""),
                    seller_id=sid,
                    stock_value=values.get(sid, ()),
                    on_hand=on_hand,
                    reserved=int(reserved or 0),
                    available=on_hand - int(reserved or 0),
                    units_sold=units,
                    average_on_hand=average,
                    turnover=turnover,
                    days_of_cover=cover,
                    low_stock=int(low),
                    dead_stock=int(dead),
                )
            )
        start = (page - 1) * page_size
        return rows[start : start + page_size], len(rows)
