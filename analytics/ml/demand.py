"""The `demand` model: expected daily units per variant, and from it a suggested reorder point and
quantity (shown per variant in GET /api/v1/inventory/analytics/).

Data: analytics.inventory's units sold per local day and variant (`inventory_daily_sales`), over
the last WINDOW_DAYS local days up to yesterday, zeros filled from each variant's first sale.

Model: one scikit-learn Pipeline pooled across variants (a variant rarely has enough days of its
own): one-hot day of week + scaled lag features -> HistGradientBoostingRegressor (Poisson loss:
demand is a count). Every feature looks at least 7 days back (lags 7, 14, 21, 28 and the mean of
the 28 days ending 7 days before), so one fit forecasts a whole week ahead from known history.

Backtest: a time-based holdout of the last HOLDOUT_DAYS days, forecast week by week from what was
known before each week; MAE against the naive baseline, the mean of the 7 days before that week
(a moving average), on the same rows. Both are recorded on the ModelVersion.

Predictions (table `demand_predictions`, per version and variant), after refitting on every day:
- expected daily demand: the mean of the next 7 days' forecasts;
- lead time: the supplier's `lead_time_days` of the variant's latest purchase order (not
  cancelled), else
  DEFAULT_LEAD_TIME_DAYS;
- safety stock = z(SERVICE_LEVEL) x sigma x sqrt(lead time), sigma the standard deviation of the
  variant's holdout forecast errors (the pooled one when it has too few), z = 1.645 at 95 %;
- reorder point = ceil(expected daily demand x lead time + safety stock);
- reorder quantity = ceil(expected daily demand x COVER_DAYS) (a month of demand), 0 when none.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from statistics import NormalDist

import numpy as np
from flask_appbuilder import Model
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sqlalchemy import ForeignKey, Integer, Numeric, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column
from threadpoolctl import threadpool_limits

from analytics import registry
from analytics.inventory import DailySales, Demand, day_bounds, local_today, tenant_zone
from analytics.training import NotEnoughData, register_trainer
from app.extensions import db
from app.purchasing.models import CANCELLED, PurchaseOrder, PurchaseOrderLine, Supplier
from app.tenants.models import TenantScoped

WINDOW_DAYS = 182
HOLDOUT_DAYS = 28
HISTORY = 34  # days of history a feature row needs (lag 28 + the 28-day mean ending at lag 7)
DEFAULT_LEAD_TIME_DAYS = 7
SERVICE_LEVEL = 0.95
COVER_DAYS = 30
MIN_TRAIN_ROWS = 100
FEATURES = ["dow", "lag_7", "lag_14", "lag_21", "lag_28", "mean_28_lag_7"]


class DemandPrediction(TenantScoped, Model):
    __tablename__ = "demand_predictions"
    __table_args__ = (
        UniqueConstraint("model_version_id", "variant_id", name="uq_demand_predictions_variant"),
    )
    __audit__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey("analytics_model_versions.id", ondelete="CASCADE"), nullable=False
    )
    variant_id: Mapped[int] = mapped_column(
        ForeignKey("product_variants.id", ondelete="CASCADE"), nullable=False, index=True
    )
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), nullable=False)
    expected_daily_demand: Mapped[Decimal] = mapped_column(Numeric(12, 3), nullable=False)
    error_std: Mapped[Decimal] = mapped_column(Numeric(12, 3), nullable=False)
    lead_time_days: Mapped[int] = mapped_column(Integer, nullable=False)
    service_level: Mapped[Decimal] = mapped_column(Numeric(4, 3), nullable=False)
    safety_stock: Mapped[int] = mapped_column(Integer, nullable=False)
    reorder_point: Mapped[int] = mapped_column(Integer, nullable=False)
    reorder_quantity: Mapped[int] = mapped_column(Integer, nullable=False)


registry.register_predictions(registry.DEMAND, DemandPrediction)


def pipeline() -> Pipeline:
    return Pipeline(
        [
            (
                "features",
                ColumnTransformer(
                    [
                        ("dow", OneHotEncoder(categories=[[float(d) for d in range(7)]]), [0]),
                        ("lags", StandardScaler(), list(range(1, len(FEATURES)))),
                    ]
                ),
            ),
            (
                "regressor",
                HistGradientBoostingRegressor(
                    loss="poisson",
                    max_iter=80,
                    learning_rate=0.1,
                    max_leaf_nodes=15,
                    early_stopping=False,
                    random_state=0,
                ),
            ),
        ]
    )


# --- data ----------------------------------------------------------------------------------------


def load_series(first: dt.date, last: dt.date) -> dict[int, tuple[int, np.ndarray]]:
    """variant -> (seller, daily units from its first sale in first..last to `last`)."""
    rows = db.session.execute(
        select(DailySales.variant_id, DailySales.seller_id, DailySales.day, DailySales.units)
        .where(DailySales.day >= first, DailySales.day <= last)
        .order_by(DailySales.variant_id, DailySales.day)
    ).all()
    series: dict[int, tuple[int, np.ndarray]] = {}
    for variant_id, seller_id, day, units in rows:
        if variant_id not in series:
            start = day
            series[variant_id] = (seller_id, np.zeros((last - start).days + 1), start)
        seller, values, start = series[variant_id]
        values[(day - start).days] += units
    return {vid: (seller, values) for vid, (seller, values, _start) in series.items()}


def feature_rows(values: np.ndarray, last_day: dt.date, days: range) -> dict[str, np.ndarray]:
    """The features of the series' days `days` (indexes; an index may run past the series, for a
    forecast: every feature looks at least 7 days back)."""
    first_day = last_day - dt.timedelta(days=len(values) - 1)
    idx = np.array(list(days))
    out = {
        "dow": np.array([(first_day + dt.timedelta(days=int(i))).weekday() for i in idx]),
        "lag_7": values[idx - 7],
        "lag_14": values[idx - 14],
        "lag_21": values[idx - 21],
        "lag_28": values[idx - 28],
        "mean_28_lag_7": np.array([values[i - 34 : i - 6].mean() for i in idx]),
    }
    return out


def _frame(parts: list[dict[str, np.ndarray]]) -> np.ndarray:
    """The feature matrix, columns in FEATURES' order (day of week first)."""
    return np.column_stack(
        [np.concatenate([p[name] for p in parts]).astype(float) for name in FEATURES]
    )


# --- training ------------------------------------------------------------------------------------


@register_trainer(registry.DEMAND)
def train(version: registry.ModelVersion) -> None:
    # one OpenMP thread: on small data HistGradientBoosting's threads only contend with the other
    # jobs of a worker (measured on two shared CPUs: 0.14 s a fit on one thread, 1 to 4.5 s on all)
    with threadpool_limits(limits=1):
        _train(version)


def _train(version: registry.ModelVersion) -> None:
    zone = tenant_zone()
    last = local_today(zone) - dt.timedelta(days=1)
    first = last - dt.timedelta(days=WINDOW_DAYS - 1)
    series = {
        vid: (seller, values)
        for vid, (seller, values) in load_series(first, last).items()
        if len(values) >= HISTORY + HOLDOUT_DAYS + 7
    }
    cutoff_of = {vid: len(values) - HOLDOUT_DAYS for vid, (_s, values) in series.items()}
    train_parts, train_y, test_parts, test_y, baseline, owners = [], [], [], [], [], []
    for vid, (_seller, values) in series.items():
        cutoff = cutoff_of[vid]
        train_parts.append(feature_rows(values, last, range(HISTORY, cutoff)))
        train_y.append(values[HISTORY:cutoff])
        test_parts.append(feature_rows(values, last, range(cutoff, len(values))))
        test_y.append(values[cutoff:])
        for i in range(cutoff, len(values)):  # the week's origin: what was known before it
            origin = cutoff + (i - cutoff) // 7 * 7
            baseline.append(values[origin - 7 : origin].mean())
            owners.append(vid)
    rows = sum(len(y) for y in train_y)
    if rows < MIN_TRAIN_ROWS:
        raise NotEnoughData(
            f"{rows} variant-days to learn from ({len(series)} variants with at least "
            f"{HISTORY + HOLDOUT_DAYS + 7} days of sales), {MIN_TRAIN_ROWS} needed"
        )
    model = pipeline()
    model.fit(_frame(train_parts), np.concatenate(train_y))
    actual = np.concatenate(test_y)
    forecast = np.clip(model.predict(_frame(test_parts)), 0, None)
    baseline = np.array(baseline)
    mae, base_mae = float(np.abs(forecast - actual).mean()), float(np.abs(baseline - actual).mean())
    errors = forecast - actual
    owners = np.array(owners)
    pooled_std = float(errors.std())

    # refit on every day, then forecast the next 7 days per variant
    model = pipeline()
    model.fit(
        _frame([feature_rows(v, last, range(HISTORY, len(v))) for _s, v in series.values()]),
        np.concatenate([v[HISTORY:] for _s, v in series.values()]),
    )
    lead_times = _lead_times(list(series))
    z = NormalDist().inv_cdf(SERVICE_LEVEL)
    for vid, (seller, values) in series.items():
        n = len(values)
        extended = np.concatenate([values, np.zeros(7)])  # the future's slots, never read
        ahead = model.predict(
            _frame([feature_rows(extended, last + dt.timedelta(days=7), range(n, n + 7))])
        )
        daily = max(float(np.clip(ahead, 0, None).mean()), 0.0)
        own = errors[owners == vid]
        sigma = float(own.std()) if len(own) >= 14 else pooled_std
        lead = lead_times.get(vid, DEFAULT_LEAD_TIME_DAYS)
        safety = math.ceil(z * sigma * math.sqrt(lead))
        db.session.add(
            DemandPrediction(
                model_version_id=version.id,
                variant_id=vid,
                seller_id=seller,
                expected_daily_demand=Decimal(f"{daily:.3f}"),
                error_std=Decimal(f"{sigma:.3f}"),
                lead_time_days=lead,
                service_level=Decimal(str(SERVICE_LEVEL)),
                safety_stock=safety,
                reorder_point=math.ceil(daily * lead + safety),
                reorder_quantity=math.ceil(daily * COVER_DAYS) if daily > 0 else 0,
            )
        )
    db.session.flush()

    regressor = model.named_steps["regressor"]
    version.algorithm = "OneHot(dow)+StandardScaler(lags) -> HistGradientBoostingRegressor(poisson)"
    version.params = {
        "window_days": WINDOW_DAYS,
        "holdout_days": HOLDOUT_DAYS,
        "max_iter": regressor.max_iter,
        "learning_rate": regressor.learning_rate,
        "max_leaf_nodes": regressor.max_leaf_nodes,
        "random_state": regressor.random_state,
        "service_level": SERVICE_LEVEL,
        "default_lead_time_days": DEFAULT_LEAD_TIME_DAYS,
        "cover_days": COVER_DAYS,
    }
    version.features = list(FEATURES)
    version.window_start, version.window_end = day_bounds(first, last, zone)
    version.rows = rows
    version.metrics = {
        "mae": round(mae, 4),
        "improvement_pct": round(100 * (base_mae - mae) / base_mae, 2) if base_mae else None,
        "holdout_rows": int(len(actual)),
        "variants": len(series),
    }
    version.baseline = {"name": "moving_average_7d", "mae": round(base_mae, 4)}


def _lead_times(variant_ids: list[int]) -> dict[int, int]:
    """The supplier's lead time of each variant's latest purchase order that names one."""
    if not variant_ids:
        return {}
    rows = db.session.execute(
        select(PurchaseOrderLine.variant_id, Supplier.lead_time_days)
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.purchase_order_id)
        .join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
        .where(
            PurchaseOrderLine.variant_id.in_(variant_ids),
            Supplier.lead_time_days.is_not(None),
            Supplier.lead_time_days > 0,
            PurchaseOrder.status != CANCELLED,
        )
        .order_by(PurchaseOrder.id)
    ).all()
    return {vid: int(days) for vid, days in rows}  # the latest order wins


# --- serving -------------------------------------------------------------------------------------


def active_predictions(variant_ids: list[int]) -> dict[int, Demand]:
    """The active version's predictions of these variants (none before a version was trained)."""
    version = registry.active(registry.DEMAND)
    if version is None or not variant_ids:
        return {}
    rows = db.session.scalars(
        select(DemandPrediction).where(
            DemandPrediction.model_version_id == version.id,
            DemandPrediction.variant_id.in_(variant_ids),
        )
    )
    return {
        row.variant_id: Demand(
            expected_daily_demand=row.expected_daily_demand,
            lead_time_days=row.lead_time_days,
            service_level=row.service_level,
            safety_stock=row.safety_stock,
            reorder_point=row.reorder_point,
            reorder_quantity=row.reorder_quantity,
        )
        for row in rows
    }
