"""Commands: `flask worker`, `flask scheduler`, `flask events redeliver|status`, `flask serve`
(the embedded single process: web, Socket.IO and, without Redis, the cron schedule on a thread)
and `flask realtime` (the Socket.IO service of its own in production)."""

from __future__ import annotations

import logging
import os
import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from redis.exceptions import ConnectionError as RedisConnectionError

from jobs import QUEUES

log = logging.getLogger(__name__)


def _redis_up(connection) -> bool:
    try:
        return bool(connection.ping())
    except RedisConnectionError:
        return False


def _redeliver_all() -> None:
    """The pending outbox events, handed to the queue before the worker starts working. The
    session is removed afterwards: the worker process keeps this app context for its whole life,
    and a connection held in it would never be checked (pool_pre_ping) again, so after a database
    restart the next use (here, after a Redis outage) died with 2013 "Lost connection"."""
    from app.events.bus import redeliver_pending
    from app.extensions import db

    try:
        redeliver_pending(0, force=True)
    except Exception:  # the database may be down too: the cron's redelivery catches up later
        log.exception("redelivery of pending outbox events failed; the cron job will retry")
    finally:
        db.session.remove()


def _wait_for_redis(connection, who: str, every: float = 2.0) -> None:
    """A Redis outage stops RQ's worker loop and its cron scheduler; `flask worker` and
    `flask scheduler` wait for Redis here and start again, instead of exiting (and leaving the
    queues unserved until a supervisor restarts them). README, "Faults"."""
    log.warning("%s: Redis is unreachable; waiting for it", who)
    while not _redis_up(connection):
        time.sleep(every)
    log.warning("%s: Redis is back; starting again", who)


def register_cli(app: Flask) -> None:
    @app.cli.command("worker")
    @click.argument("queues", nargs=-1)
    @click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
    @click.option(
        "--fork",
        is_flag=True,
        help="Run each job in a forked work horse (isolation for heavy jobs; ~12x the overhead).",
    )
    @click.option(
        "--simple",
        is_flag=True,
        hidden=True,
        help="Run jobs in this process: the default (kept for scripts that still pass it).",
    )
    @click.option(
        "--max-jobs",
        type=click.IntRange(min=1),
        default=None,
        help="Exit after this many jobs (the supervisor starts a fresh process).",
    )
    @with_appcontext
    def worker_command(queues, burst, fork, simple, max_jobs):
        """Run an RQ worker with the app loaded once.

        Jobs run in this process by default: an event consumer's job costs ~4 ms of CPU here and
        ~45 ms in a forked work horse (bench/worker_bench.py), and a checkout makes a dozen of
        them. --fork isolates each job in a child process, for the queue of heavy jobs (the
        "low" queue's exports, rebuilds and model training in docker-compose.yml)."""
        from jobs.worker import make_worker

        if fork and simple:
            raise click.UsageError("--fork and --simple contradict each other")
        flask_app = current_app._get_current_object()
        if flask_app.extensions.get("redis") is None:
            raise click.ClickException(
                "REDIS_URL is not set: the embedded default runs jobs in-process"
            )
        connection = flask_app.extensions["redis"]
        while True:
            _redeliver_all()  # anything left pending while the queue was unreachable
            worker = make_worker(flask_app, queues or QUEUES, simple=not fork)
            try:
                worker.work(burst=burst, with_scheduler=True, max_jobs=max_jobs)
            except RedisConnectionError:  # raised by its teardown when Redis went away
                pass
            if burst or worker._stop_requested or _redis_up(connection):
                # asked to stop (SIGTERM), done its --max-jobs, or stopped by something else
                return
            # Redis went away (RQ's work loop quits on it): ride the outage out, then work again
            _wait_for_redis(connection, "worker")

    @app.cli.command("scheduler")
    @with_appcontext
    def scheduler_command():
        """Run RQ's cron scheduler with the schedule in jobs/schedule.py."""
        from rq.cron import CronScheduler

        from jobs.schedule import SCHEDULE

        connection = current_app.extensions.get("redis")
        if connection is None:
            raise click.ClickException("REDIS_URL is not set")
        while True:
            cron = CronScheduler(connection=connection)
            for entry in SCHEDULE:
                cron.register(
                    entry.func, queue_name=entry.queue, interval=entry.interval, cron=entry.cron
                )
            try:
                cron.start()  # returns on SIGTERM / SIGINT
                return
            except RedisConnectionError:
                _wait_for_redis(connection, "scheduler")

    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, show_default=True, type=int)
    @with_appcontext
    def serve_command(host, port):
        """Serve admin, API and Socket.IO from one process (the embedded default; production
        runs gunicorn, `flask worker` and `flask scheduler`)."""
        from app.extensions import socketio
        from jobs.embedded import start_embedded_scheduler

        flask_app = current_app._get_current_object()
        if flask_app.config["JOBS_MODE"] == "inline":
            start_embedded_scheduler(flask_app)
        # `flask` marks its process so that app.run() refuses to start; this command is the server
        os.environ.pop("FLASK_RUN_FROM_CLI", None)
        socketio.run(
            flask_app, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False
        )

    @app.cli.command("realtime")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5001, show_default=True, type=int)
    @click.option("--threads", type=int, default=None, help="Default: REALTIME_THREADS.")
    @with_appcontext
    def realtime_command(host, port, threads):
        """Serve Socket.IO (/socket.io/) from a process of its own: gunicorn, one worker with
        threads (async_mode threading, WebSockets through simple-websocket), so long-lived
        connections never hold a sync web worker. Scale with more such processes behind a proxy
        with sticky sessions, all on the Redis message queue (SOCKETIO_MESSAGE_QUEUE)."""
        from jobs.realtime_server import serve

        flask_app = current_app._get_current_object()
        if flask_app.config["JOBS_MODE"] == "rq" and not flask_app.config.get(
            "SOCKETIO_MESSAGE_QUEUE"
        ):
            raise click.ClickException(
                "JOBS_MODE=rq needs SOCKETIO_MESSAGE_QUEUE (or REDIS_URL): the workers emit "
                "through it, and this process would never hear of their events"
            )
        serve(flask_app, host, port, threads or flask_app.config["REALTIME_THREADS"])

    events = AppGroup("events", help="The domain event outbox.")

    @events.command("redeliver")
    @click.option(
        "--older-than", default=0, show_default=True, help="Only events older than N seconds."
    )
    @with_appcontext
    def redeliver(older_than):
        """Dispatch outbox events that are still pending."""
        from app.events.bus import redeliver_pending

        click.echo(f"dispatched {redeliver_pending(older_than, force=True)} event(s)")

    @events.command("status")
    @with_appcontext
    def status():
        from app.events.bus import pending_count

        click.echo(f"pending: {pending_count()}")

    app.cli.add_command(events)

    payouts = AppGroup("payouts", help="Sellers' payouts.")

    @payouts.command("run")
    @with_appcontext
    def run_payouts():
        """Build every tenant's payouts now (what the daily cron runs; safe to run twice)."""
        from jobs.tasks import run_payouts as task

        summary = task()
        click.echo(
            f"{summary['payouts']} payout(s) from {summary['entries']} entries; "
            f"skipped {summary['skipped'] or 'none'}; raced {summary['raced']}"
        )

    app.cli.add_command(payouts)
