"""How the benchmarks start gunicorn: with the project's gunicorn.conf.py (what `web` in
docker-compose.yml runs), optionally overridden to compare another worker model."""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "gunicorn.conf.py"


def production_shape() -> tuple[str, int]:
    """(worker class, workers) that gunicorn.conf.py gives on this machine."""
    namespace: dict = {"__file__": str(CONF)}
    exec(compile(CONF.read_text(), str(CONF), "exec"), namespace)  # noqa: S102 - our own settings file
    return namespace["worker_class"], namespace["workers"]


def gunicorn_argv(
    port: int,
    *,
    worker_class: str | None = None,
    workers: int | None = None,
    threads: int | None = None,
    timeout: int | None = None,
) -> tuple[list[str], str]:
    """The command line, and how to describe the server in a report ("gunicorn.conf.py: 4 sync
    workers" or, overridden, "gunicorn -w 2 -k gthread --threads 4")."""
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(CONF),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    conf_class, conf_workers = production_shape()
    overridden = []
    if workers is not None:
        overridden += ["-w", str(workers)]
    if worker_class is not None and worker_class != conf_class:
        overridden += ["-k", worker_class]
    if threads is not None and (worker_class or conf_class) == "gthread":
        overridden += ["--threads", str(threads)]
    if timeout is not None:
        argv += ["--timeout", str(timeout)]
    if overridden:
        description = "gunicorn " + " ".join(overridden) + " (over gunicorn.conf.py)"
    else:
        description = f"gunicorn.conf.py: {conf_workers} {conf_class} workers on {multiprocessing.cpu_count()} CPUs"
    return argv + overridden + ["wsgi:app"], description


def wait_until_up(base: str, server, seconds: float = 90) -> None:
    """Until `base`/api/core/ping answers; raises if gunicorn exits or stays silent."""
    import time

    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            if requests.get(base + "/api/core/ping", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"gunicorn did not answer within {seconds:.0f} s")
