"""Staff's review of a KYC document (app.sellers.kyc.review): each decision is mailed to the seller
once (the `seller.kyc_reviewed` event and its consumer, through the embedded outbox's .eml files),
a redelivered event mails nothing more, a refused review mails nothing; and the service is the one
home of who may review which document: the tenant's staff only, a document of the seller the
caller names, never one of another tenant (the admin's seller page and any other caller share it)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.errors import NotFound, PermissionDenied, ValidationError
from app.core.tenancy import tenant_scope, unscoped
from app.events.bus import consume
from app.events.models import OutboxEvent
from app.extensions import db
from app.security import roles
from app.security.actor import Actor
from app.sellers import kyc
from app.sellers.inputs import NewDocument
from tests.builders.sellers import (
    PDF,
    documents,
    kyc_root,
    mails_to,
    outbox,
    requirement,
    reviews,
)

FIXTURES = (outbox, kyc_root)  # the builders' fixtures this module's tests take by name


def _admin(factory, tenant) -> Actor:
    user = factory.user(tenant, roles.ADMIN)
    return Actor(user_id=user.id, tenant_id=tenant.id, role_names=frozenset({roles.ADMIN}))


def _as_seller(seller) -> Actor:
    return Actor(
        user_id=seller.user.id,
        tenant_id=seller.tenant_id,
        role_names=frozenset({roles.SELLER}),
        find_seller_id=lambda _user_id: seller.id,
    )


def _document(app, tenant, seller, document_type="passport") -> int:
    with app.app_context(), tenant_scope(tenant.id):
        doc = kyc.upload(
            _as_seller(seller),
            NewDocument(document_type=document_type, filename="scan.pdf", data=PDF),
        )
        return doc.id


def _text(mail) -> str:
    return mail.get_body(("plain",)).get_content()


def test_each_decision_is_mailed_to_the_seller_once(app, factory, outbox, kyc_root):
    tenant = factory.tenant()
    requirement(app, tenant, "passport")
    requirement(app, tenant, "proof_of_address")
    seller = factory.seller(tenant, status="pending")
    admin = _admin(factory, tenant)
    doc_id = _document(app, tenant, seller)

    with app.app_context(), tenant_scope(tenant.id):
        kyc.review(admin, doc_id, "rejected", "The photo page is cut off")
    (rejected,) = mails_to(outbox, seller.user.email)
    assert "passport" in rejected["Subject"] and "not accepted" in rejected["Subject"]
    assert seller.store_name in rejected["Subject"]
    text = _text(rejected)
    assert "The reason given: The photo page is cut off" in text
    assert "upload a new passport" in text
    # what the seller still owes before approval
    assert "passport, proof_of_address" in text

    with app.app_context(), tenant_scope(tenant.id):
        kyc.review(admin, doc_id, "accepted")
    sent = mails_to(outbox, seller.user.email)
    assert len(sent) == 2
    accepted = next(m for m in sent if m["Subject"].endswith("is accepted"))
    assert "accepted the passport" in _text(accepted) and "reason" not in _text(accepted)
    assert "proof_of_address" in _text(accepted) and "passport," not in _text(accepted)

    # one event per decision; delivered again (a retry, a second worker), it mails nothing more
    with app.app_context(), unscoped():
        events = db.session.scalars(
            select(OutboxEvent.id)
            .where(OutboxEvent.name == kyc.REVIEWED, OutboxEvent.tenant_id == tenant.id)
            .order_by(OutboxEvent.id)
        ).all()
        assert len(events) == 2
        for event_id in events:
            assert consume(event_id, "sellers.kyc_reviewed_mail") is False
    assert len(mails_to(outbox, seller.user.email)) == 2


def test_a_refused_review_mails_nothing(app, factory, outbox, kyc_root):
    tenant = factory.tenant()
    requirement(app, tenant, "passport")
    seller = factory.seller(tenant, status="pending")
    admin = _admin(factory, tenant)
    doc_id = _document(app, tenant, seller)
    with app.app_context(), tenant_scope(tenant.id):
        with pytest.raises(ValidationError):
            kyc.review(admin, doc_id, "rejected", "  ")  # a rejection needs its reason
        with pytest.raises(ValidationError):
            kyc.review(admin, doc_id, "maybe")
    assert reviews(app, tenant, doc_id) == []
    assert mails_to(outbox, seller.user.email) == []


def test_only_the_tenant_s_staff_review_and_only_the_named_seller_s_document(
    app, factory, outbox, kyc_root
):
    tenant, other_tenant = factory.tenant(), factory.tenant()
    requirement(app, tenant, "passport")
    owner = factory.seller(tenant, status="pending")
    other_seller = factory.seller(tenant, status="pending")
    doc_id = _document(app, tenant, owner)
    admin = _admin(factory, tenant)
    foreign_admin = _admin(factory, other_tenant)

    with app.app_context():
        # a seller reviews nothing, not even its own document
        with tenant_scope(tenant.id), pytest.raises(PermissionDenied):
            kyc.review(_as_seller(owner), doc_id, "accepted")
        # staff of another storefront: under their own tenant, and even under this one's
        for scope in (other_tenant.id, tenant.id):
            with tenant_scope(scope), pytest.raises(NotFound):
                kyc.review(foreign_admin, doc_id, "accepted")
        # the document named through another seller's page
        with tenant_scope(tenant.id), pytest.raises(NotFound):
            kyc.review(admin, doc_id, "accepted", seller_id=other_seller.id)
        with tenant_scope(tenant.id), pytest.raises(NotFound):
            kyc.review(admin, 2**40, "accepted")  # not a document id at all

    (doc,) = documents(app, tenant, owner.id)
    assert (doc.status, doc.reviewed_at) == ("pending", None)
    assert reviews(app, tenant, doc_id) == []
    assert mails_to(outbox, owner.user.email) == []

    with app.app_context(), tenant_scope(tenant.id):
        kyc.review(admin, doc_id, "accepted", seller_id=owner.id)
    assert reviews(app, tenant, doc_id) == [("accepted", None)]
