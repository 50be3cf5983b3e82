"""The embedded default has no Redis and no scheduler process: a daemon thread of the web
process runs the interval jobs of the cron schedule instead."""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from jobs.schedule import SCHEDULE

log = logging.getLogger(__name__)


def start_embedded_scheduler(app: Flask, tick: float = 1.0) -> threading.Thread:
    due = {entry: time.monotonic() + (entry.interval or 0) for entry in SCHEDULE if entry.interval}

    def loop():
        while True:
            now = time.monotonic()
            for entry, at in due.items():
                if now >= at:
                    due[entry] = now + entry.interval
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
