"""Socket.IO against real processes (tests/builders/realtime.py): `flask realtime` (gunicorn), a
real `flask worker` (RQ) and python-socketio clients, on the test database and a private Redis.

- a seller hears `order.created` for its sub-order within one second of the checkout committing;
  another seller of the shop, an unrelated customer and a seller of another tenant hear nothing;
- no token, a bad token, a forged token, an expired token, a logged-out token and a token of a
  revoked session are refused at connect, each saying why;
- a session revoked while connected is told (`session.ended`) and dropped within seconds.
"""

from __future__ import annotations

import datetime as dt
import time
from contextlib import contextmanager

import jwt
import pytest
from flask_jwt_extended import create_access_token
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from app.core.tenancy import tenant_scope
from app.events.models import OutboxEvent
from tests.builders.auth import client_for, login
from tests.builders.orders import checkout, configure_pricing, fill, key
from tests.builders.realtime import Listener, LiveStack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(app, tmp_path_factory):
    live = LiveStack(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path_factory.mktemp("live"))
    try:
        live.start()
    except Exception:
        live.stop()
        raise
    yield live
    live.stop()


@pytest.fixture(scope="module")
def rq_app(app, stack):
    """The app of the test process, its jobs going to the stack's Redis (as `web` in production)."""
    from app import create_app

    return create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        JOBS_MODE="rq",
        REDIS_URL=stack.redis_url,
        SEARCH_INDEX_DIR=str(stack.tmp / "search"),
    )


@pytest.fixture
def listeners(stack):
    made: list[Listener] = []

    def make() -> Listener:
        made.append(Listener(stack.url))
        return made[-1]

    yield make
    for listener in made:
        listener.close()


@contextmanager
def commit_clock(event_name: str):
    """When the transaction that published `event_name` committed (monotonic clock): the moment
    the event exists for anyone; the latency of a delivery is counted from there."""
    seen = {}

    def flushed(session, _ctx):
        if any(isinstance(o, OutboxEvent) and o.name == event_name for o in session.new):
            session.info["clock_pending"] = True

    def committed(session):
        if session.info.pop("clock_pending", False):
            seen.setdefault("at", time.monotonic())

    sa_event.listen(Session, "after_flush", flushed)
    sa_event.listen(Session, "after_commit", committed)
    try:
        yield seen
    finally:
        sa_event.remove(Session, "after_flush", flushed)
        sa_event.remove(Session, "after_commit", committed)
    assert "at" in seen, f"no transaction published {event_name}"


def _token(rq_app, slug: str, username: str) -> str:
    response = login(client_for(rq_app, slug), username)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]


def test_a_seller_hears_of_its_sub_order_within_a_second_and_no_one_else_does(
    rq_app, factory, stack, listeners
):
    tenant = factory.tenant()
    seller, other_seller = factory.seller(tenant), factory.seller(tenant)
    customer, stranger = factory.customer(tenant), factory.customer(tenant)
    product = factory.product(seller, price="12.00", stock=10)
    factory.product(other_seller, price="3.00", stock=10)
    configure_pricing(rq_app, tenant.id)
    foreign = factory.tenant()
    foreign_seller = factory.seller(foreign)

    ears = {}
    for name, user, slug in (
        ("seller", seller.user, tenant.slug),
        ("other_seller", other_seller.user, tenant.slug),
        ("stranger", stranger.user, tenant.slug),
        ("foreign_seller", foreign_seller.user, foreign.slug),
        ("customer", customer.user, tenant.slug),
    ):
        ears[name] = listeners()
        assert ears[name].connect(_token(rq_app, slug, user.username)), ears[name].refusal

    client = client_for(rq_app, tenant.slug)
    h = {"Authorization": f"Bearer {_token(rq_app, tenant.slug, customer.user.username)}"}
    h = fill(client, h, (product.variant_id, 2))
    with commit_clock("order.created") as committed:
        response = checkout(client, h, idem=key())
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    started = committed["at"]

    deadline = started + 5
    while not ears["seller"].named("order.created") and time.monotonic() < deadline:
        time.sleep(0.01)
    heard = ears["seller"].named("order.created")
    assert heard, f"the seller heard nothing; worker log:\n{stack.log_tail('worker')}"
    at, data = heard[0]
    print(f"order.created reached the seller {1000 * (at - started):.0f} ms after the commit")
    assert at - started < 1.0, f"order.created reached the seller {at - started:.3f} s after"
    (sub,) = order["sub_orders"]
    assert data["order_id"] == order["id"] and data["sub_order_id"] == sub["id"]
    assert data["total"] == sub["total"] and data["currency"] == order["currency"]
    assert isinstance(data["event_id"], int)
    # the customer hears of the whole order; the seller hears of its stock leaving too
    deadline = time.monotonic() + 3
    while not ears["customer"].named("order.created") and time.monotonic() < deadline:
        time.sleep(0.02)
    ((_, mine),) = ears["customer"].named("order.created")
    assert mine["order_id"] == order["id"] and mine["total"] == order["total"]
    assert "sub_order_id" not in mine

    time.sleep(1.0)  # anything misaddressed would have arrived by now
    for name in ("other_seller", "stranger", "foreign_seller"):
        assert ears[name].events == [], (name, ears[name].events)
    assert len(ears["seller"].named("order.created")) == 1


@pytest.fixture
def customer_account(rq_app, factory):
    tenant = factory.tenant()
    return tenant, factory.customer(tenant)


def _refused(stack, listeners, **connect) -> dict:
    ear = listeners()
    assert not ear.connect(**connect), "the connection was accepted"
    assert ear.refusal is not None
    return {"code": ear.refusal["data"]["code"], "message": ear.refusal["message"]}


def test_connects_without_a_valid_live_token_are_refused_saying_why(
    rq_app, stack, listeners, customer_account
):
    tenant, customer = customer_account
    assert _refused(stack, listeners)["code"] == "token_missing"
    assert _refused(stack, listeners, auth={"token": 42})["code"] == "token_missing"
    assert _refused(stack, listeners, token="not-a-jwt")["code"] == "token_invalid"

    good = _token(rq_app, tenant.slug, customer.user.username)
    claims = jwt.decode(good, options={"verify_signature": False})
    forged = jwt.encode(claims, "another-secret-key-of-sufficient-length", algorithm="HS256")
    assert _refused(stack, listeners, token=forged)["code"] == "token_invalid"

    with rq_app.app_context(), tenant_scope(tenant.id):
        expired = create_access_token(
            identity=str(customer.user.id), expires_delta=dt.timedelta(seconds=-30)
        )
        refresh_only = create_access_token(identity=str(customer.user.id))
    refusal = _refused(stack, listeners, token=expired)
    assert refusal["code"] == "token_expired" and "expired" in refusal["message"]

    # a refresh token is not an access token
    client = client_for(rq_app, tenant.slug)
    body = login(client, customer.user.username).get_json()
    assert _refused(stack, listeners, token=body["refresh_token"])["code"] == "token_invalid"

    # logged out: the access token is on the blocklist
    assert (
        client.post(
            "/api/v1/auth/logout/", headers={"Authorization": f"Bearer {body['access_token']}"}
        ).status_code
        == 204
    )
    assert _refused(stack, listeners, token=body["access_token"])["code"] == "token_revoked"

    # another device revoked this session: its access token is not blocklisted, the session is
    victim = login(client, customer.user.username).get_json()
    keeper = login(client, customer.user.username).get_json()
    revoked = client.delete(
        f"/api/v1/auth/sessions/{victim['session_id']}/",
        headers={"Authorization": f"Bearer {keeper['access_token']}"},
    )
    assert revoked.status_code == 204
    assert _refused(stack, listeners, token=victim["access_token"])["code"] == "session_revoked"

    # the same account's live token still connects (the refusals were about the tokens)
    assert listeners().connect(keeper["access_token"])
    assert listeners().connect(refresh_only)  # a token made without a session: no sid to check


def test_a_session_revoked_while_connected_is_dropped_within_seconds(
    rq_app, stack, listeners, customer_account
):
    tenant, customer = customer_account
    client = client_for(rq_app, tenant.slug)
    victim = login(client, customer.user.username).get_json()
    keeper = login(client, customer.user.username).get_json()
    dropped, kept = listeners(), listeners()
    assert dropped.connect(victim["access_token"]) and kept.connect(keeper["access_token"])

    revoked_at = time.monotonic()
    response = client.delete(
        f"/api/v1/auth/sessions/{victim['session_id']}/",
        headers={"Authorization": f"Bearer {keeper['access_token']}"},
    )
    assert response.status_code == 204
    assert dropped.disconnected.wait(5), "the revoked session's socket is still connected"
    assert time.monotonic() - revoked_at < 3
    ((_, why),) = dropped.named("session.ended")
    assert why["code"] == "session_revoked"
    assert kept.sio.connected and not kept.disconnected.is_set()

    # logging out (the access token blocklisted, the session ended) drops it the same way
    response = client.post(
        "/api/v1/auth/logout/", headers={"Authorization": f"Bearer {keeper['access_token']}"}
    )
    assert response.status_code == 204
    assert kept.disconnected.wait(5)
    ((_, why),) = kept.named("session.ended")
    assert why["code"] in ("token_revoked", "session_revoked")
