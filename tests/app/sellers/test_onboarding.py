"""The onboarding status machine (app.sellers.onboarding.change_status): every allowed step and
every refused one, the reason rule, the KYC gate on approval and the mail of each change (the
embedded outbox's .eml files), staff only. The audit rows of a change are written in a request:
tests/admin/test_admin_seller_onboarding.py checks them."""

from __future__ import annotations

import pytest

from app.core.errors import Conflict, DomainError, PermissionDenied, ValidationError
from app.core.tenancy import tenant_scope
from app.security import roles
from app.security.actor import Actor
from app.sellers import kyc, onboarding
from app.sellers.inputs import NewDocument
from app.sellers.models import SELLER_STATUSES
from tests.builders.sellers import PDF, mails_to, outbox, profile, requirement

FIXTURES = (outbox,)  # the builders' fixtures this module's tests take by name

ALLOWED = sorted(onboarding.TRANSITIONS.items())
REFUSED = [
    (status, step)
    for status in SELLER_STATUSES
    for step in onboarding.STEPS
    if (status, step) not in onboarding.TRANSITIONS
]


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


def test_the_machine_is_the_issue_s():
    assert onboarding.TRANSITIONS == {
        ("pending", "approve"): "approved",
        ("pending", "reject"): "rejected",
        ("approved", "suspend"): "suspended",
        ("suspended", "reinstate"): "approved",
    }
    assert len(REFUSED) == len(SELLER_STATUSES) * len(onboarding.STEPS) - 4


@pytest.mark.parametrize(("start", "step", "after"), [(s, t, a) for (s, t), a in ALLOWED])
def test_every_allowed_step_changes_the_status_audits_and_mails(
    app, factory, outbox, start, step, after
):
    tenant = factory.tenant()
    seller = factory.seller(tenant, status=start)
    admin = _admin(factory, tenant)
    reason = "Your documents are blurred" if step in onboarding.NEEDS_REASON else None
    with app.app_context(), tenant_scope(tenant.id):
        onboarding.change_status(admin, seller.id, step, reason)

    row = profile(app, tenant, seller.id)
    assert (row.status, row.status_reason) == (after, reason)
    assert row.status_changed_at is not None
    (mail,) = mails_to(outbox, seller.user.email)  # the store's contact: its user's address
    text = mail.get_body(("plain",)).get_content()
    assert seller.store_name in mail["Subject"] and f"now: {after}" in text
    if reason:
        assert reason in text


@pytest.mark.parametrize(("start", "step"), REFUSED)
def test_every_other_step_is_refused_and_changes_nothing(app, factory, outbox, start, step):
    tenant = factory.tenant()
    seller = factory.seller(tenant, status=start)
    admin = _admin(factory, tenant)
    with app.app_context(), tenant_scope(tenant.id), pytest.raises(Conflict) as refused:
        onboarding.change_status(admin, seller.id, step, "a reason")
    assert refused.value.code == "seller_status_conflict"
    assert refused.value.details["allowed"] == onboarding.allowed_steps(start)
    assert profile(app, tenant, seller.id).status == start
    assert mails_to(outbox, seller.user.email) == []


@pytest.mark.parametrize("step", onboarding.NEEDS_REASON)
def test_reject_and_suspend_need_a_reason(app, factory, outbox, step):
    tenant = factory.tenant()
    seller = factory.seller(tenant, status="pending" if step == "reject" else "approved")
    admin = _admin(factory, tenant)
    with app.app_context(), tenant_scope(tenant.id):
        for blank in (None, "", "   "):
            with pytest.raises(ValidationError) as refused:
                onboarding.change_status(admin, seller.id, step, blank)
            assert "reason" in refused.value.details
    assert profile(app, tenant, seller.id).status in ("pending", "approved")
    assert mails_to(outbox, seller.user.email) == []


def test_only_staff_change_a_status_and_a_seller_not_even_its_own(app, factory):
    tenant = factory.tenant()
    seller = factory.seller(tenant, status="pending")
    customer = factory.user(tenant, roles.CUSTOMER)
    as_customer = Actor(
        user_id=customer.id, tenant_id=tenant.id, role_names=frozenset({roles.CUSTOMER})
    )
    with app.app_context(), tenant_scope(tenant.id):
        for actor in (_as_seller(seller), as_customer):
            with pytest.raises(PermissionDenied):
                onboarding.change_status(actor, seller.id, "approve")
    assert profile(app, tenant, seller.id).status == "pending"


def test_a_seller_of_another_tenant_is_not_found(app, factory):
    tenant, other = factory.tenant(), factory.tenant()
    foreign = factory.seller(other, status="pending")
    admin = _admin(factory, tenant)
    with app.app_context(), tenant_scope(tenant.id), pytest.raises(DomainError) as refused:
        onboarding.change_status(admin, foreign.id, "approve")
    assert refused.value.code == "not_found"
    assert profile(app, other, foreign.id).status == "pending"


def test_approval_waits_for_every_mandatory_document_of_its_business_type(app, factory, outbox):
    tenant = factory.tenant()
    requirement(app, tenant, "passport")
    requirement(app, tenant, "utility_bill", mandatory=False)
    requirement(app, tenant, "company_register", business_type="company")  # not this seller's
    seller = factory.seller(tenant, status="pending")
    admin = _admin(factory, tenant)
    with app.app_context(), tenant_scope(tenant.id):
        with pytest.raises(Conflict) as refused:
            onboarding.change_status(admin, seller.id, "approve")
        assert refused.value.code == "kyc_incomplete"
        assert refused.value.details == {"missing": ["passport"]}

        doc = kyc.upload(
            _as_seller(seller), NewDocument(document_type="passport", filename="p.pdf", data=PDF)
        )
        with pytest.raises(Conflict):  # uploaded is not accepted
            onboarding.change_status(admin, seller.id, "approve")
        kyc.review(admin, doc.id, "rejected", "The photo page is cut off")
        with pytest.raises(Conflict):
            onboarding.change_status(admin, seller.id, "approve")
        kyc.review(admin, doc.id, "accepted")
        onboarding.change_status(admin, seller.id, "approve")  # the optional one is not needed
    assert profile(app, tenant, seller.id).status == "approved"
    # the two KYC decisions and the approval (a refused step mails nothing)
    subjects = [m["Subject"] for m in mails_to(outbox, seller.user.email)]
    assert len(subjects) == 3 and sum("is approved" in s for s in subjects) == 1
