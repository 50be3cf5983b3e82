"""Transactional mails (app/inbox/mails.py, issue 15 item 2), through the real outbox and the
in-process job runner, written to the test's mail outbox directory:

- an order's mails are sent once each (the customer's confirmation, each seller's own part), a
  redelivered event sends nothing more, and each carries its own tenant's branding (two tenants,
  each with its own name, colour and, for one, its own wording);
- each consumer mails the right people: the seller only its part; shipped (with the tracking
  number), delivered, cancelled to the customer; refund requested to the seller, decided and paid
  to the customer; payment failed to the customer; low stock to the seller and the shop's admins;
  a review to the product's seller;
- a user who switched e-mail off for the type is not mailed.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app.core.tenancy import tenant_scope, unscoped
from app.events.bus import consume
from app.events.models import OutboxEvent
from app.extensions import db
from app.inbox import mail_templates
from app.notifications.models import MailTemplate
from app.security.models import User
from app.sellers.actors import actor_for
from app.tenants.models import Tenant
from tests.builders.fulfilment import review
from tests.builders.orders import CARD_DECLINED, CARD_OK, patch, place, shop, sub_of  # noqa: F401
from tests.builders.sellers import mails, mails_to, outbox  # noqa: F401

FIXTURES = (shop, outbox)


def brand(app, tenant, name: str, color: str, currency: str = "USD", zone: str | None = None):
    with app.app_context(), unscoped():
        db.session.execute(
            update(Tenant)
            .where(Tenant.id == tenant.id)
            .values(name=name, primary_color=color, default_currency=currency, time_zone=zone)
        )
        db.session.commit()


def event_id(app, tenant_id: int, name: str, aggregate_id) -> int:
    with app.app_context(), tenant_scope(tenant_id):
        return db.session.scalars(
            select(OutboxEvent.id).where(
                OutboxEvent.name == name, OutboxEvent.aggregate_id == str(aggregate_id)
            )
        ).one()


def text(msg) -> str:
    return msg.get_body(("plain",)).get_content()


def html(msg) -> str:
    return msg.get_body(("html",)).get_content()


def email_off(client, h, event_type: str) -> None:
    answer = client.put(
        "/api/v1/notifications/preferences/",
        headers=h,
        json={"preferences": [{"type": event_type, "channel": "email", "enabled": False}]},
    )
    assert answer.status_code == 200, answer.get_json()


def test_order_mails_are_sent_once_each_with_their_tenants_branding(app, client, shop, outbox):  # noqa: F811
    brand(app, shop.tenant, "Acme Outfitters", "#aa3300")
    brand(app, shop.foreign_tenant, "Zeta Market", "#0055aa")
    # the other storefront words its confirmation its own way
    with app.app_context(), tenant_scope(shop.foreign_tenant.id):
        db.session.add(
            MailTemplate(
                kind="order_confirmation",
                subject="Zeta says thanks for {{ order_number }}",
                text_body="Zeta order {{ order_number }}: {{ total|money }}\n",
                html_body='{% extends "_brand.html" %}{% block content %}<p>Zeta order '
                "{{ order_number }}</p>{% endblock %}",
            )
        )
        db.session.commit()
    order = place(client, shop)  # 2 x product (seller) + 1 x product2 (seller2)
    number = order["number"]
    customer_email = shop.customer.user.email

    (confirmation,) = mails_to(outbox, customer_email)
    assert confirmation["Subject"] == f"Your order {number} at Acme Outfitters"
    assert "Acme Outfitters" in confirmation["From"]
    body = text(confirmation)
    assert f"2 x {shop.product.title}" in body and f"1 x {shop.product2.title}" in body
    assert f"Total: ${float(order['total']):,.2f}" in body
    assert "#aa3300" in html(confirmation) and "Zeta" not in html(confirmation)

    # each seller its own part, never the other's
    (first,) = mails_to(outbox, shop.seller.user.email)
    assert first["Subject"] == f"New order {number} for {shop.seller.store_name}"
    assert shop.product.title in text(first) and shop.product2.title not in text(first)
    part = sub_of(order, shop.seller.id)
    assert f"Your part: ${float(part['total']):,.2f}" in text(first)
    (second,) = mails_to(outbox, shop.seller2.user.email)
    assert shop.product2.title in text(second) and shop.product.title not in text(second)
    assert len(mails(outbox)) == 3  # nobody else (no admin: nothing ran low)

    # the event delivered again: nothing more is sent
    created = event_id(app, shop.tenant.id, "order.created", order["id"])
    with app.app_context():
        assert consume(created, "mail.order_confirmation") is False
        assert consume(created, "mail.seller_new_order") is False
        # ... nor the mails it asked for (one event each, sent by their own jobs)
        with unscoped():
            requested = db.session.scalars(
                select(OutboxEvent.id).where(
                    OutboxEvent.name == "mail.requested", OutboxEvent.aggregate_id == str(created)
                )
            ).all()
        assert len(requested) == 3
        assert [consume(i, "mail.deliver") for i in requested] == [False] * 3
    assert len(mails(outbox)) == 3

    # the other storefront: its own name, colour and wording
    foreign = place(client, shop, h=shop.h_foreign, items=[(shop.foreign_product.variant_id, 1)])
    (zeta,) = mails_to(outbox, shop.foreign_customer.user.email)
    assert zeta["Subject"] == f"Zeta says thanks for {foreign['number']}"
    assert "Zeta Market" in zeta["From"] and "Acme" not in zeta.as_string()
    assert text(zeta) == f"Zeta order {foreign['number']}: ${float(foreign['total']):,.2f}\n"
    assert "#0055aa" in html(zeta)


def test_amounts_in_the_tenants_currency_and_times_in_its_zone(app, client, shop, outbox):  # noqa: F811
    brand(app, shop.tenant, "Maison", "#333333", currency="USD", zone="Asia/Tokyo")
    with app.app_context(), unscoped():
        db.session.execute(
            update(Tenant).where(Tenant.id == shop.tenant.id).values(default_language="fr")
        )
        db.session.commit()
    place(client, shop, items=[(shop.product.variant_id, 1)])
    (confirmation,) = mails_to(outbox, shop.customer.user.email)
    body = text(confirmation)
    assert "$US" in body or "\xa0$" in body  # French writes the symbol after the amount
    assert "(Asia/Tokyo)" in body


def test_status_changes_tell_the_customer_with_tracking(app, client, shop, outbox):  # noqa: F811
    order = place(client, shop, payment=CARD_OK)
    number = order["number"]
    assert patch(client, shop.h_seller, order["id"], status="processing").status_code == 200
    sub = sub_of(order, shop.seller.id)
    label = client.post(
        "/api/v1/shipping/create-label/", headers=shop.h_seller, json={"sub_order_id": sub["id"]}
    )
    assert label.status_code == 201, label.get_json()
    tracking = label.get_json()["tracking_number"]
    assert patch(client, shop.h_seller, order["id"], status="delivered").status_code == 200
    to_customer = {m["Subject"]: m for m in mails_to(outbox, shop.customer.user.email)}
    shipped = to_customer[f"Your order {number} is on its way"]
    assert tracking in text(shipped) and tracking in html(shipped)
    assert shop.seller.store_name in text(shipped)
    assert f"Your order {number} was delivered" in to_customer
    # the sellers got their new-order mail only (status mails are the customer's)
    assert len(mails_to(outbox, shop.seller.user.email)) == 1


def test_a_cancelled_order_is_mailed_to_the_customer(app, client, shop, outbox):  # noqa: F811
    order = place(client, shop, items=[(shop.product.variant_id, 1)])
    answer = client.post(
        f"/api/v1/orders/{order['id']}/cancel/", headers=shop.h, json={"reason": "changed my mind"}
    )
    assert answer.status_code == 200, answer.get_json()
    subjects = [m["Subject"] for m in mails_to(outbox, shop.customer.user.email)]
    assert subjects.count(f"Your order {order['number']} was cancelled") == 1


def test_refund_requested_decided_and_paid(app, client, shop, outbox):  # noqa: F811
    order = place(client, shop, payment=CARD_OK)
    sub = sub_of(order, shop.seller.id)
    asked = client.post(
        f"/api/v1/orders/{order['id']}/refund/",
        headers=shop.h,
        json={"reason": "too small", "sub_order_id": sub["id"]},
    )
    assert asked.status_code in (200, 201), asked.get_json()
    (request,) = [r for r in asked.get_json()["refund_requests"] if r["sub_order_id"] == sub["id"]]
    (to_seller,) = [
        m for m in mails_to(outbox, shop.seller.user.email) if "Refund requested" in m["Subject"]
    ]
    assert "too small" in text(to_seller)
    assert not [m for m in mails_to(outbox, shop.seller2.user.email) if "Refund" in m["Subject"]]
    decided = client.post(
        f"/api/v1/orders/{order['id']}/refund/",
        headers=shop.h_seller,
        json={"request_id": request["id"], "approve": True},
    )
    assert decided.status_code in (200, 201), decided.get_json()
    subjects = [m["Subject"] for m in mails_to(outbox, shop.customer.user.email)]
    number = order["number"]
    assert f"Your refund on order {number} was approved" in subjects
    amount = f"${float(request['amount']):,.2f}"
    assert f"Refund of {amount} on order {number} paid" in subjects


def test_payment_failed_tells_the_customer(app, client, shop, outbox):  # noqa: F811
    order = place(client, shop, payment=CARD_DECLINED)
    subjects = [m["Subject"] for m in mails_to(outbox, shop.customer.user.email)]
    assert f"Payment of order {order['number']} failed" in subjects


def test_low_stock_tells_the_seller_and_the_shops_admins(app, client, shop, outbox):  # noqa: F811
    place(client, shop, items=[(shop.product2.variant_id, 3)])  # 5 -> 2, reorder point 3
    low = [m for m in mails(outbox) if m["Subject"].startswith("Low stock: ")]
    assert sorted(m["To"] for m in low) == sorted([shop.seller2.user.email, shop.admin.email])
    assert shop.product2.title in low[0]["Subject"]
    assert not mails_to(outbox, shop.other.user.email)


def test_a_review_tells_the_products_seller(app, client, shop, outbox):  # noqa: F811
    review(app, shop.tenant.id, shop.customer, shop.product.id, 4, "Lovely")
    (mail,) = mails_to(outbox, shop.seller.user.email)
    assert mail["Subject"] == f"New 4-star review of {shop.product.title}"
    assert "Lovely" in text(mail)
    assert not mails_to(outbox, shop.seller2.user.email)


def test_email_switched_off_is_honoured(app, client, shop, outbox):  # noqa: F811
    email_off(client, shop.h, "order.created")  # the customer: no confirmation
    email_off(client, shop.h_seller, "*")  # the first seller: no mail at all
    place(client, shop)
    assert not mails_to(outbox, shop.customer.user.email)
    assert not mails_to(outbox, shop.seller.user.email)
    assert len(mails_to(outbox, shop.seller2.user.email)) == 1
    # still in the app (the notification centre's own notice)
    items = client.get("/api/v1/notifications/", headers=shop.h).get_json()["items"]
    assert [i["type"] for i in items] == ["order.created"]


def test_a_broken_override_is_refused_and_a_good_one_used(app, client, shop, outbox):  # noqa: F811
    with app.app_context(), tenant_scope(shop.tenant.id):
        actor = actor_for(db.session.get(User, shop.admin.id))
        from app.core.errors import ValidationError

        with pytest.raises(ValidationError) as refused:
            mail_templates.save(
                actor, "order_confirmation", "Hi {{ order_number }", "x\n{{ nope }}\n", "<p>ok</p>"
            )
        details = refused.value.details
        assert details["subject"][0].startswith("line 1: ")
        assert details["text"] == ["line 2: 'nope' is undefined"]
        assert "html" not in details
        assert mail_templates.kinds(actor)[0].customised is False  # nothing stored
        mail_templates.save(
            actor,
            "order_confirmation",
            "Merci {{ recipient_name }} for {{ order_number }}",
            "Total {{ total|money }}\n",
            "<p>Total {{ total|money }}</p>",
        )
        db.session.remove()
    order = place(client, shop, items=[(shop.product.variant_id, 1)])
    (mail,) = mails_to(outbox, shop.customer.user.email)
    assert mail["Subject"] == f"Merci Test for {order['number']}"
    assert text(mail) == f"Total ${float(order['total']):,.2f}\n"


def test_a_mail_sent_again_after_a_crash_is_the_same_message(app, client, shop, outbox):  # noqa: F811
    """The worker died after handing the mail to SMTP and before committing: the outbox delivers
    mail.requested again and the mail goes out again, with the same Message-ID (receiving systems
    collapse it); two different mails never share one."""
    from app.inbox import mails as inbox_mails

    review(app, shop.tenant.id, shop.customer, shop.product.id, 5, "Great")
    (first,) = mails_to(outbox, shop.seller.user.email)
    with app.app_context(), tenant_scope(shop.tenant.id):
        requested = db.session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.name == inbox_mails.MAIL_REQUESTED)
            .order_by(OutboxEvent.id.desc())
        ).first()
        assert requested.payload["to"] == shop.seller.user.email
        inbox_mails.deliver(requested)  # what the redelivery runs
    again = mails_to(outbox, shop.seller.user.email)
    assert len(again) == 2
    assert again[0]["Message-ID"] == again[1]["Message-ID"] == first["Message-ID"]
    assert f".mail-{requested.id}@" in first["Message-ID"]
    place(client, shop)  # another mail to the same seller: a Message-ID of its own
    ids = [m["Message-ID"] for m in mails_to(outbox, shop.seller.user.email)]
    assert len(ids) == 3 and len(set(ids)) == 2
