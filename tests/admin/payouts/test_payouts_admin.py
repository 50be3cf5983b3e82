"""/admin/payouts: a seller lists and opens only its own payouts and has no action; staff see all,
approve, mark paid, pay via the adapter, mark failed (POSTs with CSRF, audited, a second click
changes nothing) and run the job; /admin/payout-notices the same way for skip notices."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.security.models import AuditLog
from tests.builders.admin import login, scope, shows
from tests.builders.payouts import payout_shop  # noqa: F401

D = Decimal
PAGE = "/admin/payouts"
FIXTURES = (payout_shop,)


@pytest.fixture
def desk(app, payout_shop):
    """Seller a: a created payout of 42.50; seller b: one of 77.70 and an EUR skip notice."""
    shop = payout_shop
    a, b = shop.sellers
    shop.account(a)
    shop.account(b)
    shop.adjust(a, "42.50")
    shop.adjust(b, "77.70")
    shop.adjust(b, "3.10", "EUR")
    shop.job()
    shop.ids = {p[1]: p[0] for p in shop.payouts()}
    shop.as_a, _ = login(app, shop.shop.tenant.slug, a.user.username)
    shop.as_admin, _ = login(app, shop.shop.tenant.slug, shop.admin.username)
    return shop


def test_a_seller_sees_only_its_payouts_and_no_action(desk):
    shop = desk
    a, b = shop.sellers
    page = shop.as_a.get(f"{PAGE}/list/").get_data(as_text=True)
    assert shows(page, "42.50") and not shows(page, "77.70")
    assert "Run payout job now" not in page
    assert shop.as_a.get(f"{PAGE}/show/{shop.ids[b.id]}").status_code == 404
    mine = shop.as_a.get(f"{PAGE}/show/{shop.ids[a.id]}")
    assert mine.status_code == 200
    text = mine.get_data(as_text=True)
    assert "Ledger entries paid" in text and "Approve" not in text and "Mark failed" not in text
    # and posting an action anyway is refused, changing nothing
    r = shop.as_a.post(f"{PAGE}/{shop.ids[a.id]}/approve")
    assert r.status_code in (302, 403)
    assert [p[4] for p in shop.payouts(a)] == ["created"]
    assert shop.as_a.post(f"{PAGE}/run").status_code in (302, 403)
    notices = shop.as_a.get("/admin/payout-notices/list/").get_data(as_text=True)
    assert not shows(notices, "3.10")


def test_staff_approve_then_mark_paid_once_audited(app, desk):
    shop = desk
    a, b = shop.sellers
    pid = shop.ids[a.id]
    page = shop.as_admin.get(f"{PAGE}/list/").get_data(as_text=True)
    assert shows(page, "42.50") and shows(page, "77.70") and "Run payout job now" in page

    r = shop.as_admin.post(f"{PAGE}/{pid}/approve", follow_redirects=True)
    assert "is now approved" in r.get_data(as_text=True)
    r = shop.as_admin.post(f"{PAGE}/{pid}/approve", follow_redirects=True)
    assert "already approved" in r.get_data(as_text=True)
    # no CSRF token: refused, nothing changes
    assert (
        shop.as_admin.post(
            f"{PAGE}/{pid}/mark-paid", data={"reference": "X"}, csrf=False
        ).status_code
        == 400
    )
    r = shop.as_admin.post(f"{PAGE}/{pid}/mark-paid", data={"reference": ""}, follow_redirects=True)
    assert "Nothing was changed" in r.get_data(as_text=True)
    r = shop.as_admin.post(
        f"{PAGE}/{pid}/mark-paid", data={"reference": "BANK-991"}, follow_redirects=True
    )
    text = r.get_data(as_text=True)
    assert "is now paid" in text and "BANK-991" in text
    assert [p[4] for p in shop.payouts(a)] == ["paid"]
    with scope(app, shop.tenant_id):
        actions = list(
            db.session.scalars(
                select(AuditLog.action)
                .where(AuditLog.entity == "Payout", AuditLog.entity_id == str(pid))
                .order_by(AuditLog.id)
            )
        )
    assert actions[-2:] == ["approve", "mark_paid"]


def test_staff_pay_via_adapter_and_mark_failed(desk):
    shop = desk
    a, b = shop.sellers
    shop.as_admin.post(f"{PAGE}/{shop.ids[a.id]}/approve")
    r = shop.as_admin.post(
        f"{PAGE}/{shop.ids[a.id]}/pay", data={"adapter": "manual"}, follow_redirects=True
    )
    assert "is now paid" in r.get_data(as_text=True) and "MANUAL-" in r.get_data(as_text=True)

    r = shop.as_admin.post(
        f"{PAGE}/{shop.ids[b.id]}/mark-failed",
        data={"reason": "IBAN closed"},
        follow_redirects=True,
    )
    text = r.get_data(as_text=True)
    assert "is now failed" in text and "IBAN closed" in text and "Reversed" in text
    assert shop.balance(b).available == D("77.70")


def test_run_now_and_notices(desk):
    shop = desk
    a, b = shop.sellers
    shop.adjust(a, "5.00")
    r = shop.as_admin.post(f"{PAGE}/run", follow_redirects=True)
    assert "1 payout(s) built from 1 ledger entries" in r.get_data(as_text=True)
    notices = shop.as_admin.get("/admin/payout-notices/list/").get_data(as_text=True)
    assert shows(notices, "3.10") and "No bank account" in notices
