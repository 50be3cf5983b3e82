"""The sales forecast (kind `sales_forecast`): daily revenue for the next HORIZON days, per
currency, for the tenant as a whole and for each seller.

What is forecast: a day's gross sales as app.dashboards counts them (the totals of the sub-orders
paid, placed that UTC day, whatever happened after; not pending, not cancelled), per currency
(never added across currencies). A series is (seller or the tenant total, currency); one is
forecast once it has MIN_DAYS days of history (from its first sale to yesterday, the last whole
day, within WINDOW_DAYS).

The model: one scikit-learn Pipeline per tenant, pooled over its series, each series divided by
its own scale (its mean over the last 8 weeks): StandardScaler on the lags (1, 7 and 14 days) and
the rolling means (7 and 28 days), one-hot weekday and month, then Ridge. The days ahead are
predicted one by one, each prediction becoming the next day's lag (recursive), never below zero.

Backtest: the last HOLDOUT_DAYS of every series are held out, the Pipeline fitted on what came
before and asked for those days recursively, against seasonal-naive (each day the same weekday of
the last week seen). Recorded: `mape` (mean absolute percentage error over days that sold, averaged
over series), `wape` (sum of absolute errors / sum of sales, averaged over series), and `mae_<CUR>`
(the tenant total's mean absolute error, in that currency); the same for seasonal-naive in
`baseline`. The interval served is predicted +- 1.645 x the series' backtest residual deviation
(about 90 % if the errors were normal), lower bound at zero.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from flask_appbuilder import Model
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sqlalchemy import Date, ForeignKey, Index, Integer, String, func, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from analytics import registry
from analytics.training import NotEnoughData, register_trainer
from app.core.errors import NotFound, PermissionDenied
from app.core.tenancy import current_tenant_id
from app.core.types import MONEY, utcnow
from app.dashboards import NOT_SALES
from app.extensions import db
from app.orders.models import Order, SubOrder
from app.security.actor import Actor
from app.sellers.models import SellerProfile
from app.sellers.services import require_approved
from app.tenants.models import TenantScoped

WINDOW_DAYS = 365
HORIZON = 28
HOLDOUT_DAYS = 28
CONTEXT = 28  # days of history a day's features read (the 28-day rolling mean)
MIN_DAYS = CONTEXT + HOLDOUT_DAYS + 21  # at least three weeks of training rows in the backtest
SCALE_DAYS = 56
Z90 = 1.645
FEATURES = ["lag_1", "lag_7", "lag_14", "mean_7", "mean_28", "weekday", "month"]


class SalesForecast(TenantScoped, Model):
    """One forecast day of one series (`seller_id` None: the tenant's total) of one version."""

    __tablename__ = "analytics_forecasts"
    __table_args__ = (
        Index("ix_analytics_forecasts_serve", "tenant_id", "model_version_id", "seller_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey(
            "analytics_model_versions.id",
            ondelete="CASCADE",
            name="fk_analytics_forecasts_version",
        ),
        nullable=False,
    )
    seller_id: Mapped[int | None] = mapped_column(
        ForeignKey("sellers.id", ondelete="CASCADE", name="fk_analytics_forecasts_seller")
    )
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    predicted: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    lower: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    upper: Mapped[Decimal] = mapped_column(MONEY, nullable=False)


registry.register_predictions(registry.SALES_FORECAST, SalesForecast)


# --- the data ------------------------------------------------------------------------------------


def _today() -> dt.date:
    return utcnow().date()


def _day(value) -> dt.date:
    """func.date(): a date on MariaDB, an ISO string on SQLite."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


@dataclass
class Series:
    seller_id: int | None
    currency: str
    first_day: dt.date
    values: np.ndarray  # revenue per day, first_day .. the last whole day


def daily_series(start: dt.date, end: dt.date) -> list[Series]:
    """Every seller's and the tenant's daily sales per currency, start..end (UTC days), each from
    its first sale, days without a sale as zero."""
    day = func.date(SubOrder.created_at)
    lo = dt.datetime.combine(start, dt.time(), tzinfo=dt.timezone.utc)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
    rows = db.session.execute(
        select(SubOrder.seller_id, Order.currency, day, func.sum(SubOrder.total))
        .join(Order, Order.id == SubOrder.order_id)
        .where(
            SubOrder.created_at >= lo,
            SubOrder.created_at < hi,
            SubOrder.status.not_in(NOT_SALES),
        )
        .group_by(SubOrder.seller_id, Order.currency, day)
    ).all()
    sums: dict[tuple[int | None, str], dict[dt.date, float]] = defaultdict(dict)
    for seller_id, currency, d, total in rows:
        d = _day(d)
        sums[(seller_id, currency)][d] = float(total)
        tenant = sums[(None, currency)]
        tenant[d] = tenant.get(d, 0.0) + float(total)
    series = []
    for (seller_id, currency), by_day in sorted(
        sums.items(), key=lambda item: (item[0][0] or 0, item[0][1])
    ):
        first = min(by_day)
        n = (end - first).days + 1
        values = np.zeros(n)
        for d, total in by_day.items():
            values[(d - first).days] = total
        series.append(Series(seller_id, currency, first, values))
    return series


# --- the model -----------------------------------------------------------------------------------


def pipeline() -> Pipeline:
    calendar = OneHotEncoder(
        categories=[[float(d) for d in range(7)], [float(m) for m in range(1, 13)]],
        handle_unknown="ignore",
    )
    return Pipeline(
        [
            (
                "features",
                ColumnTransformer(
                    [("lags", StandardScaler(), [0, 1, 2, 3, 4]), ("calendar", calendar, [5, 6])]
                ),
            ),
            ("ridge", Ridge(alpha=0.1)),
        ]
    )


def _features(history: list[float], day: dt.date) -> list[float]:
    """The features of the day after `history` (at least CONTEXT days)."""
    return [
        history[-1],
        history[-7],
        history[-14],
        sum(history[-7:]) / 7,
        sum(history[-CONTEXT:]) / CONTEXT,
        float(day.weekday()),
        float(day.month),
    ]


def _scale(values: np.ndarray) -> float:
    recent = values[-SCALE_DAYS:]
    return float(recent.mean()) if recent.mean() > 0 else float(values.mean())


def _training_rows(scaled: list[np.ndarray], first_days: list[dt.date]):
    x, y = [], []
    for values, first in zip(scaled, first_days, strict=True):
        history = list(values)
        for t in range(CONTEXT, len(values)):
            x.append(_features(history[t - CONTEXT : t], first + dt.timedelta(days=t)))
            y.append(values[t])
    return np.array(x), np.array(y)


def _recursive(model: Pipeline, histories: list[np.ndarray], start: dt.date, days: int):
    """Each series' next `days` (scaled), from `start`, each prediction feeding the next."""
    running = [list(h) for h in histories]
    out = np.zeros((len(histories), days))
    for step in range(days):
        day = start + dt.timedelta(days=step)
        x = np.array([_features(h, day) for h in running])
        predicted = np.maximum(model.predict(x), 0.0)
        for i, value in enumerate(predicted):
            running[i].append(float(value))
        out[:, step] = predicted
    return out


def _fit(series: list[Series], cut: int = 0) -> tuple[Pipeline, list[float], int]:
    """The Pipeline fitted on every series without its last `cut` days; the scales; the rows."""
    parts = [s.values[: len(s.values) - cut] for s in series]
    scales = [_scale(p) for p in parts]
    x, y = _training_rows(
        [p / sc for p, sc in zip(parts, scales, strict=True)], [s.first_day for s in series]
    )
    return pipeline().fit(x, y), scales, len(y)


def _errors(actual: np.ndarray, predicted: np.ndarray) -> tuple[float, float | None, float | None]:
    """MAE, MAPE over the days that sold, WAPE."""
    errors = np.abs(actual - predicted)
    sold = actual > 0
    mape = float(np.mean(errors[sold] / actual[sold])) if sold.any() else None
    wape = float(errors.sum() / actual.sum()) if actual.sum() > 0 else None
    return float(errors.mean()), mape, wape


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(float(np.mean(values)), 4) if values else None


def _money(value: float) -> Decimal:
    return Decimal(str(round(max(value, 0.0), 4))).quantize(Decimal("0.01"), ROUND_HALF_UP)


# --- the trainer ---------------------------------------------------------------------------------


@register_trainer(registry.SALES_FORECAST)
def train(version: registry.ModelVersion) -> None:
    end = _today() - dt.timedelta(days=1)  # the last whole day
    start = end - dt.timedelta(days=WINDOW_DAYS - 1)
    series = [s for s in daily_series(start, end) if len(s.values) >= MIN_DAYS]
    if not series:
        raise NotEnoughData(f"no series with {MIN_DAYS} days of sales history")

    # backtest: the last HOLDOUT_DAYS held out, the model against seasonal-naive
    model, scales, _ = _fit(series, cut=HOLDOUT_DAYS)
    holdout_start = end - dt.timedelta(days=HOLDOUT_DAYS - 1)
    histories = [s.values[:-HOLDOUT_DAYS] / sc for s, sc in zip(series, scales, strict=True)]
    scaled_bt = _recursive(model, histories, holdout_start, HOLDOUT_DAYS)
    metrics: dict[str, list] = defaultdict(list)
    baseline: dict[str, list] = defaultdict(list)
    deviations = []
    for s, sc, predicted in zip(series, scales, scaled_bt, strict=True):
        actual = s.values[-HOLDOUT_DAYS:]
        naive = np.tile(s.values[-HOLDOUT_DAYS - 7 : -HOLDOUT_DAYS], HOLDOUT_DAYS // 7 + 1)
        naive = naive[:HOLDOUT_DAYS]
        for figures, guess in ((metrics, predicted * sc), (baseline, naive)):
            mae, mape, wape = _errors(actual, guess)
            figures["mape"].append(mape)
            figures["wape"].append(wape)
            if s.seller_id is None:
                figures[f"mae_{s.currency}"].append(mae)
        deviations.append(float(np.std(actual - predicted * sc)))

    # the served forecast: fitted on everything, from today
    model, scales, rows = _fit(series)
    first = end + dt.timedelta(days=1)
    ahead = _recursive(
        model, [s.values / sc for s, sc in zip(series, scales, strict=True)], first, HORIZON
    )
    tenant_id = current_tenant_id()
    records = []
    for s, sc, predicted, deviation in zip(series, scales, ahead, deviations, strict=True):
        for step, value in enumerate(predicted * sc):
            records.append(
                {
                    "tenant_id": tenant_id,
                    "model_version_id": version.id,
                    "seller_id": s.seller_id,
                    "currency": s.currency,
                    "day": first + dt.timedelta(days=step),
                    "predicted": _money(value),
                    "lower": _money(value - Z90 * deviation),
                    "upper": _money(value + Z90 * deviation),
                }
            )
    for i in range(0, len(records), 2000):
        db.session.execute(insert(SalesForecast.__table__), records[i : i + 2000])

    version.algorithm = (
        "Pipeline(ColumnTransformer(StandardScaler, OneHotEncoder), Ridge(alpha=0.1))"
    )
    version.params = {
        "window_days": WINDOW_DAYS,
        "horizon_days": HORIZON,
        "holdout_days": HOLDOUT_DAYS,
        "min_history_days": MIN_DAYS,
        "series": len(series),
        "interval": "predicted +- 1.645 x backtest residual std",
    }
    version.features = FEATURES
    version.window_start = dt.datetime.combine(start, dt.time(), tzinfo=dt.timezone.utc)
    version.window_end = dt.datetime.combine(first, dt.time(), tzinfo=dt.timezone.utc)
    version.rows = rows
    version.metrics = {key: _mean(values) for key, values in metrics.items()}
    version.baseline = {key: _mean(values) for key, values in baseline.items()} | {
        "baseline": "seasonal-naive (the same weekday of the last week seen)"
    }


# --- serving -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastDay:
    day: dt.date
    predicted: Decimal
    lower: Decimal
    upper: Decimal


@dataclass(frozen=True)
class CurrencyForecast:
    currency: str
    days: tuple[ForecastDay, ...]


@dataclass(frozen=True)
class Forecast:
    seller_id: int | None  # None: the tenant's total
    model_version: int | None  # the version's number (None: nothing trained yet)
    trained_at: dt.datetime | None
    series: tuple[CurrencyForecast, ...]


def _target_seller(actor: Actor, seller_id: int | None) -> int | None:
    """Whose forecast the caller may read: an admin the tenant's (None) or any seller's of the
    tenant; a seller its own only (another seller's id: NotFound, as for any resource not its
    own); anyone else nothing (PermissionDenied)."""
    if actor.is_admin:
        if seller_id is not None and db.session.get(SellerProfile, seller_id) is None:
            raise NotFound("no such seller")
        return seller_id
    own = actor.seller_id if actor.is_seller else None
    if own is None:
        raise PermissionDenied("only admins and sellers see sales forecasts")
    if seller_id is not None and seller_id != own:
        raise NotFound("no such seller")
    require_approved(db.session.get(SellerProfile, own))
    return own


def forecast(actor: Actor, seller_id: int | None, days: int) -> Forecast:
    """The active version's forecast of the next `days` days from today (UTC), per currency."""
    target = _target_seller(actor, seller_id)
    version = registry.active(registry.SALES_FORECAST)
    if version is None:
        return Forecast(target, None, None, ())
    today = _today()
    owner = (
        SalesForecast.seller_id.is_(None) if target is None else SalesForecast.seller_id == target
    )
    rows = db.session.execute(
        select(
            SalesForecast.currency,
            SalesForecast.day,
            SalesForecast.predicted,
            SalesForecast.lower,
            SalesForecast.upper,
        )
        .where(SalesForecast.model_version_id == version.id, owner)
        .where(SalesForecast.day >= today, SalesForecast.day < today + dt.timedelta(days=days))
        .order_by(SalesForecast.currency, SalesForecast.day)
    ).all()
    by_currency: dict[str, list[ForecastDay]] = defaultdict(list)
    for currency, day, predicted, lower, upper in rows:
        by_currency[currency].append(ForecastDay(day, predicted, lower, upper))
    return Forecast(
        target,
        version.version,
        version.trained_at,
        tuple(CurrencyForecast(c, tuple(d)) for c, d in by_currency.items()),
    )
