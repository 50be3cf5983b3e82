"""RQ job overhead: the same trivial job (one SELECT 1 in the app's session, in an app context, as
every job of ours runs) taken by `flask worker`'s in-process worker and by its forking worker
(--fork, a work horse per job), in turn in one run. Prints and records jobs/s and CPU per job
(this process and its children, from os.times()).

    python bench/worker_bench.py [--jobs 300] [--rounds 3]

Needs MariaDB (makes an empty `shop_worker_bench` if missing: the job reads no table) and Redis
db 13 (its `worker_bench` queue, emptied). Results: bench/results/worker_bench.{json,md}."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
RESULTS = HERE / "results"
DATABASE = "mysql+mysqldb://root@127.0.0.1:3306/shop_worker_bench?charset=utf8mb4"
REDIS = "redis://127.0.0.1:6379/13"
QUEUE = "worker_bench"


def select_one() -> int:
    """The job: what every job pays besides its own work (app context, session, one query)."""
    from sqlalchemy import text

    from app.extensions import db

    return db.session.execute(text("SELECT 1")).scalar()


def _app():
    import pymysql

    conn = pymysql.connect(host="127.0.0.1", user="root", password="")
    with conn.cursor() as cur:
        cur.execute(
            "CREATE DATABASE IF NOT EXISTS shop_worker_bench CHARACTER SET utf8mb4 "
            "COMMENT 'created by bench/worker_bench.py'"
        )
    conn.close()
    os.environ["TEST_REDIS_URL"] = REDIS
    from app import create_app

    return create_app("testing", SQLALCHEMY_DATABASE_URI=DATABASE)


def _round(app, mode: str, jobs: int) -> dict:
    from rq import Queue

    from jobs.worker import make_worker

    queue = Queue(QUEUE, connection=app.extensions["redis"])
    queue.empty()
    for _ in range(jobs):
        queue.enqueue("worker_bench.select_one")
    worker = make_worker(app, [QUEUE], simple=(mode == "in-process"))
    wall0, cpu0 = time.perf_counter(), os.times()
    worker.work(burst=True, logging_level="WARNING")
    wall, cpu1 = time.perf_counter() - wall0, os.times()
    cpu = sum(getattr(cpu1, f) - getattr(cpu0, f) for f in ("user", "system"))
    cpu += sum(getattr(cpu1, f) - getattr(cpu0, f) for f in ("children_user", "children_system"))
    failed = queue.failed_job_registry.count
    return {
        "mode": mode,
        "jobs": jobs,
        "seconds": round(wall, 2),
        "jobs_per_s": round(jobs / wall, 1),
        "cpu_ms_per_job": round(cpu / jobs * 1000, 2),
        "failed": failed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    app = _app()
    runs = []
    for _ in range(args.rounds):
        for mode in ("in-process", "fork"):  # interleaved: drift hits both alike
            run = _round(app, mode, args.jobs)
            print(
                f"{mode:10} {run['jobs']} jobs in {run['seconds']} s: {run['jobs_per_s']} jobs/s, "
                f"{run['cpu_ms_per_job']} ms CPU per job, {run['failed']} failed"
            )
            runs.append(run)
    best = {
        mode: min((r for r in runs if r["mode"] == mode), key=lambda r: r["cpu_ms_per_job"])
        for mode in ("in-process", "fork")
    }
    ratio = best["fork"]["cpu_ms_per_job"] / best["in-process"]["cpu_ms_per_job"]
    load = os.getloadavg()
    print(f"fork / in-process CPU per job (best of {args.rounds}): {ratio:.1f}x; load {load}")
    record = {
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "runs": runs,
        "ratio_cpu_fork_over_in_process": round(ratio, 1),
        "load_average": load,
    }
    RESULTS.mkdir(exist_ok=True)
    history = RESULTS / "worker_bench.json"
    previous = json.loads(history.read_text()) if history.exists() else []
    history.write_text(json.dumps([*previous, record], indent=2) + "\n")
    with open(RESULTS / "worker_bench.md", "a") as md:
        if md.tell() == 0:
            md.write(
                "| when (UTC) | mode | jobs/s (best) | CPU ms/job (best) | fork/in-process CPU "
                "| load |\n"
            )
            md.write("|---|---|---|---|---|---|\n")
        for mode, run in best.items():
            md.write(
                f"| {record['when']} | {mode} | {run['jobs_per_s']} | {run['cpu_ms_per_job']} | "
                f"{ratio:.1f}x | {load[0]:.1f} |\n"
            )


if __name__ == "__main__":
    main()
