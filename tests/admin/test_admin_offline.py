"""The admin works offline: FAB's "User's Statistics" page (Google Charts fetched from the internet,
blank without it) is gone for every role, its permissions with it, and no page reached from the
menu references a script or stylesheet on another host. (tests/browser/test_admin_csp_browser.py
checks what Chromium actually requests, scripts loaded by scripts included.)"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.core.tenancy import unscoped
from app.extensions import db
from app.security import roles
from tests.builders.admin import login

pytestmark = pytest.mark.smoke

STATS_ROUTES = ("/userstatschartview/chart/", "/userstatschartview/chart/last_login")


class _Assets(HTMLParser):
    """The scripts and stylesheets a page loads, and the links it offers."""

    def __init__(self):
        super().__init__()
        self.assets, self.links = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.assets.append(attrs["src"])
        elif tag == "link" and attrs.get("href"):
            self.assets.append(
                attrs["href"]
            )  # stylesheets, icons, preloads: all fetched by the browser
        elif tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])

    def handle_data(self, data):
        # @import url(...) and url(...) in inline styles
        self.assets.extend(re.findall(r"""url\(\s*['"]?([^'")\s]+)""", data))


def _external(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.netloc) and parts.netloc not in ("localhost", "127.0.0.1")


def _parse(html: str) -> _Assets:
    parser = _Assets()
    parser.feed(html)
    return parser


def _staff(app, factory):
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    seller = factory.seller(tenant)
    return tenant, {
        "Admin": (admin.username, None),
        "Seller": (seller.user.username, None),
        "Super Admin": (app.config["ADMIN_USERNAME"], app.config["ADMIN_PASSWORD"]),
    }


def _sign_in(app, tenant, username, password):
    return (
        login(app, tenant.slug, username, password)
        if password
        else login(app, tenant.slug, username)
    )


def test_users_statistics_is_gone_for_every_role(app, factory):
    tenant, people = _staff(app, factory)
    for role, (username, password) in people.items():
        client, _ = _sign_in(app, tenant, username, password)
        home = client.get("/").get_data(as_text=True)
        assert "User&#39;s Statistics" not in home and "User's Statistics" not in home, role
        assert not any("userstatschartview" in link for link in _parse(home).links), role
        for route in STATS_ROUTES:
            assert client.get(route).status_code == 404, (role, route)
    with app.app_context(), unscoped():
        sm = app.appbuilder.sm
        names = set(db.session.scalars(select(sm.viewmenu_model.name)))
        assert "UserStatsChartView" not in names and "User's Statistics" not in names


def test_flask_init_drops_the_permissions_of_views_that_are_gone(app):
    """A database made by an earlier version still holds the page's permissions, granted to Admin
    and Super Admin: `flask init` removes them."""
    from admin.cli import sync_roles

    with app.app_context(), unscoped():
        sm = app.appbuilder.sm
        for permission, view in (
            ("can_chart", "UserStatsChartView"),
            ("menu_access", "User's Statistics"),
        ):
            pv = sm.add_permission_view_menu(permission, view)
            for name in (roles.ADMIN, roles.SUPER_ADMIN):
                sm.add_permission_role(sm.find_role(name), pv)
        db.session.commit()
        sync_roles()
        names = set(db.session.scalars(select(sm.viewmenu_model.name)))
        assert "UserStatsChartView" not in names and "User's Statistics" not in names
        for name in (roles.ADMIN, roles.SUPER_ADMIN):
            granted = {pv.view_menu.name for pv in sm.find_role(name).permissions}
            assert not granted & {"UserStatsChartView", "User's Statistics"}
            assert "ProductView" in granted  # the rest of the policy is still there
        db.session.remove()


def test_no_admin_page_references_a_script_or_stylesheet_on_another_host(app, factory):
    tenant, people = _staff(app, factory)
    for role, (username, password) in people.items():
        client, _ = _sign_in(app, tenant, username, password)
        home = _parse(client.get("/").get_data(as_text=True))
        pages = sorted({link for link in home.links if link.startswith("/") and link != "/logout/"})
        assert len(pages) > 5, role  # the menu was read
        for path in ["/", *pages]:
            response = client.get(path)
            assert response.status_code == 200, (role, path)
            external = [
                url for url in _parse(response.get_data(as_text=True)).assets if _external(url)
            ]
            assert not external, (role, path, external)
