"""The nightly rebuild: a tenant's aggregates recomputed from the source for a window of local
days (default: all of them), compared with the stored ones, replaced, and the drift reported.

The sales, category and product tables are recomputed with the consumers' own function
(maintain.contributions), so a rebuild equals what the consumers maintain when no event was lost;
any difference is drift (a lost or failed event, a row written behind the services' back) and is
reported row by row (the first DRIFT_EXAMPLES) with the figures' total difference. The
sub-orders' facts are replaced too, so later events apply on top of the repaired rows. Customers
with a sale placed in the window are recomputed whole (their first order may be older). Product
views and cart adds are folded in from customer_activities here, and only here; their changes
are reported as `activity`, not as drift.

Run it for one tenant at a time, outside busy hours (the schedule: 03:10 UTC, queue low); an
order event consumed while the same window is being replaced may be counted twice or not at all
until the next rebuild, which then reports it as drift.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import delete, insert, select

from analytics.aggregates import maintain
from analytics.aggregates.models import (
    TABLES,
    CustomerDay,
    CustomerSummary,
    ProductActivityDaily,
    SubOrderFact,
)
from app.catalog.models import Product
from app.customers.engagement_models import CustomerActivity
from app.extensions import db
from app.orders.models import Order, SubOrder

log = logging.getLogger(__name__)

DRIFT_EXAMPLES = 10
ACTIVITIES = {"product_view": "views", "add_to_cart": "cart_adds"}


def _window(tenant_id: int, days: int | None, today: dt.date | None, zone):
    if days is None:
        return None, None
    today = today or maintain.local_day(dt.datetime.now(dt.timezone.utc), zone)
    start = today - dt.timedelta(days=days - 1)
    return (start, today), maintain.day_bounds(start, today, zone)


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _compare(name: str, expected: dict, stored: dict, summed: tuple | None = None) -> dict:
    """Rows (key -> {measure: value}) expected vs stored; rows of zeros count as absent. The
    figures: the total difference of each measure (of the `summed` ones only, when given)."""

    def live(rows):
        return {k: v for k, v in rows.items() if any(v.values())}

    expected, stored = live(expected), live(stored)
    missing = sorted(expected.keys() - stored.keys(), key=str)
    extra = sorted(stored.keys() - expected.keys(), key=str)
    different = sorted(
        (k for k in expected.keys() & stored.keys() if expected[k] != stored[k]), key=str
    )
    figures: dict[str, Decimal | int] = defaultdict(int)
    examples = []
    for key in [*missing, *extra, *different]:
        want, have = expected.get(key, {}), stored.get(key, {})
        for measure in want.keys() | have.keys():
            if summed is not None and measure not in summed:
                continue
            d = want.get(measure, 0) - have.get(measure, 0)
            if d:
                figures[measure] += d
        if len(examples) < DRIFT_EXAMPLES:
            examples.append(
                {
                    "key": [_plain(p) for p in key],
                    "stored": {m: _plain(v) for m, v in have.items()},
                    "rebuilt": {m: _plain(v) for m, v in want.items()},
                }
            )
    return {
        "table": name,
        "rows_missing": len(missing),
        "rows_extra": len(extra),
        "rows_different": len(different),
        "figures": {m: _plain(v) for m, v in sorted(figures.items())},
        "examples": examples,
    }


def _stored(model, tenant_id: int, key_columns, measures, day_range, extra=()):
    table = model.__table__
    stmt = select(*(table.c[k] for k in key_columns), *(table.c[m] for m in measures)).where(
        table.c.tenant_id == tenant_id, *extra
    )
    if day_range is not None:
        stmt = stmt.where(table.c.day >= day_range[0], table.c.day <= day_range[1])
    n = len(key_columns)
    return {
        tuple(row[:n]): {m: v for m, v in zip(measures, row[n:], strict=True)}
        for row in db.session.execute(stmt)
    }


def _replace(model, tenant_id: int, rows: dict, key_columns, day_range, extra=()) -> None:
    table = model.__table__
    stmt = delete(table).where(table.c.tenant_id == tenant_id, *extra)
    if day_range is not None:
        stmt = stmt.where(table.c.day >= day_range[0], table.c.day <= day_range[1])
    db.session.execute(stmt)
    batch = [
        {"tenant_id": tenant_id, **dict(zip(key_columns, key, strict=True)), **values}
        for key, values in rows.items()
        if any(values.values())
    ]
    for i in range(0, len(batch), maintain.CHUNK):
        db.session.execute(insert(table), batch[i : i + maintain.CHUNK])


def _sales_tables(tenant_id, zone, bounds, day_range, report):
    conditions = []
    if bounds is not None:
        conditions = [SubOrder.created_at >= bounds[0], SubOrder.created_at < bounds[1]]
    sources = maintain.load_sources(*conditions)
    facts = {}
    expected: dict[str, dict] = {name: {} for name in TABLES}
    for source in sources:
        rows = maintain.contributions(source, zone)
        facts[source.sub_order_id] = rows
        for key, measures in rows.items():
            name, values = maintain._parse_key(key)
            model = TABLES[name]
            row_key = tuple(values[k] for k in model.KEY)
            target = expected[name].setdefault(row_key, dict.fromkeys(model.MEASURES, 0))
            for measure, value in measures.items():
                target[measure] += maintain._as_number(value)
    for name, model in TABLES.items():
        stored = _stored(model, tenant_id, model.KEY, model.MEASURES, day_range)
        report["drift"].append(_compare(model.__tablename__, expected[name], stored))
        _replace(model, tenant_id, expected[name], model.KEY, day_range)
    # the facts of the window's sub-orders (all of the tenant's, for a full rebuild)
    table = SubOrderFact.__table__
    if bounds is None:
        db.session.execute(delete(table).where(table.c.tenant_id == tenant_id))
    else:
        for chunk in maintain._chunks(sorted(facts)):
            db.session.execute(
                delete(table).where(table.c.tenant_id == tenant_id, table.c.sub_order_id.in_(chunk))
            )
    now = dt.datetime.now(dt.timezone.utc)
    batch = [
        {"tenant_id": tenant_id, "sub_order_id": i, "contributions": c, "updated_at": now}
        for i, c in sorted(facts.items())
    ]
    for i in range(0, len(batch), maintain.CHUNK):
        db.session.execute(insert(table), batch[i : i + maintain.CHUNK])
    report["sub_orders"] = len(sources)
    return sources


def _customers(tenant_id, zone, window_sources, full: bool, report):
    if full:
        sources = maintain.load_sources(Order.customer_user_id.is_not(None))
    else:
        users = sorted({s.customer_user_id for s in window_sources if s.customer_user_id})
        sources = []
        for chunk in maintain._chunks(users):
            sources += maintain.load_sources(Order.customer_user_id.in_(chunk))
    by_user = defaultdict(list)
    for source in sources:
        by_user[source.customer_user_id].append(source)
    rows = {user: maintain.customer_rows(user, subs, zone) for user, subs in by_user.items()}
    summary_cols = ("first_order_at", "last_order_at", "first_order_day", "orders")
    users = sorted(rows)
    expected_summaries, expected_days = {}, {}
    for user, (summaries, days) in rows.items():
        for scope, figures in summaries.items():
            expected_summaries[(scope, user)] = {
                **{c: figures[c] for c in summary_cols},
            }
        for (scope, day, currency), figures in days.items():
            expected_days[(scope, user, day, currency)] = dict(figures)
    summary_filter = [CustomerSummary.__table__.c.orders > 0]
    if not full:
        summary_filter.append(CustomerSummary.__table__.c.customer_user_id.in_(users or [0]))
    stored = _stored(
        CustomerSummary,
        tenant_id,
        ("seller_id", "customer_user_id"),
        summary_cols,
        None,
        summary_filter,
    )
    for values in stored.values():  # stored naive on MariaDB: compare as UTC
        for c in ("first_order_at", "last_order_at"):
            if values[c] is not None and values[c].tzinfo is None:
                values[c] = values[c].replace(tzinfo=dt.timezone.utc)
    report["drift"].append(
        _compare(
            CustomerSummary.__tablename__,
            _timeless(expected_summaries),
            _timeless(stored),
            summed=("orders",),
        )
    )
    day_filter = [] if full else [CustomerDay.__table__.c.customer_user_id.in_(users or [0])]
    stored_days = _stored(
        CustomerDay,
        tenant_id,
        ("seller_id", "customer_user_id", "day", "currency"),
        ("orders", "spend"),
        None,
        day_filter,
    )
    report["drift"].append(_compare(CustomerDay.__tablename__, expected_days, stored_days))
    if full:
        for model in (CustomerDay, CustomerSummary):
            db.session.execute(
                delete(model.__table__).where(model.__table__.c.tenant_id == tenant_id)
            )
    maintain._write_customers(tenant_id, rows)
    report["customers"] = len(rows)


def _timeless(rows: dict) -> dict:
    """Summary rows with their moments as seconds (the comparison's units)."""
    out = {}
    for key, values in rows.items():
        plain = dict(values)
        for c in ("first_order_at", "last_order_at"):
            if plain.get(c) is not None:
                plain[c] = int(plain[c].timestamp())
        plain["first_order_day"] = (
            plain["first_order_day"].toordinal() if plain.get("first_order_day") else 0
        )
        out[key] = plain
    return out


def _activity(tenant_id, zone, bounds, day_range, report):
    stmt = (
        select(CustomerActivity.created_at, CustomerActivity.product_id, CustomerActivity.type)
        .add_columns(Product.seller_id)
        .join(Product, Product.id == CustomerActivity.product_id)
        .where(CustomerActivity.type.in_(ACTIVITIES))
    )
    if bounds is not None:
        stmt = stmt.where(
            CustomerActivity.created_at >= bounds[0], CustomerActivity.created_at < bounds[1]
        )
    expected: dict[tuple, dict] = {}
    for created_at, product_id, kind, seller_id in db.session.execute(
        stmt.execution_options(yield_per=5000)
    ):
        key = (maintain.local_day(created_at, zone), product_id, seller_id)
        row = expected.setdefault(key, {"views": 0, "cart_adds": 0})
        row[ACTIVITIES[kind]] += 1
    model = ProductActivityDaily
    stored = _stored(model, tenant_id, model.KEY, model.MEASURES, day_range)
    changed = _compare(model.__tablename__, expected, stored)
    report["activity"] = {k: changed[k] for k in ("rows_missing", "rows_extra", "rows_different")}
    report["activity"]["rows"] = len(expected)
    _replace(model, tenant_id, expected, model.KEY, day_range)


def rebuild(tenant_id: int, days: int | None = None, *, today: dt.date | None = None) -> dict:
    """Recompute the current tenant's aggregates (`tenant_id`, in its scope) for the last `days`
    local days up to `today` (all of them when None), replace them, commit, and return the
    report: the window, the drift per table, the activity folded in, the time taken."""
    started = dt.datetime.now(dt.timezone.utc)
    zone = maintain.tenant_zone(tenant_id)
    day_range, bounds = _window(tenant_id, days, today, zone)
    report = {
        "tenant_id": tenant_id,
        "time_zone": str(zone),
        "window": None if day_range is None else [d.isoformat() for d in day_range],
        "drift": [],
    }
    sources = _sales_tables(tenant_id, zone, bounds, day_range, report)
    _customers(tenant_id, zone, sources, day_range is None, report)
    _activity(tenant_id, zone, bounds, day_range, report)
    db.session.commit()
    report["drifted"] = any(
        t["rows_missing"] or t["rows_extra"] or t["rows_different"] for t in report["drift"]
    )
    report["seconds"] = round((dt.datetime.now(dt.timezone.utc) - started).total_seconds(), 3)
    level = logging.WARNING if report["drifted"] else logging.INFO
    log.log(level, "analytics rebuild of tenant %s: %s", tenant_id, _summary(report))
    return report


def _summary(report: dict) -> str:
    parts = [
        f"{t['table']}: {t['rows_missing']} missing, {t['rows_extra']} extra, "
        f"{t['rows_different']} different {t['figures']}"
        for t in report["drift"]
        if t["rows_missing"] or t["rows_extra"] or t["rows_different"]
    ]
    return "; ".join(parts) or "no drift"


NIGHTLY_DAYS = 35  # the nightly job's window; `flask`/an operator may rebuild everything


def refresh_activity(tenant_id: int, days: int = 2, *, today: dt.date | None = None) -> dict:
    """Fold the last `days` local days of product views and cart adds in (the hourly job), so
    the conversion figures lag by at most an hour without an event per page view."""
    zone = maintain.tenant_zone(tenant_id)
    day_range, bounds = _window(tenant_id, days, today, zone)
    report: dict = {"tenant_id": tenant_id, "window": [d.isoformat() for d in day_range]}
    _activity(tenant_id, zone, bounds, day_range, report)
    db.session.commit()
    return report
