"""/api/core: operational endpoints (health)."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.core.health import Check, check_database, check_redis, health
from app.events.health import check_queues
from app.extensions import limiter
from app.search.health import check_search
from storefront_api.common import Blueprint

blp = Blueprint("core", __name__, url_prefix="/api/core", description="Operations")

# What /api/core/health reports, in this order: each domain checks its own dependencies
CHECKS = (check_database, check_redis, check_queues, check_search)


def check_json(check: Check) -> dict:
    """{"ok", "latency_ms" (when probed), the check's own facts, "error" (its type, when it failed)}."""
    out: dict = {"ok": check.ok}
    if check.latency_ms is not None:
        out["latency_ms"] = check.latency_ms
    out.update(check.details)
    if check.error is not None:
        out["error"] = check.error
    return out


class ChecksField(fields.Dict):
    """The report's checks by name (a Dict, so documented as the object it is)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return {check.name: check_json(check) for check in value}


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"description": "ok or degraded"})
    checks = ChecksField(required=True, metadata={"description": "database, redis, queues, search"})


@blp.route("/health")
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="A dependency is down")
@limiter.exempt
def get_health():
    """Database, Redis, queue and search status."""
    report = health(CHECKS)
    return report, (200 if report.ok else 503)


class PingSchema(Schema):
    ok = fields.Boolean(required=True)


@blp.route("/ping")
@blp.response(200, PingSchema)
@limiter.exempt
def get_ping():
    """Liveness: answers without touching any dependency (also the benchmarks' ceiling)."""
    return {"ok": True}
