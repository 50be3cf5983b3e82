"""The seller page in the admin (admin/views/sellers.py): staff approve, reject (with reason),
suspend and reinstate there, each with a flash message, an audit row naming them and a mail; the
applications list; the KYC documents uploaded, reviewed and downloaded there. A seller reaches only
its own page and documents (list, show, file), and takes none of staff's steps."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.security import roles
from app.sellers.models import SellerProfile
from tests.builders.admin import login
from tests.builders.fulfilment import flashes
from tests.builders.sellers import (
    EXE,
    PDF,
    audit_rows,
    documents,
    kyc_root,
    mails_to,
    max_sellers,
    outbox,
    profile,
    requirement,
    reviews,
    stored_files,
)

FIXTURES = (outbox, kyc_root)  # the builders' fixtures this module's tests take by name


@pytest.fixture
def shop(app, factory):
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    requirement(app, tenant, "passport")
    return tenant, admin


def _step(client, seller_id, step, reason=None):
    data = {"step": step} | ({"reason": reason} if reason is not None else {})
    return client.post(f"/admin/sellers/set-status/{seller_id}", data=data)


def _upload(client, seller_id, data, name="passport.pdf"):
    return client.post(
        f"/admin/sellers/kyc-upload/{seller_id}",
        data={"document_type": "passport", "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_staff_take_every_step_from_the_seller_page(app, factory, shop, outbox, kyc_root):
    tenant, admin = shop
    seller = factory.seller(tenant, status="pending")
    client, _ = login(app, tenant.slug, admin.username)
    page = client.get(f"/admin/sellers/show/{seller.id}").get_data(as_text=True)
    assert "Approve" in page and "Reject" in page and "Suspend" not in page

    # approval waits for the passport: refused with the reason why, nothing changes
    assert _step(client, seller.id, "approve").status_code == 302
    ((category, message),) = flashes(client)
    assert category == "danger" and "passport" in message
    assert profile(app, tenant, seller.id).status == "pending"

    assert _upload(client, seller.id, PDF).status_code == 302  # staff upload for the seller
    flashes(client)
    (doc,) = documents(app, tenant, seller.id)
    client.post(f"/admin/sellers/kyc-review/{seller.id}/{doc.id}", data={"decision": "rejected"})
    assert flashes(client)[0][0] == "danger"  # a rejection needs its reason
    client.post(
        f"/admin/sellers/kyc-review/{seller.id}/{doc.id}",
        data={"decision": "rejected", "reason": "Expired"},
    )
    client.post(f"/admin/sellers/kyc-review/{seller.id}/{doc.id}", data={"decision": "accepted"})
    assert reviews(app, tenant, doc.id) == [("rejected", "Expired"), ("accepted", None)]
    flashes(client)

    for step, reason, after in (
        ("approve", None, "approved"),
        ("suspend", "", None),  # no reason: refused
        ("suspend", "Counterfeit goods reported", "suspended"),
        ("reinstate", None, "approved"),
    ):
        assert _step(client, seller.id, step, reason).status_code == 302
        ((category, _message),) = flashes(client)
        assert category == ("success" if after else "danger")
        assert profile(app, tenant, seller.id).status == (after or "approved")

    changes = [
        (r.before["status"], r.after["status"], r.actor_id, r.source)
        for r in audit_rows(app, tenant, seller.id)
        if r.action == "update" and "status" in (r.after or {})
    ]
    assert changes == [
        ("pending", "approved", admin.id, "admin"),
        ("approved", "suspended", admin.id, "admin"),
        ("suspended", "approved", admin.id, "admin"),
    ]
    mailed = mails_to(outbox, seller.user.email)
    sent = {m["Subject"].rpartition(" is ")[2]: m for m in mailed if "store" in m["Subject"]}
    assert sorted(sent) == ["approved", "reinstated", "suspended"]
    # and each KYC decision: the rejection with its reason, then the acceptance
    # (the outbox folder's file names do not keep the sending order: compare as a set)
    decisions = [m for m in mailed if "passport" in m["Subject"]]
    accepted = [m for m in decisions if m["Subject"].endswith("is accepted")]
    rejected = [m for m in decisions if not m["Subject"].endswith("is accepted")]
    assert (len(accepted), len(rejected)) == (1, 1)
    assert "Expired" in rejected[0].get_body(("plain",)).get_content()
    assert "Counterfeit goods reported" in sent["suspended"].get_body(("plain",)).get_content()


def test_staff_review_a_document_only_on_its_own_seller_s_page(
    app, factory, shop, outbox, kyc_root
):
    tenant, admin = shop
    owner, other = factory.seller(tenant, status="pending"), factory.seller(tenant, "pending")
    client, _ = login(app, tenant.slug, admin.username)
    assert _upload(client, owner.id, PDF).status_code == 302
    flashes(client)
    (doc,) = documents(app, tenant, owner.id)
    # the owner's document through another seller's page: refused by the service, nothing changed
    response = client.post(
        f"/admin/sellers/kyc-review/{other.id}/{doc.id}", data={"decision": "accepted"}
    )
    assert response.status_code == 302 and f"/admin/sellers/show/{other.id}" in response.location
    ((category, message),) = flashes(client)
    assert category == "danger" and "no such document" in message.lower()
    assert reviews(app, tenant, doc.id) == [] and mails_to(outbox, owner.user.email) == []

    response = client.post(
        f"/admin/sellers/kyc-review/{owner.id}/{doc.id}", data={"decision": "accepted"}
    )
    ((category, message),) = flashes(client)
    assert category == "success" and "e-mail" in message
    assert reviews(app, tenant, doc.id) == [("accepted", None)]
    assert len(mails_to(outbox, owner.user.email)) == 1


def test_a_rejected_application_shows_its_reason_and_leaves_the_applications_list(
    app, factory, shop, outbox
):
    tenant, admin = shop
    waiting, refused = factory.seller(tenant, status="pending"), factory.seller(tenant, "pending")
    factory.seller(tenant, status="approved")
    client, _ = login(app, tenant.slug, admin.username)
    listed = client.get("/admin/seller-applications/list/").get_data(as_text=True)
    assert waiting.store_name in listed and refused.store_name in listed
    _step(client, refused.id, "reject", "We only take shops with a VAT id")
    assert flashes(client)[0][0] == "success"
    listed = client.get("/admin/seller-applications/list/").get_data(as_text=True)
    assert waiting.store_name in listed and refused.store_name not in listed
    page = client.get(f"/admin/sellers/show/{refused.id}").get_data(as_text=True)
    assert "We only take shops with a VAT id" in page
    opened = client.get(f"/admin/seller-applications/show/{waiting.id}")
    assert opened.status_code == 302 and f"/admin/sellers/show/{waiting.id}" in opened.location


def test_a_seller_reaches_only_its_own_page_and_documents(app, factory, shop, kyc_root):
    tenant, admin = shop
    owner, other = factory.seller(tenant, status="pending"), factory.seller(tenant, "pending")
    client, _ = login(app, tenant.slug, owner.user.username)
    assert _upload(client, owner.id, PDF).status_code == 302
    assert flashes(client)[0][0] == "success"
    (doc,) = documents(app, tenant, owner.id)
    page = client.get(f"/admin/sellers/show/{owner.id}").get_data(as_text=True)
    assert "passport.pdf" in page and "Approve" not in page and "Accept" not in page
    assert client.get(f"/admin/sellers/kyc-file/{doc.id}").data == PDF

    intruder, _ = login(app, tenant.slug, other.user.username)
    assert intruder.get(f"/admin/sellers/show/{owner.id}").status_code == 404
    assert intruder.get(f"/admin/sellers/kyc-file/{doc.id}").status_code == 404
    assert intruder.get(f"/admin/kyc-documents/show/{doc.id}").status_code == 404
    listed = intruder.get("/admin/kyc-documents/list/").get_data(as_text=True)
    assert "passport.pdf" not in listed and owner.store_name not in listed
    assert _upload(intruder, owner.id, PDF).status_code == 404  # not onto another's page
    # none of staff's steps, not even on its own page
    for response in (
        _step(client, owner.id, "approve"),
        client.post(
            f"/admin/sellers/kyc-review/{owner.id}/{doc.id}", data={"decision": "accepted"}
        ),
        intruder.get("/admin/seller-applications/list/"),
    ):
        assert response.status_code in (302, 403) and "/show/" not in (response.location or "")
    assert profile(app, tenant, owner.id).status == "pending"
    assert reviews(app, tenant, doc.id) == []

    staff, _ = login(app, tenant.slug, admin.username)
    listed = staff.get("/admin/kyc-documents/list/").get_data(as_text=True)
    assert "passport.pdf" in listed
    assert staff.get(f"/admin/sellers/kyc-file/{doc.id}").data == PDF


def test_a_file_of_another_type_uploaded_in_the_admin_is_refused_and_nothing_stored(
    app, factory, shop, kyc_root
):
    tenant, _admin = shop
    seller = factory.seller(tenant, status="pending")
    client, _ = login(app, tenant.slug, seller.user.username)
    _upload(client, seller.id, EXE, name="passport.pdf")
    ((category, message),) = flashes(client)
    assert category == "danger" and "PDF, JPEG or PNG" in message
    assert stored_files(kyc_root) == [] and documents(app, tenant) == []


def test_staff_adding_a_seller_stop_at_max_sellers(app, factory, shop):
    tenant, admin = shop
    factory.seller(tenant)
    max_sellers(app, tenant, 1)
    user = factory.user(tenant, roles.SELLER)
    client, _ = login(app, tenant.slug, admin.username)
    response = client.post(
        "/admin/sellers/add",
        data={
            "user": str(user.id),
            "store_name": "One too many",
            "business_type": "individual",
            "commission_rate": "0.1000",
        },
    )
    assert "allows 1 sellers" in response.get_data(as_text=True) or any(
        "allows 1 sellers" in m for _, m in flashes(client)
    )
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.scalar(select(func.count(SellerProfile.id))) == 1
