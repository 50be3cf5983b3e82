"""Case 4: gunicorn's master sent SIGTERM during a stream of checkouts (a deploy, a scale-down).

gunicorn stops accepting, each sync worker finishes the request it is serving (graceful_timeout in
gunicorn.conf.py) and exits. A request still waiting in the listen backlog is refused, never
started: its client retries with the same Idempotency-Key once a server answers again (a new
gunicorn here; another instance behind the proxy in production).

Promise: the requests in flight at the signal finish with their real answer (no 5xx, no cut
connection for a request a worker had begun); no order is half-written: every order the test's
window created has its lines and one captured payment; a retried checkout never makes a second
order for the same key."""

from __future__ import annotations

import signal
import time
from collections import Counter

from tests.faults.harness import Traffic, order_rows, report, wait_for


def test_gunicorn_sigterm_during_checkouts(live):
    stack = live
    first_order = stack.sql("SELECT COALESCE(MAX(id), 0) FROM orders")[0][0]
    traffic = Traffic(stack, stack.customers(), stack.variants(), threads=6, think=0.1).start()
    try:
        wait_for(lambda: len(traffic.orders) >= 5, 60, "orders before the signal")
        web = stack.procs["web"]
        term = time.monotonic()
        stack.send("web", signal.SIGTERM)
        web.wait(60)
        exited = time.monotonic()
        stack.start_web()
        up = time.monotonic()
        time.sleep(3)
    finally:
        traffic.stop()

    in_flight = [a for a in traffic.answers if a.started < term < a.at]
    refused = [a for a in traffic.answers if a.status == 0]
    # the clients of refused checkouts retry them with their key (same session, same body)
    retried: dict[str, int] = {}
    for answer in refused:
        if answer.kind != "checkout":
            continue
        again = traffic.checkout(traffic.sessions[answer.shopper], key=answer.key)
        retried[answer.key] = again.status
    window = [
        row[0]
        for row in stack.sql("SELECT id FROM orders WHERE id > %s ORDER BY id", (first_order,))
    ]
    orders = order_rows(stack, window)
    half = {oid: st for oid, st in orders.items() if not (st[1] > 0 and st[2] == 1 and st[3] == 1)}
    report(
        "gunicorn SIGTERM during checkouts",
        requests=len(traffic.answers),
        **{
            "in flight at SIGTERM": Traffic.by_status(in_flight),
            "in-flight checkouts": Traffic.by_status(
                [a for a in in_flight if a.kind == "checkout"]
            ),
            "graceful stop took (s)": round(exited - term, 2),
            "new gunicorn answering after (s)": round(up - exited, 1),
            "refused while down (no server)": len(refused),
            "refused checkouts retried (status)": dict(Counter(retried.values())),
            "orders in the window": len(window),
            "half-written orders": len(half),
            "all answers by status": Traffic.by_status(traffic.answers),
        },
    )
    assert in_flight, "no request was in flight at the signal"
    assert [a for a in in_flight if 200 <= a.status < 300], "no in-flight request finished"
    assert not [a for a in traffic.answers if a.status >= 500], Traffic.by_status(traffic.answers)
    # a cut connection happens only to a request no worker had begun: before the signal every
    # request was answered, so every status-0 answer started after it or waited in the backlog
    assert all(a.started >= term - 1 for a in refused)
    assert not half, half
    assert set(traffic.orders) <= set(orders)
    assert all(status in (201, 409, 422) for status in retried.values()), retried
