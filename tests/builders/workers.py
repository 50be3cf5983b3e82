"""The environment of a `flask worker` process a test starts on its own database and Redis (the
test config, RQ mode), so that the job runs against what the test set up."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def worker_environment(app, **extra: str) -> dict[str, str]:
    """This process's environment without pytest's variables, pointed at `app`'s database, Redis
    and search index, with jobs on RQ; `extra` adds or overrides settings."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    environ.update(
        APP_CONFIG="testing",
        FLASK_APP="wsgi.py",
        PYTHONPATH=str(ROOT),
        TEST_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        TEST_REDIS_URL=app.config["REDIS_URL"],
        TEST_JOBS_MODE="rq",
        TEST_SEARCH_INDEX_DIR=app.config["SEARCH_INDEX_DIR"],
        **extra,
    )
    return environ
