"""Indexing: outbox consumers (idempotent, order-free), the full rebuild swapped in while searches
keep answering, one writer at a time across processes, readers of other processes seeing commits."""

from __future__ import annotations

import multiprocessing
import os
import threading

import pytest
from sqlalchemy import select

from app.catalog.models import Product
from app.catalog.queries import ProductFilters
from app.core.tenancy import tenant_scope, unscoped
from app.events import bus
from app.events.models import OutboxEvent
from app.extensions import db
from app.search import service
from app.search.tantivy_backend import TantivyBackend


def _ids(app, tenant, q="", **filters):
    with app.app_context(), tenant_scope(tenant.id):
        body = service.search_products(q, ProductFilters(**filters), require_words=False)
        return [p.id for p in body.items]


def test_indexing_consumers_are_subscribed_on_the_default_queue(app):
    subs = app.extensions["event_bus"].subscribers
    for name in (
        "catalog.product_changed",
        "review.created",
        "review.updated",
        "review.deleted",
        "inventory.stock_changed",
        "search.reindex_requested",
    ):
        mine = [s for s in subs[name] if s.consumer.startswith("search.")]
        assert len(mine) == 1 and mine[0].queue == "default", name


def test_a_replayed_event_changes_nothing_and_order_does_not_matter(app, catalog):
    i, t = catalog.ids, catalog.tenant
    with app.app_context(), tenant_scope(t.id):
        product = db.session.get(Product, i.p5)
        product.title = "Green Wool Beanie"
        db.session.commit()
        with unscoped():
            event = db.session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.name == "search.reindex_requested")
                .order_by(OutboxEvent.id.desc())
            ).first()
        assert i.p5 in event.payload["product_ids"]
        # already applied after commit (in-process runner): a redelivery is a no-op
        assert bus.consume(event.id, "search.index_touched") is False
        # an old event handled late re-reads the product: the index still shows the current title
        product.title = "Green Wool Cap"
        db.session.commit()
        service.on_reindex_requested(event)
        # nothing to change for a document that is already current
        assert service.index_products([i.p5]) == 0
    assert _ids(app, t, "cap") == [i.p5] and _ids(app, t, "beanie") == []


def test_full_reindex_swaps_in_a_new_generation_while_searches_answer(app, catalog, engine):
    if engine.name != "tantivy":
        pytest.skip("the Elasticsearch alias swap is checked in test_elastic.py")
    i, t = catalog.ids, catalog.tenant
    first = os.readlink(engine.pointer)
    errors, answers = [], []
    stop = threading.Event()

    def searching():
        while not stop.is_set():
            try:
                answers.append(_ids(app, t, "shirt"))
            except Exception as exc:  # any failure during the swap is downtime
                errors.append(exc)

    reader = threading.Thread(target=searching)
    reader.start()
    try:
        result = app.test_cli_runner().invoke(args=["search", "reindex"])
        second = os.readlink(engine.pointer)
        app.test_cli_runner().invoke(args=["search", "reindex"])
        third = os.readlink(engine.pointer)
    finally:
        stop.set()
        reader.join()
    assert result.exit_code == 0, result.output
    assert "indexed" in result.output
    assert first != second != third
    assert not errors and answers and all(set(a) == {i.p1, i.p2, i.p7} for a in answers)
    generations = sorted(p.name for p in engine.root.glob("gen-*"))
    assert generations == sorted(
        [second, third]
    )  # the previous one is kept for readers still on it
    assert set(_ids(app, t, "shirt")) == {i.p1, i.p2, i.p7}
    status = app.test_cli_runner().invoke(args=["search", "status"])
    assert f"generation: {third}" in status.output


def _write_in_child(root: str, doc: dict, ready) -> None:
    ready.wait(60)
    TantivyBackend(root).apply([doc], [])


def _doc(pid: int, title: str) -> dict:
    return {
        "id": pid,
        "tenant_id": 999_999,
        "title": title,
        "slug": f"s{pid}",
        "description": "",
        "brand": "",
        "brand_id": None,
        "brand_facet": None,
        "category": "",
        "category_id": None,
        "category_ids": [],
        "category_facet": None,
        "seller_id": 1,
        "attributes": "",
        "attr_filter": [],
        "attr_facet": [],
        "price": 1.0,
        "in_stock": True,
        "featured": False,
        "rating": 0.0,
        "rating_count": 0,
        "rating_key": 0.0,
        "sold_count": 0,
        "created_at": 0,
        "rank": 3.0,
        "suggest": [title.lower()[:3]],
        "fingerprint": title,
    }


def test_one_writer_at_a_time_across_processes_and_readers_see_their_commits(tmp_path):
    root = str(tmp_path / "index")
    reader = TantivyBackend(root)
    assert reader.status()["documents"] == 0
    ctx = multiprocessing.get_context("spawn")  # fork would copy Tantivy's threads' locks
    ready = ctx.Event()
    children = [
        ctx.Process(target=_write_in_child, args=(root, _doc(n, f"writer{n}"), ready))
        for n in (1, 2, 3)
    ]
    for child in children:
        child.start()
    ready.set()  # three processes ask for the writer at once: the lock file serializes them
    for child in children:
        child.join(60)
    assert [c.exitcode for c in children] == [0, 0, 0]
    assert reader.status()["documents"] == 3  # this process (a reader) sees the others' commits
    assert reader.fingerprints([1, 2, 3]) == {1: "writer1", 2: "writer2", 3: "writer3"}
