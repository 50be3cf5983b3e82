"""Case 1: MariaDB restarted under load. The stack's own mariadbd is stopped while shoppers browse,
fill carts and check out, kept down 10 s and started again on the same data directory.

Promise: a request the database cannot serve answers 503 `service_unavailable` with Retry-After in
the error envelope (never a 500); gunicorn's pools reconnect by themselves (no process restarted);
every checkout that answered 201 has its order, lines and captured payment afterwards."""

from __future__ import annotations

import signal
import time

from tests.faults.harness import Traffic, order_rows, report, wait_for

OUTAGE_S = 10


def test_mariadb_restart_under_load(live):
    stack = live
    web_pid = stack.procs["web"].pid
    traffic = Traffic(stack, stack.customers(), stack.variants(), threads=4, think=0.2).start()
    try:
        wait_for(lambda: len(traffic.orders) >= 5, 60, "orders before the outage")
        down = time.monotonic()
        stack.stop("mariadb", signal.SIGTERM)
        stopped = time.monotonic()
        time.sleep(OUTAGE_S)
        stack.start_mariadb()
        up = time.monotonic()
        recovered = up + wait_for(
            lambda: any(
                a.kind == "checkout" and a.status == 201 for a in traffic.between(up, 1e12)
            ),
            60,
            "a checkout answering 201 after the restart",
        )
        time.sleep(5)
    finally:
        traffic.stop()

    during = [a for a in traffic.answers if stopped <= a.started and a.at <= up]
    errors = [a for a in traffic.answers if a.status >= 500 or a.status == 0]
    unavailable = [a for a in errors if a.status == 503]
    orders = order_rows(stack, sorted(traffic.orders))
    report(
        "MariaDB stopped for %d s under load" % OUTAGE_S,
        requests=len(traffic.answers),
        **{
            "answers during the outage": Traffic.by_status(during),
            "answers overall by status": Traffic.by_status(traffic.answers),
            "stop took (s)": round(stopped - down, 1),
            "first 201 checkout after start (s)": round(recovered - up, 1),
            "orders answered 201": len(traffic.orders),
            "of them found with lines+payment": sum(
                1 for st in orders.values() if st[1] > 0 and st[3] == 1
            ),
        },
    )
    assert during, "no request was made while the database was down"
    assert any(a.status == 503 for a in during), "the outage never showed as a 503"
    assert not [a for a in errors if a.status != 503], [
        (a.kind, a.status, a.code) for a in errors if a.status != 503
    ][:10]
    for answer in unavailable:
        assert answer.code == "service_unavailable" and answer.retry_after, answer
        assert int(answer.retry_after) > 0
    assert stack.procs["web"].pid == web_pid and stack.alive("web")  # recovered by itself
    assert set(orders) == set(traffic.orders), "an order that answered 201 is gone"
    for order_id, (status, lines, payments, captured) in orders.items():
        assert lines > 0 and payments == 1 and captured == 1, (order_id, status, lines, payments)
