"""Task functions: thin, idempotent, each calls an app service."""

from __future__ import annotations

from app.events import bus
from app.security.audit import AuditActor, audit_as


def handle_event(event_id: int, consumer: str) -> bool:
    """Apply one consumer to one outbox event, once (see app.events.bus.consume)."""
    with audit_as(AuditActor(actor_id=None, actor=f"system:{consumer}", source="job")):
        return bus.consume(event_id, consumer)


def redeliver_outbox() -> int:
    """Cron: hand over outbox events that are still pending (e.g. Redis was down at commit)."""
    return bus.redeliver_pending()
