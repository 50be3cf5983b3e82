"""Analytics reports: the Analytics API's figures (analytics.metrics) and the inventory analytics'
(analytics.inventory) as tables, for CSV and XLSX files (/api/v1/analytics/reports/).

One home for every figure: each report calls the very function its JSON endpoint calls, with the
caller's actor, so a report holds the same numbers and the same scoping (an Admin the shop's, an
approved Seller exactly its own, anyone else PermissionDenied). A report only reshapes them into
rows: one row per (bucket, currency), per (group, currency), per product in a list, per cohort
month offset, per variant and currency.

Money stays per currency: every money column sits beside a `currency` column on the same row and
nothing is added across currencies. Dates are the tenant's local days (its time zone, UTC when
unset), as the JSON answers give them. Text cells (product titles, store names) are neutralised
against formula injection by the writers (app.dataio.exports).

A report of more than DATA_EXPORT_SYNC_MAX_ROWS rows is made by a background export of kind
ANALYTICS_REPORT: its params hold the resolved period (never "the last 30 days", which would move
between the request and the job) and the report's options; `_report_source` rebuilds it as the
user who asked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from analytics import inventory, metrics
from app.core.errors import NotFound, ValidationError
from app.dataio import exports
from app.dataio.models import DataExport
from app.extensions import db
from app.security.actor import Actor
from app.security.models import User

ANALYTICS_REPORT = "analytics_report"  # DataExport.kind (16 characters: the column's width)
INVENTORY_PAGE = 100

SALES_MEASURES = ["orders", "units", "gross", "refunded", "commission", "net"]


@dataclass(frozen=True)
class Options:
    """What a report is asked for: its period (local days, inclusive) and its options."""

    period: metrics.Period
    limit: int = metrics.DEFAULT_LIMIT

    def params(self) -> dict:
        return {
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "limit": self.limit,
        }


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    description: str
    granularity: str  # the period's longest span: metrics.MAX_DAYS[granularity]
    options: tuple[str, ...]  # the query options it reads besides from/to/format
    build: Callable[[Actor, Options], tuple[list[str], Iterator[tuple], int]]

    @property
    def max_days(self) -> int:
        return metrics.MAX_DAYS[self.granularity]


# --- the reports ------------------------------------------------------------------------------


def _sales_over_time(granularity: str):
    def build(actor: Actor, options: Options):
        answer = metrics.sales(actor, options.period, granularity, None)
        rows = sorted(
            (
                (p.period_start, s.currency, *(getattr(p, m) for m in SALES_MEASURES))
                for s in answer.series
                for p in s.points
            ),
            key=lambda r: (r[0], r[1]),
        )
        return ["period_start", "currency", *SALES_MEASURES], iter(rows), len(rows)

    return build


def _sales_by(group_by: str):
    def build(actor: Actor, options: Options):
        answer = metrics.sales(actor, options.period, "month", group_by)
        rows = [
            (s.currency, s.group, s.label, *(getattr(s.totals, m) for m in SALES_MEASURES))
            for s in answer.series
        ]
        key = "channel" if group_by == "channel" else f"{group_by}_id"
        return ["currency", key, "label", *SALES_MEASURES], iter(rows), len(rows)

    return build


PRODUCT_COLUMNS = [
    "product_id",
    "title",
    "currency",
    "revenue",
    "units",
    "orders",
    "units_refunded",
    "views",
    "view_to_purchase_rate",
    "refund_rate",
]


def _products(actor: Actor, options: Options):
    answer = metrics.products(actor, options.period, options.limit)
    rows = [
        (name, rank, *(getattr(p, c) for c in PRODUCT_COLUMNS))
        for name in ("top_by_revenue", "top_by_units", "slow_movers")
        for rank, p in enumerate(getattr(answer, name), start=1)
    ]
    return ["list", "rank", *PRODUCT_COLUMNS], iter(rows), len(rows)


def _acquisition(actor: Actor, options: Options):
    answer = metrics.customers(actor, options.period, "month")
    rows = [(a.period_start, a.new_customers) for a in answer.acquisition]
    return ["month", "new_customers"], iter(rows), len(rows)


def _cohorts(actor: Actor, options: Options):
    answer = metrics.customers(actor, options.period, "month")
    rows = [
        (c.month, c.customers, offset, active, retention)
        for c in answer.cohorts
        for offset, (active, retention) in enumerate(zip(c.active, c.retention, strict=True))
    ]
    return (
        ["cohort_month", "customers", "month_offset", "active", "retention"],
        iter(rows),
        len(rows),
    )


INVENTORY_COLUMNS = [
    "variant_id",
    "sku",
    "label",
    "seller_id",
    "currency",
    "stock_value",
    "on_hand",
    "reserved",
    "available",
    "units_sold",
    "average_on_hand",
    "turnover",
    "days_of_cover",
    "low_stock",
    "dead_stock",
    "last_sold_on",
    "reorder_point",
]


def _inventory(actor: Actor, options: Options):
    """One row per variant (and currency of its stock value: one), in the inventory analytics'
    order, read a page of INVENTORY_PAGE variants at a time. The count is the variants'."""

    def page(number: int):
        return inventory.inventory_analytics(
            actor,
            start=options.period.start,
            end=options.period.end,
            by="variant",
            page=number,
            page_size=INVENTORY_PAGE,
        )

    first = page(1)

    def rows() -> Iterator[tuple]:
        answer, number = first, 1
        while answer.items:
            for item in answer.items:
                values = [(m.currency, m.value) for m in item.stock_value] or [(None, None)]
                for currency, value in values:
                    yield (
                        item.key,
                        item.sku,
                        item.label,
                        item.seller_id,
                        currency,
                        value,
                        item.on_hand,
                        item.reserved,
                        item.available,
                        item.units_sold,
                        item.average_on_hand,
                        item.turnover,
                        item.days_of_cover,
                        item.low_stock,
                        item.dead_stock,
                        item.last_sold_on,
                        item.reorder_point,
                    )
            if number * INVENTORY_PAGE >= answer.total:
                return
            number += 1
            answer = page(number)

    return list(INVENTORY_COLUMNS), rows(), first.total


_ALL = (
    Report("sales-by-day", "Sales by day", "Orders, units and money per local day and currency",
           "day", (), _sales_over_time("day")),
    Report("sales-by-week", "Sales by week", "Per ISO week (its Monday) and currency",
           "week", (), _sales_over_time("week")),
    Report("sales-by-month", "Sales by month", "Per month (its first day) and currency",
           "month", (), _sales_over_time("month")),
    Report("sales-by-seller", "Sales by seller", "The period's totals per seller and currency",
           "month", (), _sales_by("seller")),
    Report("sales-by-category", "Sales by category",
           "The period's totals per category and currency (the category's lines, no shipping)",
           "month", (), _sales_by("category")),
    Report("sales-by-channel", "Sales by channel", "The period's totals per channel and currency",
           "month", (), _sales_by("channel")),
    Report("products", "Top products and slow movers",
           "Top products by revenue (per currency) and by units, and the slow movers, `limit` "
           "per list", "day", ("limit",), _products),
    Report("customer-acquisition", "Customer acquisition",
           "New customers (first purchase) per month", "month", (), _acquisition),
    Report("customer-cohorts", "Customer cohorts",
           "Monthly cohorts of new customers: active and retention per month after the first",
           "month", (), _cohorts),
    Report("inventory-snapshot", "Inventory snapshot",
           "Per variant: stock value now (at its price, per currency), units on hand, reserved "
           "and available, units sold in the period, turnover, days of cover, low and dead stock",
           "day", (), _inventory),
)  # fmt: skip
REPORTS: dict[str, Report] = {r.name: r for r in _ALL}


# --- building one -----------------------------------------------------------------------------


def catalogue() -> list[Report]:
    return list(_ALL)


def report_of(name: str) -> Report:
    report = REPORTS.get(name)
    if report is None:
        raise NotFound(f"no report {name!r}; one of: {', '.join(REPORTS)}")
    return report


def options_of(
    report: Report, start: dt.date | None, end: dt.date | None, limit: int | None = None
) -> Options:
    """The period asked for (metrics.period_of's rules at the report's granularity: 422 naming
    from/to) and the options; `limit` only for a report that reads it."""
    if limit is not None and "limit" not in report.options:
        raise ValidationError(
            f"the report {report.name} has no limit", details={"limit": ["not an option here"]}
        )
    period = metrics.period_of(start, end, granularity=report.granularity)
    return Options(period, limit if limit is not None else metrics.DEFAULT_LIMIT)


def report_table(actor: Actor, name: str, options: Options) -> exports.Table:
    """The report's rows the actor may see (the JSON endpoints' own scoping): a Table for the
    export writers; its title names the report and the period."""
    report = report_of(name)
    header, rows, count = report.build(actor, options)
    title = f"{report.title} {options.period.start} to {options.period.end}"
    return exports.Table(title, header, rows, count)


def _report_source(export: DataExport, path: Path) -> int:
    """A background report: rebuilt as the user who asked, for the period they were answered."""
    from app.sellers.actors import actor_for

    params = export.params or {}
    options = Options(
        metrics.Period(dt.date.fromisoformat(params["from"]), dt.date.fromisoformat(params["to"])),
        int(params.get("limit") or metrics.DEFAULT_LIMIT),
    )
    actor = actor_for(db.session.get(User, export.user_id))
    return exports.write_table(path, export.format, report_table(actor, export.source, options))


exports.register_source(ANALYTICS_REPORT, _report_source)
