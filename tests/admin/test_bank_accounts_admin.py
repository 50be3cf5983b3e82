"""/admin/bank-accounts: a seller manages its own accounts (never another's: list, show and edit
URLs, the seller select, the actions); staff verify or reject. The number is never on a page: not
in the list, the show page, the edit form, nor a form sent back with an error."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.security import roles
from app.security.models import AuditLog
from app.sellers.banking.models import SellerBankAccount
from tests.builders.admin import login, scope
from tests.builders.banking import ABA, IBAN_DE, IBAN_FR, IBAN_GB, bank_account

pytestmark = pytest.mark.smoke
BASE = "/admin/bank-accounts"
OTHER_FR = "FR7630006000011234567890189"


@pytest.fixture
def shop(app, factory):
    tenant = factory.tenant()
    seller, other = factory.seller(tenant), factory.seller(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    return {
        "tenant": tenant,
        "seller": seller,
        "other": other,
        "admin": admin,
        "mine": bank_account(app, seller, holder="Mine Holder"),
        "theirs": bank_account(app, other, iban=IBAN_GB, currency="GBP", holder="Theirs Holder"),
    }


def _row(app, shop, account_id):
    with scope(app, shop["tenant"].id):
        row = db.session.get(SellerBankAccount, account_id)
        db.session.expunge(row)
        return row


def _accounts(app, shop, seller):
    with scope(app, shop["tenant"].id):
        return db.session.scalars(
            select(SellerBankAccount).where(SellerBankAccount.seller_id == seller.id)
        ).all()


def test_a_seller_sees_only_its_own_accounts_and_never_a_number(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["seller"].user.username)
    listed = client.get(f"{BASE}/list/").get_data(as_text=True)
    assert "Mine Holder" in listed and "•••• 3000" in listed and "Theirs Holder" not in listed
    theirs = shop["theirs"].id
    assert client.get(f"{BASE}/show/{theirs}").status_code == 404
    assert client.get(f"{BASE}/edit/{theirs}").status_code == 404
    assert client.post(f"{BASE}/edit/{theirs}", data={"holder_name": "Hijack"}).status_code == 404
    assert client.post(f"{BASE}/delete/{theirs}").status_code == 404
    assert _row(app, shop, theirs).holder_name == "Theirs Holder"
    # the add form's seller select offers only its own store
    add = client.get(f"{BASE}/add").get_data(as_text=True)
    assert f'value="{shop["other"].id}"' not in add and shop["other"].store_name not in add
    for page in (
        listed,
        add,
        client.get(f"{BASE}/show/{shop['mine'].id}").get_data(as_text=True),
        client.get(f"{BASE}/edit/{shop['mine'].id}").get_data(as_text=True),
    ):
        assert IBAN_DE not in page and "0532013000" not in page
    # staff's actions are not the seller's
    verify = client.post(f"{BASE}/action/verify/{shop['mine'].id}", follow_redirects=True).get_data(
        as_text=True
    )
    assert _row(app, shop, shop["mine"].id).verification_status == "unverified", verify[:300]


def test_a_seller_adds_and_replaces_a_number_in_the_admin(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["seller"].user.username)
    # another seller's store is not a choice: refused, nothing created
    foreign = client.post(
        f"{BASE}/add",
        data={
            "holder_name": "New One",
            "new_number": OTHER_FR,
            "currency": "EUR",
            "country": "FR",
            "seller": str(shop["other"].id),
        },
    )
    assert foreign.status_code == 200 and "alert-danger" in foreign.get_data(as_text=True)
    assert OTHER_FR not in foreign.get_data(as_text=True)
    bad = client.post(
        f"{BASE}/add",
        data={
            "holder_name": "New One",
            "new_number": "FR1420041010050500013M02607",  # check digits do not match
            "currency": "EUR",
            "country": "FR",
        },
        follow_redirects=True,
    )
    page = bad.get_data(as_text=True)
    assert "not a valid IBAN" in page or "not valid" in page, page[:2000]
    assert "FR1420041010050500013M02607" not in page
    assert len(_accounts(app, shop, shop["seller"])) == 1
    assert _accounts(app, shop, shop["other"])[0].holder_name == "Theirs Holder"

    added = client.post(
        f"{BASE}/add",
        data={
            "holder_name": "New One",
            "new_number": "FR14 2004 1010 0505 0001 3M02 606",
            "currency": "EUR",
            "country": "FR",
            "make_default": "y",
        },
    )
    assert added.status_code == 302, added.get_data(as_text=True)[:2000]
    rows = {r.holder_name: r for r in _accounts(app, shop, shop["seller"])}
    assert rows["New One"].is_default and not rows["Mine Holder"].is_default
    assert rows["New One"].seller_id == shop["seller"].id

    # staff verified it; the seller replaces the number: unverified again, the new number stored
    with scope(app, shop["tenant"].id):
        db.session.get(SellerBankAccount, rows["New One"].id).verification_status = "verified"
        db.session.commit()
    form = client.get(f"{BASE}/edit/{rows['New One'].id}").get_data(as_text=True)
    assert IBAN_FR not in form and "•" not in form.split("new_number")[1][:200]
    # a German IBAN for a French account is refused, nothing changes
    refused = client.post(
        f"{BASE}/edit/{rows['New One'].id}",
        data={"holder_name": "New One", "new_number": IBAN_DE, "make_default": "y"},
        follow_redirects=True,
    )
    assert "the IBAN is of DE, not FR" in refused.get_data(as_text=True)
    assert IBAN_DE not in refused.get_data(as_text=True)
    row = _row(app, shop, rows["New One"].id)
    assert row.number_last4 == "2606" and row.verification_status == "verified"
    edited = client.post(
        f"{BASE}/edit/{rows['New One'].id}",
        data={"holder_name": "New One", "new_number": OTHER_FR, "make_default": "y"},
    )
    assert edited.status_code == 302
    row = _row(app, shop, rows["New One"].id)
    assert row.number_last4 == "0189" and row.verification_status == "unverified"
    assert row.account_number == OTHER_FR and row.is_default


def test_a_us_account_in_the_admin_needs_a_valid_routing_number(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["seller"].user.username)
    form = {
        "holder_name": "Us One",
        "new_number": "000123456789",
        "routing_number": "021000022",
        "currency": "USD",
        "country": "US",
    }
    refused = client.post(f"{BASE}/add", data=form, follow_redirects=True)
    assert "ABA" in refused.get_data(as_text=True)
    form["routing_number"] = ABA
    assert client.post(f"{BASE}/add", data=form).status_code == 302
    us = [r for r in _accounts(app, shop, shop["seller"]) if r.currency == "USD"]
    assert len(us) == 1 and us[0].kind == "local" and us[0].is_default


def test_staff_verify_and_reject_every_sellers_accounts(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["admin"].username)
    listed = client.get(f"{BASE}/list/").get_data(as_text=True)
    assert "Mine Holder" in listed and "Theirs Holder" in listed
    assert IBAN_DE not in listed and IBAN_GB not in listed
    assert client.post(f"{BASE}/action/verify/{shop['mine'].id}").status_code == 302
    opened = client.post(f"{BASE}/action/reject/{shop['theirs'].id}")  # asks for the reason
    assert (
        opened.status_code == 302 and f"{BASE}/reject/?ids={shop['theirs'].id}" in opened.location
    )
    assert _row(app, shop, shop["theirs"].id).verification_status == "unverified"
    rejected = client.post(
        f"{BASE}/reject/", data={"ids": str(shop["theirs"].id), "reason": "Holder mismatch"}
    )
    assert rejected.status_code == 302
    mine, theirs = _row(app, shop, shop["mine"].id), _row(app, shop, shop["theirs"].id)
    assert mine.verification_status == "verified" and mine.verified_by_user_id == shop["admin"].id
    assert (theirs.verification_status, theirs.rejection_reason) == ("rejected", "Holder mismatch")
    shown = client.get(f"{BASE}/show/{shop['mine'].id}").get_data(as_text=True)
    assert "•••• 3000" in shown and IBAN_DE not in shown
    # the masked number is no column: sorting on it is refused, not a 500
    assert client.get(f"{BASE}/list/?_oc_BankAccountView=masked_number").status_code == 400
    assert (
        client.get(
            f"{BASE}/list/?_oc_BankAccountView=holder_name&_od_BankAccountView=asc"
        ).status_code
        == 200
    )


def test_deleting_the_default_hands_it_to_the_oldest_left(app, shop):
    second = bank_account(app, shop["seller"], iban=IBAN_FR, holder="Second")
    client, _ = login(app, shop["tenant"].slug, shop["seller"].user.username)
    assert client.post(f"{BASE}/delete/{shop['mine'].id}").status_code == 302
    (left,) = _accounts(app, shop, shop["seller"])
    assert left.id == second.id and left.is_default


def _audit(app, shop, account_id):
    with scope(app):
        rows = db.session.scalars(
            select(AuditLog)
            .where(
                AuditLog.entity == "SellerBankAccount",
                AuditLog.entity_id == str(account_id),
                AuditLog.action == "update",
            )
            .order_by(AuditLog.id)
        ).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def test_staff_reject_with_the_reason_the_seller_then_reads(app, shop):
    account = shop["theirs"].id
    client, _ = login(app, shop["tenant"].slug, shop["admin"].username)
    form = client.get(f"{BASE}/reject/?ids={account}")
    page = form.get_data(as_text=True)
    assert form.status_code == 200 and "Theirs Holder" in page and "•••• " in page
    assert 'name="csrf_token"' in page and 'name="reason"' in page and "required" in page
    assert IBAN_GB not in page

    # no reason, a blank one, one too long: the form again with the error, nothing changed
    for reason in ("", "   ", "x" * 501):
        again = client.post(f"{BASE}/reject/", data={"ids": str(account), "reason": reason})
        assert again.status_code == 200 and "has-error" in again.get_data(as_text=True)
    # a POST without the CSRF token (a form on another site): refused, nothing changed
    forged = client.post(
        f"{BASE}/reject/", data={"ids": str(account), "reason": "Forged"}, csrf=False
    )
    assert forged.status_code == 400
    assert _row(app, shop, account).verification_status == "unverified"
    assert _audit(app, shop, account) == []

    done = client.post(
        f"{BASE}/reject/",
        data={"ids": str(account), "reason": "  The holder is not the store's legal name  "},
    )
    assert done.status_code == 302 and f"{BASE}/show/{account}" in done.location
    row = _row(app, shop, account)
    assert (row.verification_status, row.rejection_reason, row.verified_by_user_id) == (
        "rejected",
        "The holder is not the store's legal name",
        shop["admin"].id,
    )
    (audited,) = _audit(app, shop, account)
    assert audited.actor_id == shop["admin"].id and audited.source == "admin"
    assert audited.after["verification_status"] == "rejected"
    assert audited.after["rejection_reason"] == "The holder is not the store's legal name"
    assert IBAN_GB not in str(audited.before) + str(audited.after)

    # the seller reads it on its account's page (and the API answers it: seller_banking tests)
    seller, _ = login(app, shop["tenant"].slug, shop["other"].user.username)
    shown = seller.get(f"{BASE}/show/{account}").get_data(as_text=True)
    assert "The holder is not the store&#39;s legal name" in shown or (
        "The holder is not the store's legal name" in shown
    )


def test_a_seller_cannot_reject_and_staff_reject_only_existing_accounts(app, shop):
    seller, _ = login(app, shop["tenant"].slug, shop["seller"].user.username)
    mine = shop["mine"].id
    for response in (
        seller.get(f"{BASE}/reject/?ids={mine}"),
        seller.post(f"{BASE}/reject/", data={"ids": str(mine), "reason": "Self"}),
        seller.post(f"{BASE}/action/reject/{mine}"),
    ):
        assert response.status_code in (302, 403) and "/reject/" not in (response.location or "")
    assert _row(app, shop, mine).verification_status == "unverified"

    staff, _ = login(app, shop["tenant"].slug, shop["admin"].username)
    for ids in ("", "abc", "999999999", "1;DROP"):
        assert staff.get(f"{BASE}/reject/?ids={ids}").status_code == 404


def test_staff_of_another_tenant_cannot_reject(app, factory, shop):
    stranger_tenant = factory.tenant()
    stranger = factory.user(stranger_tenant, roles.ADMIN)
    client, _ = login(app, stranger_tenant.slug, stranger.username)
    account = shop["theirs"].id
    assert client.get(f"{BASE}/reject/?ids={account}").status_code == 404
    response = client.post(f"{BASE}/reject/", data={"ids": str(account), "reason": "Not mine"})
    assert response.status_code == 404
    assert _row(app, shop, account).verification_status == "unverified"
