"""The model registry: every trained model version of a tenant, with what it was trained on and how
well it did, and which version the API serves.

A version is trained by a job (analytics.training), never by a request. Its predictions are rows of
the model's own prediction table, keyed by the version's id, so serving is a read of the active
version's rows and a rollback is a switch of the active version (its predictions are still there).

Statuses: `active` (served; one per tenant and kind), `previous` (the one before it, kept for
rollback), `retired` (older; its predictions deleted), `failed` (training raised; the error kept,
the active version untouched), `rejected` (trained, but no better than the naive baseline on its
kind's headline figure, PRIMARY: its predictions deleted, the active version untouched). A newly
trained version becomes active only once its predictions are written, in one transaction with the
switch (`activate`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask_appbuilder import Model
from sqlalchemy import JSON, Float, Index, Integer, String, Text, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from app.core.errors import NotFound, ValidationError
from app.core.types import UTCDateTime, utcnow
from app.extensions import db
from app.tenants.models import TenantScoped

ACTIVE, PREVIOUS, RETIRED, FAILED = "active", "previous", "retired", "failed"
REJECTED = "rejected"
STATUSES = (ACTIVE, PREVIOUS, RETIRED, FAILED, REJECTED)

# the kinds of model (analytics.training registers a trainer per kind)
SEGMENTS = "segments"
CHURN = "churn"
LIFETIME_VALUE = "lifetime_value"
SALES_FORECAST = "sales_forecast"
DEMAND = "demand"
RECOMMENDATIONS = "recommendations"
KINDS = (SEGMENTS, CHURN, LIFETIME_VALUE, SALES_FORECAST, DEMAND, RECOMMENDATIONS)

HIGHER, LOWER = "higher", "lower"
# each kind's headline figure on its holdout (a key of both `metrics` and `baseline`) and which way
# is better: a version worse than the naive baseline on it by more than TOLERANCE (relative: a
# holdout's noise) is never served; one that ties with it is (a baseline may be perfect on a
# small holdout)
PRIMARY: dict[str, tuple[str, str]] = {
    SEGMENTS: ("silhouette", HIGHER),
    CHURN: ("roc_auc", HIGHER),
    LIFETIME_VALUE: ("mae", LOWER),
    SALES_FORECAST: ("wape", LOWER),
    DEMAND: ("mae", LOWER),
    RECOMMENDATIONS: ("hit_rate_at_5", HIGHER),
}
TOLERANCE = 0.02


class ModelVersion(TenantScoped, Model):
    __tablename__ = "analytics_model_versions"
    __table_args__ = (Index("ix_analytics_model_versions_kind", "tenant_id", "kind", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)  # 1, 2, ... per tenant and kind
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    # what was trained: the estimator as people read it ("KMeans(k=4)"), its parameters, features
    algorithm: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    params: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    features: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    # the data it saw: the training window (UTC) and the rows (customers, days, variants, ...)
    window_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    window_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    rows: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # how well: {metric: value} on the holdout, and the naive baseline's on the same holdout
    metrics: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    baseline: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    training_seconds: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    trained_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    activated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"{self.kind} v{self.version}"


# kind -> functions deleting a retired version's predictions (each model module registers its own)
_PURGERS: dict[str, list[Callable[[int], None]]] = {}


def register_predictions(kind: str, table_or_model) -> None:
    """Declare a prediction table of `kind` (a model class or Table with a `model_version_id`
    column): a retired version's rows are deleted from it."""
    table = getattr(table_or_model, "__table__", table_or_model)

    def purge(version_id: int) -> None:
        db.session.execute(delete(table).where(table.c.model_version_id == version_id))

    purgers = _PURGERS.setdefault(kind, [])
    if all(getattr(p, "_table", None) is not table for p in purgers):
        purge._table = table
        purgers.append(purge)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValidationError("Unknown model kind.", details={"kind": [f"one of {list(KINDS)}"]})


def new_version(kind: str, **fields) -> ModelVersion:
    """A version of `kind` for the current tenant, numbered after the last one, not yet active (its
    status is set by `activate` or `fail`). Added to the session; the caller commits."""
    _check_kind(kind)
    last = db.session.scalar(
        select(func.max(ModelVersion.version)).where(ModelVersion.kind == kind)
    )
    version = ModelVersion(kind=kind, version=(last or 0) + 1, status=RETIRED, **fields)
    db.session.add(version)
    db.session.flush()
    return version


def activate(version: ModelVersion) -> None:
    """Serve `version`: the active one becomes previous, the previous one retired (its predictions
    deleted). In the caller's transaction, with the predictions it has just written."""
    now = utcnow()
    current = db.session.scalars(
        select(ModelVersion)
        .where(ModelVersion.kind == version.kind, ModelVersion.status.in_((ACTIVE, PREVIOUS)))
        .where(ModelVersion.id != version.id)
        .with_for_update()
    ).all()
    for other in current:
        if other.status == PREVIOUS:
            _retire(other)
        else:
            other.status = PREVIOUS
    version.status = ACTIVE
    version.activated_at = now


def _retire(version: ModelVersion) -> None:
    version.status = RETIRED
    for purge in _PURGERS.get(version.kind, ()):
        purge(version.id)


def verdict(version: ModelVersion) -> str | None:
    """Why `version` may not be served: its headline figure is worse than the baseline's by more
    than TOLERANCE (a sentence saying so), or None (it is not, or no headline figure to judge)."""
    name, better = PRIMARY.get(version.kind, (None, None))
    value = (version.metrics or {}).get(name)
    base = (version.baseline or {}).get(name)
    if not isinstance(value, int | float) or not isinstance(base, int | float):
        return None
    margin = TOLERANCE * abs(base)
    worse = value < base - margin if better == HIGHER else value > base + margin
    if not worse:
        return None
    return (
        f"not served: its {name.replace('_', ' ')} {value:g} is worse than the baseline's "
        f"{base:g} ({better} is better)"
    )


def reject(version: ModelVersion, reason: str) -> None:
    """Record a trained version that will not be served; its predictions are deleted."""
    version.status = REJECTED
    version.error = reason[:2000]
    for purge in _PURGERS.get(version.kind, ()):
        purge(version.id)


def fail(version: ModelVersion, error: str) -> None:
    version.status = FAILED
    version.error = error[:2000]


def active(kind: str) -> ModelVersion | None:
    """The version of `kind` the current tenant's API serves, if one was trained."""
    return db.session.scalar(
        select(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.status == ACTIVE)
    )


def history(kind: str | None = None, limit: int = 50) -> list[ModelVersion]:
    query = select(ModelVersion).order_by(ModelVersion.trained_at.desc(), ModelVersion.id.desc())
    if kind:
        query = query.where(ModelVersion.kind == kind)
    return list(db.session.scalars(query.limit(limit)))


def rollback(kind: str) -> ModelVersion:
    """Serve the previous version of `kind` again (the active one becomes previous). Raises
    NotFound when there is no previous version. The caller commits."""
    _check_kind(kind)
    rows = db.session.scalars(
        select(ModelVersion)
        .where(ModelVersion.kind == kind, ModelVersion.status.in_((ACTIVE, PREVIOUS)))
        .with_for_update()
    ).all()
    previous = next((v for v in rows if v.status == PREVIOUS), None)
    if previous is None:
        raise NotFound(f"There is no previous {kind} model to roll back to.")
    for v in rows:
        if v.status == ACTIVE:
            v.status = PREVIOUS
    previous.status = ACTIVE
    previous.activated_at = utcnow()
    return previous
