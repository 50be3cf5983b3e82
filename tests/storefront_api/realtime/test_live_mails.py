"""Transactional mails through real processes (tests/builders/realtime.py): the checkout commits in
the test process with its jobs going to a private Redis, a real `flask worker` (RQ) consumes the
outbox events and writes the mails to its embedded outbox directory (.eml files; no SMTP here).

Two storefronts, each with its own name and colour, one order each: every mail of an order is
sent once (the customer's confirmation, each seller's own part) and carries its own storefront's
branding; the order's events and the mails' own events handed to the worker again send nothing.
"""

from __future__ import annotations

import email
import email.policy
import time
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select, update

from app.core.tenancy import unscoped
from app.events.models import OutboxEvent
from app.extensions import db
from app.tenants.models import Tenant
from tests.builders.auth import client_for, login
from tests.builders.orders import checkout, configure_pricing, fill, key
from tests.builders.realtime import LiveStack

pytestmark = pytest.mark.slow


class MailStack(LiveStack):
    """The live stack, its worker writing mails to a directory of this test."""

    def _env(self) -> dict:
        env = super()._env()
        env["TEST_MAIL_OUTBOX_DIR"] = str(self.tmp / "mail")
        env.pop("MAIL_SERVER", None)
        return env


@pytest.fixture(scope="module")
def stack(app, tmp_path_factory):
    live = MailStack(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path_factory.mktemp("live-mail"))
    try:
        live.start()
    except Exception:
        live.stop()
        raise
    yield live
    live.stop()


@pytest.fixture(scope="module")
def rq_app(app, stack):
    from app import create_app

    return create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        JOBS_MODE="rq",
        REDIS_URL=stack.redis_url,
        SEARCH_INDEX_DIR=str(stack.tmp / "search"),
    )


def _mails(directory: Path) -> list:
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(directory.glob("*.eml"))
    ]


def _wait_for(directory: Path, count: int, stack, timeout: float = 20) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _mails(directory)
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(
        f"{len(_mails(directory))} of {count} mails; worker log:\n{stack.log_tail('worker')}"
    )


def _shop(rq_app, factory, name: str, color: str):
    tenant = factory.tenant()
    with rq_app.app_context(), unscoped():
        db.session.execute(
            update(Tenant).where(Tenant.id == tenant.id).values(name=name, primary_color=color)
        )
        db.session.commit()
    sellers = [factory.seller(tenant), factory.seller(tenant)]
    products = [factory.product(s, price="10.00", stock=20) for s in sellers]
    customer = factory.customer(tenant)
    configure_pricing(rq_app, tenant.id)
    return tenant, sellers, products, customer


def _order(rq_app, tenant, customer, products) -> dict:
    client = client_for(rq_app, tenant.slug)
    answer = login(client, customer.user.username)
    h = {"Authorization": f"Bearer {answer.get_json()['access_token']}"}
    h = fill(client, h, *((p.variant_id, 1) for p in products))
    response = checkout(client, h, idem=key())
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_an_orders_mails_are_sent_once_each_in_their_storefronts_branding(rq_app, factory, stack):
    outbox = stack.tmp / "mail"
    acme = _shop(rq_app, factory, "Acme Outfitters", "#aa3300")
    zeta = _shop(rq_app, factory, "Zeta Market", "#0055aa")
    acme_order = _order(rq_app, acme[0], acme[3], acme[2])
    zeta_order = _order(rq_app, zeta[0], zeta[3], zeta[2][:1])
    # Acme: the customer and both sellers; Zeta: the customer and its one seller
    found = _wait_for(outbox, 5, stack)
    by_to: dict[str, list] = {}
    for message in found:
        by_to.setdefault(message["To"], []).append(message)
    for (_tenant, sellers, _, customer), order, name, color, other, n_sellers in (
        (acme, acme_order, "Acme Outfitters", "#aa3300", "Zeta", 2),
        (zeta, zeta_order, "Zeta Market", "#0055aa", "Acme", 1),
    ):
        (confirmation,) = by_to[customer.user.email]
        assert confirmation["Subject"] == f"Your order {order['number']} at {name}"
        for message in [confirmation, *(by_to[s.user.email][0] for s in sellers[:n_sellers])]:
            assert name in message["From"] and other not in message.as_string()
            assert color in message.get_body(("html",)).get_content()
        for seller in sellers[:n_sellers]:
            assert len(by_to[seller.user.email]) == 1
    assert len(found) == 5

    # every event of the Acme order handed to the worker again: nothing more is sent
    with rq_app.app_context(), unscoped():
        created = db.session.scalar(
            select(OutboxEvent.id).where(
                OutboxEvent.name == "order.created",
                OutboxEvent.aggregate_id == str(acme_order["id"]),
            )
        )
        requested = list(
            db.session.scalars(
                select(OutboxEvent.id).where(
                    OutboxEvent.name == "mail.requested",
                    OutboxEvent.aggregate_id == str(created),
                )
            )
        )
    assert len(requested) == 3
    queue = Queue("high", connection=Redis.from_url(stack.redis_url))
    jobs = [
        queue.enqueue("jobs.tasks.handle_event", created, consumer)
        for consumer in ("mail.order_confirmation", "mail.seller_new_order")
    ] + [queue.enqueue("jobs.tasks.handle_event", i, "mail.deliver") for i in requested]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not all(job.is_finished for job in jobs):
        time.sleep(0.05)
        for job in jobs:
            job.refresh()
    assert [job.return_value() for job in jobs] == [False] * 5, stack.log_tail("worker")
    assert len(_mails(outbox)) == 5
