"""app.core.cache's versioned entries, on Redis and in-process: an entry computed before a bump of
its namespace is never returned after it, and a Redis outage is a miss, never an error."""

from __future__ import annotations

import pytest
from redis import Redis

from app.core import cache
from tests.conftest import unique


@pytest.mark.parametrize("backend", ["redis", "local"])
def test_versioned_entries_die_with_their_version(app, backend):
    saved = app.extensions["redis"]
    if backend == "local":
        app.extensions["redis"] = None
    namespace, tenant, key = unique("ns-"), 424242, unique("key-")
    try:
        with app.app_context():
            version, value = cache.get_versioned(namespace, tenant, key)
            assert value is None
            cache.put_versioned(version, key, b"body \0 with a NUL", 60)
            assert cache.get_versioned(namespace, tenant, key) == (version, b"body \0 with a NUL")

            cache.bump(namespace, tenant)
            newer, value = cache.get_versioned(namespace, tenant, key)
            assert newer != version and value is None
            cache.put_versioned(version, key, b"computed before the bump", 60)  # a slow reader
            assert cache.get_versioned(namespace, tenant, key) == (newer, None)

            cache.put_versioned(newer, key, b"fresh", 60)
            cache.bump(namespace, None)  # an unscoped write: every tenant
            assert cache.get_versioned(namespace, tenant, key)[1] is None
    finally:
        app.extensions["redis"] = saved


def test_a_redis_outage_is_a_miss_and_is_not_stored(app):
    saved = app.extensions["redis"]
    app.extensions["redis"] = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    try:
        with app.app_context():
            version, value = cache.get_versioned("ns", 1, "k")
            assert value is None and version.startswith("nocache-")
            cache.put_versioned(version, "k", b"x", 60)  # no error, nothing written
    finally:
        app.extensions["redis"] = saved
