"""The search log off the request path (issue 19): with RQ (JOBS_MODE=rq) and SEARCH_LOG_BUFFER,
a search appends its log entry to a Redis list in one round trip (a Lua script: the entry's id and
the append), and the cron's flush() writes the entries as search_queries rows in batches.

Each entry has an id from a Redis counter, stored negated in the row's unique `source_event_id`
(outbox event ids are positive: the two never meet). A flush holds a Redis lock, reads a batch
from the head of the list, inserts the rows whose id is not there yet, commits, and only then
trims the batch off the list: a flush that dies after its commit and before the trim leaves the
batch to the next one, which writes nothing twice. The counter starts at the current time in
microseconds when Redis has none (a new or emptied Redis), so ids keep growing past a reset.
What a Redis that loses its data loses is the entries not flushed yet: search analytics only."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid

from flask import current_app
from sqlalchemy import select

from app.core import cache
from app.core.db import transaction
from app.core.tenancy import current_tenant_id, unscoped
from app.core.types import utcnow
from app.extensions import db
from app.search.models import SearchQueryLog
from app.search.types import tokens
from app.security.models import User
from app.tenants.models import Tenant

log = logging.getLogger(__name__)

BATCH = 1000

# KEYS: the list, the counter; ARGV: the entry's JSON without its id, the counter's start.
# Lua numbers are doubles: '%.0f' writes the id whole (exact below 2^53, ~285 years of µs)
_APPEND = """
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], ARGV[2]) end
local id = redis.call('INCR', KEYS[2])
redis.call('RPUSH', KEYS[1], string.format('%.0f', id) .. ' ' .. ARGV[1])
return id
"""

# KEYS: the lock; ARGV: this flusher's token. Releases the lock only if it is still this one's.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _keys() -> tuple[str, str, str]:
    base = cache.key_prefix() + ":searchlog"
    return f"{base}:entries", f"{base}:seq", f"{base}:lock"


def _appender():
    """(this app's Redis, the append script registered on it: EVALSHA rather than the script's
    text with every search, the list's and the counter's keys), made once per app and Redis."""
    found = current_app.extensions.get("search_log_appender")
    if found is None or found[0] is not _redis():
        entries, seq, _ = _keys()
        found = (_redis(), _redis().register_script(_APPEND), [entries, seq])
        current_app.extensions["search_log_appender"] = found
    return found


def _redis():
    return current_app.extensions.get("redis")


def enabled() -> bool:
    """Buffer in Redis: only where a worker and the cron flush it (JOBS_MODE=rq)."""
    cfg = current_app.config
    return bool(
        cfg.get("SEARCH_LOG_BUFFER", True) and cfg.get("JOBS_MODE") == "rq" and _redis() is not None
    )


def append(entry: dict) -> bool:
    """Append one search's log entry (the `search.performed` payload) for the current tenant.
    False when Redis refused (the caller logs it through the outbox instead)."""
    body = dict(
        entry, tenant_id=current_tenant_id(), at=utcnow().isoformat(timespec="microseconds")
    )
    try:
        _, script, keys = _appender()
        script(keys=keys, args=[json.dumps(body, separators=(",", ":")), time.time_ns() // 1000])
    except Exception:
        log.warning("search log buffer unavailable: logged through the outbox", exc_info=True)
        return False
    return True


def pending() -> int:
    """Entries waiting for a flush."""
    return int(_redis().llen(_keys()[0]))


def _rows(raw: list[bytes]) -> list[dict]:
    rows = []
    for item in raw:
        head, _, payload = item.decode().partition(" ")
        try:
            p = json.loads(payload)
            rows.append(
                {
                    "tenant_id": int(p["tenant_id"]),
                    "query": (p.get("query") or "")[:200],
                    "normalized": " ".join(tokens(p.get("query") or ""))[:200],
                    "endpoint": (p.get("endpoint") or "")[:32],
                    "result_count": int(p.get("result_count") or 0),
                    "filters": p.get("filters") or {},
                    "sort": p.get("sort"),
                    "user_id": p.get("user_id"),
                    "source_event_id": -int(head),
                    "created_at": dt.datetime.fromisoformat(p["at"]),
                }
            )
        except (KeyError, TypeError, ValueError):  # not one of ours: dropped, with a trace
            log.error("search log buffer: unreadable entry dropped: %r", item[:200])
    return rows


def _still_valid(rows: list[dict]) -> list[dict]:
    """Rows whose tenant still exists (a deleted shop's searches go with it), with the user of a
    deleted account forgotten (as the foreign key's ON DELETE SET NULL does): no entry can make
    a batch fail for good."""
    tenants = {r["tenant_id"] for r in rows}
    users = {r["user_id"] for r in rows if r["user_id"] is not None}
    if tenants:
        tenants = set(db.session.scalars(select(Tenant.id).where(Tenant.id.in_(tenants))))
    if users:
        users = set(db.session.scalars(select(User.id).where(User.id.in_(users))))
    kept = []
    for r in rows:
        if r["tenant_id"] in tenants:
            kept.append(dict(r, user_id=r["user_id"] if r["user_id"] in users else None))
    return kept


def flush(*, batch: int = BATCH, lock_seconds: int = 60) -> int:
    """Write the buffered entries as rows, `batch` per transaction, until the list is empty.
    Returns the rows written (0 when another flush holds the lock). Safe to run anywhere, any
    number of times: entries are trimmed only after their rows committed, and an entry already
    written is not written again."""
    redis = _redis()
    if redis is None:
        return 0
    entries, _, lock = _keys()
    token = uuid.uuid4().hex
    if not redis.set(lock, token, nx=True, ex=lock_seconds):
        return 0
    written = 0
    try:
        while True:
            raw = redis.lrange(entries, 0, batch - 1)
            if not raw:
                return written
            rows = _rows(raw)
            ids = [r["source_event_id"] for r in rows]
            with unscoped(), transaction():
                done = (
                    set(
                        db.session.scalars(
                            select(SearchQueryLog.source_event_id).where(
                                SearchQueryLog.source_event_id.in_(ids)
                            )
                        )
                    )
                    if ids
                    else set()
                )
                new = _still_valid([r for r in rows if r["source_event_id"] not in done])
                if new:
                    db.session.execute(SearchQueryLog.__table__.insert(), new)
            redis.ltrim(entries, len(raw), -1)
            written += len(new)
            redis.expire(lock, lock_seconds)
    finally:
        redis.eval(_RELEASE, 1, lock, token)
