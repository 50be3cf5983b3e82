"""Training runs: each model kind registers a trainer here; the scheduled job (jobs.tasks.train_models,
nightly) and the admin's "train now" call `train` per tenant and kind.

A trainer gets the new ModelVersion (numbered, not yet served), fits its scikit-learn Pipeline on the
tenant's data, fills in the version's algorithm, params, features, window, rows, metrics and
baseline, and writes its predictions keyed by the version's id. `train` then times it and:
- makes it the active version in the same transaction;
- or, when it is worse than its baseline on its kind's headline figure (registry.PRIMARY, beyond
  registry.TOLERANCE), records it `rejected` and deletes its predictions: the active one serves on;
- or, when the trainer raised, records the failure in a transaction of its own (a trainer raises
  NotEnoughData, with the reason, when the tenant's data cannot train the model yet).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from analytics import registry
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.tenants.services import tenant_ids as all_tenant_ids

log = logging.getLogger(__name__)

Trainer = Callable[[registry.ModelVersion], bool | None]
_TRAINERS: dict[str, Trainer] = {}


class NotEnoughData(Exception):
    """A trainer's way to say the tenant's data cannot train this model yet (with the reason)."""


def register_trainer(kind: str) -> Callable[[Trainer], Trainer]:
    def decorate(fn: Trainer) -> Trainer:
        if kind not in registry.KINDS:
            raise ValueError(f"unknown model kind {kind!r}")
        _TRAINERS[kind] = fn
        return fn

    return decorate


def trainers() -> dict[str, Trainer]:
    _load_model_modules()
    return dict(_TRAINERS)


def _load_model_modules() -> None:
    """Import the modules whose trainers register themselves (each kind's module)."""
    import analytics.ml  # noqa: F401  (imports each model module, which registers its trainer)


@dataclass
class TrainingResult:
    tenant_id: int
    kind: str
    version_id: int | None
    status: str
    seconds: float
    error: str | None = None


def train(kind: str, tenant_id: int) -> TrainingResult:
    """Train one model kind for one tenant and serve it (see the module's docstring)."""
    trainer = trainers().get(kind)
    if trainer is None:
        raise ValueError(f"no trainer registered for {kind!r}")
    with tenant_scope(tenant_id):
        started = time.perf_counter()
        version = registry.new_version(kind)
        version_id = version.id
        try:
            trainer(version)
            version.training_seconds = round(time.perf_counter() - started, 3)
            worse = registry.verdict(version)
            if worse:  # worse than a rule of thumb: recorded, never served
                registry.reject(version, worse)
                db.session.commit()
                return TrainingResult(
                    tenant_id, kind, version_id, registry.REJECTED, version.training_seconds, worse
                )
            registry.activate(version)
            db.session.commit()
            return TrainingResult(
                tenant_id, kind, version_id, registry.ACTIVE, version.training_seconds
            )
        except NotEnoughData as exc:
            return _record_failure(kind, tenant_id, started, f"not enough data: {exc}")
        except Exception as exc:  # noqa: BLE001  (recorded on the version, then re-raised for RQ)
            log.exception("training %s for tenant %s failed", kind, tenant_id)
            _record_failure(kind, tenant_id, started, f"{type(exc).__name__}: {exc}")
            raise


def _record_failure(kind: str, tenant_id: int, started: float, error: str) -> TrainingResult:
    db.session.rollback()
    version = registry.new_version(kind)
    registry.fail(version, error)
    version.training_seconds = round(time.perf_counter() - started, 3)
    db.session.commit()
    return TrainingResult(
        tenant_id, kind, version.id, registry.FAILED, version.training_seconds, error
    )


def train_all(
    kinds: list[str] | None = None, tenant_ids: list[int] | None = None
) -> list[TrainingResult]:
    """Every registered kind (or `kinds`) for every tenant (or `tenant_ids`): the nightly job. One
    tenant's failure does not stop the others."""
    if tenant_ids is None:
        tenant_ids = all_tenant_ids()
    results = []
    for tenant_id in tenant_ids:
        for kind in kinds or sorted(trainers()):
            try:
                results.append(train(kind, tenant_id))
            except Exception as exc:  # noqa: BLE001  (recorded by train; go on with the others)
                results.append(
                    TrainingResult(tenant_id, kind, None, registry.FAILED, 0.0, str(exc))
                )
    return results
