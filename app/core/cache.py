"""A small response cache with versioned namespaces: Redis when configured, in-process otherwise.

    watch(Product, ProductVariant, namespace="catalog")   # once, at import of the domain module
    version = namespace_version("catalog", tenant_id)       # part of every cache key
    get(key) / put(key, value, ttl)
    version, value = get_versioned("catalog", tenant_id, key)  # the same in one round trip
    put_versioned(version, key, value, ttl)
    remember(namespace, key, compute, ttl)    # the current tenant's value, computed on a miss
    with batched((namespace, key), ...):      # remember() of these: one MGET for them all

Invalidation is by version, never by deleting keys: every ORM write (insert, update or delete
through the session, ORM-enabled UPDATE/DELETE statements included) to a watched model marks
(namespace, tenant) on the session, and *after the transaction commits* the tenant's version of
that namespace is bumped. Readers put the version in their keys, so once a change has committed
no reader can hit a body cached before it. The after-commit hook only talks to the cache (Redis
INCR or a dict), never to the database. Raw SQL (text() or Core statements on tables) is not
seen: code that writes catalog rows that way must call bump() itself.

With Redis the versions and bodies are shared by every web process; without it (the embedded
single-process default) they live in this process. Keys carry a namespace derived from the
database URL, so two databases sharing one Redis (parallel test runs, staging) never mix.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import inspect
from sqlalchemy.orm import ORMExecuteState, Session

from app.core.tenancy import current_tenant_id, is_unscoped
from app.extensions import db

log = logging.getLogger(__name__)

GLOBAL = "*"  # the tenant part of a version bumped by an unscoped write (all tenants)
_MAX_LOCAL_ENTRIES = 5000

_watched: dict[type, set[str]] = {}
_lock = threading.Lock()
_local_values: OrderedDict[str, tuple[float, Any]] = OrderedDict()
_local_versions: dict[str, int] = {}
# (namespace, key:tenant) -> (version, stored bytes or None), read ahead by batched()
_batch: ContextVar[dict[tuple[str, str], tuple[str, bytes | None]] | None] = ContextVar(
    "cache_batch", default=None
)


# --- backends ------------------------------------------------------------------------------


def _redis():
    if not has_app_context():
        return None
    return current_app.extensions.get("redis")


def _prefix() -> str:
    uri = current_app.config.get("SQLALCHEMY_DATABASE_URI", "") if has_app_context() else ""
    return "mktcache:" + hashlib.sha1(uri.encode()).hexdigest()[:10]


def key_prefix() -> str:
    """This database's namespace in Redis (the cache's keys, and others that must not mix
    between two databases sharing one Redis: the search log buffer's)."""
    return _prefix()


def get(key: str) -> Any | None:
    """The value stored under `key` (bytes with Redis, whatever was stored in-process), or None."""
    redis = _redis()
    full = f"{_prefix()}:v:{key}"
    if redis is not None:
        try:
            return redis.get(full)
        except Exception:  # a cache outage must never fail a request
            log.warning("cache get failed", exc_info=True)
            return None
    now = time.monotonic()
    with _lock:
        hit = _local_values.get(full)
        if hit is None:
            return None
        if hit[0] <= now:
            _local_values.pop(full, None)
            return None
        _local_values.move_to_end(full)
        return hit[1]


def put(key: str, value: bytes, ttl: int) -> None:
    redis = _redis()
    full = f"{_prefix()}:v:{key}"
    if redis is not None:
        try:
            redis.set(full, value, ex=max(int(ttl), 1))
        except Exception:
            log.warning("cache set failed", exc_info=True)
        return
    with _lock:
        _local_values[full] = (time.monotonic() + ttl, value)
        _local_values.move_to_end(full)
        while len(_local_values) > _MAX_LOCAL_ENTRIES:
            _local_values.popitem(last=False)


def _version_key(namespace: str, tenant: int | str) -> str:
    return f"{_prefix()}:ver:{namespace}:{tenant}"


def namespace_version(namespace: str, tenant_id: int | None) -> str:
    """The current version of `namespace` for a tenant (the global part included), for cache keys."""
    keys = [
        _version_key(namespace, GLOBAL),
        _version_key(namespace, tenant_id if tenant_id is not None else "none"),
    ]
    redis = _redis()
    if redis is not None:
        try:
            values = redis.mget(keys)
            return ".".join((v or b"0").decode() for v in values)
        except Exception:
            log.warning("cache version read failed", exc_info=True)
            return f"nocache-{time.time_ns()}"  # a key nobody else will ever produce
    with _lock:
        return ".".join(str(_local_versions.get(k, 0)) for k in keys)


def get_versioned(
    namespace: str | tuple[str, ...], tenant_id: int | None, key: str
) -> tuple[str, bytes | None]:
    """(current version of `namespace` for the tenant, the bytes stored under `key` at that version
    or None): one Redis round trip (MGET of both version counters and the entry). Entries are
    stored with the version they were computed at (put_versioned); one from an older version is a
    miss, so a change that committed is never served stale. A tuple of namespaces: an entry that
    depends on each (a product page: the catalog, and the units in stock it shows), still one
    round trip."""
    keys = [
        _version_key(name, tenant)
        for name in ((namespace,) if isinstance(namespace, str) else namespace)
        for tenant in (GLOBAL, tenant_id if tenant_id is not None else "none")
    ]
    full = f"{_prefix()}:e:{key}"
    redis = _redis()
    if redis is not None:
        try:
            *versions, stored = redis.mget([*keys, full])
        except Exception:
            log.warning("cache read failed", exc_info=True)
            return f"nocache-{time.time_ns()}", None
        version = ".".join((v or b"0").decode() for v in versions)
    else:
        with _lock:
            version = ".".join(str(_local_versions.get(k, 0)) for k in keys)
        stored = get(f"e:{key}")
    if stored is None:
        return version, None
    tag, _, value = stored.partition(b"\0")
    return version, (value if tag == version.encode() else None)


def put_versioned(version: str, key: str, value: bytes, ttl: int) -> None:
    """Store `value` under `key`, tagged with the namespace `version` it was computed at."""
    if version.startswith("nocache-"):
        return
    payload = version.encode() + b"\0" + value
    redis = _redis()
    if redis is not None:
        try:
            redis.set(f"{_prefix()}:e:{key}", payload, ex=max(int(ttl), 1))
        except Exception:
            log.warning("cache set failed", exc_info=True)
        return
    put(f"e:{key}", payload, ttl)


def remember(namespace: str, key: str, compute: Callable[[Session], bytes], ttl: int) -> bytes:
    """The current tenant's bytes under `key` at `namespace`'s current version; on a miss,
    `compute(db.session)`, stored under it.

    Stored only when what compute read is at least as new as that version: on MariaDB every
    statement reads what was committed before it (READ COMMITTED, app/__init__.py), and a version
    is bumped after its change committed, so rows read after the version are never older than it.
    On SQLite a transaction reads one snapshot from its first statement on, possibly older than
    the version: a miss inside a transaction there is computed and not stored (the embedded,
    single-process default loses little). Without a tenant nothing is cached."""

    tenant_id = current_tenant_id()
    if tenant_id is None:
        return compute(db.session)
    full_key = f"{key}:{tenant_id}"
    ahead = _batch.get()
    read = ahead.get((namespace, full_key)) if ahead is not None else None
    version, stored = read if read is not None else get_versioned(namespace, tenant_id, full_key)
    if stored is not None:
        return stored
    snapshot_may_be_older = db.engine.dialect.name == "sqlite" and db.session().in_transaction()
    value = compute(db.session)
    if not snapshot_may_be_older:
        put_versioned(version, full_key, value, ttl)
        if read is not None:  # asked again in the block: the value just computed
            ahead[(namespace, full_key)] = (version, value)
    return value


@contextmanager
def batched(*entries: tuple[str, str]) -> Iterator[None]:
    """Inside the block, `remember(namespace, key, ...)` of these (namespace, key) entries of the
    current tenant is answered from one Redis MGET made here (the version counters of every
    namespace and every entry at once) instead of one round trip each: for a use case that reads
    several cached settings (a priced cart reads five). The same answers as remember() on its
    own: an entry stored at an older version is a miss (computed and stored as remember does),
    and what a miss computes is read after the version, so it is never older than it. When the
    MGET fails (Redis down), every entry is a miss computed from the database and not stored, as
    remember() answers then, with one failed round trip instead of one each. Nothing is read
    ahead without Redis (in-process reads cost no round trip) or without a tenant."""
    tenant_id = current_tenant_id()
    redis = _redis()
    if redis is None or tenant_id is None or not entries:
        yield
        return
    namespaces = list(dict.fromkeys(namespace for namespace, _ in entries))
    version_keys = [
        _version_key(namespace, tenant)
        for namespace in namespaces
        for tenant in (GLOBAL, tenant_id)
    ]
    full_keys = [f"{key}:{tenant_id}" for _, key in entries]
    prefix = _prefix()
    try:
        values = redis.mget([*version_keys, *(f"{prefix}:e:{k}" for k in full_keys)])
    except Exception:  # an outage: every entry a miss, never stored (as get_versioned answers)
        log.warning("cache batch read failed", exc_info=True)
        values = [None] * (len(version_keys) + len(full_keys))
        versions = dict.fromkeys(namespaces, f"nocache-{time.time_ns()}")
    else:
        versions = {
            namespace: ".".join((v or b"0").decode() for v in values[2 * i : 2 * i + 2])
            for i, namespace in enumerate(namespaces)
        }
    ahead = dict(_batch.get() or {})
    for (namespace, _), full_key, stored in zip(
        entries, full_keys, values[len(version_keys) :], strict=True
    ):
        version = versions[namespace]
        if stored is not None:
            tag, _, value = stored.partition(b"\0")
            stored = value if tag == version.encode() else None
        ahead[(namespace, full_key)] = (version, stored)
    token = _batch.set(ahead)
    try:
        yield
    finally:
        _batch.reset(token)


def bump(namespace: str, tenant_id: int | str | None) -> None:
    """Invalidate everything cached under `namespace` for a tenant (GLOBAL or None: every tenant)."""
    key = _version_key(namespace, GLOBAL if tenant_id is None else tenant_id)
    redis = _redis()
    if redis is not None:
        try:
            redis.incr(key)
        except Exception:
            log.exception(
                "cache version bump failed: %s may serve stale entries until they expire", key
            )
        return
    with _lock:
        _local_versions[key] = _local_versions.get(key, 0) + 1


def forget_database() -> int:
    """Drop every entry and version of this database's cache (its key prefix). For a database
    made anew under the same URL (the test suite's, a restored backup): its rows reuse ids (tenant
    1 again), and entries cached for the old rows would match versions that never moved."""
    clear_local()
    with _lock:
        _local_versions.clear()
    redis = _redis()
    if redis is None:
        return 0
    keys = list(redis.scan_iter(match=f"{_prefix()}:*", count=1000))
    for start in range(0, len(keys), 500):
        redis.delete(*keys[start : start + 500])
    return len(keys)


def clear_local() -> None:
    with _lock:
        _local_values.clear()


# --- automatic invalidation ------------------------------------------------------------------


def watch(*models: type, namespace: str) -> None:
    """Bump `namespace` after every commit that wrote one of `models` (or subclasses). Only
    records the models: the listeners that act on it are installed by app/hooks.py."""
    for model in models:
        _watched.setdefault(model, set()).add(namespace)


def _namespaces_of(cls: type) -> set[str]:
    found = set()
    for model, namespaces in _watched.items():
        if issubclass(cls, model):
            found |= namespaces
    return found


def mark(namespace: str, tenant_id: int | None) -> None:
    """Bump `namespace` for a tenant (None: every tenant) after the current transaction commits
    (nothing if it rolls back): for a write the hooks below do not see, or were told to leave to
    the caller (an ORM statement executed with `execution_options(cache_bump=False)`)."""
    _mark(db.session(), {namespace}, GLOBAL if tenant_id is None else tenant_id)


def _mark(session: Session, namespaces, tenant) -> None:
    if not namespaces:
        return
    pending = session.info.setdefault("cache_bumps", set())
    for namespace in namespaces:
        pending.add((namespace, tenant))


def mark_core_writes(tenant_id: int | None, *models: type) -> None:
    """Core INSERTs/UPDATEs of watched models (which the ORM hooks do not see) in the current
    transaction: their namespaces are bumped after it commits, as the ORM's writes are."""
    namespaces = set().union(*(_namespaces_of(model) for model in models))
    _mark(db.session(), namespaces, GLOBAL if tenant_id is None else tenant_id)


# The four session listeners below are installed by app/hooks.py, with every other session hook.


def remember_writes(session: Session, flush_context) -> None:
    """after_flush: (namespace, tenant) of every watched row this flush inserted, updated or
    deleted, bumped after the commit."""
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        namespaces = _namespaces_of(type(obj))
        if not namespaces:
            continue
        tenant = inspect(obj).dict.get("tenant_id", None)
        if tenant is None:
            tenant = current_tenant_id()
        _mark(session, namespaces, tenant if tenant is not None else GLOBAL)


def remember_statements(state: ORMExecuteState) -> None:
    """do_orm_execute: (namespace, tenant) of an ORM-enabled UPDATE or DELETE of watched models
    (every tenant when unscoped or without a tenant). A statement executed with
    `execution_options(cache_bump=False)` is left to its caller, which knows whether what it
    changed shows (a reservation that leaves units available changes no product card) and calls
    mark() when it does."""
    if not (state.is_update or state.is_delete):
        return
    if state.execution_options.get("cache_bump", True) is False:
        return
    namespaces = set()
    for mapper in state.all_mappers:
        namespaces |= _namespaces_of(mapper.class_)
    tenant = GLOBAL if is_unscoped() or current_tenant_id() is None else current_tenant_id()
    _mark(state.session, namespaces, tenant)


def bump_after_commit(session: Session) -> None:
    """after_commit: bump the version of every (namespace, tenant) the transaction wrote (not
    when a savepoint is released: readers could still read the old rows until the real commit)."""
    if session.in_nested_transaction():
        return
    for namespace, tenant in sorted(session.info.pop("cache_bumps", None) or (), key=str):
        bump(namespace, None if tenant == GLOBAL else tenant)


def forget_on_rollback(session: Session) -> None:
    """after_rollback: nothing to bump for a transaction that did not commit (a savepoint's
    rollback keeps the outer transaction's bumps; one more bump is harmless)."""
    if session.in_nested_transaction():
        return
    session.info.pop("cache_bumps", None)
