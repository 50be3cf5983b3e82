"""app.inbox.services.notify: stored once per source event and user (also when the event is
redelivered, and when two deliveries of it run at the same time on MariaDB), each user's
preferences applied per channel, and `notification.created` published once for each new set of
recipients. Jobs run inline here (TestingConfig), so the e-mail, SMS and push deliveries have been
attempted when the commit returns; mails land in the embedded outbox, SMS and push in the built-in
`record` adapter's table."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.events.bus import consume, get_bus, publish
from app.extensions import db
from app.inbox import preferences, services
from app.inbox.inputs import Message
from app.security import roles
from app.security.models import User
from app.sellers.actors import actor_for
from tests.builders.inbox import created_events, deliveries, notifications_of_event, receipts
from tests.builders.sellers import mails_to, outbox  # noqa: F401  (fixture)

ORDER = Message(type="order.created", title="New order R-100", body="2 items", link="/orders/R-100")


@pytest.fixture
def shop(app, factory):
    tenant = factory.tenant()
    return {
        "tenant": tenant,
        "a": factory.seller(tenant),
        "b": factory.seller(tenant),
        "admin": factory.user(tenant, roles.ADMIN),
    }


def _set_phone(app, user, phone):
    with app.app_context(), tenant_scope(user.tenant_id):
        db.session.get(User, user.id).phone = phone
        db.session.commit()


def _notify(app, tenant_id, user_ids, message=ORDER, **kwargs):
    with app.app_context(), tenant_scope(tenant_id):
        done = services.notify(user_ids, message, **kwargs)
        db.session.commit()
        return done


def _actor(app, user):
    with app.app_context(), tenant_scope(user.tenant_id):
        return actor_for(db.session.get(User, user.id))


def test_a_redelivered_event_stores_nothing_twice(app, shop, outbox):  # noqa: F811
    a, b = shop["a"].user, shop["b"].user
    first = _notify(app, shop["tenant"].id, [a.id, b.id], source_event_id=910001)
    again = _notify(app, shop["tenant"].id, [a.id, b.id], source_event_id=910001)
    assert first.created and first.new_recipient_ids == (a.id, b.id)
    assert again.notification_id == first.notification_id
    assert not again.created and again.new_recipient_ids == ()
    assert notifications_of_event(app, shop["tenant"].id, 910001) == [first.notification_id]
    assert receipts(app, shop["tenant"].id, first.notification_id) == [a.id, b.id]
    assert len(deliveries(app, shop["tenant"].id, first.notification_id)) == 8
    assert len(created_events(app, first.notification_id)) == 1
    # the mails were sent once, not once per delivery of the event
    assert len(mails_to(outbox, a.email)) == 1 and len(mails_to(outbox, b.email)) == 1

    # the event redelivered with one more recipient: only the new one is stored, told and mailed
    c = shop["admin"]
    third = _notify(app, shop["tenant"].id, [a.id, b.id, c.id], source_event_id=910001)
    assert third.new_recipient_ids == (c.id,)
    assert receipts(app, shop["tenant"].id, first.notification_id) == sorted([a.id, b.id, c.id])
    payloads = created_events(app, first.notification_id)
    assert [p["recipient_user_ids"] for p in payloads] == [[a.id, b.id], [c.id]]
    assert len(mails_to(outbox, a.email)) == 1 and len(mails_to(outbox, c.email)) == 1


def test_another_notice_of_the_same_event_is_its_own(app, shop):
    a = shop["a"].user
    seller = _notify(app, shop["tenant"].id, [a.id], source_event_id=910002, source_key="seller")
    buyer = _notify(app, shop["tenant"].id, [a.id], source_event_id=910002, source_key="buyer")
    assert seller.notification_id != buyer.notification_id and buyer.created


def test_concurrent_deliveries_of_one_event_store_once(app, shop, is_sqlite):
    if is_sqlite:
        pytest.skip("SQLite serialises writers: the race needs MariaDB's row locks")
    a, b = shop["a"].user, shop["b"].user
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            with app.app_context(), tenant_scope(shop["tenant"].id):
                barrier.wait()
                done = services.notify([a.id, b.id], ORDER, source_event_id=910003)
                db.session.commit()
                results.append(done)
        except Exception as exc:  # pragma: no cover - shown by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert len({r.notification_id for r in results}) == 1
    assert sorted(r.created for r in results) == [False, True]
    notification_id = results[0].notification_id
    assert receipts(app, shop["tenant"].id, notification_id) == [a.id, b.id]
    assert len(deliveries(app, shop["tenant"].id, notification_id)) == 8
    assert len(created_events(app, notification_id)) == 1


def test_through_the_bus_a_consumer_applies_an_event_once(app, shop):
    """A consumer that notifies, run by the outbox: the second delivery of the event is a no-op."""
    a = shop["a"].user

    def tell(event):
        services.notify(
            event.payload["user_ids"], ORDER, source_event_id=event.id, source_key="probe"
        )

    with app.app_context():
        get_bus().subscribe("test.inbox_probe", "test.inbox_probe_notify", tell)
        with tenant_scope(shop["tenant"].id):
            event = publish("test.inbox_probe", {"user_ids": [a.id]})
            db.session.commit()
            event_id = event.id
        assert consume(event_id, "test.inbox_probe_notify") is False  # inline run applied it
    ids = notifications_of_event(app, shop["tenant"].id, event_id)
    assert len(ids) == 1 and receipts(app, shop["tenant"].id, ids[0]) == [a.id]


def test_preferences_decide_each_channel(app, shop, outbox):  # noqa: F811
    tenant = shop["tenant"]
    a, b = shop["a"].user, shop["b"].user
    _set_phone(app, a, "+15550001")
    _set_phone(app, b, "+15550002")
    # the shop texts every type by default; seller a wants no e-mail for orders, no SMS at all
    with app.app_context(), tenant_scope(tenant.id):
        preferences.set_tenant_defaults(
            actor_for(db.session.get(User, shop["admin"].id)),
            [preferences.Choice("*", "sms", True)],
        )
    preferences_a = _actor(app, a)
    with app.app_context(), tenant_scope(tenant.id):
        preferences.set_preferences(
            preferences_a,
            [
                preferences.Choice("order.created", "email", False),
                preferences.Choice("*", "sms", False),
            ],
        )
    done = _notify(app, tenant.id, [a.id, b.id])
    got = deliveries(app, tenant.id, done.notification_id)
    status = {key: value[0] for key, value in got.items()}
    assert status == {
        (a.id, "in_app"): "sent",
        (a.id, "email"): "skipped",
        (a.id, "sms"): "skipped",
        (a.id, "push"): "skipped",
        (b.id, "in_app"): "sent",
        (b.id, "email"): "sent",
        (b.id, "sms"): "sent",
        (b.id, "push"): "skipped",
    }
    assert got[(a.id, "email")][4] == "turned off in the user's preferences"
    assert mails_to(outbox, a.email) == []
    (mail,) = mails_to(outbox, b.email)
    assert mail["Subject"] == "New order R-100"
    assert "http://shop.test/orders/R-100" in mail.get_body(("plain",)).get_content()
    assert got[(b.id, "email")][3] == mail["Message-ID"]


def test_in_app_off_keeps_it_out_of_the_centre_and_the_realtime_list(app, shop):
    a, b = shop["a"].user, shop["b"].user
    with app.app_context(), tenant_scope(shop["tenant"].id):
        preferences.set_preferences(
            actor_for(db.session.get(User, a.id)),
            [preferences.Choice("order.created", "in_app", False)],
        )
    done = _notify(app, shop["tenant"].id, [a.id, b.id])
    (payload,) = created_events(app, done.notification_id)
    assert payload == {
        "notification_id": done.notification_id,
        "recipient_user_ids": [b.id],
        "type": "order.created",
        "title": "New order R-100",
        "link": "/orders/R-100",
    }
    with app.app_context(), tenant_scope(shop["tenant"].id):
        assert services.inbox(actor_for(db.session.get(User, a.id))).total == 0
        assert services.inbox(actor_for(db.session.get(User, b.id))).total == 1


def test_only_active_users_of_the_tenant_are_recipients(app, factory, shop):
    other_tenant = factory.tenant()
    stranger = factory.seller(other_tenant).user
    gone = factory.user(shop["tenant"], roles.CUSTOMER)
    with app.app_context(), tenant_scope(shop["tenant"].id):
        db.session.get(User, gone.id).active = False
        db.session.commit()
    done = _notify(app, shop["tenant"].id, [shop["a"].user.id, stranger.id, gone.id])
    assert done.new_recipient_ids == (shop["a"].user.id,)
    with app.app_context(), tenant_scope(other_tenant.id):
        assert services.inbox(actor_for(db.session.get(User, stranger.id))).total == 0


@pytest.mark.parametrize(
    "change, field",
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"type": "nope"}, "type"),
        ({"link": "javascript:alert(1)"}, "link"),
        ({"link": "//evil.example/x"}, "link"),
        ({"data": {"x": "y" * 5000}}, "data"),
        ({"channels": ("fax",)}, "channels"),
    ],
)
def test_a_bad_message_is_refused_whole(app, shop, change, field):
    from app.core.errors import ValidationError

    fields = {"type": "announcement", "title": "Hello", **change}
    with app.app_context(), tenant_scope(shop["tenant"].id):
        with pytest.raises(ValidationError) as caught:
            services.notify([shop["a"].user.id], Message(**fields))
        db.session.rollback()
    assert field in caught.value.details


def test_staff_send_to_a_segment_records_one_audit_action(app, factory, shop):
    from app.security.audit import AuditActor, audit_as
    from app.security.models import AuditLog

    pending = factory.seller(shop["tenant"], status="pending")
    actor = _actor(app, shop["admin"])
    who = AuditActor(actor_id=shop["admin"].id, actor=shop["admin"].username, source="api")
    with app.app_context(), tenant_scope(shop["tenant"].id), audit_as(who):
        sent = services.send(
            actor,
            services.Audience(seller_status="approved"),
            Message(type="announcement", title="Fees change on 1 January"),
        )
        assert sent.recipient_count == 2 and sent.audience == "sellers approved"
        (row,) = db.session.scalars(
            select(AuditLog).where(
                AuditLog.entity == "Notification",
                AuditLog.entity_id == str(sent.id),
                AuditLog.action == "send",
            )
        ).all()
        assert row.actor_id == shop["admin"].id
        assert row.after["recipients"] == 2 and row.after["audience"] == "sellers approved"
    assert receipts(app, shop["tenant"].id, sent.id) == sorted(
        [shop["a"].user.id, shop["b"].user.id]
    )
    assert pending.user.id not in receipts(app, shop["tenant"].id, sent.id)


class RefusingSms:
    """A provider adapter whose remote API refuses (what a real provider's outage looks like)."""

    name = "refusing-sms"

    def __init__(self, config):
        pass

    def send(self, message):
        raise ConnectionError("provider answered 503")


def test_the_record_adapter_records_and_a_failing_provider_fails_its_delivery_only(
    app, shop, monkeypatch
):
    from tests.builders.inbox import recorded

    tenant = shop["tenant"]
    a = shop["a"].user
    _set_phone(app, a, "+15550003")
    with app.app_context(), tenant_scope(tenant.id):
        preferences.set_preferences(
            actor_for(db.session.get(User, a.id)),
            [preferences.Choice("*", "sms", True), preferences.Choice("*", "push", True)],
        )
    monkeypatch.setitem(app.extensions, "inbox_adapters", {})
    done = _notify(app, tenant.id, [a.id])
    got = deliveries(app, tenant.id, done.notification_id)
    assert got[(a.id, "sms")][:3] == ("sent", "+15550003", "record")
    assert got[(a.id, "push")][:3] == ("sent", f"user:{a.id}", "record")
    sms = [m for m in recorded(app, tenant.id, "sms") if m.to == "+15550003"]
    assert len(sms) == 1
    assert sms[0].text == "New order R-100 2 items http://shop.test/orders/R-100"
    assert got[(a.id, "sms")][3] == f"record-{sms[0].id}"

    monkeypatch.setitem(app.config, "NOTIFY_SMS_ADAPTER", f"{__name__}:RefusingSms")
    monkeypatch.setitem(app.extensions, "inbox_adapters", {})
    done = _notify(app, tenant.id, [a.id], Message(type="announcement", title="Second"))
    got = deliveries(app, tenant.id, done.notification_id)
    assert got[(a.id, "sms")][0] == "failed" and got[(a.id, "sms")][2] == "refusing-sms"
    assert "provider answered 503" in got[(a.id, "sms")][4]
    assert got[(a.id, "push")][0] == "sent" and got[(a.id, "email")][0] == "sent"
    assert [m.subject for m in recorded(app, tenant.id, "sms") if m.to == "+15550003"] == [
        "New order R-100"
    ]
