"""What the Customer Analytics API serves: the ACTIVE version's predictions of each customer model
(analytics.registry), never a training and never a scan of orders.

No active version yet (nothing trained, or every training so far lacked data): Conflict (409,
code `conflict`, details {"model": kind, "reason": "not_trained"}), so a client can tell "no model"
from "a model that found no customers" (an empty list)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, case, func, select

from analytics import registry
from analytics.ml.customers.models import (
    ChurnPrediction,
    CustomerSegment,
    LifetimeValuePrediction,
)
from app.core.errors import Conflict
from app.extensions import db
from app.security.models import User

# purchase-interval buckets of the behaviour summary: (label, upper bound in days, inclusive)
INTERVALS = (("up to 7 days", 7), ("8-30 days", 30), ("31-90 days", 90), ("91-180 days", 180))


@dataclass(frozen=True)
class Page:
    items: list
    page: int
    page_size: int
    total: int


def active_version(kind: str) -> registry.ModelVersion:
    version = registry.active(kind)
    if version is None:
        raise Conflict(
            f"No {kind.replace('_', ' ')} model is trained yet for this shop.",
            details={"model": kind, "reason": "not_trained"},
        )
    return version


def _customer(user: User) -> dict:
    return {"user_id": user.id, "email": user.email, "name": user.get_full_name().strip()}


def _page(query, count_query, page: int, page_size: int, shape) -> Page:
    total = db.session.scalar(count_query) or 0
    rows = db.session.execute(query.limit(page_size).offset((page - 1) * page_size)).all()
    return Page([shape(*row) for row in rows], page, page_size, total)


# --- segments -------------------------------------------------------------------------------------


def segments() -> dict:
    """The active segmentation: its segments (size, traits) and the version that made them."""
    version = active_version(registry.SEGMENTS)
    return {"model": version, "segments": version.params.get("segments", []), "customers": None}


def segment_customers(segment: str, page: int, page_size: int) -> Page:
    """The customers of one segment of the active version, biggest spenders first."""
    version = active_version(registry.SEGMENTS)
    where = (CustomerSegment.model_version_id == version.id, CustomerSegment.segment == segment)
    query = (
        select(CustomerSegment, User)
        .join(User, User.id == CustomerSegment.customer_user_id)
        .where(*where)
        .order_by(CustomerSegment.monetary.desc(), CustomerSegment.id)
    )
    count = select(func.count(CustomerSegment.id)).where(*where)
    return _page(query, count, page, page_size, lambda row, user: {**_customer(user), "row": row})


def behavior() -> dict:
    """The behaviour features of the active segmentation, summarised per segment and overall:
    averages, the purchase-interval distribution (repeat buyers by their average days between
    orders; one-order customers apart) and the activity mix (the last 90 days' counts by type)."""
    version = active_version(registry.SEGMENTS)
    c = CustomerSegment
    summary = []
    columns = (
        func.count(c.id),
        func.avg(c.recency_days),
        func.avg(c.frequency),
        func.avg(c.monetary),
        func.avg(c.avg_order_value),
        func.avg(c.tenure_days),
        func.avg(c.refund_rate),
        func.sum(c.views),
        func.sum(c.cart_adds),
        func.sum(c.wishlist_adds),
        func.sum(c.searches),
    )
    grouped = db.session.execute(
        select(c.segment, *columns).where(c.model_version_id == version.id).group_by(c.segment)
    ).all()
    overall = db.session.execute(select(*columns).where(c.model_version_id == version.id)).one()
    order = [s["name"] for s in version.params.get("segments", [])]
    intervals = _intervals(version.id)
    for name, *figures in sorted(
        grouped, key=lambda r: order.index(r[0]) if r[0] in order else len(order)
    ):
        summary.append(_behaviour(name, figures, intervals.get(name, {})))
    everyone: dict[str, int] = {}
    for counts in intervals.values():
        for label, n in counts.items():
            everyone[label] = everyone.get(label, 0) + n
    return {
        "model": version,
        "currency": version.params.get("currency"),
        "overall": _behaviour(None, overall, everyone),
        "segments": summary,
    }


def _intervals(version_id: int) -> dict[str, dict[str, int]]:
    c = CustomerSegment
    out: dict[str, dict[str, int]] = {}
    labels = [label for label, _ in INTERVALS] + ["over 180 days", "one order only"]
    for segment, frequency, gap in db.session.execute(
        select(c.segment, c.frequency, c.days_between_orders).where(
            c.model_version_id == version_id
        )
    ):
        counts = out.setdefault(segment, dict.fromkeys(labels, 0))
        if frequency < 2:
            counts["one order only"] += 1
            continue
        label = next((lb for lb, upper in INTERVALS if gap <= upper), "over 180 days")
        counts[label] += 1
    return out


def _behaviour(name, figures, intervals: dict[str, int]) -> dict:
    n, recency, frequency, monetary, aov, tenure, refund_rate, *activity = figures

    def avg(value, places=2):
        return None if value is None else round(float(value), places)

    return {
        "segment": name,
        "customers": n or 0,
        "averages": {
            "recency_days": avg(recency),
            "frequency": avg(frequency),
            "monetary": None if monetary is None else Decimal(monetary).quantize(Decimal("0.01")),
            "avg_order_value": None if aov is None else Decimal(aov).quantize(Decimal("0.01")),
            "tenure_days": avg(tenure),
            "refund_rate": avg(refund_rate, 4),
        },
        "purchase_intervals": intervals,
        "activity_mix": dict(
            zip(
                ("views", "cart_adds", "wishlist_adds", "searches"),
                (int(a or 0) for a in activity),
                strict=True,
            )
        ),
    }


# --- churn and lifetime value -----------------------------------------------------------------------


def churn(min_probability: float, page: int, page_size: int) -> tuple[registry.ModelVersion, Page]:
    version = active_version(registry.CHURN)
    where = (
        ChurnPrediction.model_version_id == version.id,
        ChurnPrediction.probability >= min_probability,
    )
    query = (
        select(ChurnPrediction, User)
        .join(User, User.id == ChurnPrediction.customer_user_id)
        .where(*where)
        .order_by(ChurnPrediction.probability.desc(), ChurnPrediction.id)
    )
    count = select(func.count(ChurnPrediction.id)).where(*where)
    return version, _page(
        query, count, page, page_size, lambda row, user: {**_customer(user), "row": row}
    )


def lifetime_values(page: int, page_size: int) -> tuple[registry.ModelVersion, Page]:
    version = active_version(registry.LIFETIME_VALUE)
    where = (LifetimeValuePrediction.model_version_id == version.id,)
    query = (
        select(LifetimeValuePrediction, User)
        .join(User, User.id == LifetimeValuePrediction.customer_user_id)
        .where(*where)
        .order_by(LifetimeValuePrediction.predicted_value.desc(), LifetimeValuePrediction.id)
    )
    count = select(func.count(LifetimeValuePrediction.id)).where(*where)
    return version, _page(
        query, count, page, page_size, lambda row, user: {**_customer(user), "row": row}
    )


# --- the admin's segments page (admin/views/analytics.py) -------------------------------------------

# churn risk bands of the summary: (label, lowest probability in the band)
CHURN_BANDS = (("high", 0.7), ("medium", 0.4), ("low", 0.0))


def churn_summary() -> dict | None:
    """The active churn version's customers per risk band and their mean probability; None when
    no churn model is trained."""
    version = registry.active(registry.CHURN)
    if version is None:
        return None
    p = ChurnPrediction.probability
    band = case(
        *((p >= low, name) for name, low in CHURN_BANDS[:-1]), else_=CHURN_BANDS[-1][0]
    ).label("band")
    counts = dict(
        db.session.execute(
            select(band, func.count(ChurnPrediction.id))
            .where(ChurnPrediction.model_version_id == version.id)
            .group_by(band)
        ).all()
    )
    mean = db.session.scalar(
        select(func.avg(p)).where(ChurnPrediction.model_version_id == version.id)
    )
    return {
        "model": version,
        "bands": [(name, low, int(counts.get(name, 0))) for name, low in CHURN_BANDS],
        "customers": sum(int(n) for n in counts.values()),
        "mean_probability": None if mean is None else round(float(mean), 4),
    }


def segment_export_rows(segment: str):
    """The customers of one segment of the active segmentation, biggest spenders first, each with
    the active churn and lifetime value versions' predictions (None where a model is missing or did
    not score the customer): (name, email, segment, recency_days, orders, spend, currency,
    churn_probability, predicted_value). A generator: the CSV streams it."""
    version = active_version(registry.SEGMENTS)
    churn_v, ltv_v = registry.active(registry.CHURN), registry.active(registry.LIFETIME_VALUE)
    churn = ChurnPrediction.__table__.alias("churn")
    ltv = LifetimeValuePrediction.__table__.alias("ltv")
    query = (
        select(
            User,
            CustomerSegment.segment,
            CustomerSegment.recency_days,
            CustomerSegment.frequency,
            CustomerSegment.monetary,
            CustomerSegment.currency,
            churn.c.probability,
            ltv.c.predicted_value,
        )
        .join(User, User.id == CustomerSegment.customer_user_id)
        .outerjoin(
            churn,
            and_(
                churn.c.customer_user_id == CustomerSegment.customer_user_id,
                churn.c.model_version_id == (churn_v.id if churn_v else -1),
                churn.c.tenant_id == CustomerSegment.tenant_id,
            ),
        )
        .outerjoin(
            ltv,
            and_(
                ltv.c.customer_user_id == CustomerSegment.customer_user_id,
                ltv.c.model_version_id == (ltv_v.id if ltv_v else -1),
                ltv.c.tenant_id == CustomerSegment.tenant_id,
            ),
        )
        .where(CustomerSegment.model_version_id == version.id, CustomerSegment.segment == segment)
        .order_by(CustomerSegment.monetary.desc(), CustomerSegment.id)
    )
    for (
        user,
        name,
        recency,
        frequency,
        monetary,
        currency,
        probability,
        value,
    ) in db.session.execute(query.execution_options(yield_per=500)):
        yield (
            user.get_full_name().strip(),
            user.email,
            name,
            round(float(recency), 1),
            int(frequency),
            monetary,
            currency,
            None if probability is None else round(float(probability), 4),
            value,
        )
