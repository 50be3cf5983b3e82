"""Event consumers' RQ jobs carry the bus's short timeout (app.events.bus.EVENT_JOB_TIMEOUT),
passed by the bus itself on both of its paths (one job at a time, and a batch in one pipeline);
other jobs keep RQ's default. Jobs are enqueued on the test Redis and read back with RQ."""

from __future__ import annotations

from rq import Queue
from rq.job import Job

from app.core.db import transaction
from app.core.tenancy import tenant_scope
from app.events import bus
from app.inventory import services as inventory
from jobs.runner import RQRunner


def test_the_runner_gives_a_job_the_timeout_it_is_asked_for(app, ctx):
    redis = app.extensions["redis"]
    runner = RQRunner(redis)
    runner.enqueue("os.getpid", queue="low", job_id="t-one", timeout=30)
    runner.enqueue_many(
        [("os.getpid", (), "low", "t-two", 30), ("os.getpid", (), "low", "t-3", None)]
    )
    runner.enqueue("os.getpid", queue="low", job_id="t-default")
    try:
        assert Job.fetch("t-one", connection=redis).timeout == 30
        assert Job.fetch("t-two", connection=redis).timeout == 30
        default = Queue("low", connection=redis).DEFAULT_TIMEOUT
        assert Job.fetch("t-3", connection=redis).timeout == default
        assert Job.fetch("t-default", connection=redis).timeout == default
    finally:
        Queue("low", connection=redis).empty()


class _Recorder:
    """Records what the bus hands over (no queue behind it)."""

    def __init__(self):
        self.calls: list[dict] = []

    def enqueue(self, task, *args, queue="default", job_id=None, timeout=None):
        self.calls.append({"job_id": job_id, "timeout": timeout})

    def enqueue_many(self, calls):
        for _task, _args, _queue, job_id, timeout in calls:
            self.calls.append({"job_id": job_id, "timeout": timeout})


def test_the_bus_gives_its_consumers_the_short_timeout(app, factory, ctx):
    product = factory.product(factory.seller(factory.tenant()), stock=40)
    event_bus = bus.get_bus(app)
    recorder, saved = _Recorder(), event_bus.runner
    event_bus.runner = recorder
    try:
        with tenant_scope(product.tenant_id):
            with transaction():  # one event: the one-by-one path
                inventory.adjust_stock(product.stock_level_id, -1)
            with transaction():  # two events: the batch
                inventory.adjust_stock(product.stock_level_id, -1)
                inventory.adjust_stock(product.stock_level_id, -1)
    finally:
        event_bus.runner = saved
    assert len(recorder.calls) >= 3
    assert {c["timeout"] for c in recorder.calls} == {bus.EVENT_JOB_TIMEOUT}
    assert all(c["job_id"].startswith("event-") for c in recorder.calls)
