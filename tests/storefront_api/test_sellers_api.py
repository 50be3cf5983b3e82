"""/api/v1/sellers over HTTP: self-registration (a new account, or a customer applying), the plan's
max_sellers under concurrent registrations (real threads on MariaDB), the seller's own profile,
a suspended seller's products leaving the storefront (list, detail, search), and KYC documents:
a wrong type or size is refused with nothing stored, a seller never reaches another's."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.security import roles
from app.security.actor import Actor
from app.security.models import User
from app.sellers import onboarding
from app.sellers.models import SellerProfile
from tests.builders.api import error
from tests.builders.auth import api_headers
from tests.builders.factories import PASSWORD
from tests.builders.search import engine  # noqa: F401  (the search backend fixture)
from tests.builders.sellers import (
    EXE,
    JPEG,
    PDF,
    PNG,
    documents,
    kyc_root,
    mails_to,
    max_sellers,
    outbox,
    profile,
    requirement,
    stored_files,
)

FIXTURES = (outbox, kyc_root)  # the builders' fixtures this module's tests take by name

API = "/api/v1/sellers"
STORE = {"store_name": "Lamps & Co", "description": "Hand-made lamps"}


def _sellers(app, tenant) -> list[SellerProfile]:
    with app.app_context(), tenant_scope(tenant.id):
        rows = list(db.session.scalars(select(SellerProfile).order_by(SellerProfile.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def _admin_actor(factory, tenant) -> Actor:
    user = factory.user(tenant, roles.ADMIN)
    return Actor(user_id=user.id, tenant_id=tenant.id, role_names=frozenset({roles.ADMIN}))


# --- registration --------------------------------------------------------------------------------


def test_a_new_account_registers_a_pending_store_and_is_mailed(app, client, factory, outbox):
    tenant = factory.tenant()
    address = f"lamps-{tenant.slug}@example.com"
    body = {**STORE, "email": address, "password": PASSWORD, "first_name": "Ada"}
    response = client.post(f"{API}/register/", json=body, headers=api_headers(tenant=tenant))
    assert response.status_code == 202, response.get_json()
    assert "e-mail" in response.get_json()["detail"]

    (seller,) = _sellers(app, tenant)
    assert (seller.store_name, seller.status, seller.business_type) == (
        "Lamps & Co",
        "pending",
        "individual",
    )
    assert seller.contact_email == address and seller.slug == "lamps-co"
    with app.app_context(), tenant_scope(tenant.id):
        user = db.session.get(User, seller.user_id)
        assert user.role_names == {roles.SELLER} and user.email == address
    subjects = sorted(m["Subject"] for m in mails_to(outbox, address))
    assert "We received your application to sell as Lamps & Co" in subjects
    assert len(subjects) >= 2  # and the account's own e-mail verification


def test_a_known_address_gets_the_same_answer_and_no_second_store(app, client, factory, outbox):
    tenant = factory.tenant()
    customer = factory.user(tenant, roles.CUSTOMER)
    body = {**STORE, "email": customer.email, "password": PASSWORD}
    response = client.post(f"{API}/register/", json=body, headers=api_headers(tenant=tenant))
    assert response.status_code == 202
    assert _sellers(app, tenant) == []
    assert [m["Subject"] for m in mails_to(outbox, customer.email)]  # its owner is told


def test_a_customer_applies_signed_in_and_becomes_a_pending_seller(app, client, factory, outbox):
    tenant = factory.tenant()
    customer = factory.user(tenant, roles.CUSTOMER)
    h = api_headers(app, customer)
    response = client.post(
        f"{API}/register/", json={**STORE, "business_type": "company"}, headers=h
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "pending" and body["business_type"] == "company"
    assert body["contact_email"] == customer.email
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.get(User, customer.id).role_names == {roles.CUSTOMER, roles.SELLER}
    assert mails_to(outbox, customer.email)[0]["Subject"].startswith("We received")

    again = client.post(f"{API}/register/", json=STORE, headers=h)
    error(again, 409, "seller_already_registered")
    assert len(_sellers(app, tenant)) == 1


def test_staff_do_not_apply_and_an_anonymous_applicant_needs_an_account(app, client, factory):
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    error(client.post(f"{API}/register/", json=STORE, headers=api_headers(app, admin)), 403)
    missing = client.post(f"{API}/register/", json=STORE, headers=api_headers(tenant=tenant))
    assert set(error(missing, 422, "validation_error")["details"]) == {"email", "password"}
    bad = client.post(
        f"{API}/register/",
        json={"store_name": "", "business_type": "guild", "email": "x@example.com"},
        headers=api_headers(tenant=tenant),
    )
    details = error(bad, 422)["details"]
    assert {"store_name", "business_type"} <= set(details.get("json", details)), details
    assert _sellers(app, tenant) == []


def test_max_sellers_holds_under_concurrent_registrations(app, factory):
    """Ten applicants at once (threads, each its own connection) at a shop that has room for
    three more sellers: exactly three are registered, seven get seller_limit_reached. A rejected
    application does not count."""
    tenant = factory.tenant()
    factory.seller(tenant)
    factory.seller(tenant, status="rejected")
    max_sellers(app, tenant, 4)
    statuses: list[tuple[int, str | None]] = []
    barrier = threading.Barrier(10)

    def register(n: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(
            f"{API}/register/",
            json={
                "store_name": f"Store {n}",
                "email": f"s{n}-{tenant.slug}@example.com",
                "password": PASSWORD,
            },
            headers=api_headers(tenant=tenant),
        )
        body = response.get_json() or {}
        statuses.append((response.status_code, body.get("error", {}).get("code")))

    threads = [threading.Thread(target=register, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses, key=str) == sorted(
        [(202, None)] * 3 + [(409, "seller_limit_reached")] * 7, key=str
    )
    counted = [s for s in _sellers(app, tenant) if s.status not in onboarding.NOT_COUNTED]
    assert len(counted) == 4
    with app.app_context(), tenant_scope(tenant.id):
        # no account is left behind by a refused registration
        applicants = select(func.count(User.id)).where(User.email.like(f"%-{tenant.slug}@%"))
        assert db.session.scalar(applicants) == 3


# --- the seller's own profile --------------------------------------------------------------------


def test_a_seller_reads_and_changes_its_store_never_its_status_or_commission(app, client, factory):
    tenant = factory.tenant()
    requirement(app, tenant, "passport")
    seller = factory.seller(tenant, status="approved")
    h = api_headers(app, seller.user)
    me = client.get(f"{API}/me/", headers=h).get_json()
    assert me["id"] == seller.id and me["status"] == "approved"
    assert me["kyc"] == [
        {
            "document_type": "passport",
            "is_mandatory": True,
            "description": "A clear copy of your passport",
            "status": "missing",
        }
    ]
    changed = client.patch(f"{API}/me/", json={"description": "Brass lamps"}, headers=h)
    assert changed.status_code == 200 and changed.get_json()["description"] == "Brass lamps"
    for forged in ({"status": "approved"}, {"commission_rate": "0.01"}):
        error(client.patch(f"{API}/me/", json=forged, headers=h), 422)
    fixed = client.patch(f"{API}/me/", json={"business_type": "company"}, headers=h)
    assert "business_type" in error(fixed, 422)["details"]
    row = profile(app, tenant, seller.id)
    assert (row.status, str(row.commission_rate), row.business_type) == (
        "approved",
        "0.1000",
        "individual",
    )
    customer = factory.user(tenant, roles.CUSTOMER)
    error(client.get(f"{API}/me/", headers=api_headers(app, customer)), 403)
    error(client.get(f"{API}/me/", headers=api_headers(tenant=tenant)), 401)


def test_a_rejected_applicant_reads_the_reason(app, client, factory):
    tenant = factory.tenant()
    seller = factory.seller(tenant, status="pending")
    with app.app_context(), tenant_scope(tenant.id):
        onboarding.change_status(_admin_actor(factory, tenant), seller.id, "reject", "No VAT id")
    me = client.get(f"{API}/me/", headers=api_headers(app, seller.user)).get_json()
    assert (me["status"], me["status_reason"]) == ("rejected", "No VAT id")


# --- a suspended seller leaves the storefront ----------------------------------------------------


def test_a_suspended_sellers_products_leave_list_detail_and_search(
    app,
    client,
    factory,
    engine,  # noqa: F811
):
    tenant = factory.tenant()
    seller, other = factory.seller(tenant), factory.seller(tenant)
    lamp = factory.product(seller, title="Brass lamp")
    chair = factory.product(other, title="Brass chair")
    guest = api_headers(tenant=tenant)

    def shown() -> tuple[set, bool, set, set]:
        listed = {
            p["id"] for p in client.get("/api/v1/products/", headers=guest).get_json()["items"]
        }
        detail = client.get(f"/api/v1/products/{lamp.id}/", headers=guest).status_code == 200
        found = client.get("/api/v1/search/products/?q=brass", headers=guest).get_json()
        searched = {p["id"] for p in found["items"]}
        db_search = client.get("/api/v1/products/search/?q=brass", headers=guest).get_json()
        return listed, detail, searched, {p["id"] for p in db_search["items"]}

    both = {lamp.id, chair.id}
    assert shown() == (both, True, both, both)
    admin = _admin_actor(factory, tenant)
    with app.app_context(), tenant_scope(tenant.id):
        onboarding.change_status(admin, seller.id, "suspend", "Unpaid fees")
    assert shown() == ({chair.id}, False, {chair.id}, {chair.id})
    # its seller and staff still open it (to fix it, for the orders it is on)
    assert (
        client.get(
            f"/api/v1/products/{lamp.id}/", headers=api_headers(app, seller.user)
        ).status_code
        == 200
    )
    with app.app_context(), tenant_scope(tenant.id):
        onboarding.change_status(admin, seller.id, "reinstate")
    assert shown() == (both, True, both, both)


# --- KYC documents -------------------------------------------------------------------------------


def _upload(client, h, data: bytes, name: str = "passport.pdf", document_type: str = "passport"):
    import io

    return client.post(
        f"{API}/me/kyc/documents/",
        data={"document_type": document_type, "file": (io.BytesIO(data), name)},
        headers=h,
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    ("data", "content_type"), [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg")]
)
def test_a_document_is_stored_by_its_bytes_under_a_random_name(
    app, client, factory, kyc_root, data, content_type
):
    tenant = factory.tenant()
    requirement(app, tenant, "passport")
    seller = factory.seller(tenant, status="pending")
    h = api_headers(app, seller.user)
    response = _upload(client, h, data, name="../../my passport.bin")
    assert response.status_code == 201, response.get_json()
    doc = response.get_json()
    assert (doc["content_type"], doc["size"], doc["status"]) == (content_type, len(data), "pending")
    assert doc["filename"] == "my passport.bin"  # no path from the client survives
    (stored,) = stored_files(kyc_root)
    assert stored.parent == kyc_root / str(tenant.id)
    assert "passport" not in stored.name and stored.read_bytes() == data
    download = client.get(f"{API}/me/kyc/documents/{doc['id']}/file/", headers=h)
    assert download.status_code == 200 and download.data == data
    assert download.mimetype == content_type
    assert download.headers["Cache-Control"] == "private, no-store"
    assert "attachment" in download.headers["Content-Disposition"]
    listed = client.get(f"{API}/me/kyc/documents/", headers=h).get_json()
    assert [d["id"] for d in listed["items"]] == [doc["id"]] and listed["total"] == 1


@pytest.mark.parametrize(
    ("data", "name", "status", "code"),
    [
        (EXE, "passport.pdf", 415, "kyc_file_type"),  # the name lies: the bytes decide
        (b"<html><script>alert(1)</script>", "passport.png", 415, "kyc_file_type"),
        (PDF + b"x" * 2048, "passport.pdf", 413, "kyc_file_too_large"),
        (b"", "passport.pdf", 422, "validation_error"),
    ],
)
def test_a_wrong_type_or_size_is_refused_and_nothing_is_stored(
    app, client, factory, kyc_root, monkeypatch, data, name, status, code
):
    monkeypatch.setitem(app.config, "KYC_MAX_FILE_BYTES", 2048)
    tenant = factory.tenant()
    requirement(app, tenant, "passport")
    seller = factory.seller(tenant, status="pending")
    response = _upload(client, api_headers(app, seller.user), data, name=name)
    error(response, status, code)
    assert stored_files(kyc_root) == [] and documents(app, tenant) == []


def test_an_unknown_document_type_is_refused_and_nothing_is_stored(app, client, factory, kyc_root):
    tenant = factory.tenant()
    requirement(app, tenant, "passport")
    seller = factory.seller(tenant, status="pending")
    response = _upload(client, api_headers(app, seller.user), PDF, document_type="selfie")
    assert "document_type" in error(response, 422, "validation_error")["details"]
    assert stored_files(kyc_root) == [] and documents(app, tenant) == []


def test_a_seller_never_reaches_another_sellers_documents(app, client, factory, kyc_root):
    tenant = factory.tenant()
    requirement(app, tenant, "passport")
    owner, other = (
        factory.seller(tenant, status="pending"),
        factory.seller(tenant, status="pending"),
    )
    doc_id = _upload(client, api_headers(app, owner.user), PDF).get_json()["id"]
    h = api_headers(app, other.user)
    error(client.get(f"{API}/me/kyc/documents/{doc_id}/", headers=h), 404, "not_found")
    error(client.get(f"{API}/me/kyc/documents/{doc_id}/file/", headers=h), 404, "not_found")
    assert client.get(f"{API}/me/kyc/documents/", headers=h).get_json()["items"] == []
    customer = factory.user(tenant, roles.CUSTOMER)
    error(
        client.get(f"{API}/me/kyc/documents/{doc_id}/file/", headers=api_headers(app, customer)),
        403,
    )
    error(
        client.get(f"{API}/me/kyc/documents/{doc_id}/file/", headers=api_headers(tenant=tenant)),
        401,
    )


def test_the_storage_root_is_outside_every_static_folder(app):
    from pathlib import Path

    root = Path(app.config["KYC_STORAGE_ROOT"]).resolve()
    folders = [app.static_folder] + [bp.static_folder for bp in app.blueprints.values()]
    for folder in filter(None, folders):
        assert not root.is_relative_to(Path(folder).resolve()), folder


def test_registration_is_rate_limited_per_client(app, client, factory, monkeypatch):
    monkeypatch.setitem(app.config, "API_SELLER_REGISTER_RATE_LIMIT", "2 per minute")
    tenant = factory.tenant()
    answers = [
        client.post(
            f"{API}/register/",
            json={**STORE, "email": f"r{n}-{tenant.slug}@example.com", "password": PASSWORD},
            headers=api_headers(tenant=tenant),
        )
        for n in range(3)
    ]
    assert [a.status_code for a in answers[:2]] == [202, 202]
    error(answers[2], 429, "rate_limited")
    assert len(_sellers(app, tenant)) == 2
