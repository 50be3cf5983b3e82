"""Background work on RQ: queues, thin task functions over app services, cron, the worker.

init_app() picks the task runner (RQ, or in-process for the embedded default) and subscribes the
consumers of domain events. Queues: `high` (e-mail, notifications, webhooks), `default`
(indexing, imports, event consumers), `low` (analytics, ML, reports).
"""

from __future__ import annotations

from flask import Flask

QUEUES = ("high", "default", "low")


def init_app(app: Flask) -> None:
    from jobs.cli import register_cli
    from jobs.runner import InlineRunner, RQRunner
    from jobs.subscribers import subscribe_all

    bus = app.extensions["event_bus"]
    if app.config["JOBS_MODE"] == "rq":
        if app.extensions.get("redis") is None:
            raise RuntimeError("JOBS_MODE=rq needs REDIS_URL")
        bus.runner = RQRunner(app.extensions["redis"])
    else:
        bus.runner = InlineRunner(app)
    subscribe_all(bus)
    register_cli(app)
