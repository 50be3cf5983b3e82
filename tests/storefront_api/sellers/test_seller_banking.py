"""/api/v1/sellers/me/bank-accounts: a seller's bank accounts. The number is checked (IBAN check
digits, a US ABA routing number), encrypted at rest and never shown (responses, audit rows, logs);
one default per currency, also under concurrent requests on MariaDB; a seller never reaches
another's account; verification is staff's (app.sellers.banking.services)."""

from __future__ import annotations

import json
import logging
import threading

import pytest
from sqlalchemy import select, text

from app.core.crypto import decrypt
from app.core.errors import PermissionDenied
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.security import roles
from app.security.models import AuditLog, User
from app.sellers.actors import actor_for
from app.sellers.banking import services
from app.sellers.banking.models import SellerBankAccount
from tests.builders.api import error
from tests.builders.auth import api_headers
from tests.builders.banking import ABA, IBAN_DE, IBAN_FR, IBAN_GB, bank_account

API = "/api/v1/sellers/me/bank-accounts"
SPACED_DE = "DE89 3704 0044 0532 0130 00"


@pytest.fixture
def shop(app, factory):
    tenant = factory.tenant()
    seller, other = factory.seller(tenant), factory.seller(tenant, status="pending")
    admin = factory.user(tenant, roles.ADMIN)
    customer = factory.customer(tenant)
    return {
        "tenant": tenant,
        "seller": seller,
        "other": other,
        "admin": admin,
        "h": api_headers(app, seller.user),
        "h_other": api_headers(app, other.user),
        "h_customer": api_headers(app, customer.user),
        "h_admin": api_headers(app, admin),
    }


def _rows(app, shop, seller=None):
    with app.app_context(), tenant_scope(shop["tenant"].id):
        seller_id = (seller or shop["seller"]).id
        return db.session.scalars(
            select(SellerBankAccount)
            .where(SellerBankAccount.seller_id == seller_id)
            .order_by(SellerBankAccount.id)
        ).all()


def _staff(app, shop):
    return actor_for(db.session.get(User, shop["admin"].id))


def test_an_iban_is_stored_encrypted_and_never_shown(app, client, shop, caplog):
    caplog.set_level(logging.DEBUG)
    response = client.post(
        f"{API}/",
        headers=shop["h"],
        json={"holder_name": "Ada Seller", "iban": SPACED_DE, "currency": "EUR"},
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["masked_number"] == "•••• 3000"
    assert body["country"] == "DE" and body["kind"] == "iban"
    assert body["verification_status"] == "unverified" and body["is_default"] is True
    bodies = [response.get_data(as_text=True)]
    for url in (f"{API}/", f"{API}/{body['id']}/"):
        answer = client.get(url, headers=shop["h"])
        assert answer.status_code == 200
        bodies.append(answer.get_data(as_text=True))
    patched = client.patch(
        f"{API}/{body['id']}/", headers=shop["h"], json={"holder_name": "Ada S. Seller"}
    )
    bodies.append(patched.get_data(as_text=True))
    for page in bodies:
        assert IBAN_DE not in page and "0532013000" not in page and SPACED_DE not in page
    assert IBAN_DE not in caplog.text and "0532013000" not in caplog.text

    with app.app_context(), tenant_scope(shop["tenant"].id):
        stored = db.session.execute(
            text(
                "SELECT account_number, account_number_hash, number_last4 "
                "FROM seller_bank_accounts WHERE id = :id"
            ),
            {"id": body["id"]},
        ).one()
        assert IBAN_DE not in stored.account_number and decrypt(stored.account_number) == IBAN_DE
        assert stored.number_last4 == "3000" and len(stored.account_number_hash) == 64
        assert "0532013000" not in stored.account_number_hash
        audits = db.session.scalars(
            select(AuditLog).where(
                AuditLog.entity == "SellerBankAccount", AuditLog.entity_id == str(body["id"])
            )
        ).all()
        assert {a.action for a in audits} == {"create", "update"}
        for audit in audits:
            dumped = json.dumps([audit.before, audit.after])
            assert IBAN_DE not in dumped and stored.account_number not in dumped
            assert stored.account_number_hash not in dumped
        assert audits[0].after["account_number"] == "***"


def test_an_account_number_with_a_us_routing_number(app, client, shop):
    response = client.post(
        f"{API}/",
        headers=shop["h"],
        json={
            "holder_name": "Ada Seller",
            "account_number": "000123456789",
            "routing_number": ABA,
            "currency": "USD",
            "country": "US",
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["kind"] == "local" and body["routing_number"] == ABA
    assert body["masked_number"] == "•••• 6789"
    assert "000123456789" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"iban": "DE89370400440532013001"}, "iban"),  # one digit off: check digits fail
        ({"iban": "DE8937040044"}, "iban"),  # too short
        ({"iban": IBAN_GB, "country": "DE"}, "country"),  # an IBAN of another country
        ({"account_number": "000123456789", "country": "US"}, "routing_number"),
        (
            {"account_number": "000123456789", "routing_number": "021000022", "country": "US"},
            "routing_number",
        ),
        ({"iban": IBAN_DE, "account_number": "12345678", "routing_number": ABA}, "iban"),
        ({}, "iban"),
    ],
)
def test_a_bad_number_is_refused_naming_the_field_and_writes_nothing(
    app, client, shop, payload, field, caplog
):
    caplog.set_level(logging.DEBUG)
    body = {"holder_name": "Ada", "currency": "EUR", **payload}
    response = client.post(f"{API}/", headers=shop["h"], json=body)
    found = error(response, 422, "validation_error")
    assert field in found["details"], found
    page = response.get_data(as_text=True)
    for value in payload.values():
        if len(value) > 8:
            assert value not in page and value not in caplog.text
    assert _rows(app, shop) == []


def test_the_same_account_twice_is_a_conflict(app, client, shop):
    bank_account(app, shop["seller"])
    response = client.post(
        f"{API}/",
        headers=shop["h"],
        json={"holder_name": "Other", "iban": SPACED_DE.lower(), "currency": "EUR"},
    )
    error(response, 409, "conflict")
    assert len(_rows(app, shop)) == 1
    # another seller may register it (a shared business account is not ours to refuse)
    assert bank_account(app, shop["other"]).id


def test_a_seller_never_reaches_another_sellers_accounts(app, client, shop):
    theirs = bank_account(app, shop["other"])
    mine = bank_account(app, shop["seller"], iban=IBAN_FR)
    listed = client.get(f"{API}/", headers=shop["h"]).get_json()
    assert [a["id"] for a in listed["items"]] == [mine.id] and listed["total"] == 1
    error(client.get(f"{API}/{theirs.id}/", headers=shop["h"]), 404)
    error(client.patch(f"{API}/{theirs.id}/", headers=shop["h"], json={"holder_name": "X"}), 404)
    error(client.delete(f"{API}/{theirs.id}/", headers=shop["h"]), 404)
    assert _rows(app, shop, shop["other"])[0].holder_name == "Ada Seller"
    # customers and admins have no bank accounts here; no token at all is a 401
    error(client.get(f"{API}/", headers=shop["h_customer"]), 403)
    error(client.get(f"{API}/", headers=shop["h_admin"]), 403)
    error(client.get(f"{API}/"), 401)


def test_one_default_per_currency(app, client, shop):
    first = bank_account(app, shop["seller"])
    second = bank_account(app, shop["seller"], iban=IBAN_FR)
    pounds = bank_account(app, shop["seller"], iban=IBAN_GB, currency="GBP")
    defaults = {r.id for r in _rows(app, shop) if r.is_default}
    assert defaults == {first.id, pounds.id}  # the first of each currency

    answer = client.patch(f"{API}/{second.id}/", headers=shop["h"], json={"is_default": True})
    assert answer.status_code == 200 and answer.get_json()["is_default"] is True
    assert {r.id for r in _rows(app, shop) if r.is_default} == {second.id, pounds.id}
    # false is ignored: a currency always has its default
    client.patch(f"{API}/{second.id}/", headers=shop["h"], json={"is_default": False})
    assert {r.id for r in _rows(app, shop) if r.is_default} == {second.id, pounds.id}

    assert client.delete(f"{API}/{second.id}/", headers=shop["h"]).status_code == 204
    assert {r.id for r in _rows(app, shop) if r.is_default} == {first.id, pounds.id}


def test_concurrent_requests_leave_one_default_per_currency(app, shop, is_sqlite):
    ibans = [
        IBAN_DE,
        IBAN_FR,
        "NL91ABNA0417164300",
        "BE68539007547034",
        "IT60X0542811101000000123456",
    ]
    countries = ["DE", "FR", "NL", "BE", "IT"]
    barrier = threading.Barrier(len(ibans))
    failures: list = []
    created: list = []

    def create(iban, country):
        client = app.test_client()
        try:
            barrier.wait()
            response = client.post(
                f"{API}/",
                headers=shop["h"],
                json={
                    "holder_name": "Ada",
                    "iban": iban,
                    "currency": "EUR",
                    "country": country,
                    "is_default": True,
                },
            )
            if response.status_code != 201:
                failures.append(response.get_json())
            else:
                created.append(response.get_json()["id"])
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(repr(exc))

    threads = [threading.Thread(target=create, args=a) for a in zip(ibans, countries, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures and len(created) == len(ibans)
    assert len([r for r in _rows(app, shop) if r.is_default]) == 1

    rounds = 2 if is_sqlite else 5
    barrier = threading.Barrier(len(created))

    def make_default(account_id):
        client = app.test_client()
        try:
            barrier.wait()
            for _ in range(rounds):
                response = client.patch(
                    f"{API}/{account_id}/", headers=shop["h"], json={"is_default": True}
                )
                if response.status_code != 200:
                    failures.append(response.get_json())
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(repr(exc))

    threads = [threading.Thread(target=make_default, args=(i,)) for i in created]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    assert len([r for r in _rows(app, shop) if r.is_default]) == 1


def test_staff_verify_and_a_payout_goes_only_to_a_verified_default(app, client, shop):
    account = bank_account(app, shop["seller"])
    tid, seller_id = shop["tenant"].id, shop["seller"].id
    with app.app_context(), tenant_scope(tid):
        assert services.default_account(seller_id, "EUR") is None  # unverified
        seller_actor = actor_for(db.session.get(User, shop["seller"].user.id))
        with pytest.raises(PermissionDenied):
            services.verify_account(seller_actor, account.id)
        services.verify_account(_staff(app, shop), account.id)
        found = services.default_account(seller_id, "eur")
        assert found.id == account.id and found.masked_number == "•••• 3000"
        assert services.default_account(seller_id, "USD") is None
        assert not hasattr(found, "account_number")
    body = client.get(f"{API}/{account.id}/", headers=shop["h"]).get_json()
    assert body["verification_status"] == "verified" and body["verified_at"]

    # a new holder name: staff verified another one, so it is unverified again
    client.patch(f"{API}/{account.id}/", headers=shop["h"], json={"holder_name": "Someone"})
    with app.app_context(), tenant_scope(tid):
        assert services.default_account(seller_id, "EUR") is None
        services.reject_account(_staff(app, shop), account.id, "name does not match")
    body = client.get(f"{API}/{account.id}/", headers=shop["h"]).get_json()
    assert body["verification_status"] == "rejected"
    assert body["rejection_reason"] == "name does not match"


def test_undocumented_or_bad_fields_are_refused(app, client, shop):
    error(
        client.post(
            f"{API}/",
            headers=shop["h"],
            json={
                "holder_name": "A",
                "iban": IBAN_DE,
                "currency": "EUR",
                "verification_status": "verified",
            },
        ),
        422,
    )
    account = bank_account(app, shop["seller"])
    error(client.patch(f"{API}/{account.id}/", headers=shop["h"], json={"iban": IBAN_FR}), 422)
    error(
        client.post(
            f"{API}/",
            headers=shop["h"],
            json={"holder_name": "", "iban": IBAN_DE, "currency": "eur"},
        ),
        422,
    )
    assert [r.verification_status for r in _rows(app, shop)] == ["unverified"]
