"""The session hooks (app/hooks.py): none installed by importing a module, all installed by
create_app() in HOOKS' order and once per process, and the order's reasons hold."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import create_app, hooks
from app.catalog import queries
from app.catalog.models import Product
from app.core import cache
from app.core.db import transaction
from app.core.tenancy import tenant_scope
from app.events.bus import get_bus, publish
from app.extensions import db

ROOT = Path(__file__).resolve().parents[2]

# The Session class's own listeners, per event, as "module:qualname" (SQLAlchemy keeps class-level
# listeners in each event's _clslevel; there is no public listing).
_LISTENERS = """
from sqlalchemy.orm import Session

def listeners():
    found = {}
    for name in Session.dispatch._event_names:
        fns = getattr(Session.dispatch, name)._clslevel.get(Session, ())
        found[name] = [f"{f.__module__}:{f.__qualname__}" for f in fns]
    return {name: fns for name, fns in found.items() if fns}
"""


def _listeners() -> dict[str, list[str]]:
    scope: dict = {}
    exec(_LISTENERS, scope)
    return scope["listeners"]()


def _run(code: str) -> dict:
    """Run `code` in a fresh interpreter (nothing imported yet, as in a new worker) and return
    the JSON it prints last."""
    done = subprocess.run(
        [sys.executable, "-c", _LISTENERS + code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "APP_CONFIG": "testing", "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _expected() -> dict[str, list[str]]:
    expected: dict[str, list[str]] = {}
    for hook in hooks.HOOKS:
        expected.setdefault(hook.event, []).append(
            f"{hook.listener.__module__}:{hook.listener.__qualname__}"
        )
    return expected


def _ours(found: dict[str, list[str]]) -> dict[str, list[str]]:
    """Only the app's listeners (FAB brings sqlalchemy_utils' own)."""
    ours = {name: [f for f in fns if f.startswith("app.")] for name, fns in found.items()}
    return {name: fns for name, fns in ours.items() if fns}


def test_importing_any_module_installs_no_session_hook():
    found = _run(
        """
import importlib, json, pkgutil
for package in ("app", "storefront_api", "admin", "jobs", "analytics"):
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        importlib.import_module(info.name)
print(json.dumps(listeners()))
"""
    )
    assert _ours(found) == {}


def test_create_app_installs_every_hook_in_order_in_a_new_process():
    """What a web or worker process gets (the suite's own process imported modules first)."""
    found = _run(
        """
import json
from app import create_app
create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
print(json.dumps(listeners()))
"""
    )
    assert _ours(found) == _expected()
    # the cache versions move before the outbox hands the commit's events to its consumers
    after_commit = found["after_commit"]
    assert after_commit.index("app.core.cache:bump_after_commit") < after_commit.index(
        "app.events.bus:dispatch_after_commit"
    )


def test_a_second_app_installs_nothing_again(app):
    assert _ours(_listeners()) == _expected()
    create_app("testing", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    hooks.install()
    assert _ours(_listeners()) == _expected()


def test_hooks_are_installed_on_the_session_class_only_once_each(app):
    for hook in hooks.HOOKS:
        listeners = getattr(Session.dispatch, hook.event)._clslevel[Session]
        assert sum(1 for fn in listeners if fn == hook.listener) == 1, hook


def test_a_consumer_running_after_a_commit_sees_the_cache_it_invalidated(app, factory):
    """In the embedded default the outbox's consumers run in-process, inside the commit's
    after_commit: the catalog's cache version must already be the one after the commit."""
    product = factory.product(factory.seller(factory.tenant()))
    seen: list[str] = []
    get_bus(app).subscribe(
        "test.catalog_cache_seen",
        "tests.catalog_cache_seen",
        lambda event: seen.append(
            cache.namespace_version(queries.CACHE_NAMESPACE, event.tenant_id)
        ),
    )
    with app.app_context(), tenant_scope(product.tenant_id):
        before = cache.namespace_version(queries.CACHE_NAMESPACE, product.tenant_id)
        with transaction():
            db.session.scalar(select(Product).where(Product.id == product.id)).title = "Renamed"
            publish("test.catalog_cache_seen", {"product_id": product.id})
        after = cache.namespace_version(queries.CACHE_NAMESPACE, product.tenant_id)
    assert before != after
    assert seen == [after]


def test_a_released_savepoint_dispatches_nothing_and_bumps_no_cache_before_the_commit(app, factory):
    """SQLAlchemy calls after_commit when a savepoint is released too: the outbox and the cache
    wait for the real commit (a consumer must never see rows that may still roll back; a version
    bumped early lets a reader cache the old rows under the new version)."""
    product = factory.product(factory.seller(factory.tenant()))
    seen: list[int] = []
    get_bus(app).subscribe(
        "test.savepoint_released", "tests.savepoint_released", lambda event: seen.append(event.id)
    )
    with app.app_context(), tenant_scope(product.tenant_id):
        before = cache.namespace_version(queries.CACHE_NAMESPACE, product.tenant_id)
        with transaction():
            db.session.scalar(select(Product).where(Product.id == product.id)).title = "Renamed"
            event = publish("test.savepoint_released", {"product_id": product.id})
            db.session.flush()
            with db.session.begin_nested():
                db.session.scalar(select(Product).where(Product.id == product.id)).title = "Again"
            assert seen == []
            assert cache.namespace_version(queries.CACHE_NAMESPACE, product.tenant_id) == before
        assert seen == [event.id]
        assert cache.namespace_version(queries.CACHE_NAMESPACE, product.tenant_id) != before


def test_a_rolled_back_savepoint_keeps_the_outer_transactions_events(app, factory):
    """A savepoint's rollback forgets only what it wrote: the event published before it is still
    dispatched at the commit (it was dropped and waited for the redelivery cron)."""
    product = factory.product(factory.seller(factory.tenant()))
    seen: list[int] = []
    get_bus(app).subscribe(
        "test.savepoint_rolled_back", "tests.savepoint_rolled_back", lambda e: seen.append(e.id)
    )
    with app.app_context(), tenant_scope(product.tenant_id):
        with transaction():
            event = publish("test.savepoint_rolled_back", {"product_id": product.id})
            db.session.flush()
            savepoint = db.session.begin_nested()
            publish("test.savepoint_rolled_back", {"product_id": product.id, "gone": True})
            db.session.flush()
            savepoint.rollback()
        assert seen == [event.id]
