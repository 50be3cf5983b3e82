"""RQ workers that load the Flask app once, in the parent, not per job.

`flask worker` runs jobs in its own process (AppSimpleWorker) unless told --fork (AppWorker, a work
horse per job): see jobs/cli.py for the costs of each.

The forking worker's children inherit the loaded app; each child drops the inherited database
connections (they belong to the parent) before its job. Every job runs in its own app context,
so it gets a fresh session that is removed afterwards.
"""

from __future__ import annotations

from flask import Flask
from rq import Queue, SimpleWorker, Worker

from app.extensions import db


class _AppContextMixin:
    flask_app: Flask

    def perform_job(self, job, queue):  # runs in the child (forking) or in-process (simple)
        with self.flask_app.app_context():
            return super().perform_job(job, queue)


class AppWorker(_AppContextMixin, Worker):
    def main_work_horse(self, job, queue):
        with self.flask_app.app_context():
            db.engine.dispose(close=False)  # never share the parent's sockets
        return super().main_work_horse(job, queue)


class AppSimpleWorker(_AppContextMixin, SimpleWorker):
    pass


def make_worker(app: Flask, queue_names, *, simple: bool = False, connection=None):
    connection = connection or app.extensions["redis"]
    cls = AppSimpleWorker if simple else AppWorker
    queues = [Queue(name, connection=connection) for name in queue_names]
    worker = cls(
        queues,
        connection=connection,
        maintenance_interval=app.config["RQ_MAINTENANCE_INTERVAL"],
        job_monitoring_interval=app.config["RQ_JOB_MONITORING_INTERVAL"],
    )
    worker.flask_app = app
    return worker
