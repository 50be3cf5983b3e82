"""Customer features: the one place every customer model (segments, churn, lifetime value) and the
behaviour summary get them from.

Who is a customer here: a registered user (orders.customer_user_id) with at least one paid order
placed in the HISTORY_DAYS before the cutoff (`as_of`). Guest orders have nobody to follow, so they
are left out.

What an order counts as (consistent with app.dashboards and app.customer_analytics): an order that
was paid (`paid_at` set; cancelled or refunded later included), dated by when it was placed
(`created_at`, UTC); what it is worth is its total less what was refunded of it.

Currencies: frequency, recency, tenure and the days between orders count every paid order, in
whatever currency (a purchase is a purchase). Money (monetary, average order value, refund rate,
the lifetime-value target) is the tenant's main currency (tenants.default_currency) only; orders in
other currencies add no money and are never converted or summed with it.

The features of a customer as of `as_of`:
- recency_days: days from the last paid order to `as_of`;
- frequency: paid orders in the history window;
- monetary: their total less refunds, main currency;
- tenure_days: days from the customer's first paid order ever to `as_of`;
- avg_order_value: monetary / main-currency orders (0 without any);
- refund_rate: refunded / total of the main-currency orders (0..1);
- days_between_orders: (last - first) / (orders - 1) in the window; a customer with one order gets
  their tenure (they have gone at least that long without a second one);
- overdue_ratio: recency_days / days_between_orders: how late the next order is against the
  customer's own rhythm (1 = on time);
- views, cart_adds, wishlist_adds, searches: the customer's activity log
  (app.customers.engagement_models) in the ACTIVITY_DAYS before `as_of`; activity is their sum.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from sqlalchemy import case, func, select

from app.core.tenancy import current_tenant_id
from app.customers.engagement_models import CustomerActivity
from app.customers.models import CustomerProfile
from app.extensions import db
from app.orders.models import Order
from app.tenants.models import Tenant

HISTORY_DAYS = 365
ACTIVITY_DAYS = 90
DAY = 86400.0

FEATURES = (
    "recency_days",
    "frequency",
    "monetary",
    "tenure_days",
    "avg_order_value",
    "refund_rate",
    "days_between_orders",
    "overdue_ratio",
    "activity",
    "views",
    "cart_adds",
    "wishlist_adds",
    "searches",
)
# activity log types counted, by feature
ACTIVITY_FEATURES = {
    "views": ("product_view", "category_view"),
    "cart_adds": ("add_to_cart",),
    "wishlist_adds": ("wishlist_add",),
    "searches": ("search",),
}
# what each feature means to people (the churn reasons, the admin's pages)
LABELS = {
    "recency_days": ("a long time since the last order", "ordered recently"),
    "frequency": ("many orders", "few orders"),
    "monetary": ("high spend", "low spend"),
    "tenure_days": ("a long-time customer", "a recent customer"),
    "avg_order_value": ("large baskets", "small baskets"),
    "refund_rate": ("many refunds", "few refunds"),
    "days_between_orders": ("long gaps between orders", "short gaps between orders"),
    "overdue_ratio": ("next order overdue for their rhythm", "next order not due yet"),
    "activity": ("active on the site", "little activity on the site"),
}


def main_currency() -> str:
    tenant = db.session.get(Tenant, current_tenant_id())
    return tenant.default_currency if tenant is not None else "USD"


@dataclass
class CustomerFeatures:
    """One row per customer: `user_ids[i]`'s features are `matrix[i]` (columns: FEATURES)."""

    as_of: dt.datetime
    currency: str
    user_ids: list[int]
    matrix: np.ndarray

    def __len__(self) -> int:
        return len(self.user_ids)

    def columns(self, names) -> np.ndarray:
        return self.matrix[:, [FEATURES.index(n) for n in names]]

    def column(self, name: str) -> np.ndarray:
        return self.matrix[:, FEATURES.index(name)]

    def subset(self, user_ids) -> CustomerFeatures:
        index = {u: i for i, u in enumerate(self.user_ids)}
        keep = [u for u in user_ids if u in index]
        return CustomerFeatures(
            self.as_of, self.currency, keep, self.matrix[[index[u] for u in keep]]
        )


def _paid_orders(start: dt.datetime | None, end: dt.datetime):
    query = Order.paid_at.is_not(None), Order.customer_user_id.is_not(None), Order.created_at < end
    return (*query, Order.created_at >= start) if start is not None else query


def customer_features(as_of: dt.datetime, currency: str | None = None) -> CustomerFeatures:
    """Every customer's features as of `as_of` (see the module's docstring): three grouped
    queries (orders in the window, first orders, activity), nothing loaded row by row."""
    currency = currency or main_currency()
    start = as_of - dt.timedelta(days=HISTORY_DAYS)
    in_main = Order.currency == currency
    rows = db.session.execute(
        select(
            Order.customer_user_id,
            func.count(Order.id),
            func.min(Order.created_at),
            func.max(Order.created_at),
            func.sum(case((in_main, 1), else_=0)),
            func.coalesce(func.sum(case((in_main, Order.total), else_=0)), 0),
            func.coalesce(func.sum(case((in_main, Order.refunded_total), else_=0)), 0),
        )
        .where(*_paid_orders(start, as_of))
        .group_by(Order.customer_user_id)
        .order_by(Order.customer_user_id)
    ).all()
    if not rows:
        return CustomerFeatures(as_of, currency, [], np.zeros((0, len(FEATURES))))
    user_ids = [r[0] for r in rows]
    first_ever = dict(
        db.session.execute(
            select(Order.customer_user_id, func.min(Order.created_at))
            .where(*_paid_orders(None, as_of), Order.customer_user_id.in_(user_ids))
            .group_by(Order.customer_user_id)
        ).all()
    )
    activity: dict[int, dict[str, int]] = {}
    for user_id, kind, n in db.session.execute(
        select(CustomerProfile.user_id, CustomerActivity.type, func.count(CustomerActivity.id))
        .join(CustomerProfile, CustomerProfile.id == CustomerActivity.customer_id)
        .where(
            CustomerActivity.created_at >= as_of - dt.timedelta(days=ACTIVITY_DAYS),
            CustomerActivity.created_at < as_of,
            CustomerProfile.user_id.in_(user_ids),
        )
        .group_by(CustomerProfile.user_id, CustomerActivity.type)
    ):
        activity.setdefault(user_id, {})[kind] = n
    matrix = np.zeros((len(rows), len(FEATURES)))
    for i, (user_id, n, first, last, n_main, total, refunded) in enumerate(rows):
        n_main = int(n_main or 0)
        total, refunded = Decimal(total), Decimal(refunded)
        recency = (as_of - last).total_seconds() / DAY
        tenure = (as_of - first_ever.get(user_id, first)).total_seconds() / DAY
        monetary = float(total - refunded)
        gap = (last - first).total_seconds() / DAY / (n - 1) if n > 1 else tenure
        counts = activity.get(user_id, {})
        acts = {f: sum(counts.get(t, 0) for t in types) for f, types in ACTIVITY_FEATURES.items()}
        matrix[i] = (
            recency,
            n,
            monetary,
            tenure,
            monetary / int(n_main) if n_main else 0.0,
            float(refunded / total) if total else 0.0,
            gap,
            recency / max(gap, 1.0),
            sum(acts.values()),
            acts["views"],
            acts["cart_adds"],
            acts["wishlist_adds"],
            acts["searches"],
        )
    return CustomerFeatures(as_of, currency, user_ids, matrix)


def spend_between(
    start: dt.datetime, end: dt.datetime, currency: str
) -> dict[int, tuple[int, float]]:
    """Per customer: (paid orders in any currency, their worth less refunds in `currency`) placed
    in [start, end): the churn label (no order) and the lifetime-value target (spend)."""
    in_main = Order.currency == currency
    rows = db.session.execute(
        select(
            Order.customer_user_id,
            func.count(Order.id),
            func.coalesce(
                func.sum(case((in_main, Order.total - Order.refunded_total), else_=0)), 0
            ),
        )
        .where(*_paid_orders(start, end))
        .group_by(Order.customer_user_id)
    ).all()
    return {user_id: (n, float(spent)) for user_id, n, spent in rows}
