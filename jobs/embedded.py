"""The embedded default has no Redis and no scheduler process: a daemon thread of the web
process runs the cron schedule instead (interval jobs, and crontab ones at their next time)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from croniter import croniter
from flask import Flask

from jobs.schedule import SCHEDULE

log = logging.getLogger(__name__)


def start_embedded_scheduler(app: Flask, tick: float = 1.0) -> threading.Thread:
    due = {entry: time.monotonic() + (entry.interval or 0) for entry in SCHEDULE if entry.interval}
    utc = dt.timezone.utc

    def next_cron(entry) -> float:
        at = croniter(entry.cron, dt.datetime.now(utc)).get_next(dt.datetime)
        return time.monotonic() + max(
            0.0, (at.replace(tzinfo=utc) - dt.datetime.now(utc)).total_seconds()
        )

    due.update({entry: next_cron(entry) for entry in SCHEDULE if entry.cron and not entry.interval})

    def loop():
        while True:
            now = time.monotonic()
            for entry, at in due.items():
                if now >= at:
                    due[entry] = now + entry.interval if entry.interval else next_cron(entry)
                    try:
                        with app.app_context():
                            entry.func()
                    except Exception:
                        log.exception(
                            "scheduled job %s failed", getattr(entry.func, "__name__", entry.func)
                        )
            time.sleep(tick)

    thread = threading.Thread(target=loop, name="embedded-scheduler", daemon=True)
    thread.start()
    return thread
