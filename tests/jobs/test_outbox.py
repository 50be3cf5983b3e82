"""Domain events: dispatched only after commit, never after a rollback, and not lost when Redis is
down at commit time: a private redis-server is stopped and started again around the commit."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest
from redis import Redis
from sqlalchemy import func, select

from app.core.db import transaction
from app.core.errors import InsufficientStock
from app.core.tenancy import tenant_scope, unscoped
from app.events import bus
from app.events.models import OutboxEvent, ProcessedEvent
from app.extensions import db
from app.inventory import services as inventory
from app.inventory.models import LowStockAlert, StockLevel
from jobs import QUEUES


def _alerts(stock_level_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(LowStockAlert)
        .where(LowStockAlert.stock_level_id == stock_level_id)
    )


@pytest.mark.smoke
def test_event_of_a_rolled_back_transaction_is_never_dispatched(app, factory, ctx):
    product = factory.product(factory.seller(factory.tenant()), stock=4)
    with tenant_scope(product.tenant_id):
        before = db.session.scalar(select(func.max(OutboxEvent.id))) or 0
        with pytest.raises(RuntimeError), transaction():
            inventory.adjust_stock(product.stock_level_id, -3)  # would raise a low-stock alert
            raise RuntimeError("something later in the use case failed")
        with unscoped():
            assert (
                db.session.scalar(
                    select(func.count()).select_from(OutboxEvent).where(OutboxEvent.id > before)
                )
                == 0
            )
        assert _alerts(product.stock_level_id) == 0
        assert db.session.get(StockLevel, product.stock_level_id).quantity_on_hand == 4
        # the same change committed is dispatched (in-process here) and its effect applied
        inventory.adjust_stock(product.stock_level_id, -3)
        assert _alerts(product.stock_level_id) == 1


@pytest.mark.smoke
def test_refused_stock_change_writes_nothing(app, factory, ctx):
    product = factory.product(factory.seller(factory.tenant()), stock=2)
    with tenant_scope(product.tenant_id):
        with pytest.raises(InsufficientStock):
            inventory.adjust_stock(product.stock_level_id, -5)
        assert db.session.get(StockLevel, product.stock_level_id).quantity_on_hand == 2
        with unscoped():
            assert (
                db.session.scalar(
                    select(func.count())
                    .select_from(OutboxEvent)
                    .where(
                        OutboxEvent.aggregate == "stock_level",
                        OutboxEvent.aggregate_id == str(product.stock_level_id),
                    )
                )
                == 0
            )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test's own, so stopping it disturbs nobody."""

    def __init__(self):
        self.port = _free_port()
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        client = Redis(port=self.port)
        for _ in range(100):
            try:
                if client.ping():
                    return
            except Exception:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def rq_app(app):
    """The same app wired for production-style jobs: RQ on a private Redis."""
    from app import create_app

    redis = PrivateRedis()
    redis.start()
    application = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        JOBS_MODE="rq",
        REDIS_URL=f"redis://127.0.0.1:{redis.port}/0",
    )
    yield application, redis
    redis.stop()


def test_event_committed_while_redis_is_down_is_dispatched_once_redis_is_back(rq_app, factory):
    from jobs.worker import make_worker

    application, redis = rq_app
    product = factory.product(factory.seller(factory.tenant()), stock=5)
    redis.stop()

    with application.app_context(), tenant_scope(product.tenant_id):
        # the use case commits even though the queue is unreachable
        stock = inventory.adjust_stock(product.stock_level_id, -4)
        assert stock.quantity_on_hand == 1
        with unscoped():
            event = db.session.scalars(
                select(OutboxEvent).where(
                    OutboxEvent.aggregate_id == str(product.stock_level_id),
                    OutboxEvent.name == "inventory.stock_changed",
                )
            ).one()
            assert event.dispatched_at is None and event.attempts == 1
            assert "ConnectionError" in event.last_error
            event_id = event.id
        assert _alerts(product.stock_level_id) == 0

    redis.start()
    with application.app_context():
        assert bus.redeliver_pending(0, force=True) >= 1
        # a real worker process forks for the job, with the app loaded once in its parent
        make_worker(application, QUEUES).work(burst=True)
        with tenant_scope(product.tenant_id):
            assert _alerts(product.stock_level_id) == 1
        with unscoped():
            assert db.session.get(OutboxEvent, event_id).dispatched_at is not None
            assert (
                db.session.get(ProcessedEvent, (event_id, "inventory.low_stock_check")) is not None
            )

        # a duplicate delivery (retry, redelivery, a second enqueue) changes nothing
        application.extensions["event_bus"].runner.enqueue(
            "jobs.tasks.handle_event", event_id, "inventory.low_stock_check", queue="high"
        )
        make_worker(application, QUEUES, simple=True).work(burst=True)
        assert bus.consume(event_id, "inventory.low_stock_check") is False
        with tenant_scope(product.tenant_id):
            assert _alerts(product.stock_level_id) == 1
        assert bus.redeliver_pending(0, force=True) == 0
