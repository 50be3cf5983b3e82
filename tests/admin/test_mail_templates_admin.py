"""The admin's "Mail templates" (admin/views/mail_templates.py): staff list the shop's mails, edit
the shop's own wording (a template that does not render is refused with its part, line and
message, and nothing is stored), preview it with sample data in the shop's branding (HTML in a
sandboxed iframe), and reset it. A Seller is refused every page; another storefront's admin sees
its own shop's mails, never this one's wording."""

from __future__ import annotations

import html as html_lib

import pytest
from sqlalchemy import select, update

from app.core.tenancy import tenant_scope, unscoped
from app.extensions import db
from app.notifications.models import MailTemplate
from app.security import roles
from app.security.models import AuditLog
from app.tenants.models import Tenant
from tests.builders.admin import login

BASE = "/admin/mail-templates"


@pytest.fixture
def shops(app, factory):
    tenant, other = factory.tenant(), factory.tenant()
    with app.app_context(), unscoped():
        db.session.execute(
            update(Tenant)
            .where(Tenant.id == tenant.id)
            .values(name="Acme Outfitters", primary_color="#aa3300", default_currency="EUR")
        )
        db.session.execute(update(Tenant).where(Tenant.id == other.id).values(name="Zeta Market"))
        db.session.commit()
    return {
        "tenant": tenant,
        "other": other,
        "admin": factory.user(tenant, roles.ADMIN),
        "seller": factory.seller(tenant),
        "other_admin": factory.user(other, roles.ADMIN),
    }


def _stored(app, tenant_id):
    with app.app_context(), tenant_scope(tenant_id):
        return {row.kind: row.subject for row in db.session.scalars(select(MailTemplate)).all()}


def test_staff_edit_preview_and_reset_a_mail(app, shops):
    client, _ = login(app, shops["tenant"].slug, shops["admin"].username)
    listing = client.get(f"{BASE}/")
    assert listing.status_code == 200
    page = listing.get_data(as_text=True)
    assert "Order confirmation" in page and "New order for a seller" in page and "Built-in" in page

    # the editor starts from the built-in wording
    editor = client.get(f"{BASE}/edit/order_confirmation").get_data(as_text=True)
    assert "Your order {{ order_number }} at {{ shop.name }}" in html_lib.unescape(editor)

    # a template that does not compile, or names a value the mail does not have: refused
    refused = client.post(
        f"{BASE}/edit/order_confirmation",
        data={
            "subject": "Thanks {{ order_number }",
            "text": "Hello\n{{ totl|money }}\n",
            "html": "<p>{{ order_number }}</p>",
        },
    )
    assert refused.status_code == 200
    text = html_lib.unescape(refused.get_data(as_text=True))
    assert "Not saved" in text
    assert "line 1: unexpected" in text
    assert "line 2: 'totl' is undefined" in text
    assert _stored(app, shops["tenant"].id) == {}

    saved = client.post(
        f"{BASE}/edit/order_confirmation",
        data={
            "subject": "Merci for {{ order_number }}",
            "text": "Total {{ total|money }}\n",
            "html": '{% extends "_brand.html" %}{% block content %}<p class="own">Total '
            "{{ total|money }}</p>{% endblock %}",
        },
    )
    assert saved.status_code == 302 and saved.headers["Location"].endswith(
        f"{BASE}/preview/order_confirmation"
    )
    assert _stored(app, shops["tenant"].id) == {
        "order_confirmation": "Merci for {{ order_number }}"
    }
    with app.app_context(), unscoped():  # audited as every admin change: who, what, before/after
        audit = db.session.scalars(
            select(AuditLog).where(
                AuditLog.tenant_id == shops["tenant"].id, AuditLog.entity == "MailTemplate"
            )
        ).all()
        assert [(row.action, row.actor_id) for row in audit] == [("create", shops["admin"].id)]

    preview = client.get(f"{BASE}/preview/order_confirmation")
    assert preview.status_code == 200
    body = preview.get_data(as_text=True)
    assert "Merci for 260314-5F3A9C21D0" in body
    assert "Total €75.99" in body  # the shop's currency
    # the HTML in a sandboxed iframe: escaped into srcdoc, the shop's colour and name in it
    assert '<iframe class="mail-html"' in body and 'sandbox=""' in body
    srcdoc = html_lib.unescape(body.split('srcdoc="', 1)[1].split('"', 1)[0])
    assert 'class="own"' in srcdoc and "#aa3300" in srcdoc and "Acme Outfitters" in srcdoc
    assert "<script" not in body.split('srcdoc="', 1)[1].split('"', 1)[0]
    # the page passes the admin's CSP: frames only of its own origin, no inline script
    csp = preview.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp

    # another mail's preview: the built-in wording, in the shop's branding
    other = client.get(f"{BASE}/preview/low_stock").get_data(as_text=True)
    assert "Low stock: " in other and "The built-in wording." in other

    reset = client.post(f"{BASE}/reset/order_confirmation")
    assert reset.status_code == 302
    assert _stored(app, shops["tenant"].id) == {}
    assert client.get(f"{BASE}/edit/nope").status_code == 404


def test_a_seller_and_another_storefront_are_refused(app, shops):
    admin, _ = login(app, shops["tenant"].slug, shops["admin"].username)
    assert (
        admin.post(
            f"{BASE}/edit/seller_new_order",
            data={"subject": "Acme secret {{ order_number }}", "text": "x\n", "html": "<p>x</p>"},
        ).status_code
        == 302
    )
    seller, _ = login(app, shops["tenant"].slug, shops["seller"].user.username)
    for path in ("/", "/preview/seller_new_order", "/edit/seller_new_order"):
        answer = seller.get(f"{BASE}{path}")
        assert answer.status_code in (302, 403), path
        assert "Acme secret" not in answer.get_data(as_text=True)
    assert seller.post(f"{BASE}/reset/seller_new_order").status_code in (302, 403)
    assert _stored(app, shops["tenant"].id) == {
        "seller_new_order": "Acme secret {{ order_number }}"
    }

    # the other storefront's admin sees its own shop: the built-in wording, its own name
    far, _ = login(app, shops["other"].slug, shops["other_admin"].username)
    page = far.get(f"{BASE}/preview/seller_new_order").get_data(as_text=True)
    assert "Acme secret" not in page and "Zeta Market" in html_lib.unescape(page)
    # ... and naming this storefront in the header does not change that
    crossed = far.get(
        f"{BASE}/preview/seller_new_order", headers={"X-Tenant": shops["tenant"].slug}
    )
    assert "Acme secret" not in crossed.get_data(as_text=True)
    assert far.post(f"{BASE}/reset/seller_new_order").status_code == 302
    assert _stored(app, shops["tenant"].id) == {
        "seller_new_order": "Acme secret {{ order_number }}"
    }
