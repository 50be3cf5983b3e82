"""/api/core: operational endpoints (health)."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.core.health import health
from app.extensions import limiter
from storefront_api.common import Blueprint

blp = Blueprint("core", __name__, url_prefix="/api/core", description="Operations")


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"description": "ok or degraded"})
    checks = fields.Dict(required=True, metadata={"description": "database, redis, queues, search"})


@blp.route("/health")
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="A dependency is down")
@limiter.exempt
def get_health():
    """Database, Redis, queue and search status."""
    body, ok = health()
    return body, (200 if ok else 503)


class PingSchema(Schema):
    ok = fields.Boolean(required=True)


@blp.route("/ping")
@blp.response(200, PingSchema)
@limiter.exempt
def get_ping():
    """Liveness: answers without touching any dependency (also the benchmarks' ceiling)."""
    return {"ok": True}
