"""The seller page in headless Chromium, as people use it: staff accept a KYC document and approve
the applicant from its page (the flash says so, the status badge turns approved); the seller
opens its own page and uploads a document through the file input. Set SCREENSHOT_DIR to keep the
pictures."""

from __future__ import annotations

import pytest

from app.core.tenancy import tenant_scope
from app.security import roles
from app.security.actor import Actor
from app.sellers import kyc
from app.sellers.inputs import NewDocument
from tests.browser.chromium import admin_page, shoot
from tests.builders.sellers import PDF, documents, profile, requirement

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def applicant(app, factory, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "KYC_STORAGE_ROOT", str(tmp_path / "kyc"))
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_DIR", str(tmp_path / "mail"))
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    requirement(app, tenant, "passport")
    requirement(app, tenant, "proof_of_address", mandatory=False)
    seller = factory.seller(tenant, status="pending")
    as_seller = Actor(
        user_id=seller.user.id,
        tenant_id=tenant.id,
        role_names=frozenset({roles.SELLER}),
        find_seller_id=lambda _: seller.id,
    )
    with app.app_context(), tenant_scope(tenant.id):
        kyc.upload(as_seller, NewDocument("passport", "passport-scan.pdf", PDF))
    return tenant, admin, seller


def test_staff_accept_the_document_and_approve_the_seller(app, applicant, live_server, tmp_path):
    tenant, admin, seller = applicant
    with admin_page(live_server, tenant.slug, admin.username) as page:
        page.goto(f"{live_server}/admin/seller-applications/list/")
        assert seller.store_name in page.inner_text("body")
        shoot(page, tmp_path, "onboard-admin-applications")
        page.goto(f"{live_server}/admin/sellers/show/{seller.id}")
        shoot(page, tmp_path, "onboard-admin-seller-pending")
        page.click("form.kyc-review button[value=accepted]")
        page.wait_for_load_state("load")
        assert "passport accepted" in page.inner_text(".alert-success")
        page.click("form.seller-step button:has-text('Approve')")
        page.wait_for_load_state("load")
        assert "is approved" in page.inner_text(".alert-success")
        assert "approved" in page.inner_text("h2")
        shoot(page, tmp_path, "onboard-admin-seller-approved")
        page.goto(f"{live_server}/admin/kyc-documents/list/")
        assert "passport-scan.pdf" in page.inner_text("body")
        shoot(page, tmp_path, "onboard-admin-kyc-documents")
    assert profile(app, tenant, seller.id).status == "approved"


def test_a_seller_uploads_a_document_on_its_page(app, applicant, live_server, tmp_path):
    tenant, _admin, seller = applicant
    scan = tmp_path / "bill.png"
    scan.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    with admin_page(live_server, tenant.slug, seller.user.username) as page:
        page.goto(f"{live_server}/admin/sellers/show/{seller.id}")
        body = page.inner_text("body")
        assert "Approve" not in body and "Accept" not in body  # staff's steps only
        page.select_option("#kyc-type", "proof_of_address")
        page.set_input_files("form.kyc-upload input[type=file]", str(scan))
        page.click("form.kyc-upload button[type=submit]")
        page.wait_for_load_state("load")
        assert "proof_of_address uploaded" in page.inner_text(".alert-success")
        shoot(page, tmp_path, "onboard-seller-own-page")
    assert sorted(d.document_type for d in documents(app, tenant, seller.id)) == [
        "passport",
        "proof_of_address",
    ]
