"""The customers list and a customer's page (admin/views/customer_page.py,
app/orders/customer_overview.py): found by name or e-mail, with the orders each placed and what it
spent (per currency, paid orders less refunds), for the page's rows; the page lists the recent
orders (to the order desk) and the addresses. Staff only."""

from __future__ import annotations

import pytest

from app.security import roles
from tests.builders.admin import login
from tests.builders.back_office import customer_order, name_user, row_of, text_of

pytestmark = pytest.mark.smoke


@pytest.fixture
def people(app, factory):
    tenant = factory.tenant()
    ada, bob, cy = (factory.customer(tenant) for _ in range(3))
    name_user(app, tenant.id, ada.user_id, "Ada", "Lovelace")
    name_user(app, tenant.id, bob.user_id, "Bob", "Marley")
    name_user(app, tenant.id, cy.user_id, "Cy", "Twombly")
    orders = [
        customer_order(app, tenant.id, ada.user_id, "100.00"),
        customer_order(
            app,
            tenant.id,
            ada.user_id,
            "50.00",
            refunded="20.00",
            status="partially_refunded",
            payment_status="partially_refunded",
        ),
        customer_order(app, tenant.id, ada.user_id, "70.00", currency="EUR"),
        # placed but never paid: counted as an order, not as spent
        customer_order(
            app, tenant.id, ada.user_id, "999.00", status="cancelled", payment_status="unpaid"
        ),
        customer_order(
            app,
            tenant.id,
            bob.user_id,
            "40.00",
            status="refunded",
            payment_status="refunded",
            refunded="40.00",
        ),
    ]
    return {
        "tenant": tenant,
        "admin": factory.user(tenant, roles.ADMIN),
        "seller": factory.seller(tenant),
        "ada": ada,
        "bob": bob,
        "cy": cy,
        "orders": orders,
    }


def _row(page: str, profile_id: int) -> str:
    return row_of(page, f"/admin/customers/show/{profile_id}")


def test_the_list_shows_name_e_mail_orders_and_spending(app, people):
    client, _ = login(app, people["tenant"].slug, people["admin"].username)
    page = client.get("/admin/customers/list/").get_data(as_text=True)
    ada = text_of(_row(page, people["ada"].id))
    assert "Ada Lovelace" in ada and people["ada"].user.email in ada
    # 4 orders; spent 100 + (50 - 20) in dollars and 70 in euros; the unpaid 999.00 not
    # (an amount, not the bare digits: the random e-mail address may hold "999")
    assert " 4 " in f" {ada} " and "$130.00" in ada and "€70.00" in ada
    assert "999.00" not in ada and "1,129" not in ada
    bob = text_of(_row(page, people["bob"].id))
    assert " 1 $0.00 " in f" {bob} "  # paid, then refunded in full
    cy = text_of(_row(page, people["cy"].id))
    assert "Cy Twombly" in cy and " 0 " in f" {cy} "


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("ada", {"ada"}),  # a first name, any case
        ("lovel", {"ada"}),  # part of a last name
        ("bob marley", {"bob"}),  # each word in a name
        ("twombly", {"cy"}),
        ("nobody here", set()),
        ("%", set()),  # a wildcard is a character, not "anything"
    ],
)
def test_customers_are_searched_by_name(app, people, typed, found):
    client, _ = login(app, people["tenant"].slug, people["admin"].username)
    page = client.get("/admin/customers/list/", query_string={"_flt_0_user": typed})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    listed = {k for k in ("ada", "bob", "cy") if f'/admin/customers/show/{people[k].id}"' in html}
    assert listed == found


def test_customers_are_searched_by_e_mail(app, people):
    client, _ = login(app, people["tenant"].slug, people["admin"].username)
    email = people["bob"].user.email
    html = client.get("/admin/customers/list/", query_string={"_flt_0_user": email[:8]}).get_data(
        as_text=True
    )
    assert f'/admin/customers/show/{people["bob"].id}"' in html
    assert f'/admin/customers/show/{people["ada"].id}"' not in html
    # the search form offers a text box for it, not a numeric id
    form = client.get("/admin/customers/list/").get_data(as_text=True)
    assert "Name or e-mail" in form


def test_the_customer_page_shows_recent_orders_and_addresses(app, people):
    client, _ = login(app, people["tenant"].slug, people["admin"].username)
    page = client.get(f"/admin/customers/show/{people['ada'].id}").get_data(as_text=True)
    text = text_of(page)
    assert "Ada Lovelace" in text and people["ada"].user.email in text
    for order_id in people["orders"][:4]:
        assert f'href="/admin/orders/show/{order_id}"' in page  # to the order desk
    assert f'/admin/orders/show/{people["orders"][4]}"' not in page  # Bob's
    assert "$130.00" in text and "€70.00" in text and "Partially refunded" in text
    assert "1 Main St" in text and "London" in text and "Default" in text  # the address
    assert f"/admin/addresses/edit/{people['ada'].address_id}" in page


def test_a_seller_has_no_customer_pages(app, people):
    client, _ = login(app, people["tenant"].slug, people["seller"].user.username)
    assert client.get("/admin/customers/list/").status_code == 403
    assert client.get(f"/admin/customers/show/{people['ada'].id}").status_code == 403


def test_a_customer_of_another_tenant_is_404(app, factory, people):
    stranger = factory.tenant()
    admin = factory.user(stranger, roles.ADMIN)
    client, _ = login(app, stranger.slug, admin.username)
    assert client.get(f"/admin/customers/show/{people['ada'].id}").status_code == 404
    html = client.get("/admin/customers/list/", query_string={"_flt_0_user": "Ada"}).get_data(
        as_text=True
    )
    assert f'/admin/customers/show/{people["ada"].id}"' not in html
