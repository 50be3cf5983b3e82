"""Case 2: RQ workers SIGKILLed in the middle of their jobs, one job of each kind a checkout makes:
an event consumer writing rows (inbox.order_created: the seller's and customer's notifications), a
search-indexing job (search.index_stock) and a mail (mail.order_confirmation, over SMTP).

How each job is caught in its middle: the stack's worker is stopped while the customer checks out,
so the order's jobs wait in the queues; the test then holds, in a transaction of its own, the
processed_events keys the two consumers insert first (their INSERT waits on the row lock, their
transaction open), and the SMTP server holds the confirmation mail at DATA (the job has rendered it
and is sending). Three workers take the jobs (`flask worker` runs them in its own process; with
--fork a work horse would, killed with it); once the three are in RQ's StartedJobRegistry
and stuck, every worker (and any work horse) is SIGKILLed, the holds are let go, and one worker (the
stack's own) is started again.

Promise: RQ's abandoned-job handling (the StartedJobRegistry cleanup, RQ_MAINTENANCE_INTERVAL)
finds each killed job once its heartbeat lapses and retries it (jobs/runner.py RETRY); each job's
effect then happens exactly once: one confirmation mail, one notification per recipient, one
processed_events row per (event, consumer)."""

from __future__ import annotations

import time

import requests
from rq import Queue
from rq.job import Job
from rq.registry import StartedJobRegistry

from tests.faults.harness import ADDRESS, CARD_OK, DEMO_PASSWORD, report, wait_for

KILLED = ("worker-a", "worker-b", "worker-c")


def _checkout(stack, email: str) -> dict:
    s = requests.Session()
    login = s.post(
        f"{stack.url}/api/v1/auth/login/", json={"login": email, "password": DEMO_PASSWORD}
    )
    assert login.status_code == 200, login.text
    s.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    variant = stack.variants()[0]
    added = s.post(f"{stack.url}/api/v1/cart/add/", json={"variant_id": variant, "quantity": 1})
    assert added.status_code == 200, added.text
    placed = s.post(
        f"{stack.url}/api/v1/orders/",
        json={"shipping_address": ADDRESS, "payment": CARD_OK},
        headers={"Idempotency-Key": f"worker-kill-{time.time()}"},
    )
    assert placed.status_code == 201, placed.text
    return placed.json()


def _started(stack, queue: str) -> set[str]:
    registry = StartedJobRegistry(queue=Queue(queue, connection=stack.redis()))
    return {job_id.split(":")[0] for job_id in registry.get_job_ids()}


def _held_mail(stack) -> list[str]:
    return [j for j in _started(stack, "high") if j.endswith("-mail_deliver")]


def _job_id(job: tuple[str, int, str]) -> str:
    """The RQ job id of (queue, event id, consumer): app.events.bus._job_id."""
    return f"event-{job[1]}-{job[2].replace('.', '_')}"


def _processed(stack, event_id: int, consumer: str) -> int:
    return stack.sql(
        "SELECT COUNT(*) FROM processed_events WHERE event_id = %s AND consumer = %s",
        (event_id, consumer),
    )[0][0]


def test_workers_killed_mid_job_recover_each_job_once(live):
    stack = live
    email = stack.customers()[-1]
    stack.stop("worker")  # the order's jobs wait in the queues
    before = stack.sql("SELECT COALESCE(MAX(id), 0) FROM outbox_events")[0][0]
    order = _checkout(stack, email)
    events = dict(
        stack.sql(
            "SELECT name, MIN(id) FROM outbox_events WHERE id > %s "
            "AND name IN ('order.created', 'inventory.stock_changed') GROUP BY name",
            (before,),
        )
    )
    created, stock = events["order.created"], events["inventory.stock_changed"]
    jobs = {
        "event consumer": ("high", created, "inbox.order_created"),
        "indexing": ("default", stock, "search.index_stock"),
        # the mail: mail.order_confirmation publishes mail.requested, whose consumer mail.deliver
        # sends it over SMTP; its event id is known once that job is held (below)
    }

    hold = stack.connect(autocommit=False)  # the two consumers' first INSERT waits on this
    with hold.cursor() as cur:
        cur.executemany(
            "INSERT INTO processed_events (event_id, consumer, processed_at) VALUES (%s, %s, NOW())",
            [(created, "inbox.order_created"), (stock, "search.index_stock")],
        )
    number = order["number"]
    stack.mail.stall(lambda m: m["To"] == email and number in str(m["Subject"]))
    try:
        for name in KILLED:
            stack.start_worker(name)
        wait_for(
            lambda: (
                stack.mail.stalled.is_set()
                and _job_id(jobs["event consumer"]) in _started(stack, "high")
                and _job_id(jobs["indexing"]) in _started(stack, "default")
                and _held_mail(stack)
            ),
            120,
            "the three jobs started and held",
        )
        (mail_job,) = _held_mail(stack)
        jobs["mail"] = ("high", int(mail_job.split("-")[1]), "mail.deliver")
        time.sleep(1)
        killed_at = time.monotonic()
        killed = [pid for name in KILLED for pid in stack.kill(name)]
    finally:
        hold.rollback()
        hold.close()
        stack.mail.release()
    for name in KILLED:
        stack.procs.pop(name)
    # the holds are gone: a work horse still alive would finish its job now; none does
    time.sleep(3)
    assert not stack.mail.matching(email, number), "the held mail must not have been delivered"
    assert _processed(stack, created, "inbox.order_created") == 0
    assert _processed(stack, stock, "search.index_stock") == 0

    stack.start_worker()
    recovered = {}
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and len(recovered) < len(jobs):
        for kind, (_, event_id, consumer) in jobs.items():
            if kind not in recovered and _processed(stack, event_id, consumer):
                recovered[kind] = round(time.monotonic() - killed_at, 1)
        time.sleep(0.5)
    time.sleep(3)  # a duplicate delivery, had there been one, would land now
    statuses, retries = {}, {}
    for kind, job in jobs.items():
        job = Job.fetch(_job_id(job), connection=stack.redis())
        statuses[kind] = job.get_status().value
        retries[kind] = 5 - (job.retries_left or 0)
    mails = stack.mail.matching(email, number)
    notices = stack.sql(
        "SELECT source_key, COUNT(*) FROM notifications WHERE source_event_id = %s "
        "GROUP BY source_key",
        (created,),
    )
    report(
        "3 RQ workers SIGKILLed mid-job (event consumer, indexing, mail)",
        **{
            "processes SIGKILLed (workers, horses)": len(killed),
            "recovered after the kill (s)": recovered,
            "job status": statuses,
            "retries used": retries,
            "confirmation mails delivered": len(mails),
            "notifications (per recipient)": dict(notices),
            "processed rows per consumer": {
                kind: _processed(stack, event_id, consumer)
                for kind, (_, event_id, consumer) in jobs.items()
            },
        },
    )
    assert set(recovered) == set(jobs), (recovered, stack.log_tail("worker"))
    assert all(status == "finished" for status in statuses.values()), statuses
    assert all(count >= 1 for count in retries.values()), retries  # retried, not lost
    assert len(mails) == 1
    assert notices and all(count == 1 for _, count in notices), notices
    assert ("customer", 1) in [(key, count) for key, count in notices]
