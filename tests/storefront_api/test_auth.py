"""/api/v1/auth over HTTP: registration and e-mail verification (mails read from a real local SMTP
server), login and lockout, refresh rotation and reuse detection, logout, password change and
reset, sessions, profile, user management, cookie mode, rate limits, tenant isolation."""

from __future__ import annotations

import datetime as dt
import email
import re
import socket
import threading
import time

import pytest
from flask_jwt_extended import decode_token
from sqlalchemy import select

from app.core.tenancy import tenant_scope, unscoped
from app.customers.models import CustomerProfile
from app.extensions import db
from app.security import roles
from app.security.models import AuditLog, User
from app.security.session_models import AuthSession, OneTimeToken
from tests.builders.auth import API, bearer, client_for, login
from tests.builders.factories import PASSWORD

NEW_PASSWORD = "Another-password-2"


# --- helpers and fixtures --------------------------------------------------------------------------


class Inbox:
    """Messages received by the local SMTP server."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        with self._lock:
            self.messages.append(
                email.message_from_bytes(envelope.content, policy=email.policy.default)
            )
        return "250 OK"

    def to(self, address: str) -> list:
        with self._lock:
            return [m for m in self.messages if m["To"] == address]

    def wait_for(self, address: str, subject_word: str, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.to(address) if subject_word.lower() in m["Subject"].lower()]
            if found:
                return found[-1]
            time.sleep(0.02)
        raise AssertionError(f"no mail about {subject_word!r} to {address}")


def token_in(message, path: str) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(rf"http://shop\.test/auth/{path}/([A-Za-z0-9_\-]+)", text)
    assert match, text
    html = message.get_body(preferencelist=("html",)).get_content()
    assert match.group(1) in html
    return match.group(1)


@pytest.fixture
def smtp(app, monkeypatch):
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
    yield inbox
    controller.stop()


@pytest.fixture
def shop(factory):
    tenant = factory.tenant()
    return {
        "tenant": tenant,
        "slug": tenant.slug,
        "customer": factory.user(tenant, roles.CUSTOMER),
        "admin": factory.user(tenant, roles.ADMIN),
    }


def tokens(client, login_name: str, password: str = PASSWORD) -> dict:
    response = login(client, login_name, password)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def scoped(app, tenant_id=None):
    from contextlib import contextmanager

    @contextmanager
    def _scope():
        with app.app_context():
            if tenant_id is None:
                with unscoped():
                    yield
            else:
                with tenant_scope(tenant_id):
                    yield

    return _scope()


# --- registration and e-mail verification ----------------------------------------------------------


@pytest.mark.smoke
def test_register_mails_a_verification_link_that_verifies_once(app, factory, smtp):
    tenant = factory.tenant()
    client = client_for(app, tenant.slug)
    address = f"new-{tenant.slug}@example.com"
    response = client.post(
        f"{API}/register/",
        json={"email": address, "password": PASSWORD, "first_name": "Ada", "last_name": "L"},
    )
    assert response.status_code == 202 and "e-mail" in response.get_json()["detail"]
    verify = smtp.wait_for(address, "confirm")
    smtp.wait_for(address, "welcome")
    token = token_in(verify, "verify-email")
    with scoped(app, tenant.id):
        user = db.session.scalar(select(User).where(User.email == address))
        assert user.role_names == {roles.CUSTOMER} and user.email_verified_at is None
        stored = db.session.scalar(select(OneTimeToken).where(OneTimeToken.user_id == user.id))
        assert (
            stored.token_hash != token and len(stored.token_hash) == 64
        )  # only the hash is stored
    # another tenant does not know the token
    assert (
        client_for(app, factory.tenant().slug).post(f"{API}/verify-email/{token}/").status_code
        == 404
    )
    assert client.post(f"{API}/verify-email/{token}/").status_code == 200
    again = client.post(f"{API}/verify-email/{token}/")
    assert again.status_code == 404 and again.get_json()["error"]["code"] == "invalid_token"
    me = client.get(
        f"{API}/users/me/", headers=bearer(tokens(client, address)["access_token"])
    ).get_json()
    assert me["email_verified"] is True and "password" not in me


def test_register_known_address_answers_the_same_and_tells_the_owner(app, shop, smtp):
    client = client_for(app, shop["slug"])
    known = client.post(
        f"{API}/register/", json={"email": shop["customer"].email, "password": PASSWORD}
    )
    unknown = client.post(
        f"{API}/register/", json={"email": f"x{shop['slug']}@example.com", "password": PASSWORD}
    )
    assert (
        (known.status_code, known.get_json())
        == (unknown.status_code, unknown.get_json())
        == (202, unknown.get_json())
    )
    smtp.wait_for(shop["customer"].email, "tried to register")
    with scoped(app, shop["tenant"].id):
        assert (
            len(db.session.scalars(select(User).where(User.email == shop["customer"].email)).all())
            == 1
        )


def test_customers_get_their_profile_with_the_account_and_staff_none(app, shop, smtp):
    """Registration and an admin's new customer come with a customer profile holding the phone,
    made in the same transaction as the user (app.customers.accounts); a new Seller has none."""
    client = client_for(app, shop["slug"])
    admin = bearer(tokens(client, shop["admin"].email)["access_token"])
    registered = f"reg-{shop['slug']}@example.com"
    assert (
        client.post(
            f"{API}/register/",
            json={"email": registered, "password": PASSWORD, "phone": "+44 20 7946 0001"},
        ).status_code
        == 202
    )
    made = {}
    for role, phone in (("Premium Customer", "+44 20 7946 0002"), ("Seller", "+44 20 7946 0003")):
        response = client.post(
            f"{API}/users/",
            headers=admin,
            json={
                "email": f"{role[:3].lower()}-{shop['slug']}@example.com",
                "password": PASSWORD,
                "roles": [role],
                "phone": phone,
            },
        )
        assert response.status_code == 201, response.get_json()
        made[role] = response.get_json()["id"]
    with scoped(app, shop["tenant"].id):
        registered_id = db.session.scalar(select(User.id).where(User.email == registered))
        phones = dict(
            db.session.execute(
                select(CustomerProfile.user_id, CustomerProfile.phone).where(
                    CustomerProfile.user_id.in_([registered_id, *made.values()])
                )
            ).all()
        )
    assert phones == {
        registered_id: "+44 20 7946 0001",
        made["Premium Customer"]: "+44 20 7946 0002",
    }


def test_register_validation_errors_have_field_details(app, shop):
    client = client_for(app, shop["slug"])
    weak = client.post(f"{API}/register/", json={"email": "weak@example.com", "password": "short"})
    assert weak.status_code == 422 and "password" in weak.get_json()["error"]["details"]
    bad = client.post(f"{API}/register/", json={"email": "not-an-address", "password": PASSWORD})
    assert bad.status_code == 422 and "email" in str(bad.get_json()["error"]["details"])
    missing = client.post(f"{API}/register/", json={})
    assert missing.status_code == 422


def test_resend_verification_mails_a_new_link_and_spends_the_old(app, factory, smtp):
    tenant = factory.tenant()
    client = client_for(app, tenant.slug)
    address = f"resend-{tenant.slug}@example.com"
    client.post(f"{API}/register/", json={"email": address, "password": PASSWORD})
    first = token_in(smtp.wait_for(address, "confirm"), "verify-email")
    response = client.post(f"{API}/resend-verification/", json={"email": address})
    assert response.status_code == 202
    assert (
        client.post(f"{API}/resend-verification/", json={"email": "nobody@example.com"}).get_json()
        == response.get_json()
    )
    deadline = time.monotonic() + 5
    while (
        len([m for m in smtp.to(address) if "confirm" in m["Subject"].lower()]) < 2
        and time.monotonic() < deadline
    ):
        time.sleep(0.02)
    second = token_in(smtp.wait_for(address, "confirm"), "verify-email")
    assert second != first
    assert client.post(f"{API}/verify-email/{first}/").status_code == 404
    assert client.post(f"{API}/verify-email/{second}/").status_code == 200


def test_without_mail_server_mails_are_written_to_the_outbox_dir(
    app, factory, monkeypatch, tmp_path
):
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path))
    tenant = factory.tenant()
    client_for(app, tenant.slug).post(
        f"{API}/register/", json={"email": "eml@example.com", "password": PASSWORD}
    )
    files = list(tmp_path.glob("*.eml"))
    assert len(files) == 2
    subjects = {email.message_from_bytes(f.read_bytes())["Subject"] for f in files}
    assert any("Confirm" in s for s in subjects) and any("Welcome" in s for s in subjects)


# --- login, lockout, tokens ------------------------------------------------------------------------


@pytest.mark.smoke
def test_login_by_email_or_username_issues_tokens_with_a_session(app, shop):
    client = client_for(app, shop["slug"])
    body = tokens(client, shop["customer"].email)
    assert (
        body["token_type"] == "Bearer"
        and body["expires_in"] == 900
        and body["user"]["roles"] == ["Customer"]
    )
    with app.app_context():
        access, refresh = decode_token(body["access_token"]), decode_token(body["refresh_token"])
    assert access["sid"] == refresh["sid"] == body["session_id"]
    assert refresh["exp"] - refresh["iat"] == 7 * 24 * 3600
    assert login(client, shop["customer"].username.upper()).status_code == 200
    profile = client.get(f"{API}/profile/", headers=bearer(body["access_token"]))
    assert profile.status_code == 200 and profile.get_json()["email"] == shop["customer"].email


@pytest.mark.smoke
def test_unknown_user_and_wrong_password_get_the_same_answer(app, shop):
    client = client_for(app, shop["slug"])
    wrong = login(client, shop["customer"].email, "Wrong-password-9")
    unknown = login(client, "nobody-here@example.com", "Wrong-password-9")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()
    assert wrong.get_json()["error"]["code"] == "invalid_credentials"
    assert login(client, "", "x").status_code == 422
    assert client.post(f"{API}/login/", json={"login": "a"}).get_json()["error"]["details"][
        "password"
    ]


def test_login_of_another_tenant_fails(app, shop, factory):
    other = client_for(app, factory.tenant().slug)
    assert login(other, shop["customer"].email).status_code == 401


def test_lockout_after_repeated_failures(app, shop):
    client = client_for(app, shop["slug"])
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert login(client, shop["customer"].email, "Wrong-password-9").status_code == 401
    locked = login(client, shop["customer"].email)  # the right password, but locked
    assert locked.status_code == 401 and locked.get_json()["error"]["code"] == "invalid_credentials"
    with scoped(app, shop["tenant"].id):
        user = db.session.get(User, shop["customer"].id)
        assert user.locked_until > dt.datetime.now(dt.timezone.utc)
        user.locked_until = dt.datetime.now(dt.timezone.utc) - dt.timedelta(
            seconds=1
        )  # the lock ran out
        db.session.commit()
    assert login(client, shop["customer"].email).status_code == 200


def test_refresh_rotates_and_reuse_revokes_the_family(app, shop):
    client = client_for(app, shop["slug"])
    first = tokens(client, shop["customer"].email)
    rotated = client.post(f"{API}/refresh/", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200
    second = rotated.get_json()
    assert (
        second["refresh_token"] != first["refresh_token"]
        and second["session_id"] == first["session_id"]
    )
    assert client.get(f"{API}/profile/", headers=bearer(second["access_token"])).status_code == 200
    # the spent token comes back: the whole family is revoked and audited
    reuse = client.post(f"{API}/refresh/", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401 and reuse.get_json()["error"]["code"] == "token_reused"
    assert (
        client.post(f"{API}/refresh/", json={"refresh_token": second["refresh_token"]}).status_code
        == 401
    )
    assert client.get(f"{API}/profile/", headers=bearer(second["access_token"])).status_code == 401
    with scoped(app):
        session = db.session.get(AuthSession, first["session_id"])
        assert session.revoked_at is not None and session.revoke_reason == "refresh_reuse"
        audit = db.session.scalars(
            select(AuditLog).where(
                AuditLog.action == "token_reuse", AuditLog.entity_id == str(session.id)
            )
        ).all()
        assert len(audit) == 1 and audit[0].tenant_id == shop["tenant"].id


def test_refresh_validation_and_garbage(app, shop):
    client = client_for(app, shop["slug"])
    body = tokens(client, shop["customer"].email)
    assert client.post(f"{API}/refresh/", json={"refresh_token": "garbage"}).status_code == 401
    assert (
        client.post(f"{API}/refresh/", json={"refresh_token": body["access_token"]}).status_code
        == 401
    )
    assert client.post(f"{API}/refresh/", json={}).status_code == 401
    assert client.post(f"{API}/refresh/", json={"refresh_token": 5}).status_code == 422


def test_logout_revokes_the_session_and_the_access_token(app, shop):
    client = client_for(app, shop["slug"])
    body = tokens(client, shop["customer"].email)
    assert client.post(f"{API}/logout/").status_code == 401
    assert client.post(f"{API}/logout/", headers=bearer(body["access_token"])).status_code == 204
    assert client.get(f"{API}/profile/", headers=bearer(body["access_token"])).status_code == 401
    assert (
        client.post(f"{API}/refresh/", json={"refresh_token": body["refresh_token"]}).status_code
        == 401
    )


def test_token_of_another_tenant_is_refused(app, shop, factory):
    body = tokens(client_for(app, shop["slug"]), shop["customer"].email)
    other = client_for(app, factory.tenant().slug)
    assert other.get(f"{API}/profile/", headers=bearer(body["access_token"])).status_code == 401
    assert (
        other.post(f"{API}/refresh/", json={"refresh_token": body["refresh_token"]}).status_code
        == 401
    )


# --- passwords ---------------------------------------------------------------------------------------


def test_password_change_revokes_the_other_sessions(app, shop):
    client = client_for(app, shop["slug"])
    mine, other = tokens(client, shop["customer"].email), tokens(client, shop["customer"].email)
    url = f"{API}/password/change/"
    assert (
        client.post(
            url, json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        ).status_code
        == 401
    )
    wrong = client.post(
        url,
        json={"current_password": "Wrong-password-9", "new_password": NEW_PASSWORD},
        headers=bearer(mine["access_token"]),
    )
    assert wrong.status_code == 422 and "current_password" in wrong.get_json()["error"]["details"]
    weak = client.post(
        url,
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=bearer(mine["access_token"]),
    )
    assert weak.status_code == 422 and "new_password" in weak.get_json()["error"]["details"]
    digits = client.post(
        url,
        json={"current_password": PASSWORD, "new_password": "0123456789"},
        headers=bearer(mine["access_token"]),
    )
    assert digits.status_code == 422 and "new_password" in digits.get_json()["error"]["details"]
    # letters only, but not ASCII ones: passes the schema's pattern, refused by the service's policy
    letters = client.post(
        url,
        json={"current_password": PASSWORD, "new_password": "\u00e9" * 12},
        headers=bearer(mine["access_token"]),
    )
    assert letters.status_code == 422 and "password" in letters.get_json()["error"]["details"]
    done = client.post(
        url,
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(mine["access_token"]),
    )
    assert done.status_code == 200 and done.get_json() == {"revoked": 1}
    assert client.get(f"{API}/profile/", headers=bearer(mine["access_token"])).status_code == 200
    assert client.get(f"{API}/profile/", headers=bearer(other["access_token"])).status_code == 401
    assert login(client, shop["customer"].email).status_code == 401
    assert login(client, shop["customer"].email, NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize(
    "request_path,confirm_path",
    [("password/reset", "password/reset/confirm"), ("forgot-password", "reset-password")],
)
def test_password_reset_by_mail_is_single_use_and_ends_sessions(
    app, shop, smtp, request_path, confirm_path
):
    client = client_for(app, shop["slug"])
    session = tokens(client, shop["customer"].email)
    address = shop["customer"].email
    assert client.post(f"{API}/{request_path}/", json={"email": address}).status_code == 202
    token = token_in(smtp.wait_for(address, "reset"), "reset-password")
    check = client.get(f"{API}/validate-reset-token/{token}/").get_json()
    assert check["valid"] is True and check["expires_at"].endswith("+00:00")
    weak = client.post(f"{API}/{confirm_path}/", json={"token": token, "new_password": "short"})
    assert weak.status_code == 422
    done = client.post(
        f"{API}/{confirm_path}/", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 200
    again = client.post(
        f"{API}/{confirm_path}/", json={"token": token, "new_password": "Third-password-3"}
    )
    assert again.status_code == 404 and again.get_json()["error"]["details"]["token"]
    assert client.get(f"{API}/validate-reset-token/{token}/").get_json()["valid"] is False
    assert client.get(f"{API}/profile/", headers=bearer(session["access_token"])).status_code == 401
    assert login(client, address, NEW_PASSWORD).status_code == 200


def test_reset_token_expires(app, shop, smtp):
    client = client_for(app, shop["slug"])
    client.post(f"{API}/password/reset/", json={"email": shop["customer"].email})
    token = token_in(smtp.wait_for(shop["customer"].email, "reset"), "reset-password")
    with scoped(app):
        row = db.session.scalar(
            select(OneTimeToken).where(
                OneTimeToken.user_id == shop["customer"].id, OneTimeToken.used_at.is_(None)
            )
        )
        row.expires_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
        db.session.commit()
    assert client.get(f"{API}/validate-reset-token/{token}/").get_json()["valid"] is False
    response = client.post(
        f"{API}/password/reset/confirm/", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "invalid_token"


def test_reset_request_does_not_reveal_whether_the_address_exists(app, shop, factory, smtp):
    client = client_for(app, shop["slug"])
    known = client.post(f"{API}/password/reset/", json={"email": shop["customer"].email})
    unknown = client.post(f"{API}/password/reset/", json={"email": "nobody-at-all@example.com"})
    assert (known.status_code, known.get_json()) == (unknown.status_code, unknown.get_json())
    assert known.status_code == 202
    smtp.wait_for(shop["customer"].email, "reset")
    assert smtp.to("nobody-at-all@example.com") == []
    # a token mailed for tenant A is no good under tenant B
    token = token_in(smtp.wait_for(shop["customer"].email, "reset"), "reset-password")
    other = client_for(app, factory.tenant().slug)
    assert other.get(f"{API}/validate-reset-token/{token}/").get_json()["valid"] is False
    assert client.post(f"{API}/password/reset/", json={"email": "bad"}).status_code == 422


# --- sessions and profile ------------------------------------------------------------------------------


def test_sessions_list_and_revoke(app, shop, factory):
    client = client_for(app, shop["slug"])
    mine = tokens(client, shop["customer"].email)
    other = tokens(client, shop["customer"].email)
    stranger = tokens(client, shop["admin"].email)
    assert client.get(f"{API}/sessions/").status_code == 401
    listed = client.get(f"{API}/sessions/", headers=bearer(mine["access_token"])).get_json()
    assert listed["total"] == 2 and {s["current"] for s in listed["items"]} == {True, False}
    assert (
        client.get(
            f"{API}/sessions/?page_size=500", headers=bearer(mine["access_token"])
        ).status_code
        == 422
    )
    # someone else's session: 404
    assert (
        client.delete(
            f"{API}/sessions/{stranger['session_id']}/", headers=bearer(mine["access_token"])
        ).status_code
        == 404
    )
    assert (
        client.delete(
            f"{API}/sessions/{other['session_id']}/", headers=bearer(mine["access_token"])
        ).status_code
        == 204
    )
    assert client.get(f"{API}/profile/", headers=bearer(other["access_token"])).status_code == 401
    me = client.get(f"{API}/users/me/sessions/", headers=bearer(mine["access_token"])).get_json()
    assert [s["id"] for s in me["items"]] == [mine["session_id"]]
    out = client.delete(f"{API}/users/me/sessions/", headers=bearer(mine["access_token"]))
    assert out.status_code == 200 and out.get_json() == {"revoked": 1}
    assert client.get(f"{API}/profile/", headers=bearer(mine["access_token"])).status_code == 401
    assert (
        client.get(f"{API}/profile/", headers=bearer(stranger["access_token"])).status_code == 200
    )


def test_profile_and_me_update(app, shop):
    client = client_for(app, shop["slug"])
    access = tokens(client, shop["customer"].email)["access_token"]
    assert client.get(f"{API}/users/me/").status_code == 401
    assert client.put(f"{API}/profile/", json={"first_name": "Grace"}).status_code == 401
    updated = client.put(
        f"{API}/profile/",
        json={"first_name": "Grace", "phone": "+44 20 1234"},
        headers=bearer(access),
    )
    assert updated.status_code == 200 and updated.get_json()["first_name"] == "Grace"
    bad = client.put(f"{API}/users/me/", json={"first_name": ""}, headers=bearer(access))
    assert bad.status_code == 422 and "first_name" in bad.get_json()["error"]["details"]
    me = client.put(
        f"{API}/users/me/", json={"last_name": "Hopper"}, headers=bearer(access)
    ).get_json()
    assert (me["first_name"], me["last_name"], me["phone"]) == ("Grace", "Hopper", "+44 20 1234")


# --- user management -------------------------------------------------------------------------------------


def test_users_endpoints_are_for_admins_of_the_tenant(app, shop, factory):
    client = client_for(app, shop["slug"])
    admin = bearer(tokens(client, shop["admin"].email)["access_token"])
    customer = bearer(tokens(client, shop["customer"].email)["access_token"])
    foreign = factory.user(factory.tenant(), roles.CUSTOMER)

    assert client.get(f"{API}/users/").status_code == 401
    assert client.get(f"{API}/users/", headers=customer).status_code == 403
    assert client.post(f"{API}/users/", json={}, headers=customer).status_code in (403, 422)
    listed = client.get(f"{API}/users/", headers=admin).get_json()
    assert {u["id"] for u in listed["items"]} == {shop["admin"].id, shop["customer"].id}
    assert (
        client.get(f"{API}/users/?q={shop['customer'].email}", headers=admin).get_json()["total"]
        == 1
    )

    assert client.get(f"{API}/users/{shop['customer'].id}/", headers=admin).status_code == 200
    assert client.get(f"{API}/users/{shop['customer'].id}/", headers=customer).status_code == 403
    assert (
        client.get(f"{API}/users/{foreign.id}/", headers=admin).status_code == 404
    )  # another tenant
    with scoped(app):
        super_id = db.session.scalar(select(User.id).where(User.tenant_id.is_(None)))
    assert client.get(f"{API}/users/{super_id}/", headers=admin).status_code == 404

    created = client.post(
        f"{API}/users/",
        headers=admin,
        json={
            "email": f"staff-{shop['slug']}@example.com",
            "password": PASSWORD,
            "first_name": "Sam",
            "roles": ["Seller"],
        },
    )
    assert created.status_code == 201 and created.get_json()["roles"] == ["Seller"]
    new_id = created.get_json()["id"]
    assert (
        client.post(
            f"{API}/users/",
            headers=admin,
            json={"email": "x@example.com", "password": PASSWORD, "roles": ["Super Admin"]},
        ).status_code
        == 403
    )
    invalid = client.post(
        f"{API}/users/",
        headers=admin,
        json={"email": "nope", "password": "short", "roles": ["Wizard"]},
    )
    assert invalid.status_code == 422 and {"email", "roles"} <= set(
        invalid.get_json()["error"]["details"]
    )
    duplicate = client.post(
        f"{API}/users/", headers=admin, json={"email": shop["customer"].email, "password": PASSWORD}
    )
    assert (
        duplicate.status_code == 409
        and duplicate.get_json()["error"]["code"] == "already_registered"
    )

    updated = client.put(
        f"{API}/users/{new_id}/", headers=admin, json={"roles": ["Admin"], "last_name": "Staff"}
    )
    assert updated.status_code == 200 and updated.get_json()["roles"] == ["Admin"]
    assert (
        client.put(f"{API}/users/{foreign.id}/", headers=admin, json={"last_name": "X"}).status_code
        == 404
    )
    assert (
        client.put(f"{API}/users/{new_id}/", headers=admin, json={"roles": []}).status_code == 422
    )
    assert (
        client.put(
            f"{API}/users/{shop['admin'].id}/", headers=admin, json={"roles": ["Customer"]}
        ).status_code
        == 409
    )  # not your own roles
    assert client.delete(f"{API}/users/{shop['admin'].id}/", headers=admin).status_code == 409

    victim = tokens(client, shop["customer"].email)
    assert client.delete(f"{API}/users/{foreign.id}/", headers=admin).status_code == 404
    assert client.delete(f"{API}/users/{shop['customer'].id}/", headers=customer).status_code == 403
    assert client.delete(f"{API}/users/{shop['customer'].id}/", headers=admin).status_code == 204
    assert client.get(f"{API}/profile/", headers=bearer(victim["access_token"])).status_code == 401
    assert login(client, shop["customer"].email).status_code == 401


def test_super_admin_sees_users_of_every_tenant(app, shop, factory):
    foreign = factory.user(factory.tenant(), roles.CUSTOMER)
    client = client_for(app, shop["slug"])
    body = tokens(client, app.config["ADMIN_USERNAME"], app.config["ADMIN_PASSWORD"])
    assert body["user"]["tenant_id"] is None
    headers = bearer(body["access_token"])
    assert client.get(f"{API}/users/{foreign.id}/", headers=headers).status_code == 200
    assert client.get(f"{API}/users/?q={foreign.email}", headers=headers).get_json()["total"] == 1
    assert (
        client.put(
            f"{API}/users/{foreign.id}/", headers=headers, json={"last_name": "Global"}
        ).status_code
        == 200
    )


# --- cookie mode, CSRF, rate limit, OpenAPI ----------------------------------------------------------------


def test_cookie_mode_uses_httponly_cookies_and_csrf_double_submit(app, shop):
    client = client_for(app, shop["slug"])
    response = login(client, shop["customer"].email, use_cookies=True)
    assert response.status_code == 200
    body = response.get_json()
    assert "access_token" not in body and "refresh_token" not in body
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("access_token_cookie=") and "HttpOnly" in c for c in cookies)
    assert any(c.startswith("refresh_token_cookie=") and "HttpOnly" in c for c in cookies)
    csrf = client.get(f"{API}/csrf-token/").get_json()
    assert (
        csrf["csrf_token"] and csrf["refresh_csrf_token"] and csrf["header_name"] == "X-CSRF-TOKEN"
    )
    assert client.get(f"{API}/profile/").status_code == 200  # GET needs no CSRF header
    assert client.put(f"{API}/profile/", json={"first_name": "Cookie"}).status_code == 401
    assert (
        client.put(
            f"{API}/profile/",
            json={"first_name": "Cookie"},
            headers={"X-CSRF-TOKEN": csrf["csrf_token"]},
        ).status_code
        == 200
    )
    assert client.post(f"{API}/refresh/", json={}).status_code == 401  # no CSRF header
    refreshed = client.post(
        f"{API}/refresh/", json={}, headers={"X-CSRF-TOKEN": csrf["refresh_csrf_token"]}
    )
    assert refreshed.status_code == 200 and "access_token" not in refreshed.get_json()
    new_csrf = client.get(f"{API}/csrf-token/").get_json()["csrf_token"]
    assert client.post(f"{API}/logout/", headers={"X-CSRF-TOKEN": new_csrf}).status_code == 204
    assert client.get(f"{API}/csrf-token/").get_json()["csrf_token"] is None


def test_login_is_rate_limited_per_ip(app, factory):
    from app import create_app

    limited = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        API_LOGIN_RATE_LIMIT="3 per minute",
    )
    tenant = factory.tenant()
    client = client_for(limited, tenant.slug)
    codes = [login(client, "nobody@example.com", "Wrong-password-9").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    last = login(client, "nobody@example.com", "Wrong-password-9")
    assert last.status_code == 429 and last.get_json()["error"]["code"]
    # another address is another bucket
    other = limited.test_client()
    other.environ_base.update(HTTP_X_TENANT=tenant.slug, REMOTE_ADDR="10.9.8.7")
    assert login(other, "nobody@example.com", "Wrong-password-9").status_code == 401


def test_openapi_documents_every_auth_route_with_errors(app, client):
    spec = client.get("/api/schema/").get_json()
    paths = {p for p in spec["paths"] if p.startswith(API)}
    expected = {
        "register/",
        "login/",
        "logout/",
        "refresh/",
        "profile/",
        "password/change/",
        "password/reset/",
        "password/reset/confirm/",
        "forgot-password/",
        "reset-password/",
        "validate-reset-token/{token}/",
        "csrf-token/",
        "verify-email/{token}/",
        "resend-verification/",
        "sessions/",
        "users/",
        "users/{user_id}/",
        "users/me/",
        "users/me/sessions/",
    }
    assert {f"{API}/{p}" for p in expected} <= paths
    assert "401" in spec["paths"][f"{API}/users/"]["get"]["responses"]
    assert "403" in spec["paths"][f"{API}/users/"]["get"]["responses"]
    assert "429" in spec["paths"][f"{API}/login/"]["post"]["responses"]


def test_send_email_task_renders_text_and_html_and_sends_over_smtp(app, smtp):
    from jobs.tasks import send_email

    with app.app_context():
        send_email(
            "welcome", "task@example.com", {"first_name": "Ada", "link": "http://shop.test/"}
        )
    message = smtp.wait_for("task@example.com", "welcome")
    assert "Hello Ada" in message.get_body(preferencelist=("plain",)).get_content()
    assert "<p>Hello Ada,</p>" in message.get_body(preferencelist=("html",)).get_content()
    assert message["From"] == app.config["MAIL_DEFAULT_SENDER"]
