"""The cron schedule, as code. `flask scheduler` registers these with RQ's CronScheduler; the
embedded default runs the interval jobs on a thread of the web process (see jobs.embedded)."""

from __future__ import annotations

from dataclasses import dataclass

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
)
