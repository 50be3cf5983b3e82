"""The Analytics API's figures (/api/v1/analytics/), read from the daily aggregates only
(analytics.aggregates): no request scans orders.

Who sees what (one home for the rule, `scope_of`): an Admin (or Super Admin in a tenant) the
tenant's figures; a Seller with an approved profile exactly its own (sales of its sub-orders,
its products, its customers: those who bought from it); any other role PermissionDenied.

Periods are whole local days of the tenant (Tenant.time_zone, UTC when unset), `from` to `to`
inclusive (default: the last 30 days to today); the previous period is the same number of days
just before. Money is per currency, never added across currencies. A change is
current - previous, and in percent of previous (None when previous is 0).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from analytics.aggregates import maintain
from analytics.aggregates.models import (
    CategorySalesDaily,
    CustomerDay,
    CustomerSummary,
    ProductActivityDaily,
    ProductDaily,
    SalesDaily,
)
from app.catalog.models import Category, Product
from app.core.errors import PermissionDenied, ValidationError
from app.core.tenancy import current_tenant_id
from app.core.types import quantize_money
from app.extensions import db
from app.security.actor import Actor
from app.sellers.models import SellerProfile
from app.sellers.services import require_approved

ZERO = Decimal("0")
DEFAULT_DAYS = 30
MAX_DAYS = {"day": 366, "week": 1096, "month": 1096}
GRANULARITIES = ("day", "week", "month")
GROUPS = ("seller", "category", "channel")
DEFAULT_LIMIT, MAX_LIMIT = 10, 100


# --- who and when ------------------------------------------------------------------------------


def scope_of(actor: Actor | None) -> int | None:
    """None: the whole tenant (Admin); a seller id: that seller's own figures."""
    if actor is not None and actor.is_admin:
        return None
    if actor is not None and actor.is_seller and actor.seller_id is not None:
        require_approved(db.session.get(SellerProfile, actor.seller_id))
        return actor.seller_id
    raise PermissionDenied("only an admin or a seller sees analytics")


def local_today() -> dt.date:
    zone = maintain.tenant_zone(current_tenant_id())
    return maintain.local_day(dt.datetime.now(dt.timezone.utc), zone)


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> Period:
        return Period(self.start - dt.timedelta(days=self.days), self.start - dt.timedelta(days=1))


def period_of(
    start: dt.date | None,
    end: dt.date | None,
    *,
    granularity: str = "day",
    today: dt.date | None = None,
) -> Period:
    """The period asked for (see the module's docstring). ValidationError naming `from`/`to`
    when it ends before it starts or is longer than MAX_DAYS[granularity] days."""
    today = today or local_today()
    span = dt.timedelta(days=DEFAULT_DAYS - 1)
    if start is None and end is None:
        end = today
    if start is None:
        start = end - span
    if end is None:
        end = max(start, min(start + span, today))
    if end < start:
        raise ValidationError("the period ends before it starts", details={"to": ["before from"]})
    limit = MAX_DAYS[granularity]
    if (end - start).days + 1 > limit:
        raise ValidationError(
            f"a period lasts at most {limit} days at {granularity} granularity",
            details={"to": [f"at most {limit} days after from"]},
        )
    return Period(start, end)


def bucket(day: dt.date, granularity: str) -> dt.date:
    """The first day of `day`'s bucket: the day, its ISO week's Monday, its month's first."""
    if granularity == "week":
        return day - dt.timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return day


def buckets(period: Period, granularity: str) -> list[dt.date]:
    out, day = [], period.start
    while day <= period.end:
        first = bucket(day, granularity)
        if not out or out[-1] != first:
            out.append(first)
        day += dt.timedelta(days=1)
    return out


@dataclass(frozen=True)
class Change:
    """A figure in the period and the previous one."""

    current: Decimal | int | None
    previous: Decimal | int | None
    change: Decimal | int | None
    change_pct: Decimal | None


def change(current, previous) -> Change:
    if current is None or previous is None:
        return Change(current, previous, None, None)
    pct = None
    if previous:
        pct = ((Decimal(current) - Decimal(previous)) * 100 / Decimal(previous)).quantize(
            Decimal("0.1")
        )
    return Change(current, previous, current - previous, pct)


def ratio(part, whole, places: str = "0.0001") -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal(places)) if whole else None


def _days(model, period: Period) -> list:
    return [model.day >= period.start, model.day <= period.end]


def _seller(model, seller_id: int | None) -> list:
    return [] if seller_id is None else [model.seller_id == seller_id]


# --- dashboard ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CurrencyFigures:
    currency: str
    gmv: Change
    net_revenue: Change  # gross - refunded
    orders: Change
    units: Change
    average_order_value: Change


@dataclass(frozen=True)
class Conversion:
    views: Change
    purchases: Change  # sub-orders holding a product (a product bought), per product summed
    rate: Change  # purchases / views


@dataclass(frozen=True)
class CustomerCounts:
    new: Change
    returning: Change


@dataclass(frozen=True)
class Dashboard:
    period: Period
    previous_period: Period
    currencies: tuple[CurrencyFigures, ...]
    conversion: Conversion
    customers: CustomerCounts


def _sales_totals(period: Period, seller_id: int | None) -> dict[str, tuple]:
    orders = SalesDaily.orders if seller_id is not None else SalesDaily.shop_orders
    rows = db.session.execute(
        select(
            SalesDaily.currency,
            func.sum(orders),
            func.sum(SalesDaily.units),
            func.sum(SalesDaily.gross),
            func.sum(SalesDaily.refunded),
        )
        .where(*_days(SalesDaily, period), *_seller(SalesDaily, seller_id))
        .group_by(SalesDaily.currency)
    ).all()
    return {
        c: (int(o or 0), int(u or 0), Decimal(str(g or 0)), Decimal(str(r or 0)))
        for c, o, u, g, r in rows
    }


def _aov(gross: Decimal, orders: int, currency: str) -> Decimal:
    return quantize_money(gross / orders, currency) if orders else quantize_money(0, currency)


def _conversion_figures(period: Period, seller_id: int | None) -> tuple[int, int]:
    views = db.session.scalar(
        select(func.sum(ProductActivityDaily.views)).where(
            *_days(ProductActivityDaily, period), *_seller(ProductActivityDaily, seller_id)
        )
    )
    purchases = db.session.scalar(
        select(func.sum(ProductDaily.orders)).where(
            *_days(ProductDaily, period), *_seller(ProductDaily, seller_id)
        )
    )
    return int(views or 0), int(purchases or 0)


def _customer_counts(period: Period, seller_id: int | None) -> tuple[int, int]:
    scope = maintain.SHOP if seller_id is None else seller_id
    active = db.session.scalar(
        select(func.count(func.distinct(CustomerDay.customer_user_id))).where(
            CustomerDay.seller_id == scope, CustomerDay.orders > 0, *_days(CustomerDay, period)
        )
    )
    new = db.session.scalar(
        select(func.count(CustomerSummary.id)).where(
            CustomerSummary.seller_id == scope,
            CustomerSummary.orders > 0,
            CustomerSummary.first_order_day >= period.start,
            CustomerSummary.first_order_day <= period.end,
        )
    )
    return int(new or 0), int(active or 0) - int(new or 0)


def dashboard(actor: Actor, period: Period) -> Dashboard:
    seller_id = scope_of(actor)
    now, before = _sales_totals(period, seller_id), _sales_totals(period.previous, seller_id)
    empty = (0, 0, ZERO, ZERO)
    currencies = []
    for currency in sorted(now.keys() | before.keys()):
        (o1, u1, g1, r1), (o0, u0, g0, r0) = now.get(currency, empty), before.get(currency, empty)
        currencies.append(
            CurrencyFigures(
                currency=currency,
                gmv=change(g1, g0),
                net_revenue=change(g1 - r1, g0 - r0),
                orders=change(o1, o0),
                units=change(u1, u0),
                average_order_value=change(_aov(g1, o1, currency), _aov(g0, o0, currency)),
            )
        )
    (v1, p1), (v0, p0) = (
        _conversion_figures(period, seller_id),
        _conversion_figures(period.previous, seller_id),
    )
    (n1, ret1), (n0, ret0) = (
        _customer_counts(period, seller_id),
        _customer_counts(period.previous, seller_id),
    )
    return Dashboard(
        period=period,
        previous_period=period.previous,
        currencies=tuple(currencies),
        conversion=Conversion(
            views=change(v1, v0),
            purchases=change(p1, p0),
            rate=change(ratio(p1, v1), ratio(p0, v0)),
        ),
        customers=CustomerCounts(new=change(n1, n0), returning=change(ret1, ret0)),
    )


# --- sales -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SalesPoint:
    period_start: dt.date
    orders: int
    units: int
    gross: Decimal
    refunded: Decimal
    commission: Decimal
    net: Decimal


@dataclass(frozen=True)
class SalesSeries:
    currency: str
    group: str | None  # the seller's / category's id, or the channel; None without group_by
    label: str | None
    totals: SalesPoint  # the whole period (period_start: its first day)
    points: tuple[SalesPoint, ...]  # one per bucket, empty buckets included


@dataclass(frozen=True)
class Sales:
    period: Period
    granularity: str
    group_by: str | None
    series: tuple[SalesSeries, ...]


MONEY = ("gross", "refunded", "commission", "net")


def sales(actor: Actor, period: Period, granularity: str, group_by: str | None) -> Sales:
    seller_id = scope_of(actor)
    model = CategorySalesDaily if group_by == "category" else SalesDaily
    orders = model.orders
    if model is SalesDaily and seller_id is None and group_by != "seller":
        orders = SalesDaily.shop_orders  # the shop's orders, a multi-seller order once
    group_column = {
        "seller": model.seller_id,
        "category": getattr(model, "category_id", None),
        "channel": model.channel,
    }.get(group_by)
    columns = [model.day, model.currency]
    if group_column is not None:
        columns.append(group_column)
    rows = db.session.execute(
        select(
            *columns,
            func.sum(orders),
            func.sum(model.units),
            *(func.sum(getattr(model, m)) for m in MONEY),
        )
        .where(*_days(model, period), *_seller(model, seller_id))
        .group_by(*columns)
    ).all()
    cells: dict[tuple, dict[dt.date, list]] = defaultdict(
        lambda: defaultdict(lambda: [0, 0, *([ZERO] * 4)])
    )
    for row in rows:
        day, currency = row[0], row[1]
        group = str(row[2]) if group_column is not None else None
        figures = row[3:] if group_column is not None else row[2:]
        cell = cells[(currency, group)][bucket(day, granularity)]
        cell[0] += int(figures[0] or 0)
        cell[1] += int(figures[1] or 0)
        for i in range(4):
            cell[2 + i] += Decimal(str(figures[2 + i] or 0))
    labels = _labels(group_by, {g for _, g in cells})
    all_buckets = buckets(period, granularity)
    series = []
    for currency, group in sorted(cells, key=lambda k: (k[0], k[1] or "")):
        by_bucket = cells[(currency, group)]
        points = tuple(_point(b, by_bucket.get(b), currency) for b in all_buckets)
        total = [0, 0, *([ZERO] * 4)]
        for values in by_bucket.values():
            total = [a + b for a, b in zip(total, values, strict=True)]
        series.append(
            SalesSeries(
                currency, group, labels.get(group), _point(period.start, total, currency), points
            )
        )
    return Sales(period, granularity, group_by, tuple(series))


def _point(start: dt.date, values, currency: str) -> SalesPoint:
    values = values or [0, 0, *([ZERO] * 4)]
    money = [quantize_money(v, currency) for v in values[2:]]
    return SalesPoint(start, values[0], values[1], *money)


def _labels(group_by: str | None, groups: set) -> dict[str, str]:
    ids = [int(g) for g in groups if g is not None and g.isdigit()]
    if group_by == "seller" and ids:
        return {
            str(i): name
            for i, name in db.session.execute(
                select(SellerProfile.id, SellerProfile.store_name).where(SellerProfile.id.in_(ids))
            )
        }
    if group_by == "category":
        names = {"0": "(no category)"}
        if ids:
            names.update(
                {
                    str(i): name
                    for i, name in db.session.execute(
                        select(Category.id, Category.name).where(Category.id.in_(ids))
                    )
                }
            )
        return names
    if group_by == "channel":
        return {g: g for g in groups if g is not None}
    return {}


# --- products ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductFigures:
    product_id: int
    title: str | None
    currency: str | None  # revenue's; None for a product that sold nothing
    revenue: Decimal
    units: int
    orders: int
    units_refunded: int
    views: int
    view_to_purchase_rate: Decimal | None  # orders / views
    refund_rate: Decimal | None  # units refunded / units


@dataclass(frozen=True)
class Products:
    period: Period
    limit: int
    top_by_revenue: tuple[ProductFigures, ...]  # per currency, `limit` each
    top_by_units: tuple[ProductFigures, ...]
    slow_movers: tuple[ProductFigures, ...]  # active products with the fewest units sold
    views: int
    purchases: int
    view_to_purchase_rate: Decimal | None
    units: int
    units_refunded: int
    refund_rate: Decimal | None


def products(actor: Actor, period: Period, limit: int = DEFAULT_LIMIT) -> Products:
    seller_id = scope_of(actor)
    sold = db.session.execute(
        select(
            ProductDaily.product_id,
            ProductDaily.currency,
            func.sum(ProductDaily.revenue),
            func.sum(ProductDaily.units),
            func.sum(ProductDaily.orders),
            func.sum(ProductDaily.units_refunded),
        )
        .where(*_days(ProductDaily, period), *_seller(ProductDaily, seller_id))
        .group_by(ProductDaily.product_id, ProductDaily.currency)
    ).all()
    views = dict(
        db.session.execute(
            select(ProductActivityDaily.product_id, func.sum(ProductActivityDaily.views))
            .where(*_days(ProductActivityDaily, period), *_seller(ProductActivityDaily, seller_id))
            .group_by(ProductActivityDaily.product_id)
        ).all()
    )
    per_product: dict[int, list] = defaultdict(lambda: [0, 0, 0])  # units, orders, refunded
    rows = []
    for product_id, currency, revenue, units, orders, refunded in sold:
        rows.append((product_id, currency, Decimal(str(revenue or 0)), int(units or 0)))
        totals = per_product[product_id]
        totals[0] += int(units or 0)
        totals[1] += int(orders or 0)
        totals[2] += int(refunded or 0)
    by_currency: dict[str, list] = defaultdict(list)
    for row in rows:
        by_currency[row[1]].append(row)
    top_revenue = []
    for currency in sorted(by_currency):
        ranked = sorted(by_currency[currency], key=lambda r: (-r[2], -r[3], r[0]))[:limit]
        top_revenue += [(r[0], currency, r[2]) for r in ranked]
    units_ranked = sorted(per_product, key=lambda p: (-per_product[p][0], p))[:limit]
    slow = _slow_movers(seller_id, per_product, limit)
    wanted = {p for p, _, _ in top_revenue} | set(units_ranked) | set(slow)
    titles = _titles(wanted)
    revenue_of = {(r[0], r[1]): r[2] for r in rows}

    def figures(product_id: int, currency: str | None) -> ProductFigures:
        units, orders, refunded = per_product.get(product_id, (0, 0, 0))
        seen = int(views.get(product_id) or 0)
        if currency is None:  # units ranking: its revenue in its first currency
            currency = next((c for (p, c) in sorted(revenue_of) if p == product_id), None)
        revenue = revenue_of.get((product_id, currency), ZERO)
        return ProductFigures(
            product_id,
            titles.get(product_id),
            currency,
            quantize_money(revenue, currency) if currency else ZERO,
            units,
            orders,
            refunded,
            seen,
            ratio(orders, seen),
            ratio(refunded, units),
        )

    total_views = int(sum(int(v or 0) for v in views.values()))
    purchases = sum(v[1] for v in per_product.values())
    units = sum(v[0] for v in per_product.values())
    refunded = sum(v[2] for v in per_product.values())
    return Products(
        period=period,
        limit=limit,
        top_by_revenue=tuple(figures(p, c) for p, c, _ in top_revenue),
        top_by_units=tuple(figures(p, None) for p in units_ranked),
        slow_movers=tuple(figures(p, None) for p in slow),
        views=total_views,
        purchases=purchases,
        view_to_purchase_rate=ratio(purchases, total_views),
        units=units,
        units_refunded=refunded,
        refund_rate=ratio(refunded, units),
    )


def _slow_movers(seller_id: int | None, per_product: dict, limit: int) -> list[int]:
    """The active products (of the seller) that sold the fewest units in the period, unsold
    first. Reads the catalog's active products' ids (not orders)."""
    stmt = select(Product.id).where(Product.status == "active")
    if seller_id is not None:
        stmt = stmt.where(Product.seller_id == seller_id)
    ids = list(db.session.scalars(stmt))
    return sorted(ids, key=lambda p: (per_product.get(p, (0,))[0], p))[:limit]


def _titles(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        db.session.execute(select(Product.id, Product.title).where(Product.id.in_(ids))).all()
    )


# --- customers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Acquisition:
    period_start: dt.date
    new_customers: int


@dataclass(frozen=True)
class Cohort:
    month: dt.date  # the month of the customers' first purchase
    customers: int
    active: tuple[int, ...]  # customers buying again in month 0, 1, 2 ... after (to `to`)
    retention: tuple[Decimal | None, ...]  # active / customers


@dataclass(frozen=True)
class Customers:
    period: Period
    granularity: str
    acquisition: tuple[Acquisition, ...]
    cohorts: tuple[Cohort, ...]
    customers: int  # customers who bought in the period
    repeat_customers: int  # ... more than once in it
    repeat_rate: Decimal | None


def _month_index(first: dt.date, day: dt.date) -> int:
    return (day.year - first.year) * 12 + day.month - first.month


def customers(actor: Actor, period: Period, granularity: str = "month") -> Customers:
    seller_id = scope_of(actor)
    scope = maintain.SHOP if seller_id is None else seller_id
    firsts = dict(
        db.session.execute(
            select(CustomerSummary.customer_user_id, CustomerSummary.first_order_day).where(
                CustomerSummary.seller_id == scope,
                CustomerSummary.orders > 0,
                CustomerSummary.first_order_day >= period.start,
                CustomerSummary.first_order_day <= period.end,
            )
        ).all()
    )
    acquired: dict[dt.date, int] = defaultdict(int)
    for first in firsts.values():
        acquired[bucket(first, granularity)] += 1
    acquisition = tuple(Acquisition(b, acquired.get(b, 0)) for b in buckets(period, granularity))
    # cohorts: the period's new customers by first month, and who bought in each month after
    activity = db.session.execute(
        select(CustomerDay.customer_user_id, CustomerDay.day).where(
            CustomerDay.seller_id == scope,
            CustomerDay.orders > 0,
            CustomerDay.day >= period.start.replace(day=1),
            CustomerDay.day <= period.end,
        )
    ).all()
    active_months: dict[int, set[int]] = defaultdict(set)
    for user, day in activity:
        if user in firsts:
            active_months[user].add(_month_index(firsts[user].replace(day=1), day))
    months = sorted({first.replace(day=1) for first in firsts.values()})
    cohorts = []
    for month in months:
        members = [u for u, f in firsts.items() if f.replace(day=1) == month]
        span = _month_index(month, period.end) + 1
        active = tuple(sum(1 for u in members if i in active_months[u]) for i in range(span))
        cohorts.append(
            Cohort(month, len(members), active, tuple(ratio(a, len(members)) for a in active))
        )
    in_period = db.session.execute(
        select(CustomerDay.customer_user_id, func.sum(CustomerDay.orders))
        .where(CustomerDay.seller_id == scope, *_days(CustomerDay, period))
        .group_by(CustomerDay.customer_user_id)
    ).all()
    buyers = [int(n or 0) for _, n in in_period if n]
    repeat = sum(1 for n in buyers if n >= 2)
    return Customers(
        period=period,
        granularity=granularity,
        acquisition=acquisition,
        cohorts=tuple(cohorts),
        customers=len(buyers),
        repeat_customers=repeat,
        repeat_rate=ratio(repeat, len(buyers)),
    )
