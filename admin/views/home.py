"""The admin landing page: who you are, and the figures you are allowed to see over a period of 7,
30 or 90 days (app.dashboards): a Seller's own sales, orders, best sellers, low stock and the work
waiting; an Admin's the platform's GMV, orders, commission earned, sellers waiting for review and
refund requests waiting. The charts (Chart.js, vendored) are drawn by admin/static/admin/dashboard.js
from the JSON the page carries (no inline script: the page's CSP holds)."""

from __future__ import annotations

from babel.dates import format_date
from flask import g, request
from flask_appbuilder import IndexView, expose
from flask_login import current_user

from admin import formatting
from admin.base import current_actor, current_seller_id, is_seller_user, shop_format
from app.catalog.services import catalog_counts
from app.core.errors import PermissionDenied
from app.dashboards import Period, platform_dashboard, seller_dashboard
from app.inventory.services import open_low_stock_alerts
from app.orders.states import STATUSES

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30


class AdminIndexView(IndexView):
    index_template = "admin/index.html"

    @expose("/")
    def index(self):
        page = {}
        if getattr(current_user, "is_authenticated", False) and current_user.is_staff:
            page = _figures(current_seller_id() if is_seller_user() else None)
        return self.render_template(
            self.index_template, appbuilder=self.appbuilder, tenant_id=g.get("tenant_id"), **page
        )


def _days() -> int:
    """The period asked for (?days=7|30|90), else 30 days."""
    try:
        days = int(request.args.get("days", DEFAULT_PERIOD))
    except ValueError:
        return DEFAULT_PERIOD
    return days if days in PERIODS else DEFAULT_PERIOD


# why the next payout run would pay a seller nothing (app.payouts.models.SkipReason), in a tile
PAYOUT_REASONS = {
    "no_bank_account": "needs a verified bank account",
    "below_minimum": "below the minimum payout",
    "negative_balance": "the balance is negative",
    "seller_suspended": "the store is suspended",
}


def _figures(seller_id: int | None) -> dict:
    fmt = shop_format(None)
    period = Period.last(_days())
    seller_without_profile = is_seller_user() and seller_id is None
    page = {
        "counts": {} if seller_without_profile else _counts(seller_id),
        "periods": PERIODS,
        "days": period.days,
        "period_text": _period_text(period, fmt),
        "fmt": fmt,
        "money": formatting.money,
        "when": formatting.when,
        "payout_reasons": PAYOUT_REASONS,
    }
    actor = current_actor()
    if is_seller_user():
        try:
            dashboard = seller_dashboard(actor, period)
        except PermissionDenied as refused:  # no profile, or not approved yet
            return {**page, "seller_note": refused.message}
        return {**page, "seller": dashboard, "chart": _chart(dashboard, fmt)}
    if actor is not None and actor.is_admin:
        dashboard = platform_dashboard(actor, period)
        return {**page, "platform": dashboard, "chart": _chart(dashboard, fmt)}
    return page


def _period_text(period: Period, fmt: formatting.Shop) -> str:
    def span(p: Period) -> str:
        start, end = (format_date(d, "medium", locale=fmt.locale) for d in (p.start, p.end))
        return f"{start} – {end}"

    return f"{span(period)}, compared with {span(period.previous)}"


def _chart(dashboard, fmt: formatting.Shop) -> dict:
    """What dashboard.js draws: gross sales per day and currency (every day of the period, zero
    when nothing sold) and sub-orders by status (the statuses that have any)."""
    days = dashboard.period.day_list()
    currencies = sorted({d.currency for d in dashboard.sales_by_day}) or [dashboard.currency]
    gross = {c: dict.fromkeys(days, 0.0) for c in currencies}
    orders = dict.fromkeys(days, 0)
    for day in dashboard.sales_by_day:
        gross[day.currency][day.day] = float(day.gross)
        orders[day.day] += day.orders
    statuses = [s for s in STATUSES if dashboard.orders_by_status.get(s)]
    return {
        "locale": str(fmt.locale).replace("_", "-"),
        "labels": [format_date(d, "d MMM", locale=fmt.locale) for d in days],
        "sales": [{"currency": c, "values": list(gross[c].values())} for c in currencies],
        "orders": list(orders.values()),
        "statuses": {
            "keys": statuses,
            "labels": [s.replace("_", " ") for s in statuses],
            "values": [dashboard.orders_by_status[s] for s in statuses],
        },
    }


def _counts(seller_id: int | None) -> dict[str, int]:
    """The catalogue's numbers, in the page's order: products, variants, open low-stock alerts and
    (for staff who see every seller) sellers; a seller's own when seller_id is given."""
    catalog = catalog_counts(seller_id=seller_id)
    return {
        "Products": catalog.pop("Products"),
        "Variants": catalog.pop("Variants"),
        "Open low-stock alerts": open_low_stock_alerts(seller_id=seller_id),
        **catalog,
    }
