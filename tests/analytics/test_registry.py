"""The model registry and training runs (analytics.registry, analytics.training) with a trainer of
this test's own: versions numbered per tenant and kind, the new one served only once trained, the
one before kept for rollback and older ones retired with their predictions purged, a failing or
data-starved training recorded without touching what is served, tenants apart."""

from __future__ import annotations

import pytest

from analytics import registry, training
from app.core.errors import NotFound
from app.core.tenancy import tenant_scope
from app.extensions import db

KIND = registry.DEMAND


@pytest.fixture
def trainer(app):
    """Replace KIND's trainer for the test (restoring whatever was registered); `behaviour` says
    what the next training does."""
    behaviour = {"do": "fit"}
    purged: list[int] = []

    def fake(version):
        if behaviour["do"] == "raise":
            raise RuntimeError("boom")
        if behaviour["do"] == "starve":
            raise training.NotEnoughData("3 orders, 50 needed")
        version.algorithm = "Fake()"
        version.features = ["recency"]
        version.rows = 7
        version.metrics = {"mae": {"worse": 3.5, "tie": 3.05}.get(behaviour["do"], 1.5)}
        version.baseline = {"mae": 3.0}

    saved = dict(training._TRAINERS)
    saved_purgers = dict(registry._PURGERS)
    training.trainers()  # import the real modules first, so ours is not overwritten later
    training._TRAINERS[KIND] = fake
    registry._PURGERS[KIND] = [purged.append]
    yield behaviour, purged
    training._TRAINERS.clear()
    training._TRAINERS.update(saved)
    registry._PURGERS.clear()
    registry._PURGERS.update(saved_purgers)


def _states(tenant_id):
    with tenant_scope(tenant_id):
        rows = [(v.version, v.status) for v in registry.history(KIND)]
        db.session.rollback()
    return sorted(rows)


def test_versions_rotate_fail_and_roll_back(ctx, factory, trainer):
    behaviour, purged = trainer
    tenant, other = factory.tenant(), factory.tenant()

    first = training.train(KIND, tenant.id)
    assert first.status == registry.ACTIVE and first.seconds >= 0
    training.train(KIND, tenant.id)
    assert _states(tenant.id) == [(1, "previous"), (2, "active")]

    third = training.train(KIND, tenant.id)
    assert _states(tenant.id) == [(1, "retired"), (2, "previous"), (3, "active")]
    assert purged == [first.version_id]  # the retired version's predictions are deleted

    behaviour["do"] = "raise"
    with pytest.raises(RuntimeError):
        training.train(KIND, tenant.id)
    behaviour["do"] = "starve"
    starved = training.train(KIND, tenant.id)
    assert starved.status == registry.FAILED and "3 orders, 50 needed" in starved.error
    assert _states(tenant.id)[-3:] == [(3, "active"), (4, "failed"), (5, "failed")]
    with tenant_scope(tenant.id):
        served = registry.active(KIND)
        assert (served.id, served.metrics, served.baseline) == (
            third.version_id,
            {"mae": 1.5},
            {"mae": 3.0},
        )
        assert "RuntimeError: boom" in registry.history(KIND)[1].error

        assert registry.rollback(KIND).version == 2
        db.session.commit()
    assert (2, "active") in _states(tenant.id) and (3, "previous") in _states(tenant.id)

    # the other tenant has its own numbering and nothing to roll back to
    assert _states(other.id) == []
    behaviour["do"] = "fit"
    training.train(KIND, other.id)
    assert _states(other.id) == [(1, "active")]
    with tenant_scope(other.id), pytest.raises(NotFound):
        registry.rollback(KIND)
    db.session.rollback()


def test_train_all_goes_on_after_a_tenant_fails(ctx, factory, trainer):
    behaviour, _ = trainer
    tenant = factory.tenant()
    behaviour["do"] = "raise"
    results = training.train_all([KIND], [tenant.id])
    assert [(r.tenant_id, r.status) for r in results] == [(tenant.id, registry.FAILED)]
    behaviour["do"] = "fit"
    (ok,) = training.train_all([KIND], [tenant.id])
    assert ok.status == registry.ACTIVE


def test_a_version_no_better_than_its_baseline_is_never_served(ctx, factory, trainer):
    """Demand's headline figure is MAE (lower is better): a version whose MAE is worse than the
    baseline's by more than 2 % is recorded rejected with the figures, its predictions purged, and
    the active one keeps serving; a first version that loses leaves nothing served; a tie serves."""
    behaviour, purged = trainer
    tenant, fresh = factory.tenant(), factory.tenant()
    good = training.train(KIND, tenant.id)
    behaviour["do"] = "worse"
    bad = training.train(KIND, tenant.id)
    assert bad.status == registry.REJECTED
    assert bad.error == "not served: its mae 3.5 is worse than the baseline's 3 (lower is better)"
    assert purged == [bad.version_id]
    assert _states(tenant.id) == [(1, "active"), (2, "rejected")]
    with tenant_scope(tenant.id):
        assert registry.active(KIND).id == good.version_id
        db.session.rollback()

    assert training.train(KIND, fresh.id).status == registry.REJECTED
    with tenant_scope(fresh.id):
        assert registry.active(KIND) is None
        db.session.rollback()
    behaviour["do"] = "tie"  # 3.05 against 3.0: within the holdout's noise
    assert training.train(KIND, fresh.id).status == registry.ACTIVE
