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


def run_payouts() -> dict:
    """Cron (daily, jobs/schedule.py): build every tenant's payouts (app.payouts.batches)."""
    from app.payouts.batches import run_payout_job

    with audit_as(AuditActor(actor_id=None, actor="system:payouts.run", source="job")):
        summary = run_payout_job()
    return {
        "payouts": summary.payouts,
        "entries": summary.entries,
        "skipped": dict(summary.skipped),
        "raced": summary.raced,
    }


def train_models(kinds: list[str] | None = None, tenant_id: int | None = None) -> list[dict]:
    """Cron (nightly, jobs/schedule.py) and the admin's "train now": train every model kind (or
    `kinds`) for every tenant (or one), each served once trained (analytics.training)."""
    from analytics.training import train_all

    with audit_as(AuditActor(actor_id=None, actor="system:analytics.train", source="job")):
        results = train_all(kinds, None if tenant_id is None else [tenant_id])
    return [
        {"tenant_id": r.tenant_id, "kind": r.kind, "status": r.status, "seconds": r.seconds}
        for r in results
    ]


def refresh_inventory_facts() -> list[dict]:
    """Cron (hourly, jobs/schedule.py): each tenant's stock snapshot of its local today and its
    units sold yesterday and today (analytics.inventory.refresh; idempotent)."""
    from analytics.inventory import refresh_all

    return [
        {"tenant_id": r.tenant_id, "day": r.day.isoformat(), "changed": r.changed}
        for r in refresh_all()
    ]


def rebuild_analytics(tenant_id: int | None = None, days: int | None = -1) -> list[dict]:
    """Cron (nightly, jobs/schedule.py): recompute every tenant's (or one's) analytics aggregates
    for the last `days` local days (-1: the nightly window; None: everything), replace them and
    return each tenant's drift report (analytics.aggregates.rebuild, also logged)."""
    from analytics.aggregates.rebuild import NIGHTLY_DAYS, rebuild

    return _each_tenant(tenant_id, lambda t: rebuild(t, NIGHTLY_DAYS if days == -1 else days))


def refresh_analytics_activity(tenant_id: int | None = None) -> list[dict]:
    """Cron (hourly): fold the last two days of product views and cart adds into the aggregates."""
    from analytics.aggregates.rebuild import refresh_activity

    return _each_tenant(tenant_id, refresh_activity)


def _each_tenant(tenant_id: int | None, work) -> list[dict]:
    from app.core.tenancy import tenant_scope
    from app.extensions import db
    from app.tenants.services import tenant_ids

    ids = tenant_ids(tenant_id)
    reports = []
    for one in ids:
        with tenant_scope(one):
            try:
                reports.append(work(one))
            except Exception as exc:  # noqa: BLE001  (one tenant's failure does not stop the rest)
                db.session.rollback()
                reports.append({"tenant_id": one, "error": f"{type(exc).__name__}: {exc}"})
    return reports


def run_data_export(export_id: int) -> str:
    """A large export or a tenant backup (app.dataio.exports.run_export): its file, once."""
    from app.dataio.exports import run_export

    with audit_as(AuditActor(actor_id=None, actor="system:dataio.export", source="job")):
        return run_export(export_id)


def flush_search_log() -> int:
    """Cron (every 10 s): write the searches buffered in Redis as rows."""
    from app.search.log_buffer import flush

    return flush()


def purge_expired_exports() -> int:
    """Cron (hourly): delete the files of exports older than DATA_EXPORT_KEEP_HOURS."""
    from app.dataio.exports import purge_expired

    return purge_expired()


def run_data_import(import_id: int) -> str | None:
    """Run (or resume from its checkpoint) one bulk import (app.dataio.imports)."""
    from app.dataio.imports import run_import

    return run_import(import_id)


def resume_stalled_imports() -> int:
    """Cron: hand stalled imports (their worker died) back to the queue; delete old uploads."""
    from app.dataio.imports import resume_stalled

    return resume_stalled()
