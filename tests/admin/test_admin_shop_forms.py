"""Forms and filters ask what a shop knows: enumerations kept as text are selects of their values
(MarketModelView.choices_columns), lists filter by name rather than numeric ids (search_related:
products by seller, category and brand; references: payments by order number), with the same
tenant and seller scoping as everything else."""

from __future__ import annotations

import re

import pytest

from app.catalog.models import PRODUCT_STATUSES, Product
from app.extensions import db
from app.orders.models import Order
from app.security import roles
from tests.builders.admin import login, scope
from tests.builders.payments import CARD_OK, Payments

pytestmark = pytest.mark.smoke


@pytest.fixture
def shop(app, factory):
    tenant, other = factory.tenant(), factory.tenant()
    seller, neighbour = factory.seller(tenant), factory.seller(tenant)
    lamp = factory.product(seller, title="Brass lamp")
    stool = factory.product(neighbour, title="Pine stool")
    return {
        "tenant": tenant,
        "other": other,
        "admin": factory.user(tenant, roles.ADMIN),
        "seller": seller,
        "neighbour": neighbour,
        "lamp": lamp,
        "stool": stool,
    }


def _select(page: str, name: str) -> list[str]:
    """The option values of the <select name=...> of the page."""
    match = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert match, f"no select {name}"
    return re.findall(r'<option[^>]*value="([^"]*)"', match.group(1))


def test_enumerations_are_selects_of_their_values(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["admin"].username)
    add = client.get("/admin/products/add").get_data(as_text=True)
    assert _select(add, "status") == list(PRODUCT_STATUSES)
    assert _select(add, "product_type") == ["physical", "digital"]
    assert ">__None<" not in add  # an empty choice reads "—", not its value
    edit = client.get(f"/admin/sellers/edit/{shop['seller'].id}").get_data(as_text=True)
    assert _select(edit, "business_type") == ["individual", "company"]
    assert re.search(r'<option selected value="individual">', edit)  # the stored value chosen
    assert 'name="status"' not in edit  # a status moves by the seller page's steps only
    attributes = client.get("/admin/attributes/add").get_data(as_text=True)
    assert _select(attributes, "type") == ["text", "number", "boolean", "choice"]


def test_a_posted_value_outside_the_enumeration_is_refused_and_nothing_changes(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["admin"].username)
    lamp = shop["lamp"]
    response = client.post(
        f"/admin/products/edit/{lamp.id}",
        data={"title": "Brass lamp", "status": "deleted-for-good", "product_type": "physical"},
    )
    assert response.status_code == 200  # the form again, with its error
    assert "Not a valid choice" in response.get_data(as_text=True)
    with scope(app, shop["tenant"].id):
        assert db.session.get(Product, lamp.id).status == "active"


def test_products_are_filtered_by_seller_by_name_not_by_id(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["admin"].username)
    page = client.get("/admin/products/list/").get_data(as_text=True)
    assert "Seller id" not in page and "Category id" not in page and "Brand id" not in page
    # the search's seller select asks the related endpoint, by store name
    found = client.get(
        "/admin/products/related/seller/", query_string={"q": shop["seller"].store_name[:9]}
    ).get_json()
    assert {"id": shop["seller"].id, "text": shop["seller"].store_name} in found["results"]
    listed = client.get(
        "/admin/products/list/", query_string={"_flt_0_seller": shop["seller"].id}
    ).get_data(as_text=True)
    assert "Brass lamp" in listed and "Pine stool" not in listed


def test_a_seller_finds_only_its_own_store_in_the_seller_filter(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["seller"].user.username)
    found = client.get("/admin/products/related/seller/", query_string={"q": "Store"}).get_json()
    assert [row["id"] for row in found["results"]] == [shop["seller"].id]


def test_payments_are_searched_by_order_number(app, shop):
    payments = Payments(app)
    first = payments.start(shop["tenant"].id, amount="10.00", details=CARD_OK)
    second = payments.start(shop["tenant"].id, amount="20.00", details=CARD_OK)
    foreign = payments.start(shop["other"].id, amount="30.00", details=CARD_OK)
    with scope(app):
        number = db.session.get(Order, first.order_id).number
        foreign_number = db.session.get(Order, foreign.order_id).number
    client, _ = login(app, shop["tenant"].slug, shop["admin"].username)
    page = client.get("/admin/payments/list/").get_data(as_text=True)
    # the filter's input is text (an order number), not a number box
    listed = client.get("/admin/payments/list/", query_string={"_flt_0_order_id": number}).get_data(
        as_text=True
    )
    assert f"/admin/payments/show/{first.id}" in listed
    assert f"/admin/payments/show/{second.id}" not in listed
    assert 'name="order_id"' in page or "order_id" in page
    # another tenant's order number finds nothing
    other = client.get(
        "/admin/payments/list/", query_string={"_flt_0_order_id": foreign_number}
    ).get_data(as_text=True)
    assert "/admin/payments/show/" not in other


def test_customers_are_found_by_name_or_e_mail(app, factory, shop):
    ada, bob = factory.customer(shop["tenant"]), factory.customer(shop["tenant"])
    client, _ = login(app, shop["tenant"].slug, shop["admin"].username)
    found = client.get(
        "/admin/customers/related/user/", query_string={"q": ada.user.email[:8]}
    ).get_json()
    assert [row["id"] for row in found["results"]] == [ada.user_id]
    listed = client.get(
        "/admin/customers/list/", query_string={"_flt_0_user": ada.user.email}
    ).get_data(as_text=True)
    assert f"/admin/customers/show/{ada.id}" in listed
    assert f"/admin/customers/show/{bob.id}" not in listed
