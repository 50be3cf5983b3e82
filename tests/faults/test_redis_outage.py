"""Case 3: Redis stopped for 60 s under traffic, then started again (its append-only file kept, as
docker-compose.yml runs it).

Promise: browsing, the cart and checkout keep answering (no 5xx) while Redis is down. What
degrades, by design: the cache is bypassed (every read goes to MariaDB), rate limits are counted
in each web process's memory instead of Redis (config.py RATELIMIT_IN_MEMORY_FALLBACK_ENABLED),
the JWT blocklist is not read (the database's session check still refuses revoked sessions:
app/security/tokens.py), and no job is handed to the queue: the outbox events the checkouts write
stay pending. Once Redis is back, the cron's redelivery (`flask scheduler`, redeliver_outbox)
dispatches them and each is applied once: every order placed during the outage gets exactly one
confirmation mail."""

from __future__ import annotations

import signal
import statistics
import time
from collections import Counter

from tests.faults.harness import Traffic, report, wait_for

OUTAGE_S = 60


def _pending(stack, order_ids: list[int]) -> int:
    marks = ",".join(["%s"] * len(order_ids))
    return stack.sql(
        "SELECT COUNT(*) FROM outbox_events WHERE dispatched_at IS NULL "
        f"AND aggregate = 'order' AND aggregate_id IN ({marks})",
        [str(i) for i in order_ids],
    )[0][0]


def test_redis_down_for_a_minute(live):
    stack = live
    traffic = Traffic(stack, stack.customers(), stack.variants(), threads=2, think=3.0).start()
    try:
        wait_for(lambda: len(traffic.orders) >= 3, 60, "orders before the outage")
        stack.stop("redis", signal.SIGTERM)
        down = time.monotonic()
        time.sleep(OUTAGE_S)
        during = [a for a in traffic.answers if a.started >= down]
        outage_orders = sorted(a.order_id for a in during if a.order_id)
        pending_at_restart = _pending(stack, outage_orders) if outage_orders else 0
        stack.start_redis()
        up = time.monotonic()
        time.sleep(3)
    finally:
        traffic.stop()

    assert outage_orders, "no checkout succeeded while Redis was down"
    emails = {}
    rows = stack.sql(
        f"SELECT o.id, o.number, o.email FROM orders o WHERE o.id IN ({','.join(['%s'] * len(outage_orders))})",
        outage_orders,
    )
    for order_id, number, email in rows:
        emails[order_id] = (number, email)
    wait_for(lambda: _pending(stack, outage_orders) == 0, 240, "redelivery")
    time_to_dispatch = time.monotonic() - up
    wait_for(
        lambda: all(stack.mail.matching(e, n) for n, e in emails.values()),
        300,
        "a confirmation mail for every order of the outage",
    )
    time_to_mail = time.monotonic() - up
    time.sleep(3)  # a duplicate, had there been one, would land now
    mails = {oid: len(stack.mail.matching(e, n)) for oid, (n, e) in emails.items()}
    duplicates = stack.sql(
        "SELECT COUNT(*) FROM (SELECT event_id, consumer FROM processed_events "
        "GROUP BY event_id, consumer HAVING COUNT(*) > 1) d"
    )[0][0]
    by_kind = {}
    for answer in during:
        by_kind.setdefault(answer.kind, []).append(answer.status)
    latencies = [a.at - a.started for a in during]
    report(
        "Redis stopped for %d s under traffic" % OUTAGE_S,
        requests=len(traffic.answers),
        **{
            "answers during the outage": Traffic.by_status(during),
            "by kind during the outage": {
                k: dict(sorted({s: v.count(s) for s in set(v)}.items()))
                for k, v in sorted(by_kind.items())
            },
            "latency during (median/max s)": (
                round(statistics.median(latencies), 3),
                round(max(latencies), 3),
            ),
            "orders placed during the outage": len(outage_orders),
            "their events pending at restart": pending_at_restart,
            "all dispatched after restart (s)": round(time_to_dispatch, 1),
            "all mailed after restart (s)": round(time_to_mail, 1),
            "orders by confirmation mails": dict(Counter(mails.values())),
            "duplicate (event, consumer) rows": duplicates,
        },
    )
    assert outage_orders, "no checkout succeeded while Redis was down"
    assert not [a for a in during if a.status >= 500 or a.status == 0], Traffic.by_status(during)
    for kind in ("browse", "cart", "cart_add", "checkout"):
        assert kind in by_kind and all(s < 500 for s in by_kind[kind]), kind
    assert pending_at_restart > 0  # the events really waited for Redis
    assert all(count == 1 for count in mails.values()), mails
    assert duplicates == 0
