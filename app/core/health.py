"""Health-check primitives: timing a probe, and the checks of what core itself wires (the
database, Redis). The checks of a domain's own dependencies live with that domain (the outbox and
queues: app.events.health; the search backend: app.search.health); the face that serves
/api/core/health composes them (storefront_api/core.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from flask import current_app
from sqlalchemy import text

from app.extensions import db

Check = Callable[[], dict]


def timed(fn: Callable[[], dict | None]) -> dict:
    """Run a probe: {"ok": True, "latency_ms", **what it returned}, or {"ok": False, "error"}."""
    start = time.perf_counter()
    try:
        detail = fn()
        return {
            "ok": True,
            "latency_ms": round((time.perf_counter() - start) * 1000, 2),
            **(detail or {}),
        }
    except Exception as exc:  # report, never raise: this is the health endpoint
        return {"ok": False, "error": type(exc).__name__}


def check_database() -> dict:
    def probe():
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        return {"backend": db.engine.dialect.name}

    return timed(probe)


def check_redis() -> dict:
    client = current_app.extensions.get("redis")
    if client is None:
        return {"ok": True, "configured": False}
    return timed(lambda: {"configured": True, "pong": bool(client.ping())})


def health(checks: Mapping[str, Check]) -> tuple[dict, bool]:
    """Run every check, in order: ({"status": "ok" or "degraded", "checks": {name: result}},
    whether all are ok)."""
    results = {name: check() for name, check in checks.items()}
    ok = all(c.get("ok") for c in results.values())
    return {"status": "ok" if ok else "degraded", "checks": results}, ok
