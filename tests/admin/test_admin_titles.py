"""Every admin page is titled the same way (issue 13): a list in the plural ("Shipping rates"), a
row's page in the singular ("Shipping rate"), its forms "Add shipping rate" / "Edit shipping rate";
no FAB default ("List Shipping Rate Bracket", "Show ..."); the menu says what the page's title says."""

from __future__ import annotations

from admin.base import MarketModelView, lower_first
from app.security import roles
from tests.builders.admin import login


def _views(app) -> list[MarketModelView]:
    return [v for v in app.appbuilder.baseviews if isinstance(v, MarketModelView)]


def test_every_view_follows_the_title_convention(app):
    views = _views(app)
    assert len(views) > 30
    for view in views:
        name = type(view).__name__
        assert not view.list_title.startswith("List "), name
        assert not view.show_title.startswith("Show "), name
        assert view.list_title[:1].isupper() and view.show_title[:1].isupper(), name
        assert view.list_title != view.show_title or view.list_title.endswith("settings"), name
        assert view.add_title == f"Add {lower_first(view.show_title)}", name
        assert view.edit_title == f"Edit {lower_first(view.show_title)}", name
        # words in sentence case: "Shipping rates", not "Shipping Rates"; an acronym (SKU, KYC) stays
        for word in view.list_title.split()[1:]:
            assert word == word.lower() or (len(word) > 1 and word.isupper()), (name, word)


def test_the_menu_reads_as_the_pages_titles(app):
    seen = 0
    for group in app.appbuilder.menu.menu:
        for item in group.childs:
            if isinstance(item.baseview, MarketModelView):
                assert item.label == item.baseview.list_title, (item.name, item.label)
                seen += 1
    assert seen > 25


def test_the_pages_show_their_titles(app, factory):
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    client, _ = login(app, tenant.slug, admin.username)
    listed = client.get("/admin/shipping-rates/list/").get_data(as_text=True)
    assert "Shipping rates" in listed and "List Shipping Rate Bracket" not in listed
    added = client.get("/admin/tax-rules/add").get_data(as_text=True)
    assert "Add tax rule" in added and "Add Tax Rule" not in added
    home = client.get("/admin/orders/list/").get_data(as_text=True)
    assert ">Orders<" in home or "Orders</" in home
    assert "All orders" not in home  # the menu entry is the page's title
