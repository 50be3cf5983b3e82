"""Payments admin: Admins list and show payments, transactions and refunds of their tenant only,
mark manual payments received; sellers and anonymous users are kept out."""

from __future__ import annotations

import pytest

from app.payments import services
from tests.admin.test_admin_views import login
from tests.payments.conftest import CARD_OK

ROUTES = ("payments", "payment-transactions", "refunds", "payment-methods")


@pytest.fixture
def world(payments, shop):
    manual = payments.start(shop.tenant.id, amount="33.00", method="bank_transfer", user_id=shop.customer.user_id)
    paid = payments.start(shop.tenant.id, amount="44.00", details=CARD_OK)
    refund = payments.run(shop.tenant.id, services.refund, paid.id, 4, "admin test")
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
    response = client.get(f"/admin/payments/action/mark_received/{world['manual'].id}")
    assert response.status_code == 302
    assert payments.get(shop.tenant.id, world["manual"].id).status == "captured"
    # a card payment is refused, and nothing changes
    client.get(f"/admin/payments/action/mark_received/{world['paid'].id}")
    assert payments.get(shop.tenant.id, world["paid"].id).status == "partially_refunded"
    # another tenant's payment is not found
    assert client.get(f"/admin/payments/action/mark_received/{world['foreign'].id}").status_code == 404
    assert payments.get(shop.foreign.id, world["foreign"].id).status == "captured"


def test_sellers_and_anonymous_users_are_kept_out(app, shop, world):
    seller, _ = login(app, shop.tenant.slug, shop.seller.user.username)
    anonymous = app.test_client()
    anonymous.environ_base["HTTP_X_TENANT"] = shop.tenant.slug
    for route in ROUTES:
        assert seller.get(f"/admin/{route}/list/").status_code == 403, route
        response = anonymous.get(f"/admin/{route}/list/")
        assert response.status_code == 302 and "/login/" in response.headers["Location"]
    assert seller.get(f"/admin/payments/action/mark_received/{world['manual'].id}").status_code in (302, 403)


def test_payment_method_settings_keep_stripe_secrets_write_only_and_encrypted(app, shop):
    from sqlalchemy import select, text

    from app.extensions import db
    from app.payments.models import PaymentMethodSetting
    from app.tenants.context import tenant_scope

    client, _ = login(app, shop.tenant.slug, shop.admin.username)
    response = client.post("/admin/payment-methods/add", data={
        "method": "stripe_card", "enabled": "y", "display_name": "Card", "instructions": "",
        "new_stripe_secret_key": "sk_live_admin_typed", "new_stripe_webhook_secret": "whsec_admin_typed"})
    assert response.status_code == 302
    with app.app_context(), tenant_scope(shop.tenant.id):
        setting = db.session.scalar(select(PaymentMethodSetting).where(PaymentMethodSetting.method == "stripe_card"))
        assert (setting.stripe_secret_key, setting.stripe_webhook_secret) == ("sk_live_admin_typed",
                                                                              "whsec_admin_typed")
        stored = db.session.execute(text("SELECT stripe_secret_key FROM payment_method_settings WHERE id = :id"),
                                    {"id": setting.id}).scalar_one()
        assert "sk_live_admin_typed" not in stored
        setting_id = setting.id
    for page in (client.get("/admin/payment-methods/list/"), client.get(f"/admin/payment-methods/show/{setting_id}"),
                 client.get(f"/admin/payment-methods/edit/{setting_id}")):
        assert page.status_code == 200 and "sk_live_admin_typed" not in page.get_data(as_text=True)
    # an edit with empty secret fields keeps the stored ones
    client.post(f"/admin/payment-methods/edit/{setting_id}", data={
        "method": "stripe_card", "enabled": "y", "display_name": "Cards", "instructions": "",
        "new_stripe_secret_key": "", "new_stripe_webhook_secret": ""})
    with app.app_context(), tenant_scope(shop.tenant.id):
        setting = db.session.get(PaymentMethodSetting, setting_id)
        assert (setting.display_name, setting.stripe_secret_key) == ("Cards", "sk_live_admin_typed")
    bad = client.post("/admin/payment-methods/add", data={"method": "bitcoin", "enabled": "y"})
    with app.app_context(), tenant_scope(shop.tenant.id):
        assert db.session.scalar(select(PaymentMethodSetting).where(PaymentMethodSetting.method == "bitcoin")) is None
    assert bad.status_code in (200, 302)
