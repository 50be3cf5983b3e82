"""The cron schedule, as code. `flask scheduler` registers these with RQ's CronScheduler; the
embedded default runs the interval jobs on a thread of the web process (see jobs.embedded)."""

from __future__ import annotations

from dataclasses import dataclass

from app.payouts.batches import PAYOUT_CRON
from jobs import tasks


@dataclass(frozen=True)
class CronEntry:
    func: object
    queue: str
    interval: int | None = None  # seconds
    cron: str | None = None  # crontab expression, UTC


SCHEDULE = (
    CronEntry(tasks.redeliver_outbox, queue="default", interval=30),
    CronEntry(tasks.expire_unpaid_orders, queue="default", interval=60),
    CronEntry(tasks.resume_stalled_imports, queue="default", interval=300),
    # the searches buffered in Redis (app/search/log_buffer.py), written in batches
    CronEntry(tasks.flush_search_log, queue="default", interval=10),
    CronEntry(tasks.purge_expired_exports, queue="low", interval=3600),
    # sellers' payouts, daily (02:00 UTC): app.payouts.batches.PAYOUT_CRON
    CronEntry(tasks.run_payouts, queue="low", cron=PAYOUT_CRON),
    # the analytics models, retrained nightly (03:30 UTC) on the low queue (analytics.training)
    CronEntry(tasks.train_models, queue="low", cron="30 3 * * *"),
    # inventory facts: today's stock snapshot, yesterday's and today's units sold, hourly (the
    # last run of a tenant's local day leaves its closing stock) (analytics.inventory)
    CronEntry(tasks.refresh_inventory_facts, queue="low", cron="50 * * * *"),
    # the analytics aggregates: rebuilt nightly (03:10 UTC, drift reported), views hourly
    CronEntry(tasks.rebuild_analytics, queue="low", cron="10 3 * * *"),
    CronEntry(tasks.refresh_analytics_activity, queue="low", cron="5 * * * *"),
)
