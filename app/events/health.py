"""Health of the event machinery: the outbox's backlog and the task runner's queues."""

from __future__ import annotations

from flask import current_app

from app.core.health import Check, timed
from app.events.bus import get_bus, pending_count


def check_queues() -> Check:
    bus = get_bus()

    def probe():
        info = {"mode": current_app.config["JOBS_MODE"], "outbox_pending": pending_count()}
        sizes = getattr(bus.runner, "queue_sizes", None)
        if sizes:
            info["queues"] = sizes()
        return info

    return timed("queues", probe)
