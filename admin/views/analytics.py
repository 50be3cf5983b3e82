"""Analytics in the admin (issue 16): three pages drawn server-side from the same analytics functions
the API serves, for the signed-in user with the same scoping rules (analytics.metrics.scope_of,
analytics.inventory.scope_for, analytics.ml.forecast), charts drawn by admin/static/admin/analytics.js
from the JSON the page carries (no inline script: the admin's CSP).

- Sales analytics (/admin/analytics/): Admins the shop, Sellers exactly their own.
- Customer segments (/admin/analytics/segments/): Admins only (customers are the platform's).
- Stock analytics (/admin/analytics/inventory/): Admins the shop, Sellers their own stock.
- BI dashboards (/admin/analytics/bi/): Superset's dashboards embedded (issue 17), Admins the
  shop, Sellers their own rows (row-level security in the guest token).

A bad period, granularity or grouping in the query string is a flash and the default, never an
error page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from babel.dates import format_date
from flask import Response, abort, current_app, flash, jsonify, request, stream_with_context
from flask_appbuilder import AppBuilder, BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name

from admin import formatting
from admin.base import current_actor, shop_format
from analytics import bi as analytics_bi
from analytics import inventory as stock_analytics
from analytics import metrics
from analytics.ml import forecast as sales_forecast
from analytics.ml.customers import read as customer_models
from app.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.core.tenancy import current_tenant_id, tenant_scope
from app.dashboards import Period as StockPeriod
from app.dataio.exports import neutralise

PRESETS = (7, 30, 90, 365)
DEFAULT_DAYS = 30
GRANULARITY_TITLES = {"day": "Day", "week": "Week", "month": "Month"}
GROUP_TITLES = {None: "Total", "seller": "Seller", "category": "Category", "channel": "Channel"}
FORECAST_DAYS = 14
ACTUAL_DAYS = 28  # the actual days drawn before the forecast
PAGE_SIZE = 25


# --- the query string --------------------------------------------------------------------------


def _date(name: str) -> dt.date | None:
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"“{text}” is not a date (YYYY-MM-DD)") from None


def _choice(name: str, choices, default):
    value = request.args.get(name) or None
    if value is None or value in choices:
        return value if value is not None else default
    flash(
        f"Unknown {name.replace('_', ' ')} “{value}”: showing {default or 'the total'}.", "warning"
    )
    return default


def _page() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


def _asked_period(make, today: dt.date):
    """(start, end, preset days or None) of the query string, made into a period by `make`; on a
    bad date or period: a flash and the last 30 days."""
    days = request.args.get("days")
    try:
        if days:
            if not days.isdigit() or int(days) not in PRESETS:
                raise ValidationError(f"Pick a period of {', '.join(map(str, PRESETS))} days")
            n = int(days)
            return make(today - dt.timedelta(days=n - 1), today), n
        start, end = _date("from"), _date("to")
        if start is None and end is None:
            return make(None, None), DEFAULT_DAYS
        return make(start, end), None
    except ValidationError as bad:
        flash(f"{bad.message}: showing the last {DEFAULT_DAYS} days.", "warning")
        return make(None, None), DEFAULT_DAYS


def _period_text(period, fmt) -> str:
    start, end = (format_date(d, "medium", locale=fmt.locale) for d in (period.start, period.end))
    return f"{start} – {end}"


def _change_of(figure) -> dict:
    return {"pct": figure.change_pct, "previous": figure.previous}


# --- sales -------------------------------------------------------------------------------------


class SalesAnalyticsView(BaseView):
    route_base = "/admin/analytics"
    default_view = "index"
    base_permissions = ["can_list"]

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        actor, fmt = current_actor(), shop_format(None)
        is_admin = actor is not None and actor.is_admin
        granularity = _choice("granularity", metrics.GRANULARITIES, "day")
        groups = metrics.GROUPS if is_admin else tuple(g for g in metrics.GROUPS if g != "seller")
        group_by = _choice("group_by", groups, None)
        today = metrics.local_today() if current_tenant_id() else dt.date.today()
        period, days = _asked_period(
            lambda s, e: metrics.period_of(s, e, granularity=granularity, today=today), today
        )
        page = {
            "title": "Sales analytics",
            "fmt": fmt,
            "money": formatting.money,
            "percent": formatting.percent,
            "period": period,
            "days": days,
            "presets": PRESETS,
            "granularity": granularity,
            "granularities": GRANULARITY_TITLES,
            "group_by": group_by,
            "groups": {g: GROUP_TITLES[g] for g in (None, *groups)},
            "period_text": _period_text(period, fmt),
            "previous_text": _period_text(period.previous, fmt),
            "is_admin": is_admin,
        }
        try:
            figures = _sales_figures(actor, period, granularity, group_by, today, fmt)
        except PermissionDenied as refused:
            return self.render_template("admin/analytics/sales.html", note=refused.message, **page)
        return self.render_template("admin/analytics/sales.html", **page, **figures)


def _sales_figures(actor, period, granularity, group_by, today, fmt) -> dict:
    dashboard = metrics.dashboard(actor, period)
    sales = metrics.sales(actor, period, granularity, group_by)
    products = metrics.products(actor, period, 10)
    customers = metrics.customers(actor, period, granularity)
    # the actual series ends yesterday (today is not over), the forecast starts today
    recent = metrics.Period(today - dt.timedelta(days=ACTUAL_DAYS), today - dt.timedelta(days=1))
    actual = metrics.sales(actor, recent, "day", None)
    prediction = sales_forecast.forecast(actor, None, FORECAST_DAYS)
    label = _labeller(granularity, fmt, period)
    chart = {
        "locale": str(fmt.locale).replace("_", "-"),
        "sales": _sales_chart(sales, label),
        "forecast": _forecast_chart(actual, prediction, fmt),
        "acquisition": {
            "labels": [label(a.period_start) for a in customers.acquisition],
            "values": [a.new_customers for a in customers.acquisition],
        },
    }
    return {
        "dashboard": dashboard,
        "sales": sales,
        "products": products,
        "customers": customers,
        "forecast": prediction,
        "chart": chart,
        "cohort_months": max((len(c.retention) for c in customers.cohorts), default=0),
        "has_sales": bool(dashboard.currencies),
        "forecast_days": FORECAST_DAYS,
        "change_of": _change_of,
    }


def _labeller(granularity: str, fmt, period):
    """A bucket's label; a week or month the period only partly covers says so (its lower total
    is not a fall in sales)."""
    pattern = {"day": "d MMM", "week": "d MMM", "month": "MMM yyyy"}[granularity]
    prefix = "wk " if granularity == "week" else ""

    def last_day(first: dt.date) -> dt.date:
        if granularity == "week":
            return first + dt.timedelta(days=6)
        if granularity == "month":
            following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            return following - dt.timedelta(days=1)
        return first

    def label(first: dt.date) -> str:
        text = prefix + format_date(first, pattern, locale=fmt.locale)
        partial = first < period.start or last_day(first) > period.end
        return f"{text} (part)" if partial else text

    return label


def _sales_chart(sales: metrics.Sales, label) -> list[dict]:
    """One chart per currency: gross per bucket, a line per group (or the total)."""
    charts: dict[str, dict] = {}
    for series in sales.series:
        chart = charts.setdefault(
            series.currency,
            {
                "currency": series.currency,
                "labels": [label(p.period_start) for p in series.points],
                "series": [],
            },
        )
        chart["series"].append(
            {
                "label": series.label or ("Gross sales" if series.group is None else series.group),
                "values": [float(p.gross) for p in series.points],
                "orders": [p.orders for p in series.points],
            }
        )
    return list(charts.values())


def _forecast_chart(actual: metrics.Sales, prediction, fmt) -> list[dict]:
    """Per currency the forecast has: the last ACTUAL_DAYS days' gross, then the forecast's days
    (a dashed line) with its band; the actual line and the forecast meet at the last actual day."""
    out = []
    actual_of = {s.currency: s for s in actual.series}
    for series in prediction.series:
        past = actual_of.get(series.currency)
        past_days = [p.period_start for p in past.points] if past else []
        past_values = [float(p.gross) for p in past.points] if past else []
        future = [d for d in series.days if not past_days or d.day > past_days[-1]]
        n, m = len(past_days), len(future)
        lead = [None] * max(n - 1, 0)
        join = past_values[-1:] if n else []
        out.append(
            {
                "currency": series.currency,
                "labels": [format_date(d, "d MMM", locale=fmt.locale) for d in past_days]
                + [format_date(d.day, "d MMM", locale=fmt.locale) for d in future],
                "actual": past_values + [None] * m,
                "predicted": lead + join + [float(d.predicted) for d in future],
                "lower": lead + join + [float(d.lower) for d in future],
                "upper": lead + join + [float(d.upper) for d in future],
            }
        )
    return out


# --- customer segments -------------------------------------------------------------------------

CSV_HEADER = (
    "name",
    "email",
    "segment",
    "recency_days",
    "orders",
    "spend",
    "currency",
    "churn_probability",
    "predicted_value",
)


class CustomerSegmentsView(BaseView):
    route_base = "/admin/analytics/segments"
    default_view = "index"
    base_permissions = ["can_list", "can_export"]

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        fmt = shop_format(None)
        page = {"title": "Customer segments", "fmt": fmt, "money": formatting.money}
        try:
            segmentation = customer_models.segments()
            behaviour = customer_models.behavior()
        except Conflict:
            return self.render_template("admin/analytics/segments.html", trained=False, **page)
        names = [s["name"] for s in segmentation["segments"]]
        chosen = request.args.get("segment") or (names[0] if names else None)
        if chosen is not None and chosen not in names:
            flash(f"There is no segment “{chosen}” in the active model.", "warning")
            chosen = names[0] if names else None
        members = customer_models.segment_customers(chosen, _page(), PAGE_SIZE) if chosen else None
        return self.render_template(
            "admin/analytics/segments.html",
            trained=True,
            model=segmentation["model"],
            segments=segmentation["segments"],
            behaviour={b["segment"]: b for b in behaviour["segments"]},
            currency=behaviour["currency"],
            traits=_traits,
            churn=customer_models.churn_summary(),
            chosen=chosen,
            members=members,
            pages=_pages(members),
            **page,
        )

    @expose("/export/<segment>.csv")
    @has_access
    @permission_name("export")
    def export(self, segment):
        try:
            names = [s["name"] for s in customer_models.segments()["segments"]]
        except Conflict:
            abort(404)
        if segment not in names:
            abort(404)
        return Response(
            stream_with_context(_csv_chunks(segment, current_tenant_id())),
            mimetype="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="segment-{_slug(segment)}.csv"',
                "Cache-Control": "no-store",
            },
        )


def _slug(name: str) -> str:
    """A segment's name as a file name: "can't lose" -> "cant-lose", "promising 2" -> "promising-2"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower().replace("'", "")).strip("-") or "segment"


def _csv_chunks(segment: str, tenant_id: int):
    """The CSV in chunks of 200 rows; the rows are read as the response streams, after the view
    returned (the request's tenant is gone by then: the tenant is set again here)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    with tenant_scope(tenant_id):
        yield from _csv_rows(customer_models.segment_export_rows(segment), buffer, writer)


def _csv_rows(rows, buffer, writer):
    for i, row in enumerate(rows, 1):
        writer.writerow(["" if v is None else neutralise(v) for v in row])
        if i % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _traits(averages: dict | None, currency: str | None, fmt) -> str:
    """A segment's typical customer in words."""
    if not averages:
        return ""
    recency, frequency = averages.get("recency_days"), averages.get("frequency")
    spend = averages.get("monetary")
    words = []
    if recency is not None:
        words.append(f"last bought about {round(recency):,} days ago")
    if frequency is not None:
        n = round(frequency, 1)
        words.append(f"{n:g} order{'s' if n != 1 else ''} on average")
    if spend is not None:
        words.append(f"spent {formatting.money(spend, currency, fmt).striptags()} each")
    return ", ".join(words).capitalize()


def _pages(page) -> dict | None:
    if page is None:
        return None
    last = max(1, -(-page.total // page.page_size))
    return {"page": page.page, "last": last, "total": page.total}


# --- stock -------------------------------------------------------------------------------------


class StockAnalyticsView(BaseView):
    route_base = "/admin/analytics/inventory"
    default_view = "index"
    base_permissions = ["can_list"]

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        actor, fmt = current_actor(), shop_format(None)
        zone = stock_analytics.tenant_zone()
        today = stock_analytics.local_today(zone)
        period, days = _asked_period(lambda s, e: StockPeriod.of(s, e, today=today), today)
        page = {
            "title": "Stock analytics",
            "fmt": fmt,
            "money": formatting.money,
            "when": formatting.when,
            "days": days,
            "presets": PRESETS,
            "period_text": _period_text(period, fmt),
            "is_admin": actor is not None and actor.is_admin,
        }
        try:
            figures = stock_analytics.inventory_analytics(
                actor, start=period.start, end=period.end, page=_page(), page_size=PAGE_SIZE
            )
        except (PermissionDenied, NotFound) as refused:
            return self.render_template(
                "admin/analytics/inventory.html", note=refused.message, **page
            )
        series: dict[str, dict] = {}
        for point in figures.stock_value_series:
            series.setdefault(point.currency, {})[point.day] = float(point.value)
        chart_days = sorted({p.day for p in figures.stock_value_series})
        chart = {
            "locale": str(fmt.locale).replace("_", "-"),
            "labels": [format_date(d, "d MMM", locale=fmt.locale) for d in chart_days],
            "series": [
                {"currency": c, "values": [values.get(d) for d in chart_days]}
                for c, values in sorted(series.items())
            ],
        }
        pages = {
            "page": figures.page,
            "last": max(1, -(-figures.total // figures.page_size)),
            "total": figures.total,
        }
        return self.render_template(
            "admin/analytics/inventory.html",
            figures=figures,
            chart=chart,
            pages=pages,
            **page,
        )


def register(appbuilder: AppBuilder) -> None:
    add = appbuilder.add_view
    add(
        SalesAnalyticsView,
        "Sales analytics",
        icon="fa-line-chart",
        category="Analytics",
        category_icon="fa-bar-chart",
    )
    add(CustomerSegmentsView, "Customer segments", icon="fa-pie-chart", category="Analytics")
    add(StockAnalyticsView, "Stock analytics", icon="fa-archive", category="Analytics")
    add(BIDashboardsView, "BI dashboards", icon="fa-th-large", category="Analytics")


# --- BI dashboards (Apache Superset, embedded) ---------------------------------------------------


class BIDashboardsView(BaseView):
    """Analytics > BI dashboards (issue 17): Superset's dashboards embedded with its SDK (vendored
    from npm, admin/static/vendor/superset/). The guest token is fetched here, server-side, limited
    to the tenant and for a Seller to its seller_id (analytics.bi.embed_for); the page carries it in
    its body, never in a URL, and refreshes it by POST. When Superset is down the page says so."""

    route_base = "/admin/analytics/bi"
    default_view = "index"
    base_permissions = ["can_list"]

    def _dashboard(self) -> str:
        return _choice("dashboard", analytics_bi.DASHBOARDS, "sales")

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        dashboard = self._dashboard()
        page = {
            "title": "BI dashboards",
            "dashboards": analytics_bi.DASHBOARDS,
            "current": dashboard,
        }
        try:
            embed = analytics_bi.embed_for(
                current_actor(), current_tenant_id(), dashboard, current_app.config
            )
        except (PermissionDenied, NotFound) as refused:
            return self.render_template("admin/analytics/bi.html", note=refused.message, **page)
        except analytics_bi.SupersetError:
            current_app.logger.warning("BI dashboards: Superset unavailable", exc_info=True)
            return self.render_template("admin/analytics/bi.html", down=True, **page)
        data = {"supersetDomain": embed.superset_url, "id": embed.uuid, "token": embed.token}
        return self.render_template("admin/analytics/bi.html", embed=embed, data=data, **page)

    @expose("/token", methods=["POST"])
    @has_access
    @permission_name("list")
    def token(self):
        """A fresh guest token for the dashboard in the query string (the SDK asks before the
        current one expires); JSON in the body."""
        try:
            embed = analytics_bi.embed_for(
                current_actor(), current_tenant_id(), self._dashboard(), current_app.config
            )
        except (PermissionDenied, NotFound) as refused:
            return jsonify({"message": refused.message}), 403
        except analytics_bi.SupersetError:
            return jsonify({"message": "Superset is not available"}), 503
        return jsonify({"token": embed.token})
