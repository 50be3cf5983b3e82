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


def send_email(template: str, to: str, context: dict) -> None:
    """Render app/notifications/templates/mail/<template>.* and send it (SMTP, or an .eml file in
    MAIL_OUTBOX_DIR when MAIL_SERVER is unset). For mails without secrets: mails carrying a
    one-time token are sent by their event consumer, which creates the token in the same job."""
    from app.notifications.mail import send_mail

    send_mail(template, to, context)


def expire_unpaid_orders() -> int:
    """Cron: cancel unpaid orders past their reservation TTL and release their stock."""
    from app.orders.lifecycle import expire_unpaid

    with audit_as(AuditActor(actor_id=None, actor="system:orders.expire_unpaid", source="job")):
        return expire_unpaid()
