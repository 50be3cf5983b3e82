"""Task runners: RQ queues in production, in-process right after commit in the embedded default."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from redis import Redis
from rq import Queue, Retry

log = logging.getLogger(__name__)

# retried with backoff: 10 s, 30 s, 1 min, 5 min, 15 min
RETRY = Retry(max=5, interval=[10, 30, 60, 300, 900])


class RQRunner:
    def __init__(self, connection: Redis):
        self.connection = connection
        self._queues: dict[str, Queue] = {}

    def queue(self, name: str) -> Queue:
        if name not in self._queues:
            self._queues[name] = Queue(name, connection=self.connection)
        return self._queues[name]

    def enqueue(
        self,
        task: str,
        *args: Any,
        queue: str = "default",
        job_id: str | None = None,
        timeout: int | None = None,
    ) -> None:
        """`timeout`: the job's, in seconds (None: RQ's default); the event bus gives its
        consumers a short one (app.events.bus.EVENT_JOB_TIMEOUT)."""
        self.queue(queue).enqueue(
            task,
            *args,
            retry=RETRY,
            job_id=job_id,
            failure_ttl=7 * 24 * 3600,
            job_timeout=timeout,
        )

    def enqueue_many(self, calls: list[tuple[str, tuple, str, str | None, int | None]]) -> None:
        """Several enqueue() calls [(task, args, queue, job_id, timeout)] in ONE Redis pipeline
        (one round trip): the same jobs, retry and failure TTL as enqueue(); all accepted or an
        exception."""
        by_queue: dict[str, list] = {}
        for task, args, queue, job_id, timeout in calls:
            by_queue.setdefault(queue, []).append(
                Queue.prepare_data(
                    task,
                    args=args,
                    job_id=job_id,
                    retry=RETRY,
                    failure_ttl=7 * 24 * 3600,
                    timeout=timeout,
                )
            )
        with self.connection.pipeline() as pipe:
            for queue, datas in by_queue.items():
                self.queue(queue).enqueue_many(datas, pipeline=pipe)
            pipe.execute()

    def queue_sizes(self) -> dict[str, int]:
        from jobs import QUEUES

        return {name: self.queue(name).count for name in QUEUES}


class InlineRunner:
    """Runs the task now, in this process (the caller is already past its commit)."""

    def __init__(self, app: Flask):
        self.app = app

    def enqueue(
        self,
        task: str,
        *args: Any,
        queue: str = "default",
        job_id: str | None = None,
        timeout: int | None = None,
    ) -> None:
        from rq.utils import import_attribute

        func = import_attribute(task)
        func(*args)
