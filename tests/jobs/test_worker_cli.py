"""`flask worker` as production runs it (docker-compose.yml): jobs in the worker's own process by
default, a forked work horse per job with --fork, and --max-jobs to exit after that many jobs (the
supervisor starts a fresh process). The job is `os.getpid`: its result names the process that ran
it. Real RQ workers on the test Redis, as processes of their own."""

from __future__ import annotations

import subprocess
import sys
import uuid

from rq import Queue

from tests.builders.workers import ROOT, worker_environment


def _run_worker(app, queue: str, *args: str) -> subprocess.CompletedProcess:
    environ = worker_environment(app)
    return subprocess.run(
        [sys.executable, "-m", "flask", "worker", *args, queue],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _queue(app) -> Queue:
    return Queue(f"test-worker-{uuid.uuid4().hex[:8]}", connection=app.extensions["redis"])


def test_jobs_run_in_the_workers_own_process_by_default_and_forked_with_fork(app):
    queue = _queue(app)
    in_process = [queue.enqueue("os.getpid") for _ in range(2)]
    done = _run_worker(app, queue.name, "--burst")
    assert done.returncode == 0, done.stderr[-3000:]
    pids = {job.return_value(refresh=True) for job in in_process}
    assert len(pids) == 1 and None not in pids  # one process ran both: the worker itself

    forked = [queue.enqueue("os.getpid") for _ in range(2)]
    done = _run_worker(app, queue.name, "--burst", "--fork")
    assert done.returncode == 0, done.stderr[-3000:]
    horse_pids = {job.return_value(refresh=True) for job in forked}
    assert len(horse_pids) == 2 and None not in horse_pids  # a work horse each
    assert not horse_pids & pids


def test_max_jobs_stops_the_worker_after_that_many(app):
    queue = _queue(app)
    jobs = [queue.enqueue("os.getpid") for _ in range(5)]
    done = _run_worker(app, queue.name, "--max-jobs", "2")  # not --burst: it would wait forever
    assert done.returncode == 0, done.stderr[-3000:]
    finished = [job for job in jobs if job.get_status(refresh=True) == "finished"]
    assert len(finished) == 2 and queue.count == 3


def test_fork_and_simple_contradict(app):
    done = _run_worker(app, _queue(app).name, "--burst", "--fork", "--simple")
    assert done.returncode != 0 and "contradict" in done.stderr
