"""The fault suite (marker `faults`, `make test-faults`): one stack of real processes for the
session (tests/faults/harness.py). Every test here is marked `faults`; `make test`'s full-suite
step deselects them (-m "not faults") and runs them in a step of their own."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.faults.harness import Stack

# the cases run in the order of the priorities (each needs the stack the one before left)
ORDER = (
    "test_database_restart",
    "test_worker_kill",
    "test_redis_outage",
    "test_web_sigterm",
    "test_gateway_faults",
)


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        module = item.nodeid.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")
        return ORDER.index(module) if module in ORDER else len(ORDER)

    ours = [item for item in items if "tests/faults/" in item.nodeid.replace("\\", "/")]
    for item in ours:
        item.add_marker(pytest.mark.faults)
    if ours:
        others = [item for item in items if item not in ours]
        items[:] = others + sorted(ours, key=rank)


@pytest.fixture(scope="session")
def stack():
    # a directory of its own, not pytest's tmp_path: pytest deletes all but the three newest
    # basetemp directories of the user, and another pytest run on the machine would take the
    # running MariaDB's data directory away
    tmp = Path(tempfile.mkdtemp(prefix="marketplace-faults-"))
    running = Stack(tmp)
    try:
        running.start()
        yield running
    finally:
        running.shutdown()
        if os.environ.get("KEEP_FAULTS_TMP") == "1":
            print(f"[faults] kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def live(stack):
    """The whole stack, running (a case before may have killed a piece and not restarted it), its
    queues drained: a case starts with no job of the one before still waiting."""
    stack.ensure_up()
    took = stack.drain()
    print(f"\n[faults] queues drained in {took:.1f} s")
    yield stack
    stack.ensure_up()
