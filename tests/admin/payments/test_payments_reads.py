"""Money records read like a shop's (admin.formatting through MarketModelView): amounts with their
currency, orders by number and linked where the user may open them, customers by name, and for a
Super Admin the tenant of every row with a tenant select."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.orders.models import Order
from app.tenants.models import Tenant
from tests.builders.admin import login, scope
from tests.builders.payments import CARD_OK


@pytest.fixture
def paid(app, payments, shop):
    """A paid card payment of 44.00 on an order of the shop's customer, the order's number."""
    payment = payments.start(
        shop.tenant.id, amount="44.00", details=CARD_OK, user_id=shop.customer.user_id
    )
    with scope(app, shop.tenant.id):
        number = db.session.get(Order, payment.order_id).number
    return payment, number


def test_the_payments_list_reads_like_a_shop(app, shop, paid):
    payment, number = paid
    client, _ = login(app, shop.tenant.slug, shop.admin.username)
    page = client.get("/admin/payments/list/").get_data(as_text=True)
    row = _row_of(page, f"/admin/payments/show/{payment.id}")
    assert "$44.00" in row  # amount with its currency
    assert re.search(r"<time datetime=\"[^\"]+\" title=\"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row)
    # the order by its number, linked to its page; not "Order Id 4"
    assert re.search(rf'<a href="/admin/orders/show/{payment.order_id}">{number}</a>', row)
    assert "None" not in row and "Order Id" not in page

    shown = client.get(f"/admin/payments/show/{payment.id}").get_data(as_text=True)
    assert number in shown and "$44.00" in shown
    # the customer by name and e-mail, not a user id
    assert shop.customer.user.email in shown and "Customer User Id" not in shown


def test_a_seller_reads_the_customer_by_name_only_and_no_link_to_pages_it_cannot_open(
    app, payments, sellers_world
):
    shop, world = sellers_world
    client, _ = login(app, shop.tenant.slug, shop.seller.user.username)
    payment_id = world["payment"]
    shown = client.get(f"/admin/payments/show/{payment_id}").get_data(as_text=True)
    assert shown.count("/admin/orders/show/") == 0  # orders are for Admins: no dead links
    assert world["number"] in shown
    assert world["customer_email"] not in shown


@pytest.fixture
def sellers_world(app, payments, shop):
    order_id = payments.order(
        shop.tenant.id, total="20.00", user_id=shop.customer.user_id, seller_ids=(shop.seller.id,)
    )
    payment = payments.start(
        shop.tenant.id,
        amount="20.00",
        details=CARD_OK,
        user_id=shop.customer.user_id,
        order_id=order_id,
    )
    with scope(app, shop.tenant.id):
        number = db.session.get(Order, order_id).number
    return shop, {
        "payment": payment.id,
        "number": number,
        "customer_email": shop.customer.user.email,
    }


def test_a_super_admin_reads_each_rows_tenant_and_can_choose_one(app, factory, payments, shop):
    mine = payments.start(shop.tenant.id, amount="61.00", details=CARD_OK)
    theirs = payments.start(shop.foreign.id, amount="62.00", details=CARD_OK)
    with scope(app):
        names = {
            t.id: t.name
            for t in db.session.query(Tenant).filter(
                Tenant.id.in_([shop.tenant.id, shop.foreign.id])
            )
        }
        db.session.get(Tenant, shop.foreign.id).name = "Foreign shop"
        db.session.commit()
        names[shop.foreign.id] = "Foreign shop"
    client, _ = login(
        app, shop.tenant.slug, app.config["ADMIN_USERNAME"], app.config["ADMIN_PASSWORD"]
    )
    page = client.get("/admin/payments/list/?psize_PaymentView=100").get_data(as_text=True)
    assert "<th>Tenant</th>" in page or ">Tenant<" in page
    assert names[shop.foreign.id] in _row_of(page, f"/admin/payments/show/{theirs.id}")
    assert names[shop.tenant.id] in _row_of(page, f"/admin/payments/show/{mine.id}")
    assert 'name="_tenant"' in page  # the tenant select above the list
    only = client.get(f"/admin/payments/list/?_tenant={shop.foreign.id}").get_data(as_text=True)
    assert f"/admin/payments/show/{theirs.id}" in only
    assert f"/admin/payments/show/{mine.id}" not in only
    # a tenant's own Admin gets neither the column nor the select
    admin, _ = login(app, shop.tenant.slug, shop.admin.username)
    own = admin.get("/admin/payments/list/").get_data(as_text=True)
    assert 'name="_tenant"' not in own and "Foreign shop" not in own
    assert f"/admin/payments/show/{mine.id}" in admin.get(
        f"/admin/payments/list/?_tenant={shop.foreign.id}"
    ).get_data(as_text=True)  # the parameter means nothing to a tenant's admin


def _row_of(page: str, href: str) -> str:
    """The <tr> of the list row whose buttons link to `href`."""
    at = page.index(href)
    return page[page.rindex("<tr", 0, at) : page.index("</tr>", at)]
