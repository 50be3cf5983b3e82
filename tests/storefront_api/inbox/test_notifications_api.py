"""/api/v1/notifications/: a user's own notifications (list, unread filter and count, read, mark
all, dismiss) and preferences, staff sends to a user, a role or a seller segment. A user never sees
or changes another's notification (404), only staff send (403), a storefront's sends never reach
another's users, and bad input is a 422 in the envelope with nothing stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.inbox.models import Notification
from app.security import roles
from tests.builders.api import error
from tests.builders.auth import api_headers
from tests.builders.inbox import deliveries, receipts

API = "/api/v1/notifications"


@pytest.fixture
def shop(app, factory):
    tenant = factory.tenant()
    seller, other = factory.seller(tenant), factory.seller(tenant)
    pending = factory.seller(tenant, status="pending")
    admin = factory.user(tenant, roles.ADMIN)
    customer = factory.customer(tenant)
    return {
        "tenant": tenant,
        "seller": seller,
        "other": other,
        "pending": pending,
        "admin": admin,
        "customer": customer,
        "h": api_headers(app, seller.user),
        "h_other": api_headers(app, other.user),
        "h_pending": api_headers(app, pending.user),
        "h_admin": api_headers(app, admin),
        "h_customer": api_headers(app, customer.user),
    }


def _send(client, shop, **body):
    body = {"title": "Hello sellers", **body}
    response = client.post(f"{API}/", headers=shop["h_admin"], json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _count(app, tenant_id):
    with app.app_context(), tenant_scope(tenant_id):
        return db.session.scalar(select(func.count()).select_from(Notification))


def test_staff_send_to_a_role_and_each_reads_its_own(app, client, shop):
    sent = _send(
        client, shop, role=roles.SELLER, body="Fees change", link="/admin/fees", data={"v": 2}
    )
    assert sent["recipient_count"] == 3 and sent["audience"] == "role Seller"
    assert sent["type"] == "announcement"
    listed = client.get(f"{API}/", headers=shop["h"]).get_json()
    assert listed["total"] == 1 and listed["page"] == 1
    (item,) = listed["items"]
    assert item["id"] == sent["id"] and item["title"] == "Hello sellers"
    assert item["body"] == "Fees change" and item["link"] == "/admin/fees"
    assert item["data"] == {"v": 2} and item["is_read"] is False and item["read_at"] is None
    # the customer and the admin were not in the audience
    assert client.get(f"{API}/", headers=shop["h_customer"]).get_json()["total"] == 0
    assert client.get(f"{API}/", headers=shop["h_admin"]).get_json()["total"] == 0


def test_read_unread_count_mark_all_and_dismiss(app, client, shop):
    first = _send(client, shop, user_id=shop["seller"].user.id, title="One")
    second = _send(client, shop, user_id=shop["seller"].user.id, title="Two")
    h = shop["h"]
    assert client.get(f"{API}/unread-count/", headers=h).get_json() == {"unread": 2}
    items = client.get(f"{API}/", headers=h).get_json()["items"]
    assert [i["title"] for i in items] == ["Two", "One"]  # newest first

    read = client.put(f"{API}/{first['id']}/read/", headers=h)
    assert read.status_code == 200 and read.get_json()["is_read"] is True
    again = client.put(f"{API}/{first['id']}/read/", headers=h).get_json()
    assert again["read_at"] == read.get_json()["read_at"]  # marking twice changes nothing
    unread = client.get(f"{API}/?unread=true", headers=h).get_json()
    assert [i["id"] for i in unread["items"]] == [second["id"]] and unread["total"] == 1
    assert client.get(f"{API}/unread-count/", headers=h).get_json() == {"unread": 1}

    assert client.post(f"{API}/mark-all-read/", headers=h).get_json() == {"marked": 1}
    assert client.get(f"{API}/unread-count/", headers=h).get_json() == {"unread": 0}

    assert client.delete(f"{API}/{first['id']}/", headers=h).status_code == 204
    assert [i["id"] for i in client.get(f"{API}/", headers=h).get_json()["items"]] == [second["id"]]
    error(client.delete(f"{API}/{first['id']}/", headers=h), 404, "not_found")
    error(client.put(f"{API}/{first['id']}/read/", headers=h), 404, "not_found")


def test_another_users_notification_is_404_and_untouched(app, client, shop):
    mine = _send(client, shop, user_id=shop["seller"].user.id)
    for method, url in (
        ("put", f"{API}/{mine['id']}/read/"),
        ("delete", f"{API}/{mine['id']}/"),
    ):
        for h in (shop["h_other"], shop["h_admin"], shop["h_customer"]):
            error(getattr(client, method)(url, headers=h), 404, "not_found")
    assert client.post(f"{API}/mark-all-read/", headers=shop["h_other"]).get_json() == {"marked": 0}
    (item,) = client.get(f"{API}/", headers=shop["h"]).get_json()["items"]
    assert item["id"] == mine["id"] and item["is_read"] is False
    assert client.get(f"{API}/unread-count/", headers=shop["h"]).get_json() == {"unread": 1}


def test_only_staff_send(app, client, shop):
    body = {"title": "Spam", "role": roles.CUSTOMER}
    before = _count(app, shop["tenant"].id)
    for h in (shop["h"], shop["h_customer"]):
        error(client.post(f"{API}/", headers=h, json=body), 403, "forbidden")
    error(client.post(f"{API}/", json=body, headers={"X-Tenant": shop["tenant"].slug}), 401)
    assert _count(app, shop["tenant"].id) == before


def test_a_seller_segment_by_status(app, client, shop):
    sent = _send(client, shop, seller_status="pending", type="account", title="Upload your KYC")
    assert receipts(app, shop["tenant"].id, sent["id"]) == [shop["pending"].user.id]
    assert client.get(f"{API}/", headers=shop["h_pending"]).get_json()["total"] == 1
    assert client.get(f"{API}/", headers=shop["h"]).get_json()["total"] == 0


def test_sends_stay_in_their_storefront(app, client, factory, shop):
    elsewhere = factory.tenant()
    far_seller = factory.seller(elsewhere)
    _send(client, shop, role=roles.SELLER)
    h_far = api_headers(app, far_seller.user)
    assert client.get(f"{API}/", headers=h_far).get_json()["total"] == 0
    # a user of another storefront cannot be addressed by id: 404, nothing stored
    before = _count(app, shop["tenant"].id)
    answer = client.post(
        f"{API}/", headers=shop["h_admin"], json={"title": "Hi", "user_id": far_seller.user.id}
    )
    error(answer, 404, "not_found")
    assert _count(app, shop["tenant"].id) == before
    # nor does its token work at this storefront
    error(client.get(f"{API}/", headers={**h_far, "X-Tenant": shop["tenant"].slug}), 401)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"title": "Hi"}, "audience"),
        ({"title": "Hi", "role": roles.SELLER, "seller_status": "approved"}, "audience"),
        ({"title": "Hi", "role": "Super Admin"}, "role"),
        ({"title": "Hi", "seller_status": "sleepy"}, "seller_status"),
        ({"title": "", "role": roles.SELLER}, "title"),
        ({"title": "Hi", "role": roles.SELLER, "type": "order.created"}, "type"),
        ({"title": "Hi", "role": roles.SELLER, "link": "javascript:alert(1)"}, "link"),
        ({"title": "Hi", "role": roles.SELLER, "channels": ["fax"]}, "channels"),
        ({"title": "Hi", "role": roles.SELLER, "channels": []}, "channels"),
        ({"title": "Hi", "role": roles.SELLER, "colour": "red"}, "colour"),
        ({"title": "Hi", "user_id": "abc"}, "user_id"),
    ],
)
def test_bad_sends_are_422_and_store_nothing(app, client, shop, body, field):
    before = _count(app, shop["tenant"].id)
    found = error(client.post(f"{API}/", headers=shop["h_admin"], json=body), 422)
    assert field in str(found["details"]), found
    assert _count(app, shop["tenant"].id) == before


def test_nobody_in_the_audience_is_a_422(app, client, factory):
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    answer = client.post(
        f"{API}/", headers=api_headers(app, admin), json={"title": "Hi", "role": roles.SELLER}
    )
    assert "audience" in error(answer, 422)["details"]


def test_channels_narrow_a_send(app, client, shop):
    sent = _send(client, shop, user_id=shop["seller"].user.id, channels=["in_app"])
    got = deliveries(app, shop["tenant"].id, sent["id"])
    user = shop["seller"].user.id
    assert got[(user, "in_app")][0] == "sent"
    assert got[(user, "email")][:1] == ("skipped",)
    assert got[(user, "email")][4] == "not a channel of this notification"


def test_preferences_are_each_users_own(app, client, shop):
    h = shop["h"]
    got = client.get(f"{API}/preferences/", headers=h).get_json()["preferences"]
    by_key = {(p["type"], p["channel"]): p for p in got}
    assert by_key[("order.created", "email")] == {
        "type": "order.created",
        "label": "New orders",
        "channel": "email",
        "enabled": True,
        "source": "builtin",
    }
    assert by_key[("*", "sms")]["enabled"] is False
    changed = client.put(
        f"{API}/preferences/",
        headers=h,
        json={
            "preferences": [
                {"type": "announcement", "channel": "email", "enabled": False},
                {"type": "*", "channel": "sms", "enabled": True},
            ]
        },
    )
    assert changed.status_code == 200, changed.get_json()
    by_key = {(p["type"], p["channel"]): p for p in changed.get_json()["preferences"]}
    assert by_key[("announcement", "email")]["enabled"] is False
    assert by_key[("announcement", "email")]["source"] == "user"
    assert by_key[("order.created", "sms")]["enabled"] is True  # from the user's "*"
    # another user's preferences did not change
    other = client.get(f"{API}/preferences/", headers=shop["h_other"]).get_json()["preferences"]
    assert {(p["type"], p["channel"]): p["enabled"] for p in other}[
        ("announcement", "email")
    ] is True
    # the send honours them: no mail for this seller, one for the other
    sent = _send(client, shop, role=roles.SELLER)
    got = deliveries(app, shop["tenant"].id, sent["id"])
    assert got[(shop["seller"].user.id, "email")][0] == "skipped"
    assert got[(shop["other"].user.id, "email")][0] == "sent"
    # null: back to the default
    reset = client.put(
        f"{API}/preferences/",
        headers=h,
        json={"preferences": [{"type": "announcement", "channel": "email", "enabled": None}]},
    ).get_json()["preferences"]
    entry = {(p["type"], p["channel"]): p for p in reset}[("announcement", "email")]
    assert entry["enabled"] is True and entry["source"] == "builtin"


@pytest.mark.parametrize(
    "body",
    [
        {"preferences": [{"type": "nope", "channel": "email", "enabled": True}]},
        {"preferences": [{"type": "*", "channel": "fax", "enabled": True}]},
        {"preferences": [{"type": "*", "channel": "sms"}]},
        {"preferences": []},
        {"prefs": []},
    ],
)
def test_bad_preferences_are_422(app, client, shop, body):
    error(client.put(f"{API}/preferences/", headers=shop["h"], json=body), 422)


def test_anonymous_is_401_everywhere(client, shop):
    guest = {"X-Tenant": shop["tenant"].slug}
    for method, url in (
        ("get", f"{API}/"),
        ("get", f"{API}/unread-count/"),
        ("post", f"{API}/mark-all-read/"),
        ("put", f"{API}/1/read/"),
        ("delete", f"{API}/1/"),
        ("get", f"{API}/preferences/"),
    ):
        error(getattr(client, method)(url, headers=guest), 401)


def test_list_paging_and_bad_query(app, client, shop):
    for n in range(3):
        _send(client, shop, user_id=shop["seller"].user.id, title=f"N{n}")
    page = client.get(f"{API}/?page=2&page_size=2", headers=shop["h"]).get_json()
    assert page["total"] == 3 and [i["title"] for i in page["items"]] == ["N0"]
    error(client.get(f"{API}/?page_size=1000", headers=shop["h"]), 422)
    error(client.get(f"{API}/?unread=maybe", headers=shop["h"]), 422)
    error(client.get(f"{API}/?colour=red", headers=shop["h"]), 422)
