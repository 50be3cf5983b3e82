"""The search log off the request path (issue 19, app/search/log_buffer.py): with RQ a search's
log entry is one Redis call, no outbox row and no commit; the cron's flush writes the rows, each
once, even when a flush dies between its commit and its trim or two flushes race; an entry whose
user or shop is gone never blocks a batch; a Redis that refuses the entry sends it through the
outbox instead. Real MariaDB and Redis throughout; threads are real threads."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.core.tenancy import tenant_scope, unscoped
from app.events.models import OutboxEvent
from app.extensions import db
from app.search import log_buffer
from app.search.models import SearchQueryLog
from app.security.models import User
from tests.builders.auth import api_headers

API = "/api/v1/search"


@pytest.fixture
def buffered(app, monkeypatch):
    """The production shape: JOBS_MODE=rq (a worker and the cron run elsewhere)."""
    monkeypatch.setitem(app.config, "JOBS_MODE", "rq")
    monkeypatch.setitem(app.config, "SEARCH_LOG_BUFFER", True)
    with app.app_context():
        redis = app.extensions["redis"]
        for key in log_buffer._keys():
            redis.delete(key)
    return app


def _logged(app, tenant) -> list[SearchQueryLog]:
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.scalars(select(SearchQueryLog).order_by(SearchQueryLog.id)).all()


def _search_events(app) -> int:
    with app.app_context(), unscoped():
        return db.session.scalar(select(func.count()).where(OutboxEvent.name == "search.performed"))


def _flush(app, **kwargs) -> int:
    with app.app_context():
        return log_buffer.flush(**kwargs)


def test_a_search_is_one_buffered_entry_and_the_flush_writes_its_row(
    buffered, client, catalog, factory
):
    app, t = buffered, catalog.tenant
    customer = factory.customer(t)
    events = _search_events(app)
    h = api_headers(app, customer.user, t)
    assert client.get(f"{API}/products/?q=Shirt&brand=acme", headers=h).status_code == 200
    assert client.get(f"{API}/products/?q=zebra", headers={"X-Tenant": t.slug}).status_code == 200
    assert _search_events(app) == events  # no outbox row, no commit, no job
    assert _logged(app, t) == []
    with app.app_context():
        assert log_buffer.pending() == 2
    assert _flush(app) == 2
    rows = _logged(app, t)
    assert [(r.query, r.normalized, r.result_count, r.endpoint) for r in rows] == [
        ("Shirt", "shirt", 1, "search.products"),
        ("zebra", "zebra", 0, "search.products"),
    ]
    assert rows[0].user_id == customer.user_id and rows[1].user_id is None
    assert rows[0].filters == {"brand": ["acme"]} and rows[0].sort == "relevance"
    assert rows[0].source_event_id < 0 and rows[0].created_at <= rows[1].created_at
    assert _logged(app, catalog.other) == []
    with app.app_context():
        assert log_buffer.pending() == 0
    assert _flush(app) == 0


def test_a_flush_that_dies_after_its_commit_writes_nothing_twice(buffered, client, catalog):
    app, t = buffered, catalog.tenant
    for word in ("lamp", "shirt", "novel"):
        client.get(f"{API}/products/?q={word}", headers={"X-Tenant": t.slug})
    with app.app_context():
        redis = app.extensions["redis"]
        real_ltrim = redis.ltrim

        def dies(*args, **kwargs):
            raise ConnectionError("the worker died before the trim")

        redis.ltrim = dies
        try:
            with pytest.raises(ConnectionError):
                log_buffer.flush(batch=2)
        finally:
            redis.ltrim = real_ltrim
        assert log_buffer.pending() == 3  # nothing trimmed: the first batch is still there
    assert [r.query for r in _logged(app, t)] == ["lamp", "shirt"]  # its rows committed
    assert _flush(app, batch=2) == 1  # the next flush: the first batch again (skipped), then 1
    assert [r.query for r in _logged(app, t)] == ["lamp", "shirt", "novel"]


def test_searches_and_flushes_racing_on_threads_write_every_entry_once(buffered, catalog):
    app, t = buffered, catalog.tenant
    per_thread, searchers = 150, 4
    errors: list[BaseException] = []

    def search(n: int) -> None:
        try:
            with app.app_context(), tenant_scope(t.id):
                for i in range(per_thread):
                    assert log_buffer.append(
                        {"query": f"q{n}-{i}", "endpoint": "x", "result_count": i}
                    )
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    written = []

    def flusher() -> None:
        try:
            for _ in range(40):
                written.append(_flush(app, batch=37))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=search, args=(n,)) for n in range(searchers)]
    threads += [threading.Thread(target=flusher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    written.append(_flush(app))
    assert errors == []
    rows = _logged(app, t)
    assert len(rows) == per_thread * searchers == sum(written)
    assert len({r.query for r in rows}) == len(rows)
    assert len({r.source_event_id for r in rows}) == len(rows)


def test_a_gone_user_or_shop_never_blocks_a_batch(buffered, catalog, factory):
    app, t = buffered, catalog.tenant
    customer = factory.customer(t)
    with app.app_context(), tenant_scope(t.id):
        log_buffer.append({"query": "kept", "endpoint": "x", "result_count": 1, "user_id": 10**9})
        log_buffer.append(
            {"query": "mine", "endpoint": "x", "result_count": 1, "user_id": customer.user_id}
        )
    with app.app_context(), tenant_scope(10**9):  # a shop deleted since its search
        log_buffer.append({"query": "orphan", "endpoint": "x", "result_count": 0})
    with app.app_context():
        app.extensions["redis"].rpush(log_buffer._keys()[0], b"not an entry")
    assert _flush(app) == 2
    rows = _logged(app, t)
    assert [(r.query, r.user_id) for r in rows] == [("kept", None), ("mine", customer.user_id)]
    with app.app_context(), unscoped():
        assert db.session.get(User, customer.user_id) is not None
        assert log_buffer.pending() == 0


def test_a_refusing_redis_sends_the_search_through_the_outbox(buffered, client, catalog):
    app, t = buffered, catalog.tenant
    events = _search_events(app)
    with app.app_context():
        redis = app.extensions["redis"]
        real = redis.eval, redis.evalsha

        def refuses(*args, **kwargs):
            raise ConnectionError("Redis is down")

        redis.eval = redis.evalsha = refuses
        try:
            response = client.get(f"{API}/products/?q=lamp", headers={"X-Tenant": t.slug})
        finally:
            redis.eval, redis.evalsha = real
    assert response.status_code == 200
    assert _search_events(app) == events + 1


def test_the_embedded_default_logs_through_the_outbox(app, client, catalog):
    assert app.config["JOBS_MODE"] == "inline"
    with app.app_context():
        assert not log_buffer.enabled()
    client.get(f"{API}/products/?q=novel", headers={"X-Tenant": catalog.tenant.slug})
    assert [r.query for r in _logged(app, catalog.tenant)] == ["novel"]  # written in-process


def test_the_cron_flushes_the_buffer():
    from jobs import tasks
    from jobs.schedule import SCHEDULE

    (entry,) = [e for e in SCHEDULE if e.func is tasks.flush_search_log]
    assert entry.interval == 10 and entry.queue == "default"
