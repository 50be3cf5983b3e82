"""The seller ledger whatever order its events are consumed in: under RQ with several workers a
`refund.completed` can be consumed before the `order.status_changed` (to paid) of the same
sub-order. Both orders of delivery must give the same entries (the refund is not lost, the sale is
not written twice), also when the two consumers run at the same moment in two threads.

The runner below holds back the sale consumer's jobs (as a busy queue would) and passes every other
job to the inline runner; the held jobs are then run through the bus's consume, as a worker runs
them. The concurrent test forces the interleaving (Saleor's race_condition style): the first
consumer waits after its look for the sale, so without the sub-order's row lock the other would
look too and both would write it."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from decimal import Decimal

import pytest

from app.events.bus import consume, get_bus
from app.extensions import db
from app.orders.models import SubOrder
from app.payouts import ledger
from tests.builders.ledger import Line, Sub

SALE = "payouts.ledger_sale"
REFUND = "payouts.ledger_refund"


class _Holding:
    """A task runner that keeps the jobs of `held` consumers and passes the rest on."""

    def __init__(self, inner, held: set[str]):
        self.inner, self.held = inner, held
        self.jobs: list[tuple[int, str]] = []

    def enqueue(self, task, event_id, consumer, queue="default", job_id=None, timeout=None) -> None:
        if consumer in self.held:
            self.jobs.append((event_id, consumer))
            return
        self.inner.enqueue(task, event_id, consumer, queue=queue, job_id=job_id, timeout=timeout)


@contextmanager
def _holding(app, *consumers: str):
    with app.app_context():
        bus = get_bus()
    runner = _Holding(bus.runner, set(consumers))
    bus.runner = runner
    try:
        yield runner
    finally:
        bus.runner = runner.inner


def _run(app, jobs) -> list[bool]:
    done = []
    for event_id, consumer in jobs:
        with app.app_context():
            try:
                done.append(consume(event_id, consumer))
            finally:
                db.session.remove()
    return done


def _refunded_order(shop, *, hold: tuple[str, ...] = ()):
    """A paid two-line order of seller 0, half of line 1 refunded (its request names the line),
    with the consumers in `hold` held back. Returns (sub id, the held jobs)."""
    order_id = shop.order(
        Sub(
            shop.sellers[0].id,
            (
                Line("40.00", commission="4.00", quantity=2),
                Line("10.00", commission="1.00", discounts=(("2.00", "seller"),)),
            ),
            shipping="5.00",
        )
    )
    with _holding(shop.app, *hold) as runner:
        shop.pay(order_id)
        (sub_id,) = shop.sub_ids(order_id)
        first_line = shop.line_ids(sub_id)[0]
        shop.refund(order_id, lines=[(first_line, 1)])
    return sub_id, runner.jobs


EXPECTED = [  # hand-computed: the sale, then half of line 1 back with half its commission
    ("sale", Decimal("40.00")),
    ("commission", Decimal("-4.00")),
    ("sale", Decimal("12.00")),
    ("seller_discount", Decimal("-2.00")),
    ("commission", Decimal("-1.00")),
    ("shipping", Decimal("5.00")),
    ("refund", Decimal("-20.00")),
    ("commission_reversal", Decimal("2.00")),
]


def _kinds(shop, sub_id):
    return [(kind, amount) for kind, amount, _ in shop.entries(sub_id)]


def test_events_in_order_give_the_hand_computed_entries(ledger_shop):
    sub_id, _ = _refunded_order(ledger_shop)
    assert _kinds(ledger_shop, sub_id) == EXPECTED
    assert ledger_shop.net(sub_id) == Decimal("32.00")


def test_a_refund_consumed_before_the_paid_event_writes_the_sale_first(app, ledger_shop):
    sub_id, held = _refunded_order(ledger_shop, hold=(SALE,))
    assert held, "the sale consumer's jobs were held back"
    # the refund was consumed while no sale job had run: it wrote the sale, then the refund
    assert _kinds(ledger_shop, sub_id) == EXPECTED
    # the paid event arrives late: its consumer applies (once) and writes nothing
    assert all(_run(app, held))
    assert _kinds(ledger_shop, sub_id) == EXPECTED
    assert ledger_shop.net(sub_id) == Decimal("32.00")


def test_an_unpaid_sub_order_gets_no_sale_from_a_refund(ledger_shop):
    """Only a sub-order that was paid gets its sale written ahead of its paid event."""
    shop = ledger_shop
    order_id = shop.order(Sub(shop.sellers[0].id, (Line("30.00", commission="3.00"),)))
    (sub_id,) = shop.sub_ids(order_id)
    assert shop.run(lambda: ledger._ensure_sale(db.session.get(SubOrder, sub_id), None)) is False
    assert shop.entries(sub_id) == []


@pytest.mark.parametrize("first", [SALE, REFUND])
def test_sale_and_refund_consumed_at_the_same_moment_write_the_sale_once(
    app, ledger_shop, monkeypatch, first
):
    sub_id, held = _refunded_order(ledger_shop, hold=(SALE, REFUND))
    sale_jobs = [j for j in held if j[1] == SALE]
    refund_jobs = [j for j in held if j[1] == REFUND]
    assert refund_jobs and sale_jobs and ledger_shop.entries(sub_id) == []

    # the first consumer to look for the sale waits there, holding whatever it holds
    real_has_sale = ledger._has_sale
    looked = threading.Event()

    def slow_has_sale(sub_order_id):
        found = real_has_sale(sub_order_id)
        if threading.current_thread().name == first and not looked.is_set():
            looked.set()
            time.sleep(0.5)
        return found

    monkeypatch.setattr(ledger, "_has_sale", slow_has_sale)
    errors: list[BaseException] = []

    def worker(jobs):
        try:
            _run(app, jobs)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = {
        SALE: threading.Thread(target=worker, args=(sale_jobs,), name=SALE),
        REFUND: threading.Thread(target=worker, args=(refund_jobs,), name=REFUND),
    }
    threads[first].start()
    assert looked.wait(10)
    second = REFUND if first == SALE else SALE
    threads[second].start()
    for thread in threads.values():
        thread.join(30)
    assert errors == []
    assert _kinds(ledger_shop, sub_id) == EXPECTED
