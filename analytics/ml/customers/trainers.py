"""The three customer models, each a scikit-learn Pipeline fitted by a trainer registered with
analytics.training (the nightly job and the admin's "Train now" run them per tenant):

- segments: StandardScaler (log1p first for the skewed counts and money) + KMeans, k in 2..6
  chosen by silhouette; clusters named by NAMING RULE below. Baseline: the silhouette of an RFM
  quantile split (recency, frequency, monetary tertiles summed into low / middle / high) in the
  same scaled space.
- churn: LogisticRegression on the standardised features. Time-based holdout: fitted on the
  features as of now - 2*H labelled by the H days after, scored on the features as of now - H
  labelled by the last H days (H = HORIZON_DAYS); ROC-AUC, Brier score and reliability bins against
  a naive baseline (recency alone as the score for ROC-AUC, the training base rate for Brier).
  Served: refitted on the latest labelled cutoff (now - H), applied to the features as of now.
  Reasons: the largest positive contributions (coefficient x standardised value) named for people.
- lifetime_value: GradientBoostingRegressor predicting the next H days' spend (main currency) from
  the features; holdout MAE on the same cutoffs against the mean-spend baseline (the training
  target's mean for everybody). Served like churn.

Too little data (fewer than MIN_CUSTOMERS customers, or a holdout with one class only) raises
NotEnoughData with the figures. Everything is seeded (RANDOM_STATE) and "now" is the start of the
current UTC day (`as_of`): two trainings on the same day give the same predictions.

NAMING RULE (segments), on each cluster's centroid in the standardised space (z-scores: 0 is the
average customer): recent = recency z < 0; value = frequency z + monetary z.
1. recent, tenure z < -0.5 and frequency z < 0: "new";
2. the other recent clusters by value, highest first: "champions", "loyal", "promising";
3. not recent with value > 0, by value: one is "at risk" (they bought a lot, and stopped); of two,
   the higher is "can't lose" and the other "at risk";
4. not recent otherwise, most recent first: one is "hibernating"; two are "about to sleep" and
   "hibernating"; three "about to sleep", "hibernating", "lost".
A group with more clusters than names (K_RANGE allows 6, all in one group only on odd data) numbers
its last name ("promising 2").
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, mean_absolute_error, roc_auc_score, silhouette_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sqlalchemy import insert

from analytics import registry
from analytics.ml.customers.features import (
    FEATURES as FEATURES_ALL,
)
from analytics.ml.customers.features import (
    HISTORY_DAYS,
    LABELS,
    CustomerFeatures,
    customer_features,
    main_currency,
    spend_between,
)
from analytics.ml.customers.models import (
    ChurnPrediction,
    CustomerSegment,
    LifetimeValuePrediction,
)
from analytics.training import NotEnoughData, register_trainer
from app.core.tenancy import current_tenant_id
from app.core.types import quantize_money, utcnow
from app.extensions import db

RANDOM_STATE = 0
MIN_CUSTOMERS = 30
HORIZON_DAYS = 90
K_RANGE = range(2, 7)
# the features each model reads (features.FEATURES), and which are log1p'd before scaling
SEGMENT_FEATURES = (
    "recency_days",
    "frequency",
    "monetary",
    "tenure_days",
    "avg_order_value",
    "days_between_orders",
    "activity",
)
MODEL_FEATURES = (
    "recency_days",
    "frequency",
    "monetary",
    "tenure_days",
    "avg_order_value",
    "refund_rate",
    "days_between_orders",
    "overdue_ratio",
    "activity",
)
SKEWED = {"frequency", "monetary", "avg_order_value", "activity", "overdue_ratio"}
# churn and lifetime value also read the day counts on a log scale: "30 days late" means more to a
# weekly buyer than to a quarterly one, which a linear model sees as log(recency) - log(gap)
MODEL_SKEWED = SKEWED | {"recency_days", "tenure_days", "days_between_orders"}
TOP_REASONS = 3

registry.register_predictions(registry.SEGMENTS, CustomerSegment)
registry.register_predictions(registry.CHURN, ChurnPrediction)
registry.register_predictions(registry.LIFETIME_VALUE, LifetimeValuePrediction)


def scaler(features, skewed=SKEWED) -> tuple[ColumnTransformer, list[str]]:
    """log1p + StandardScaler for the skewed features, StandardScaler for the rest; the output's
    column names in order."""
    logged = [i for i, f in enumerate(features) if f in skewed]
    plain = [i for i, f in enumerate(features) if f not in skewed]
    transformer = ColumnTransformer(
        [
            ("log", make_pipeline(FunctionTransformer(np.log1p), StandardScaler()), logged),
            ("plain", StandardScaler(), plain),
        ]
    )
    return transformer, [features[i] for i in logged + plain]


def as_of() -> dt.datetime:
    """What the models see: everything before the start of the current UTC day (the nightly run's
    day). Two trainings on one day see the same data, hence predict the same."""
    return utcnow().replace(hour=0, minute=0, second=0, microsecond=0)


def _need(n: int, what: str) -> None:
    if n < MIN_CUSTOMERS:
        raise NotEnoughData(f"{n} {what}, {MIN_CUSTOMERS} needed")


def _insert(model, rows: list[dict]) -> None:
    tenant_id = current_tenant_id()
    for row in rows:
        row["tenant_id"] = tenant_id  # a Core insert: the tenant is ours to set
    for i in range(0, len(rows), 1000):
        db.session.execute(insert(model.__table__), rows[i : i + 1000])


def _window(version, start: dt.datetime, end: dt.datetime, rows: int, features) -> None:
    version.window_start, version.window_end = start, end
    version.rows = rows
    version.features = list(features)


# --- segments -------------------------------------------------------------------------------------


def name_segments(centroids: dict[int, dict[str, float]]) -> dict[int, str]:
    """Cluster -> name, from each cluster's standardised centroid (the NAMING RULE above)."""

    def value(c):
        return centroids[c]["frequency"] + centroids[c]["monetary"]

    def recency(c):
        return centroids[c]["recency_days"]

    recent = [c for c in centroids if recency(c) < 0]
    new = [
        c for c in recent if centroids[c]["tenure_days"] < -0.5 and centroids[c]["frequency"] < 0
    ]
    active = sorted((c for c in recent if c not in new), key=value, reverse=True)
    dormant = [c for c in centroids if recency(c) >= 0]
    slipping = sorted((c for c in dormant if value(c) > 0), key=value, reverse=True)
    sleeping = sorted((c for c in dormant if value(c) <= 0), key=recency)

    names: dict[int, str] = {}
    for group, ladder in (
        (sorted(new, key=value, reverse=True), ["new"]),
        (active, ["champions", "loyal", "promising"]),
        (slipping, ["at risk"] if len(slipping) == 1 else ["can't lose", "at risk"]),
        (sleeping, _sleeping_names(len(sleeping))),
    ):
        for i, c in enumerate(group):
            if i < len(ladder):
                names[c] = ladder[i]
            else:
                names[c] = f"{ladder[-1]} {i - len(ladder) + 2}"
    return names


def _sleeping_names(count: int) -> list[str]:
    if count <= 1:
        return ["hibernating"]
    if count == 2:
        return ["about to sleep", "hibernating"]
    return ["about to sleep", "hibernating", "lost"]


def _rfm_quantile_labels(data: CustomerFeatures) -> np.ndarray:
    """The naive split: recency (lower better), frequency and monetary tertiles (0..2) summed,
    then cut into low (0-2), middle (3-4) and high (5-6)."""

    def tertile(x):
        return np.searchsorted(np.quantile(x, [1 / 3, 2 / 3]), x, side="right")

    score = (
        tertile(-data.column("recency_days"))
        + tertile(data.column("frequency"))
        + tertile(data.column("monetary"))
    )
    return np.digitize(score, [3, 5])


@register_trainer(registry.SEGMENTS)
def train_segments(version: registry.ModelVersion) -> None:
    now = as_of()
    data = customer_features(now)
    _need(len(data), "customers with a paid order in the last year")
    X = data.columns(SEGMENT_FEATURES)
    transformer, columns = scaler(SEGMENT_FEATURES)
    Xt = transformer.fit_transform(X)
    scores = {}
    for k in K_RANGE:
        if k >= len(data):
            break
        labels = KMeans(n_clusters=k, n_init=10, random_state=RANDOM_STATE).fit_predict(Xt)
        scores[k] = float(silhouette_score(Xt, labels, random_state=RANDOM_STATE))
    k = max(scores, key=lambda key: (round(scores[key], 6), -key))
    pipeline = Pipeline(
        [
            ("scale", transformer),
            ("kmeans", KMeans(n_clusters=k, n_init=10, random_state=RANDOM_STATE)),
        ]
    ).fit(X)
    labels = pipeline.predict(X)
    Xt = pipeline[:-1].transform(X)
    centroids = {
        c: {name: float(v) for name, v in zip(columns, Xt[labels == c].mean(axis=0), strict=True)}
        for c in range(k)
    }
    names = name_segments(centroids)
    naive = _rfm_quantile_labels(data)
    naive_score = (
        float(silhouette_score(Xt, naive, random_state=RANDOM_STATE))
        if len(set(naive.tolist())) > 1
        else 0.0
    )
    segments = []
    for c in sorted(
        range(k), key=lambda c: -(centroids[c]["frequency"] + centroids[c]["monetary"])
    ):
        members = data.matrix[labels == c]
        means = {f: round(float(members[:, i].mean()), 2) for i, f in enumerate(FEATURES_ALL)}
        segments.append(
            {
                "cluster": c,
                "name": names[c],
                "size": int((labels == c).sum()),
                "averages": {f: means[f] for f in SEGMENT_FEATURES + ("refund_rate",)},
                "centroid_z": {f: round(v, 3) for f, v in centroids[c].items()},
            }
        )
    version.algorithm = f"StandardScaler + KMeans(k={k})"
    version.params = {
        "k": k,
        "k_range": [K_RANGE.start, K_RANGE.stop - 1],
        "log1p": sorted(SKEWED & set(SEGMENT_FEATURES)),
        "random_state": RANDOM_STATE,
        "currency": data.currency,
        "segments": segments,
    }
    _window(version, now - dt.timedelta(days=HISTORY_DAYS), now, len(data), SEGMENT_FEATURES)
    version.metrics = {
        "silhouette": round(scores[k], 4),
        "chosen_k": k,
        "silhouette_by_k": {str(key): round(v, 4) for key, v in scores.items()},
    }
    version.baseline = {
        "name": "RFM tertile split (low / middle / high)",
        "silhouette": round(naive_score, 4),
    }
    col = {f: i for i, f in enumerate(FEATURES_ALL)}
    rows = []
    for user_id, label, x in zip(data.user_ids, labels, data.matrix, strict=True):
        rows.append(
            {
                "model_version_id": version.id,
                "customer_user_id": user_id,
                "segment": names[int(label)],
                "cluster": int(label),
                "currency": data.currency,
                "recency_days": round(float(x[col["recency_days"]]), 2),
                "frequency": int(x[col["frequency"]]),
                "monetary": quantize_money(Decimal(str(x[col["monetary"]])), data.currency),
                "tenure_days": round(float(x[col["tenure_days"]]), 2),
                "avg_order_value": quantize_money(
                    Decimal(str(x[col["avg_order_value"]])), data.currency
                ),
                "refund_rate": round(float(x[col["refund_rate"]]), 4),
                "days_between_orders": round(float(x[col["days_between_orders"]]), 2),
                "views": int(x[col["views"]]),
                "cart_adds": int(x[col["cart_adds"]]),
                "wishlist_adds": int(x[col["wishlist_adds"]]),
                "searches": int(x[col["searches"]]),
            }
        )
    _insert(CustomerSegment, rows)


# --- churn and lifetime value: a time-based holdout -------------------------------------------------


def _labelled(
    cutoff: dt.datetime, currency: str
) -> tuple[CustomerFeatures, np.ndarray, np.ndarray]:
    """Features as of `cutoff`, and per customer: churned (no paid order in the HORIZON_DAYS after)
    and the spend in that horizon (main currency)."""
    data = customer_features(cutoff, currency)
    after = spend_between(cutoff, cutoff + dt.timedelta(days=HORIZON_DAYS), currency)
    churned = np.array([0 if after.get(u, (0, 0.0))[0] else 1 for u in data.user_ids])
    spend = np.array([after.get(u, (0, 0.0))[1] for u in data.user_ids])
    return data, churned, spend


def _cutoffs(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    horizon = dt.timedelta(days=HORIZON_DAYS)
    return now - 2 * horizon, now - horizon


def _reliability(y: np.ndarray, p: np.ndarray, bins: int = 5) -> list[dict]:
    """Predicted vs observed churn rate in equal-width probability bins (the non-empty ones)."""
    edges = np.linspace(0, 1, bins + 1)
    out = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (p >= lo) & ((p < hi) if hi < 1 else (p <= hi))
        if inside.any():
            out.append(
                {
                    "bin": f"{lo:.1f}-{hi:.1f}",
                    "customers": int(inside.sum()),
                    "predicted": round(float(p[inside].mean()), 4),
                    "observed": round(float(y[inside].mean()), 4),
                }
            )
    return out


def churn_pipeline() -> Pipeline:
    transformer, _ = scaler(MODEL_FEATURES, MODEL_SKEWED)
    return Pipeline(
        [
            ("scale", transformer),
            ("model", LogisticRegression(C=1.0, max_iter=1000, random_state=RANDOM_STATE)),
        ]
    )


def _two_classes(y: np.ndarray, what: str) -> None:
    if len(set(y.tolist())) < 2:
        raise NotEnoughData(f"every customer of the {what} has the same outcome")


def reasons_of(pipeline: Pipeline, X: np.ndarray) -> list[list[dict]]:
    """Per row: the features raising its churn probability most (coefficient x standardised
    value, positive ones only, largest first, at most TOP_REASONS), named for people."""
    _, columns = scaler(MODEL_FEATURES, MODEL_SKEWED)
    Xt = pipeline[:-1].transform(X)
    contributions = Xt * pipeline[-1].coef_[0]
    out = []
    for xt, row in zip(Xt, contributions, strict=True):
        reasons = []
        for j in np.argsort(-row, kind="stable")[:TOP_REASONS]:
            if row[j] <= 0:
                break
            feature = columns[j]
            high, low = LABELS[feature]
            reasons.append(
                {
                    "feature": feature,
                    "label": high if xt[j] > 0 else low,
                    "contribution": round(float(row[j]), 4),
                }
            )
        out.append(reasons)
    return out


@register_trainer(registry.CHURN)
def train_churn(version: registry.ModelVersion) -> None:
    now, currency = as_of(), main_currency()
    first, second = _cutoffs(now)
    train, y_train, _ = _labelled(first, currency)
    test, y_test, _ = _labelled(second, currency)
    _need(len(train), f"customers with a paid order in the year before {first.date()}")
    _need(len(test), f"customers with a paid order in the year before {second.date()}")
    _two_classes(y_train, "training period")
    _two_classes(y_test, "holdout period")
    evaluated = churn_pipeline().fit(train.columns(MODEL_FEATURES), y_train)
    p = evaluated.predict_proba(test.columns(MODEL_FEATURES))[:, 1]
    base_rate = float(y_train.mean())
    version.metrics = {
        "roc_auc": round(float(roc_auc_score(y_test, p)), 4),
        "brier": round(float(brier_score_loss(y_test, p)), 4),
        "reliability": _reliability(y_test, p),
        "holdout_customers": len(test),
        "holdout_churn_rate": round(float(y_test.mean()), 4),
    }
    version.baseline = {
        "name": "recency alone (ROC-AUC); the training churn rate for everyone (Brier)",
        "roc_auc": round(float(roc_auc_score(y_test, test.column("recency_days"))), 4),
        "brier": round(float(brier_score_loss(y_test, np.full(len(y_test), base_rate))), 4),
    }
    # served: fitted on the latest labelled cutoff, applied to today's features
    served = churn_pipeline().fit(test.columns(MODEL_FEATURES), y_test)
    data = customer_features(now, currency)
    X = data.columns(MODEL_FEATURES)
    probabilities = served.predict_proba(X)[:, 1]
    coefficients = dict(
        zip(scaler(MODEL_FEATURES, MODEL_SKEWED)[1], served[-1].coef_[0], strict=True)
    )
    version.algorithm = "StandardScaler + LogisticRegression"
    version.params = {
        "horizon_days": HORIZON_DAYS,
        "train_cutoff": first.isoformat(),
        "holdout_cutoff": second.isoformat(),
        "log1p": sorted(MODEL_SKEWED),
        "coefficients": {f: round(float(c), 4) for f, c in coefficients.items()},
        "random_state": RANDOM_STATE,
    }
    _window(version, first - dt.timedelta(days=HISTORY_DAYS), now, len(train), MODEL_FEATURES)
    rows = [
        {
            "model_version_id": version.id,
            "customer_user_id": user_id,
            "probability": round(float(prob), 4),
            "reasons": reasons,
            "recency_days": round(float(x[0]), 2),
            "frequency": int(x[1]),
        }
        for user_id, prob, reasons, x in zip(
            data.user_ids, probabilities, reasons_of(served, X), X, strict=True
        )
    ]
    _insert(ChurnPrediction, rows)


def ltv_pipeline() -> Pipeline:
    transformer, _ = scaler(MODEL_FEATURES, MODEL_SKEWED)
    return Pipeline(
        [
            ("scale", transformer),
            (
                "model",
                GradientBoostingRegressor(
                    n_estimators=150,
                    max_depth=3,
                    learning_rate=0.05,
                    loss="squared_error",
                    random_state=RANDOM_STATE,
                ),
            ),
        ]
    )


@register_trainer(registry.LIFETIME_VALUE)
def train_lifetime_value(version: registry.ModelVersion) -> None:
    now, currency = as_of(), main_currency()
    first, second = _cutoffs(now)
    train, _, spend_train = _labelled(first, currency)
    test, _, spend_test = _labelled(second, currency)
    _need(len(train), f"customers with a paid order in the year before {first.date()}")
    _need(len(test), f"customers with a paid order in the year before {second.date()}")
    evaluated = ltv_pipeline().fit(train.columns(MODEL_FEATURES), spend_train)
    predicted = np.clip(evaluated.predict(test.columns(MODEL_FEATURES)), 0, None)
    mean_spend = float(spend_train.mean())
    version.metrics = {
        "mae": round(float(mean_absolute_error(spend_test, predicted)), 2),
        "holdout_customers": len(test),
        "holdout_mean_spend": round(float(spend_test.mean()), 2),
        "holdout_total_error_pct": round(
            100 * float(abs(predicted.sum() - spend_test.sum()) / max(spend_test.sum(), 1)), 1
        ),
        "currency": currency,
    }
    version.baseline = {
        "name": "the training period's mean spend for everyone",
        "mae": round(float(mean_absolute_error(spend_test, np.full(len(test), mean_spend))), 2),
        "mean_spend": round(mean_spend, 2),
        # what predicting nothing for everybody would score (most customers spend nothing in a
        # horizon, so it is a hard MAE to beat; shown so a low MAE is not mistaken for skill)
        "zero_mae": round(float(np.abs(spend_test).mean()), 2),
    }
    served = ltv_pipeline().fit(test.columns(MODEL_FEATURES), spend_test)
    data = customer_features(now, currency)
    values = np.clip(served.predict(data.columns(MODEL_FEATURES)), 0, None)
    version.algorithm = "StandardScaler + GradientBoostingRegressor"
    version.params = {
        "horizon_days": HORIZON_DAYS,
        "train_cutoff": first.isoformat(),
        "holdout_cutoff": second.isoformat(),
        "currency": currency,
        "n_estimators": 150,
        "max_depth": 3,
        "random_state": RANDOM_STATE,
    }
    _window(version, first - dt.timedelta(days=HISTORY_DAYS), now, len(train), MODEL_FEATURES)
    rows = [
        {
            "model_version_id": version.id,
            "customer_user_id": user_id,
            "predicted_value": quantize_money(Decimal(str(round(float(v), 2))), currency),
            "currency": currency,
            "horizon_days": HORIZON_DAYS,
            "past_value": quantize_money(Decimal(str(round(float(m), 2))), currency),
            "frequency": int(f),
        }
        for user_id, v, m, f in zip(
            data.user_ids, values, data.column("monetary"), data.column("frequency"), strict=True
        )
    ]
    _insert(LifetimeValuePrediction, rows)
