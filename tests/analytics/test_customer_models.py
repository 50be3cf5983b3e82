"""The customer models (analytics/ml/customers) on planted histories (tests/builders/
customer_history.py): each beats its naive baseline, segments come out named as planted, two
trainings give the same predictions, and a shop with too little data is told so."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import select

from analytics import registry, training
from analytics.ml.customers.features import FEATURES, customer_features
from analytics.ml.customers.models import (
    ChurnPrediction,
    CustomerSegment,
    LifetimeValuePrediction,
)
from analytics.ml.customers.trainers import name_segments
from app.core.tenancy import tenant_scope
from app.core.types import utcnow
from app.extensions import db
from tests.builders.customer_history import (
    GROUPS,
    _customers,
    _orders,
    lifecycle_history,
    once,
    segments_history,
)
from tests.builders.factories import Factory


@pytest.fixture(scope="module")
def planted(app):
    return once(app, segments_history)


@pytest.fixture(scope="module")
def lifecycle(app):
    return once(app, lifecycle_history)


def _train(app, kind, tenant_id):
    with app.app_context():
        return training.train(kind, tenant_id)


def _active(app, tenant_id, kind):
    with app.app_context(), tenant_scope(tenant_id):
        version = registry.active(kind)
        db.session.expunge(version)
        return version


def _rows(app, tenant_id, model, version_id, *columns):
    with app.app_context(), tenant_scope(tenant_id):
        return db.session.execute(
            select(model.customer_user_id, *columns)
            .where(model.model_version_id == version_id)
            .order_by(model.customer_user_id)
        ).all()


def test_features_by_hand(app):
    """Two customers' features computed by hand: paid orders only, money in the main currency
    only, refunds netted, tenure from the first order ever, the interval of a one-order customer
    its tenure."""
    factory = Factory(app)
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    as_of = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)

    def ago(days):
        return as_of - dt.timedelta(days=days)

    with app.app_context(), tenant_scope(tenant.id):
        (a, _), (b, _) = _customers(tenant.id, 2, "hand")
        _orders(
            seller.id,
            [
                (a, ago(400), 999.0, 0.0, "USD"),  # before the year: tenure only
                (a, ago(100), 100.0, 0.0, "USD"),
                (a, ago(60), 50.0, 50.0, "USD"),  # refunded in full
                (a, ago(10), 30.0, 0.0, "EUR"),  # counted as an order, not as USD money
                (b, ago(20), 80.0, 20.0, "USD"),
                (b, ago(-5), 500.0, 0.0, "USD"),  # after as_of: unseen
            ],
        )
        db.session.commit()
        data = customer_features(as_of, "USD")
        got = {
            u: dict(zip(FEATURES, map(float, row), strict=True))
            for u, row in zip(data.user_ids, data.matrix, strict=True)
        }
        db.session.rollback()
    assert set(got) == {a, b}
    assert got[a]["recency_days"] == 10 and got[a]["frequency"] == 3
    assert got[a]["monetary"] == 100.0  # 100 + (50 - 50); the EUR order adds no money
    assert got[a]["tenure_days"] == 400
    assert got[a]["avg_order_value"] == 50.0  # 100 over 2 USD orders
    assert got[a]["refund_rate"] == pytest.approx(50 / 150)
    assert got[a]["days_between_orders"] == 45  # (100 - 10) / 2
    assert got[a]["overdue_ratio"] == pytest.approx(10 / 45)
    assert got[b]["recency_days"] == 20 and got[b]["frequency"] == 1
    assert got[b]["monetary"] == 60.0 and got[b]["refund_rate"] == 0.25
    assert got[b]["days_between_orders"] == 20 == got[b]["tenure_days"]


def test_naming_rule():
    z = {
        0: {"recency_days": -1.0, "frequency": 1.5, "monetary": 1.5, "tenure_days": 0.5},
        1: {"recency_days": -0.5, "frequency": 0.2, "monetary": -0.2, "tenure_days": 0.5},
        2: {"recency_days": -1.0, "frequency": -1.0, "monetary": -0.8, "tenure_days": -1.2},
        3: {"recency_days": 1.0, "frequency": 0.8, "monetary": 0.6, "tenure_days": 0.6},
        4: {"recency_days": 1.5, "frequency": -1.0, "monetary": -1.0, "tenure_days": 0.0},
        5: {"recency_days": 2.0, "frequency": -1.2, "monetary": -1.1, "tenure_days": 0.1},
    }
    assert name_segments(z) == {
        0: "champions",
        1: "loyal",
        2: "new",
        3: "at risk",
        4: "about to sleep",
        5: "hibernating",
    }
    # two slipping clusters: the more valuable one is the one not to lose
    z[4] = {"recency_days": 1.2, "frequency": 1.0, "monetary": 1.0, "tenure_days": 0.5}
    assert name_segments(z)[4] == "can't lose" and name_segments(z)[3] == "at risk"
    assert name_segments(z)[5] == "hibernating"
    # six clusters all recent and established: the ladder, then numbers, never a name twice
    same = {
        c: {"recency_days": -1.0, "frequency": 1.0 - c / 10, "monetary": 1.0, "tenure_days": 0.5}
        for c in range(6)
    }
    assert name_segments(same) == {
        0: "champions",
        1: "loyal",
        2: "promising",
        3: "promising 2",
        4: "promising 3",
        5: "promising 4",
    }


def test_segments_are_named_as_planted_and_beat_the_rfm_split(app, planted):
    result = _train(app, registry.SEGMENTS, planted.tenant.id)
    assert result.status == registry.ACTIVE, result.error
    version = _active(app, planted.tenant.id, registry.SEGMENTS)
    assert version.metrics["chosen_k"] == 5
    assert set(version.metrics["silhouette_by_k"]) == {"2", "3", "4", "5", "6"}
    assert version.metrics["silhouette"] > version.baseline["silhouette"]
    assert version.rows == 5 * 40 and version.features[0] == "recency_days"
    rows = _rows(app, planted.tenant.id, CustomerSegment, version.id, CustomerSegment.segment)
    by_group: dict[str, Counter] = {}
    for user_id, segment in rows:
        by_group.setdefault(planted.groups[user_id], Counter())[segment] += 1
    # each planted group lands (almost) whole in the segment of its name
    for group in GROUPS:
        assert by_group[group][group] >= 38, (group, by_group[group])
    sizes = {s["name"]: s["size"] for s in version.params["segments"]}
    assert sorted(sizes) == sorted(GROUPS) and sum(sizes.values()) == 200


def test_churn_beats_recency_alone_and_is_calibrated(app, lifecycle):
    result = _train(app, registry.CHURN, lifecycle.tenant.id)
    assert result.status == registry.ACTIVE, result.error
    version = _active(app, lifecycle.tenant.id, registry.CHURN)
    m, b = version.metrics, version.baseline
    assert m["roc_auc"] >= 0.8 and m["roc_auc"] > b["roc_auc"]
    assert m["brier"] < b["brier"]
    assert sum(bin["customers"] for bin in m["reliability"]) == m["holdout_customers"]
    rows = _rows(
        app,
        lifecycle.tenant.id,
        ChurnPrediction,
        version.id,
        ChurnPrediction.probability,
        ChurnPrediction.reasons,
        ChurnPrediction.recency_days,
    )
    assert len(rows) > 100
    assert all(0 <= p <= 1 for _, p, _, _ in rows)
    # the likeliest to leave are the long gone, and "a long time since the last order" says why
    top = sorted(rows, key=lambda r: -r[1])[:20]
    assert all(r[1] > 0.5 for r in top)
    assert Counter(reason["feature"] for r in top for reason in r[2][:1]).most_common(1)[0][0] in {
        "recency_days",
        "overdue_ratio",
    }
    assert all(len(r[2]) <= 3 for r in rows)


def test_lifetime_value_beats_the_mean(app, lifecycle):
    result = _train(app, registry.LIFETIME_VALUE, lifecycle.tenant.id)
    assert result.status == registry.ACTIVE, result.error
    version = _active(app, lifecycle.tenant.id, registry.LIFETIME_VALUE)
    m, b = version.metrics, version.baseline
    # a fifth better than the mean for everyone (the baseline the registry judges it by); about
    # as good as "nothing" (most spend nothing in a horizon, so zero is a hard MAE: the clean runs
    # saw 103.8 against 104.2 and 104.05 against 103.42, by the day's planted history); the
    # shop's total for the horizon within a quarter
    assert m["mae"] < 0.8 * b["mae"] and m["mae"] <= 1.05 * b["zero_mae"]
    assert m["holdout_total_error_pct"] < 25
    rows = _rows(
        app,
        lifecycle.tenant.id,
        LifetimeValuePrediction,
        version.id,
        LifetimeValuePrediction.predicted_value,
        LifetimeValuePrediction.currency,
    )
    assert rows and all(isinstance(v, Decimal) and v >= 0 and c == "USD" for _, v, c in rows)


def test_two_trainings_give_the_same_predictions(app, lifecycle, planted):
    """Seeded: a second training of the same data predicts the same (the first is now previous,
    kept for rollback)."""
    for kind, model, column, tenant in (
        (registry.CHURN, ChurnPrediction, ChurnPrediction.probability, lifecycle.tenant),
        (registry.SEGMENTS, CustomerSegment, CustomerSegment.segment, planted.tenant),
    ):
        first = _active(app, tenant.id, kind) if _has(app, tenant.id, kind) else None
        if first is None:
            _train(app, kind, tenant.id)
            first = _active(app, tenant.id, kind)
        second = _train(app, kind, tenant.id)
        assert second.version_id != first.id
        a = _rows(app, tenant.id, model, first.id, column)
        b = _rows(app, tenant.id, model, second.version_id, column)
        assert a == b and len(a) > 0


def _has(app, tenant_id, kind) -> bool:
    with app.app_context(), tenant_scope(tenant_id):
        return registry.active(kind) is not None


def test_not_enough_data_is_recorded_and_serves_nothing(app):
    factory = Factory(app)
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    now = utcnow()
    with app.app_context(), tenant_scope(tenant.id):
        people = _customers(tenant.id, 5, "few")
        _orders(seller.id, [(u, now - dt.timedelta(days=3), 10.0, 0.0, "USD") for u, _ in people])
        db.session.commit()
    for kind in (registry.SEGMENTS, registry.CHURN, registry.LIFETIME_VALUE):
        result = _train(app, kind, tenant.id)
        assert result.status == registry.FAILED
        assert result.error.startswith("not enough data: ") and "30 needed" in result.error
        assert not _has(app, tenant.id, kind)
