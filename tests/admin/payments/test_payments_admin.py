"""Payments admin: Admins list and show payments, transactions and refunds of their tenant only,
mark manual payments received; sellers and anonymous users are kept out."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from app.payments import refunds as payment_refunds
from tests.builders.admin import login, shows
from tests.builders.payments import CARD_OK

ROUTES = ("payments", "payment-transactions", "refunds", "payment-methods")


@pytest.fixture
def world(payments, shop):
    manual = payments.start(
        shop.tenant.id, amount="33.00", method="bank_transfer", user_id=shop.customer.user_id
    )
    paid = payments.start(shop.tenant.id, amount="44.00", details=CARD_OK)
    refund = payments.run(shop.tenant.id, payment_refunds.refund, paid.id, 4, "admin test")
    foreign = payments.start(shop.foreign.id, amount="55.00", details=CARD_OK)
    return {"manual": manual, "paid": paid, "refund": refund, "foreign": foreign}


@pytest.mark.smoke
def test_admin_sees_its_tenants_payments_only(app, factory, shop, world):
    client, _ = login(app, shop.tenant.slug, shop.admin.username)
    for route in ROUTES:
        assert client.get(f"/admin/{route}/list/").status_code == 200, route
    page = client.get("/admin/payments/list/").get_data(as_text=True)
    assert "33.00" in page and "44.00" in page and "55.00" not in page
    assert client.get(f"/admin/payments/show/{world['paid'].id}").status_code == 200
    assert client.get(f"/admin/payments/show/{world['foreign'].id}").status_code == 404
    assert client.get(f"/admin/refunds/show/{world['refund'].id}").status_code == 200
    # read-only: no add or edit of payments or refunds
    assert client.get("/admin/payments/add").status_code in (302, 403, 404)
    assert client.get(f"/admin/refunds/edit/{world['refund'].id}").status_code in (302, 403, 404)


def test_mark_received_captures_a_manual_payment(app, payments, shop, world):
    client, _ = login(app, shop.tenant.slug, shop.admin.username)
    # the show page's button posts its form (with the CSRF token) to the action URL; a GET of it
    # (a link someone sends) changes nothing
    client.get(f"/admin/payments/action/mark_received/{world['manual'].id}")
    assert payments.get(shop.tenant.id, world["manual"].id).status == "pending"
    response = client.post(f"/admin/payments/action/mark_received/{world['manual'].id}")
    assert response.status_code == 302
    assert payments.get(shop.tenant.id, world["manual"].id).status == "captured"
    # a card payment is refused, and nothing changes
    client.post(f"/admin/payments/action/mark_received/{world['paid'].id}")
    assert payments.get(shop.tenant.id, world["paid"].id).status == "partially_refunded"
    # another tenant's payment is not found
    assert (
        client.post(f"/admin/payments/action/mark_received/{world['foreign'].id}").status_code
        == 404
    )
    assert payments.get(shop.foreign.id, world["foreign"].id).status == "captured"


def test_sellers_are_kept_out_of_methods_and_actions_and_anonymous_users_out_of_all(
    app, payments, shop, world
):
    seller, _ = login(app, shop.tenant.slug, shop.seller.user.username)
    anonymous = app.test_client()
    anonymous.environ_base["HTTP_X_TENANT"] = shop.tenant.slug
    for route in ROUTES:
        response = anonymous.get(f"/admin/{route}/list/")
        assert response.status_code == 302 and "/login/" in response.headers["Location"]
    assert seller.get("/admin/payment-methods/list/").status_code == 403
    # the world's orders hold no sub-order of this seller: it sees none of their money
    for route in ROUTES[:3]:
        response = seller.get(f"/admin/{route}/list/")
        assert response.status_code == 200, route
        page = response.get_data(as_text=True)
        assert not shows(page, "33.00") and not shows(page, "44.00")
    assert seller.get(f"/admin/payments/show/{world['paid'].id}").status_code == 404
    assert seller.get(f"/admin/refunds/show/{world['refund'].id}").status_code == 404
    assert seller.get(f"/admin/payments/action/mark_received/{world['manual'].id}").status_code in (
        302,
        403,
    )
    assert payments.get(shop.tenant.id, world["manual"].id).status == "pending"
    assert seller.get("/admin/payments/add").status_code in (302, 403, 404)


@pytest.fixture
def sellers_world(app, factory, payments, shop):
    """Orders of seller 1 only (A), of seller 2 only (B), and of both (C: 16.67 each). C has a refund
    paid for seller 2's refund request and one for the whole order (e.g. a cancel: 2.23 each)."""
    from app.core.tenancy import tenant_scope
    from app.extensions import db
    from app.orders.models import RefundRequest, SubOrder

    s1, s2 = shop.seller, factory.seller(shop.tenant)
    out = {}
    for name, amount, sellers, refund in (
        ("A", "11.11", (s1.id,), "1.11"),
        ("B", "22.22", (s2.id,), "2.22"),
        ("C", "33.34", (s1.id, s2.id), "3.33"),
    ):
        order_id, payment = payments.paid_order(
            shop.tenant.id, total=amount, seller_ids=sellers, details=CARD_OK
        )
        out[name] = (
            order_id,
            payment,
            payments.run(shop.tenant.id, payment_refunds.refund, payment.id, refund, "x"),
        )
    out["C-all"] = payments.run(
        shop.tenant.id, payment_refunds.refund, out["C"][1].id, "4.46", "cancel"
    )
    with app.app_context(), tenant_scope(shop.tenant.id):  # C's 3.33 answered seller 2's request
        sub2 = db.session.scalar(
            select(SubOrder.id).where(SubOrder.order_id == out["C"][0], SubOrder.seller_id == s2.id)
        )
        db.session.add(
            RefundRequest(
                order_id=out["C"][0],
                sub_order_id=sub2,
                amount=Decimal("3.33"),
                reason="x",
                status="completed",
                payment_refund_id=out["C"][2].id,
            )
        )
        db.session.commit()
        db.session.remove()
    return s1, s2, out


def test_a_seller_sees_only_the_money_of_orders_holding_its_sub_orders(app, shop, sellers_world):
    s1, s2, w = sellers_world
    seller, _ = login(app, shop.tenant.slug, s1.user.username)
    payments_page = seller.get("/admin/payments/list/").get_data(as_text=True)
    # of C, its share (app.orders.shares), never the whole
    assert shows(payments_page, "11.11") and shows(payments_page, "16.67")
    assert not shows(payments_page, "22.22") and not shows(payments_page, "33.34")
    for name, visible in (("A", True), ("B", False), ("C", True)):
        order_id, payment, refund = w[name]
        assert seller.get(f"/admin/payments/show/{payment.id}").status_code == (
            200 if visible else 404
        ), name
    transactions = seller.get("/admin/payment-transactions/list/").get_data(as_text=True)
    assert (
        shows(transactions, "11.11")
        and not shows(transactions, "22.22")
        and not shows(transactions, "33.34")
    )
    refunds_page = seller.get("/admin/refunds/list/").get_data(as_text=True)
    assert shows(refunds_page, "1.11") and shows(
        refunds_page, "2.23"
    )  # its share of C's whole-order refund
    assert (
        not shows(refunds_page, "2.22")
        and not shows(refunds_page, "3.33")
        and not shows(refunds_page, "4.46")
    )
    assert seller.get(f"/admin/refunds/show/{w['A'][2].id}").status_code == 200
    assert seller.get(f"/admin/refunds/show/{w['C-all'].id}").status_code == 200
    assert seller.get(f"/admin/refunds/show/{w['B'][2].id}").status_code == 404
    assert (
        seller.get(f"/admin/refunds/show/{w['C'][2].id}").status_code == 404
    )  # seller 2's request
    # and the other way round
    other, _ = login(app, shop.tenant.slug, s2.user.username)
    assert other.get(f"/admin/payments/show/{w['A'][1].id}").status_code == 404
    assert other.get(f"/admin/refunds/show/{w['C'][2].id}").status_code == 200
    assert not shows(other.get("/admin/refunds/list/").get_data(as_text=True), "1.11")


def test_payment_method_settings_keep_stripe_secrets_write_only_and_encrypted(app, shop):
    from sqlalchemy import select, text

    from app.core.tenancy import tenant_scope
    from app.extensions import db
    from app.payments.models import PaymentMethodSetting

    client, _ = login(app, shop.tenant.slug, shop.admin.username)
    response = client.post(
        "/admin/payment-methods/add",
        data={
            "method": "stripe_card",
            "enabled": "y",
            "display_name": "Card",
            "instructions": "",
            "new_stripe_secret_key": "sk_live_admin_typed",
            "new_stripe_webhook_secret": "whsec_admin_typed",
        },
    )
    assert response.status_code == 302
    with app.app_context(), tenant_scope(shop.tenant.id):
        setting = db.session.scalar(
            select(PaymentMethodSetting).where(PaymentMethodSetting.method == "stripe_card")
        )
        assert (setting.stripe_secret_key, setting.stripe_webhook_secret) == (
            "sk_live_admin_typed",
            "whsec_admin_typed",
        )
        stored = db.session.execute(
            text("SELECT stripe_secret_key FROM payment_method_settings WHERE id = :id"),
            {"id": setting.id},
        ).scalar_one()
        assert "sk_live_admin_typed" not in stored
        setting_id = setting.id
    for page in (
        client.get("/admin/payment-methods/list/"),
        client.get(f"/admin/payment-methods/show/{setting_id}"),
        client.get(f"/admin/payment-methods/edit/{setting_id}"),
    ):
        assert page.status_code == 200 and "sk_live_admin_typed" not in page.get_data(as_text=True)
    # an edit with empty secret fields keeps the stored ones
    client.post(
        f"/admin/payment-methods/edit/{setting_id}",
        data={
            "method": "stripe_card",
            "enabled": "y",
            "display_name": "Cards",
            "instructions": "",
            "new_stripe_secret_key": "",
            "new_stripe_webhook_secret": "",
        },
    )
    with app.app_context(), tenant_scope(shop.tenant.id):
        setting = db.session.get(PaymentMethodSetting, setting_id)
        assert (setting.display_name, setting.stripe_secret_key) == ("Cards", "sk_live_admin_typed")
    bad = client.post("/admin/payment-methods/add", data={"method": "bitcoin", "enabled": "y"})
    with app.app_context(), tenant_scope(shop.tenant.id):
        assert (
            db.session.scalar(
                select(PaymentMethodSetting).where(PaymentMethodSetting.method == "bitcoin")
            )
            is None
        )
    assert bad.status_code in (200, 302)
