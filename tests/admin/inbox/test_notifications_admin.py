"""The notification centre in the admin: staff send (a role, a seller segment, a user by e-mail)
and see what was sent and each delivery's outcome, and set the shop's defaults; every staff user
reads, marks and removes its own notifications and sets its own preferences. A Seller never sees
another user's notifications nor the staff pages, and a send never reaches another storefront."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.inbox import services
from app.inbox.inputs import Message
from app.inbox.models import Notification, NotificationDefault, NotificationPreference
from app.security import roles
from tests.builders.admin import login
from tests.builders.inbox import deliveries, receipts

MINE = "/admin/my-notifications"


@pytest.fixture
def shop(app, factory):
    tenant = factory.tenant()
    return {
        "tenant": tenant,
        "seller": factory.seller(tenant),
        "other": factory.seller(tenant),
        "pending": factory.seller(tenant, status="pending"),
        "admin": factory.user(tenant, roles.ADMIN),
    }


def _tell(app, tenant_id, user_id, title, link=None):
    with app.app_context(), tenant_scope(tenant_id):
        done = services.notify([user_id], Message(type="announcement", title=title, link=link))
        db.session.commit()
        return done.notification_id


def _last_sent(app, tenant_id):
    with app.app_context(), tenant_scope(tenant_id):
        return db.session.scalars(select(Notification).order_by(Notification.id.desc())).first()


def test_staff_send_to_a_segment_and_see_the_outcomes(app, factory, shop):
    elsewhere = factory.tenant()
    far = factory.seller(elsewhere)
    client, _ = login(app, shop["tenant"].slug, shop["admin"].username)
    form = client.get("/admin/notifications/send").get_data(as_text=True)
    assert "Approved sellers" in form and "One user (by e-mail)" in form
    answer = client.post(
        "/admin/notifications/send",
        data={
            "audience": "sellers:approved",
            "type": "announcement",
            "title": "Fees change on 1 January",
            "body": "Commission goes to 9 %.",
            "link": "/admin/payout-settings",
            "channels": ["in_app", "email"],
        },
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    sent = _last_sent(app, shop["tenant"].id)
    assert sent.title == "Fees change on 1 January" and sent.recipient_count == 2
    assert sent.sender_id == shop["admin"].id
    assert receipts(app, shop["tenant"].id, sent.id) == sorted(
        [shop["seller"].user.id, shop["other"].user.id]
    )
    assert far.user.id not in receipts(app, shop["tenant"].id, sent.id)
    listed = client.get("/admin/notifications/list/").get_data(as_text=True)
    assert "Fees change on 1 January" in listed and "sellers approved" in listed
    outcomes = client.get("/admin/notification-deliveries/list/?_flt_0_channel=sms").get_data(
        as_text=True
    )
    assert "not a channel of this notification" in outcomes
    got = deliveries(app, shop["tenant"].id, sent.id)
    assert got[(shop["seller"].user.id, "email")][0] == "sent"


def test_a_send_by_email_and_its_refusals(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["admin"].username)
    before = _last_sent(app, shop["tenant"].id)
    page = client.post(
        "/admin/notifications/send",
        data={"audience": "user", "email": "nobody@example.com", "title": "Hi", "type": "account"},
    ).get_data(as_text=True)
    assert "no active user of this shop has that e-mail" in page
    page = client.post(
        "/admin/notifications/send",
        data={
            "audience": "user",
            "email": shop["seller"].user.email,
            "title": "Hi",
            "type": "account",
            "link": "javascript:alert(1)",
        },
    ).get_data(as_text=True)
    assert "link" in page and "http(s) URL" in page
    assert _last_sent(app, shop["tenant"].id) is None and before is None  # nothing sent
    answer = client.post(
        "/admin/notifications/send",
        data={
            "audience": "user",
            "email": shop["seller"].user.email,
            "title": "Your KYC",
            "type": "account",
            "channels": ["in_app"],
        },
    )
    assert answer.status_code == 302
    sent = _last_sent(app, shop["tenant"].id)
    assert receipts(app, shop["tenant"].id, sent.id) == [shop["seller"].user.id]


def test_a_seller_reads_its_own_and_nobody_elses(app, shop):
    tenant_id = shop["tenant"].id
    mine = _tell(app, tenant_id, shop["seller"].user.id, "Your payout is on its way", "/admin/")
    theirs = _tell(app, tenant_id, shop["other"].user.id, "Someone else's news")
    client, _ = login(app, shop["tenant"].slug, shop["seller"].user.username)
    page = client.get(f"{MINE}/").get_data(as_text=True)
    assert "Your payout is on its way" in page and "Someone else&#39;s news" not in page
    assert "1 unread" in page
    # another's: 404, untouched
    assert client.post(f"{MINE}/{theirs}/read").status_code == 404
    assert client.post(f"{MINE}/{theirs}/dismiss").status_code == 404
    other_client, _ = login(app, shop["tenant"].slug, shop["other"].user.username)
    assert "Someone else&#39;s news" in other_client.get(f"{MINE}/?unread=1").get_data(as_text=True)
    # open: marked read, and on to its link
    opened = client.post(f"{MINE}/{mine}/read", data={"open": "1"})
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/admin/")
    assert "1 unread" not in client.get(f"{MINE}/").get_data(as_text=True)
    assert client.post(f"{MINE}/{mine}/dismiss").status_code == 302
    assert "Your payout is on its way" not in client.get(f"{MINE}/").get_data(as_text=True)
    # a form without this session's CSRF token changes nothing
    again = _tell(app, tenant_id, shop["seller"].user.id, "Second")
    assert client.post(f"{MINE}/read-all", csrf=False).status_code == 400
    assert "1 unread" in client.get(f"{MINE}/").get_data(as_text=True)
    assert client.post(f"{MINE}/read-all").status_code == 302
    assert "1 unread" not in client.get(f"{MINE}/").get_data(as_text=True)
    assert again


def test_the_staff_pages_are_admin_only(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["seller"].user.username)
    for url in (
        "/admin/notifications/list/",
        "/admin/notifications/send",
        "/admin/notification-deliveries/list/",
        "/admin/notification-defaults/",
    ):
        response = client.get(url)
        assert response.status_code in (302, 403), url
        assert response.status_code == 403 or "/login" in response.headers["Location"]
    answer = client.post(
        "/admin/notifications/send", data={"audience": "role:Customer", "title": "Spam"}
    )
    assert answer.status_code in (302, 403)
    answer = client.post("/admin/notification-defaults/", data={"*|sms": "on"})
    assert answer.status_code in (302, 403)
    with app.app_context(), tenant_scope(shop["tenant"].id):
        assert db.session.scalars(select(NotificationDefault)).all() == []
        assert (
            db.session.scalars(select(Notification).where(Notification.title == "Spam")).all() == []
        )


def test_preferences_and_shop_defaults_forms(app, shop):
    seller_client, _ = login(app, shop["tenant"].slug, shop["seller"].user.username)
    page = seller_client.get(f"{MINE}/preferences").get_data(as_text=True)
    assert "New orders" in page and "Default (on)" in page and "Default (off)" in page
    saved = seller_client.post(
        f"{MINE}/preferences", data={"order.created|email": "off", "*|sms": "on"}
    )
    assert saved.status_code == 302
    assert seller_client.post(f"{MINE}/preferences", data={"*|sms": "maybe"}).status_code == 400
    with app.app_context(), tenant_scope(shop["tenant"].id):
        rows = db.session.scalars(select(NotificationPreference)).all()
        assert {(r.user_id, r.event_type, r.channel, r.enabled) for r in rows} == {
            (shop["seller"].user.id, "order.created", "email", False),
            (shop["seller"].user.id, "*", "sms", True),
        }

    admin_client, _ = login(app, shop["tenant"].slug, shop["admin"].username)
    assert (
        admin_client.post("/admin/notification-defaults/", data={"*|push": "on"}).status_code == 302
    )
    page = admin_client.get("/admin/notification-defaults/").get_data(as_text=True)
    assert "Notification defaults" in page
    with app.app_context(), tenant_scope(shop["tenant"].id):
        (row,) = db.session.scalars(select(NotificationDefault)).all()
        assert (row.event_type, row.channel, row.enabled) == ("*", "push", True)
    # the shop's default shows as the seller's default
    page = seller_client.get(f"{MINE}/preferences").get_data(as_text=True)
    assert 'name="order.created|push"' in page
    start = page.index('name="order.created|push"')
    assert "Default (on)" in page[start : start + 300]
