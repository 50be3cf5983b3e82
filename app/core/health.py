"""Health of the platform's dependencies, for /api/core/health and operators."""

from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import text

from app.extensions import db


def _timed(fn):
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


def check_database():
    def probe():
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        return {"backend": db.engine.dialect.name}

    return _timed(probe)


def check_redis():
    client = current_app.extensions.get("redis")
    if client is None:
        return {"ok": True, "configured": False}
    return _timed(lambda: {"configured": True, "pong": bool(client.ping())})


def check_queues():
    bus = current_app.extensions["event_bus"]
    from app.events.bus import pending_count

    def probe():
        info = {"mode": current_app.config["JOBS_MODE"], "outbox_pending": pending_count()}
        sizes = getattr(bus.runner, "queue_sizes", None)
        if sizes:
            info["queues"] = sizes()
        return info

    return _timed(probe)


def check_search():
    url = current_app.config.get("ELASTICSEARCH_URL")
    if url:
        import requests

        return _timed(
            lambda: {
                "backend": "elasticsearch",
                "cluster_status": requests.get(url.rstrip("/") + "/_cluster/health", timeout=2)
                .json()
                .get("status"),
            }
        )
    # The embedded engine arrives with the search issue; until then search runs on the database.
    return {"ok": True, "backend": "database"}


def health() -> tuple[dict, bool]:
    checks = {
        "database": check_database(),
        "redis": check_redis(),
        "queues": check_queues(),
        "search": check_search(),
    }
    ok = all(c.get("ok") for c in checks.values())
    return {"status": "ok" if ok else "degraded", "checks": checks}, ok
