"""Keeping the aggregates current: what a sub-order contributes (one pure function, used by the
event consumers and by the rebuild alike), the consumers, and the rebuild that repairs drift.

Incremental (exactly once per (event, consumer) by the bus, and idempotent besides): an order
event refreshes every sub-order of its order. Each sub-order's current contribution to the sales,
category and product tables is kept in analytics_sub_order_facts; the consumer locks those fact
rows (by sub-order id), recomputes the contribution from the source rows (READ COMMITTED: the
latest committed ones), and adds the difference to the aggregate rows with atomic upserts
(`x = x + :d`, keys in sorted order), never a read-modify-write in Python. A customer's rows are
recomputed whole from that customer's own sales under the lock of its user row (a first order
that gets cancelled moves the first order: not an increment). Locks, always in this order: the
order's row, its facts, the aggregate rows (sorted keys), the customer's user row.

The rebuild recomputes a tenant's tables from the source for a window of local days (or all of
them), compares them with what is stored, replaces them and reports the difference (drift). It
also folds product views and cart adds in from customer_activities (no event per page view:
that would double the cost of a product page), which is the only way they reach the aggregates.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import UniqueConstraint, delete, func, insert, select

from analytics.aggregates.models import (
    TABLES,
    CustomerDay,
    CustomerSummary,
    SubOrderFact,
)
from app.catalog.models import Product
from app.core.types import quantize_money, utcnow
from app.extensions import db
from app.orders.models import (
    Order,
    OrderLine,
    RefundRequest,
    RefundRequestLine,
    RefundRequestStatus,
    SubOrder,
)
from app.orders.states import OrderStatus
from app.security.models import User
from app.tenants.models import Tenant

log = logging.getLogger(__name__)

ZERO = Decimal("0")
NOT_SALES = (OrderStatus.PENDING, OrderStatus.CANCELLED)
# Orders carry no channel today: every order is placed through the storefront checkout
# (/api/v1/orders/). The column is there for the first other channel (POS, a marketplace feed).
CHANNEL = "storefront"
SHOP = 0  # seller_id of the customer rows that cover the whole shop
CHUNK = 500


# --- time --------------------------------------------------------------------------------------


def tenant_zone(tenant_id: int) -> ZoneInfo:
    """The tenant's time zone (UTC when unset or unknown)."""
    name = db.session.scalar(select(Tenant.time_zone).where(Tenant.id == tenant_id))
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("tenant %s has an unknown time zone %r: UTC", tenant_id, name)
        return ZoneInfo("UTC")


def local_day(moment: dt.datetime, zone: ZoneInfo) -> dt.date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(zone).date()


def day_bounds(start: dt.date, end: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[first instant of `start`, first instant after `end`) in UTC, local days of `zone`."""

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.timezone.utc)

    return midnight(start), midnight(end + dt.timedelta(days=1))


# --- the source --------------------------------------------------------------------------------


@dataclass
class Line:
    line_id: int
    product_id: int
    category_id: int
    quantity: int
    total: Decimal
    commission: Decimal
    refunded_units: int = 0


@dataclass
class Source:
    """One sub-order as the aggregates read it."""

    sub_order_id: int
    order_id: int
    seller_id: int
    status: str
    total: Decimal
    commission: Decimal
    created_at: dt.datetime
    currency: str
    customer_user_id: int | None
    refunded_by_requests: Decimal = ZERO
    lines: list[Line] | None = None
    carries_order: bool = False  # the first sale of its order: it counts the order shop-wide

    @property
    def is_sale(self) -> bool:
        return self.status not in NOT_SALES

    @property
    def refunded(self) -> Decimal:
        """As app.dashboards: all of it once refunded, else its completed refund requests."""
        if self.status == OrderStatus.REFUNDED:
            return self.total
        return self.refunded_by_requests


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def load_sources(*conditions) -> list[Source]:
    """The sub-orders matching `conditions` (on SubOrder / Order), with their lines, completed
    refunds and refunded units, and which one carries its order (whole orders must be loaded)."""
    rows = db.session.execute(
        select(
            SubOrder.id,
            SubOrder.order_id,
            SubOrder.seller_id,
            SubOrder.status,
            SubOrder.total,
            SubOrder.commission_amount,
            SubOrder.created_at,
            Order.currency,
            Order.customer_user_id,
        )
        .join(Order, Order.id == SubOrder.order_id)
        .where(*conditions)
        .order_by(SubOrder.id)
    ).all()
    sources = {row[0]: Source(*row, lines=[]) for row in rows}
    ids = sorted(sources)
    lines_by_id: dict[int, Line] = {}
    for chunk in _chunks(ids):
        for sub_id, amount in db.session.execute(
            select(RefundRequest.sub_order_id, func.sum(RefundRequest.amount))
            .where(
                RefundRequest.sub_order_id.in_(chunk),
                RefundRequest.status == RefundRequestStatus.COMPLETED,
            )
            .group_by(RefundRequest.sub_order_id)
        ):
            sources[sub_id].refunded_by_requests = Decimal(str(amount or 0))
        for line_id, sub_id, product_id, category_id, qty, total, commission in db.session.execute(
            select(
                OrderLine.id,
                OrderLine.sub_order_id,
                OrderLine.product_id,
                Product.category_id,
                OrderLine.quantity,
                OrderLine.total,
                OrderLine.commission_amount,
            )
            .outerjoin(Product, Product.id == OrderLine.product_id)
            .where(OrderLine.sub_order_id.in_(chunk))
            .order_by(OrderLine.id)
        ):
            line = Line(line_id, product_id or 0, category_id or 0, qty, total, commission)
            sources[sub_id].lines.append(line)
            lines_by_id[line_id] = line
        for line_id, units in db.session.execute(
            select(RefundRequestLine.order_line_id, func.sum(RefundRequestLine.quantity))
            .join(RefundRequest, RefundRequest.id == RefundRequestLine.refund_request_id)
            .where(
                RefundRequest.sub_order_id.in_(chunk),
                RefundRequest.status == RefundRequestStatus.COMPLETED,
            )
            .group_by(RefundRequestLine.order_line_id)
        ):
            if line_id in lines_by_id:
                lines_by_id[line_id].refunded_units = int(units or 0)
    first_sale: dict[int, int] = {}
    for source in sources.values():
        if source.is_sale:
            first_sale.setdefault(source.order_id, source.sub_order_id)
    for sub_id in first_sale.values():
        sources[sub_id].carries_order = True
    return [sources[i] for i in ids]


# --- what a sub-order contributes --------------------------------------------------------------


def _key(table: str, *parts) -> str:
    return "|".join((table, *(str(p) for p in parts)))


def _parse_key(key: str) -> tuple[str, dict]:
    table, *parts = key.split("|")
    model = TABLES[table]
    values = {}
    for name, part in zip(model.KEY, parts, strict=True):
        if name == "day":
            values[name] = dt.date.fromisoformat(part)
        elif name.endswith("_id"):
            values[name] = int(part)
        else:
            values[name] = part
    return table, values


def _share(amount: Decimal, part: Decimal, whole: Decimal, currency: str) -> Decimal:
    return quantize_money(amount * part / whole, currency) if whole else ZERO


def contributions(source: Source, zone: ZoneInfo) -> dict[str, dict]:
    """{row key: {measure: value}} that this sub-order adds to the sales, category and product
    tables now; nothing unless it is a sale. Money as strings (JSON), counts as ints.

    - sales: orders 1, shop_orders 1 on its order's first sale, units, gross (its total),
      refunded, commission kept on what was not refunded (as app.dashboards), net.
    - category: its lines of the category: units, gross (line totals), refunded and commission
      allocated by the lines' share of the sub-order's total, net.
    - product: its lines of the product: units, revenue (line totals), units refunded (the lines
      of completed refund requests; all of them once the sub-order is refunded)."""
    if not source.is_sale:
        return {}
    currency, day, seller = source.currency, local_day(source.created_at, zone), source.seller_id
    total, refunded = source.total, source.refunded
    kept = total - refunded
    commission = _share(source.commission, kept, total, currency)
    out: dict[str, dict] = {
        _key("sales", day, seller, CHANNEL, currency): {
            "orders": 1,
            "shop_orders": 1 if source.carries_order else 0,
            "units": sum(line.quantity for line in source.lines),
            "gross": str(total),
            "refunded": str(refunded),
            "commission": str(commission),
            "net": str(total - refunded - commission),
        }
    }
    by_category: dict[int, list[Line]] = defaultdict(list)
    by_product: dict[int, list[Line]] = defaultdict(list)
    for line in source.lines:
        by_category[line.category_id].append(line)
        by_product[line.product_id].append(line)
    for category_id, lines in sorted(by_category.items()):
        gross = sum((line.total for line in lines), ZERO)
        part_refunded = _share(refunded, gross, total, currency)
        part_commission = _share(sum((ln.commission for ln in lines), ZERO), kept, total, currency)
        out[_key("category", day, seller, category_id, CHANNEL, currency)] = {
            "orders": 1,
            "units": sum(line.quantity for line in lines),
            "gross": str(gross),
            "refunded": str(part_refunded),
            "commission": str(part_commission),
            "net": str(gross - part_refunded - part_commission),
        }
    fully = source.status == OrderStatus.REFUNDED
    for product_id, lines in sorted(by_product.items()):
        units = sum(line.quantity for line in lines)
        out[_key("product", day, product_id, seller, currency)] = {
            "orders": 1,
            "units": units,
            "revenue": str(sum((line.total for line in lines), ZERO)),
            "units_refunded": units if fully else sum(ln.refunded_units for ln in lines),
        }
    return out


def _as_number(measure_value) -> Decimal | int:
    return Decimal(measure_value) if isinstance(measure_value, str) else int(measure_value)


def difference(old: dict, new: dict) -> dict[str, dict]:
    """new - old, per row key and measure, without the keys that do not change."""
    changes = {}
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key, {}), new.get(key, {})
        delta = {}
        for measure in before.keys() | after.keys():
            d = _as_number(after.get(measure, 0)) - _as_number(before.get(measure, 0))
            if d:
                delta[measure] = d
        if delta:
            changes[key] = delta
    return changes


# --- writing -----------------------------------------------------------------------------------


def _unique_columns(model) -> list[str]:
    constraint = next(
        c for c in model.__table__.constraints if isinstance(c, UniqueConstraint) and c.name
    )
    return [c.name for c in constraint.columns]


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _upsert_add(model, tenant_id: int, key: dict, delta: dict) -> None:
    """INSERT the row with `delta` as its values, or add `delta` to the row already there, in one
    atomic statement."""
    table = model.__table__
    values = {"tenant_id": tenant_id, **key, **{m: delta.get(m, 0) for m in model.MEASURES}}
    if _dialect() in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        stmt = mysql_insert(table).values(**values)
        stmt = stmt.on_duplicate_key_update({m: table.c[m] + stmt.inserted[m] for m in delta})
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=_unique_columns(model),
            set_={m: table.c[m] + stmt.excluded[m] for m in delta},
        )
    db.session.execute(stmt)


def _insert_locked(model, rows: list[dict], column: str) -> None:
    """Insert rows that may exist already, leaving existing ones as they are; on MariaDB an
    upsert that changes nothing, which takes each row's exclusive lock at once (INSERT IGNORE
    would take a shared one first: two consumers holding it both wait to upgrade, a deadlock)."""
    if not rows:
        return
    table = model.__table__
    if _dialect() in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        stmt = mysql_insert(table).values(rows)
        stmt = stmt.on_duplicate_key_update({column: table.c[column]})
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).values(rows).on_conflict_do_nothing()
    db.session.execute(stmt)


def apply(tenant_id: int, changes: dict[str, dict]) -> None:
    for key in sorted(changes):  # one order of locks for every consumer: no deadlock between two
        table, values = _parse_key(key)
        _upsert_add(TABLES[table], tenant_id, values, changes[key])


def _lock_facts(tenant_id: int, sub_ids: list[int]) -> dict[int, SubOrderFact]:
    """The sub-orders' fact rows, created when missing, locked (in sub-order id order)."""
    now = utcnow()
    _insert_locked(
        SubOrderFact,
        [
            {"tenant_id": tenant_id, "sub_order_id": i, "contributions": {}, "updated_at": now}
            for i in sorted(sub_ids)
        ],
        "sub_order_id",
    )
    return {
        fact.sub_order_id: fact
        for fact in db.session.scalars(
            select(SubOrderFact)
            .where(SubOrderFact.sub_order_id.in_(sub_ids))
            .order_by(SubOrderFact.sub_order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }


# --- the consumers -----------------------------------------------------------------------------


def refresh_order(tenant_id: int, order_id: int) -> None:
    """Bring every aggregate an order touches up to date (its sub-orders' contributions, its
    customer's rows), inside the caller's transaction (the consumer's)."""
    zone = tenant_zone(tenant_id)
    # the order's row, an existing one, serializes the consumers of its events (the facts' own
    # rows may not exist yet: concurrent inserts of one new key can deadlock on MariaDB)
    db.session.execute(select(Order.id).where(Order.id == order_id).with_for_update())
    sub_ids = list(
        db.session.scalars(
            select(SubOrder.id).where(SubOrder.order_id == order_id).order_by(SubOrder.id)
        )
    )
    if not sub_ids:
        return
    facts = _lock_facts(tenant_id, sub_ids)
    sources = load_sources(SubOrder.order_id == order_id)
    changes: dict[str, dict] = {}
    for source in sources:
        fact = facts[source.sub_order_id]
        now = contributions(source, zone)
        for key, delta in difference(fact.contributions or {}, now).items():
            merged = changes.setdefault(key, {})
            for measure, d in delta.items():
                merged[measure] = merged.get(measure, 0) + d
        if now != fact.contributions:
            fact.contributions, fact.updated_at = now, utcnow()
    apply(tenant_id, changes)
    customer = sources[0].customer_user_id if sources else None
    if customer is not None:
        refresh_customer(tenant_id, customer, zone)


def on_order_event(event) -> None:
    """Consumer of order.created, order.status_changed and refund.completed (jobs/subscribers)."""
    order_id = (event.payload or {}).get("order_id")
    if order_id is not None:
        refresh_order(event.tenant_id, int(order_id))


# --- customers ---------------------------------------------------------------------------------


def customer_rows(
    user_id: int, sources: list[Source], zone: ZoneInfo
) -> tuple[dict[int, dict], dict[tuple, dict]]:
    """A customer's summary rows ({seller_id or SHOP: {first_order_at, last_order_at,
    first_order_day, orders}}) and day rows ({(seller_id, day, currency): {orders, spend}}) from
    its sub-orders (sales only). Shop-wide an order counts once, at its placing time; spend is
    what it paid net of refunds."""
    moments: dict[int, list[dt.datetime]] = defaultdict(list)
    days: dict[tuple, dict] = {}
    orders_seen: set[int] = set()
    for source in sources:
        if not source.is_sale:
            continue
        day = local_day(source.created_at, zone)
        spend = source.total - source.refunded
        scopes = [source.seller_id]
        if source.order_id not in orders_seen:
            orders_seen.add(source.order_id)
            moments[SHOP].append(source.created_at)
            scopes_orders = {SHOP: 1, source.seller_id: 1}
        else:
            scopes_orders = {SHOP: 0, source.seller_id: 1}
        moments[source.seller_id].append(source.created_at)
        for scope in [SHOP, *scopes]:
            row = days.setdefault((scope, day, source.currency), {"orders": 0, "spend": ZERO})
            row["orders"] += scopes_orders[scope]
            row["spend"] += spend
    summaries = {
        scope: {
            "first_order_at": min(times),
            "last_order_at": max(times),
            "first_order_day": local_day(min(times), zone),
            "orders": len(times),
        }
        for scope, times in moments.items()
    }
    return summaries, days


def _write_customers(
    tenant_id: int, rows: dict[int, tuple[dict[int, dict], dict[tuple, dict]]]
) -> None:
    """Replace the rows of these customers ({user_id: (summaries, days)})."""
    users = sorted(rows)
    for chunk in _chunks(users):
        for model in (CustomerDay, CustomerSummary):
            db.session.execute(
                delete(model.__table__).where(
                    model.__table__.c.tenant_id == tenant_id,
                    model.__table__.c.customer_user_id.in_(chunk),
                )
            )
    summary_rows, day_rows = [], []
    for user_id in users:
        summaries, days = rows[user_id]
        if SHOP not in summaries:  # the lock row stays, with no sales
            summaries = {
                SHOP: {
                    "first_order_at": None,
                    "last_order_at": None,
                    "first_order_day": None,
                    "orders": 0,
                },
                **summaries,
            }
        for scope, figures in summaries.items():
            summary_rows.append(
                {"tenant_id": tenant_id, "seller_id": scope, "customer_user_id": user_id, **figures}
            )
        for (scope, day, currency), figures in days.items():
            day_rows.append(
                {
                    "tenant_id": tenant_id,
                    "seller_id": scope,
                    "customer_user_id": user_id,
                    "day": day,
                    "currency": currency,
                    **figures,
                }
            )
    for model, batch in ((CustomerSummary, summary_rows), (CustomerDay, day_rows)):
        for i in range(0, len(batch), CHUNK):
            db.session.execute(insert(model.__table__), batch[i : i + CHUNK])


def refresh_customer(tenant_id: int, user_id: int, zone: ZoneInfo) -> None:
    """Recompute one customer's rows under the lock of its user row (an existing row: the
    consumers of two orders of one customer wait for each other instead of racing to create its
    summary rows, which deadlocked)."""
    db.session.execute(select(User.id).where(User.id == user_id).with_for_update())
    sources = load_sources(Order.customer_user_id == user_id)
    _write_customers(tenant_id, {user_id: customer_rows(user_id, sources, zone)})
