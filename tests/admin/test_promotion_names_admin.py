"""A promotion's product, category and seller conditions are chosen by name in search-as-you-type
multi-selects (MarketModelView.ajax_id_lists) and shown by name: the form posts ids as select2
does, the stored JSON lists round-trip through the edit form, and what a user may pick is scoped
(the tenant for everyone, a seller's own products and store for a seller)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.catalog.models import Category, Product
from app.extensions import db
from app.promotions.models import Promotion
from app.security import roles
from tests.builders.admin import BrowserForm, login, scope

pytestmark = pytest.mark.smoke


@pytest.fixture
def names(app, factory):
    tenant, other = factory.tenant(), factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    s1, s2 = factory.seller(tenant), factory.seller(tenant)
    lamp = factory.product(s1, title="Brass desk lamp")
    rug = factory.product(s2, title="Wool rug")
    foreign = factory.product(factory.seller(other), title="Brass lamp elsewhere")
    with scope(app, tenant.id):
        lamp_category = db.session.get(Product, lamp.id).category_id
        category_name = db.session.get(Category, lamp_category).name
    return dict(
        tenant=tenant,
        admin=admin,
        s1=s1,
        s2=s2,
        lamp=lamp,
        rug=rug,
        foreign=foreign,
        category_id=lamp_category,
        category_name=category_name,
    )


def _form(extra_product: str | None = None, **fields):
    form = {
        "name": "Lamp week",
        "kind": "percentage",
        "value": "10",
        "funded_by": "platform",
        "stackable": "y",
        "is_active": "y",
    }
    posted = MultiDict([*form.items(), *fields.items()])
    if extra_product:  # a second chosen product: select2 posts one value per row
        posted.add("product_ids", extra_product)
    return posted


def test_staff_pick_products_categories_and_sellers_by_name(app, names):
    client, _ = login(app, names["tenant"].slug, names["admin"].username)
    # the add form asks for names: multi-selects fed by the view's related endpoint, no id box
    add = client.get("/admin/promotions/add").get_data(as_text=True)
    for column in ("product_ids", "category_ids", "seller_ids"):
        assert f'name="{column}"' in add and f"/admin/promotions/related/{column}/" in add
    assert "multiple" in add and "product_ids_text" not in add and "Comma-separated" not in add
    # typing part of a name finds it; another tenant's product never
    found = client.get("/admin/promotions/related/product_ids/?q=lamp").get_json()
    assert [r["text"] for r in found["results"]] == ["Brass desk lamp"]
    sellers = client.get("/admin/promotions/related/seller_ids/").get_json()
    assert {r["id"] for r in sellers["results"]} == {names["s1"].id, names["s2"].id}
    categories = client.get(
        f"/admin/promotions/related/category_ids/?q={names['category_name']}"
    ).get_json()
    assert [r["id"] for r in categories["results"]] == [names["category_id"]]
    # select2 posts one value per chosen row
    posted = client.post(
        "/admin/promotions/add",
        data=_form(
            product_ids=str(names["rug"].id),
            seller_ids=str(names["s1"].id),
            category_ids=str(names["category_id"]),
            extra_product=str(names["lamp"].id),
        ),
    )
    assert posted.status_code == 302, posted.get_data(as_text=True)[:1500]
    with scope(app, names["tenant"].id):
        promo = db.session.scalar(select(Promotion).where(Promotion.name == "Lamp week"))
        assert promo.product_ids == sorted([names["lamp"].id, names["rug"].id])
        assert (promo.category_ids, promo.seller_ids) == ([names["category_id"]], [names["s1"].id])
        promo_id = promo.id
    # the show page names them, linked to their pages; no bare id list
    show = client.get(f"/admin/promotions/show/{promo_id}").get_data(as_text=True)
    assert f'<a href="/admin/products/show/{names["lamp"].id}">Brass desk lamp</a>' in show
    assert "Wool rug" in show and names["category_name"] in show
    assert names["s1"].store_name in show
    assert f"[{names['lamp'].id}" not in show
    # the edit form shows the chosen rows by name, and saving it unchanged changes nothing
    edit = client.get(f"/admin/promotions/edit/{promo_id}").get_data(as_text=True)
    assert f'<option value="{names["lamp"].id}" selected>Brass desk lamp</option>' in edit
    resaved = client.post(
        f"/admin/promotions/edit/{promo_id}", data=MultiDict(BrowserForm(edit).pairs)
    )
    assert resaved.status_code == 302
    with scope(app, names["tenant"].id):
        again = db.session.get(Promotion, promo_id)
        assert again.product_ids == sorted([names["lamp"].id, names["rug"].id])
        assert (again.category_ids, again.seller_ids) == ([names["category_id"]], [names["s1"].id])


def test_an_id_outside_the_tenant_is_refused_and_nothing_is_written(app, names):
    client, _ = login(app, names["tenant"].slug, names["admin"].username)
    refused = client.post(
        "/admin/promotions/add",
        data=_form(product_ids=str(names["foreign"].id)),
        follow_redirects=True,
    )
    assert refused.status_code == 200 and "Not a valid choice" in refused.get_data(as_text=True)
    bad = client.post("/admin/promotions/add", data=_form(seller_ids="not-an-id"))
    assert "Not a valid choice" in bad.get_data(as_text=True)
    with scope(app, names["tenant"].id):
        assert db.session.scalar(select(Promotion).where(Promotion.name == "Lamp week")) is None


def test_a_seller_picks_among_its_own_products_and_store_only(app, names):
    client, _ = login(app, names["tenant"].slug, names["s1"].user.username)
    products = client.get("/admin/promotions/related/product_ids/").get_json()
    assert [r["id"] for r in products["results"]] == [names["lamp"].id]
    sellers = client.get("/admin/promotions/related/seller_ids/").get_json()
    assert [r["id"] for r in sellers["results"]] == [names["s1"].id]
    # another seller's product, posted by hand, is refused
    theirs = client.post(
        "/admin/promotions/add", data=_form(funded_by="seller", product_ids=str(names["rug"].id))
    )
    assert "Not a valid choice" in theirs.get_data(as_text=True)
    mine = client.post(
        "/admin/promotions/add", data=_form(funded_by="seller", product_ids=str(names["lamp"].id))
    )
    assert mine.status_code == 302
    with scope(app, names["tenant"].id):
        promo = db.session.scalar(select(Promotion).where(Promotion.name == "Lamp week"))
        assert (promo.product_ids, promo.seller_id) == ([names["lamp"].id], names["s1"].id)
