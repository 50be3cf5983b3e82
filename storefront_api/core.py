"""/api/core: operational endpoints (health)."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.core.health import check_database, check_redis, health
from app.events.health import check_queues
from app.extensions import limiter
from app.search.health import check_search
from storefront_api.common import Blueprint

blp = Blueprint("core", __name__, url_prefix="/api/core", description="Operations")

# What /api/core/health reports, in this order: each domain checks its own dependencies
CHECKS = {
    "database": check_database,
    "redis": check_redis,
    "queues": check_queues,
    "search": check_search,
}


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"description": "ok or degraded"})
    checks = fields.Dict(required=True, metadata={"description": "database, redis, queues, search"})


@blp.route("/health")
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="A dependency is down")
@limiter.exempt
def get_health():
    """Database, Redis, queue and search status."""
    body, ok = health(CHECKS)
    return body, (200 if ok else 503)


class PingSchema(Schema):
    ok = fields.Boolean(required=True)


@blp.route("/ping")
@blp.response(200, PingSchema)
@limiter.exempt
def get_ping():
    """Liveness: answers without touching any dependency (also the benchmarks' ceiling)."""
    return {"ok": True}
