"""The fault suite (marker `faults`, `make test-faults`): one stack of real processes for the
session (tests/faults/harness.py). Every test here is marked `faults`; `make test`'s full-suite
step deselects them (-m "not faults") and runs them in a step of their own."""

from __future__ import annotations

import pytest

from tests.faults.harness import Stack


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/faults/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.faults)


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    running = Stack(tmp_path_factory.mktemp("faults"))
    try:
        running.start()
        yield running
    finally:
        running.shutdown()


@pytest.fixture
def live(stack):
    """The whole stack, running (a case before may have killed a piece and not restarted it)."""
    stack.ensure_up()
    yield stack
    stack.ensure_up()
