"""Health-check primitives: a check's answer (`Check`), the report of them all (`HealthReport`),
timing a probe, and the checks of what core itself wires (the database, Redis). The checks of a
domain's own dependencies live with that domain (the outbox and queues: app.events.health; the
search backend: app.search.health); the face that serves /api/core/health composes them and
writes the report out (storefront_api/core.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from flask import current_app
from sqlalchemy import text

from app.extensions import db


@dataclass(frozen=True)
class Check:
    """One dependency's state: ok or not, how long its probe took (None when nothing was probed),
    the error's type when it failed, and the facts the probe reported (its backend, queue sizes,
    ...: each check's own, by name)."""

    name: str
    ok: bool
    latency_ms: float | None = None
    error: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:  # a read-only copy: the check stays as it was answered
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))


@dataclass(frozen=True)
class HealthReport:
    """Every check, in the order they ran."""

    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def status(self) -> str:
        return "ok" if self.ok else "degraded"


Probe = Callable[[], Check]


def timed(name: str, fn: Callable[[], Mapping[str, Any] | None]) -> Check:
    """Run a probe: ok, with its latency and what it returned; or not ok, with the error's type."""
    start = time.perf_counter()
    try:
        details = fn()
        return Check(
            name,
            ok=True,
            latency_ms=round((time.perf_counter() - start) * 1000, 2),
            details=details or {},
        )
    except Exception as exc:  # report, never raise: this is the health endpoint
        return Check(name, ok=False, error=type(exc).__name__)


def check_database() -> Check:
    def probe():
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        return {"backend": db.engine.dialect.name}

    return timed("database", probe)


def check_redis() -> Check:
    client = current_app.extensions.get("redis")
    if client is None:
        return Check("redis", ok=True, details={"configured": False})
    return timed("redis", lambda: {"configured": True, "pong": bool(client.ping())})


def health(checks: Iterable[Probe]) -> HealthReport:
    """Run every check, in order."""
    return HealthReport(tuple(check() for check in checks))
