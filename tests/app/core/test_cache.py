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


def test_batched_entries_are_read_in_one_round_trip_and_keep_remembers_answers(app):
    """cache.batched: remember() of the entries named is answered from the block's one MGET (no
    other Redis command), with the same answers as on its own: a miss is computed once and
    stored, an entry of an older version is a miss, and entries not named read for themselves."""
    from app.core.tenancy import tenant_scope

    tenant = 424243
    first, second = (unique("ns-"), unique("k-")), (unique("ns-"), unique("k-"))
    computed = []

    def compute(value):
        def load(session):
            computed.append(value)
            return value

        return load

    redis = app.extensions["redis"]
    sent = []
    original = type(redis).execute_command

    def counted(client, *args, **kwargs):
        sent.append(args[0])
        return original(client, *args, **kwargs)

    with app.app_context(), tenant_scope(tenant):
        cache.remember(*first, compute(b"one"), 60)  # stored, at the current version
        type(redis).execute_command = counted
        try:
            with cache.batched(first, second):
                assert cache.remember(*first, compute(b"other"), 60) == b"one"
                assert cache.remember(*second, compute(b"two"), 60) == b"two"  # a miss
                assert cache.remember(*second, compute(b"again"), 60) == b"two"  # computed once
            assert sent == ["MGET", "SET"]  # the block's read, the miss's store
            assert cache.remember(*second, compute(b"later"), 60) == b"two"  # stored
            cache.bump(first[0], tenant)
            del sent[:]
            with cache.batched(first):
                assert cache.remember(*first, compute(b"newer"), 60) == b"newer"
                assert cache.remember(*second, compute(b"x"), 60) == b"two"  # not named
            assert sent == ["MGET", "SET", "MGET"]
        finally:
            type(redis).execute_command = original
    assert computed == [b"one", b"two", b"newer"]


def test_a_redis_outage_in_a_batch_is_one_failed_read_and_every_entry_a_miss(app):
    from app.core.tenancy import tenant_scope

    saved = app.extensions["redis"]
    down = app.extensions["redis"] = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    sent = []
    original = type(down).execute_command

    def counted(client, *args, **kwargs):
        sent.append(args[0])
        return original(client, *args, **kwargs)

    type(down).execute_command = counted
    entries = [(unique("ns-"), unique("k-")) for _ in range(3)]
    try:
        with app.app_context(), tenant_scope(424244), cache.batched(*entries):
            for n, entry in enumerate(entries):
                assert cache.remember(*entry, lambda session, n=n: b"%d" % n, 60) == b"%d" % n
    finally:
        type(down).execute_command = original
        app.extensions["redis"] = saved
    assert sent == ["MGET"]  # nothing stored, no read per entry
