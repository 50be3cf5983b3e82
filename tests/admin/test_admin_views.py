"""The admin UI over HTTP: role permissions, seller ownership, tenant isolation, audit rows."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.catalog.models import Product, ProductVariant
from app.extensions import db
from app.inventory import services as inventory
from app.security import roles
from app.security.models import AuditLog, User
from tests.builders.admin import login, scope
from tests.conftest import FormClient

pytestmark = pytest.mark.smoke


@pytest.fixture
def shop(app, factory):
    """A tenant with an admin, two sellers with a product each, and a customer."""
    tenant = factory.tenant()
    admin_user = factory.user(tenant, roles.ADMIN)
    seller1, seller2 = factory.seller(tenant), factory.seller(tenant)
    p1 = factory.product(seller1, title="Alpha lamp")
    p2 = factory.product(seller2, title="Beta chair")
    customer = factory.customer(tenant)
    return {
        "slug": tenant.slug,
        "tenant_id": tenant.id,
        "admin": admin_user.username,
        "seller1": seller1.user.username,
        "seller1_id": seller1.id,
        "seller2": seller2.user.username,
        "seller2_id": seller2.id,
        "p1": p1.id,
        "p2": p2.id,
        "sku1": p1.sku,
        "sku2": p2.sku,
        "stock1": p1.stock_level_id,
        "customer": customer.user.username,
        "customer_user_id": customer.user_id,
    }


def test_admin_sees_the_product_list(app, shop):
    client, response = login(app, shop["slug"], shop["admin"])
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    page = client.get("/admin/products/list/")
    assert page.status_code == 200
    assert b"Alpha lamp" in page.data and b"Beta chair" in page.data


def test_customer_cannot_log_in_and_gets_403_with_a_session(app, shop):
    client, response = login(app, shop["slug"], shop["customer"], expect_ok=False)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert (
        client.get("/admin/products/list/").status_code == 302
    )  # not signed in: to the login page
    # a signed-in user who is (now) only a customer is refused every admin page with 403
    seller, _ = login(app, shop["slug"], shop["seller2"])
    assert seller.get("/admin/products/list/").status_code == 200
    with scope(app):
        user = db.session.scalar(select(User).where(User.username == shop["seller2"]))
        user.roles = [app.appbuilder.sm.find_role(roles.CUSTOMER)]
        db.session.commit()
    assert seller.get("/admin/products/list/").status_code == 403
    assert seller.get("/admin/users/list/").status_code == 403
    assert seller.get("/admin/inventory/list/").status_code == 403


def test_wrong_password_is_refused(app, shop):
    client, response = login(
        app, shop["slug"], shop["admin"], "not-the-password-1", expect_ok=False
    )
    assert "/login" in response.headers["Location"]
    assert client.get("/admin/products/list/").status_code == 302


def test_seller_sees_and_edits_only_its_own_products(app, shop):
    client, response = login(app, shop["slug"], shop["seller1"])
    assert response.status_code == 302
    page = client.get("/admin/products/list/")
    assert page.status_code == 200
    assert b"Alpha lamp" in page.data and b"Beta chair" not in page.data
    assert client.get(f"/admin/products/show/{shop['p1']}").status_code == 200
    assert client.get(f"/admin/products/show/{shop['p2']}").status_code == 404
    assert client.get(f"/admin/products/edit/{shop['p2']}").status_code == 404
    assert (
        client.post(f"/admin/products/edit/{shop['p2']}", data={"title": "Hijacked"}).status_code
        == 404
    )
    assert client.post(f"/admin/products/delete/{shop['p2']}").status_code in (404, 405)
    with scope(app, shop["tenant_id"]):
        assert db.session.get(Product, shop["p2"]).title == "Beta chair"
    # variants and stock of the other seller are invisible too
    variants = client.get("/admin/variants/list/").data
    other_sku, own_sku = shop["sku2"], shop["sku1"]
    assert own_sku.encode() in variants and other_sku.encode() not in variants
    assert other_sku.encode() not in client.get("/admin/inventory/list/").data


def test_seller_creates_products_only_for_itself(app, shop):
    client, _ = login(app, shop["slug"], shop["seller1"])
    other_seller_id = shop["seller2_id"]
    form = {"title": "Gamma table", "status": "draft", "product_type": "physical"}
    # another seller's store is not even a valid choice: refused, nothing created
    refused = client.post("/admin/products/add", data={**form, "seller": str(other_seller_id)})
    assert refused.status_code == 200 and b"alert-danger" in refused.data
    with scope(app, shop["tenant_id"]):
        assert db.session.scalars(select(Product).where(Product.title == "Gamma table")).all() == []
    # the add form only offers the seller's own store
    add_page = client.get("/admin/products/add").get_data(as_text=True)
    seller_select = re.search(r'<select[^>]*name="seller".*?</select>', add_page, re.S).group(0)
    assert re.findall(r'value="(\d+)"', seller_select) == [str(shop["seller1_id"])]
    response = client.post("/admin/products/add", data={**form, "seller": str(shop["seller1_id"])})
    assert response.status_code == 302
    with scope(app, shop["tenant_id"]):
        created = db.session.scalars(select(Product).where(Product.title == "Gamma table")).all()
        assert [p.seller_id for p in created] == [shop["seller1_id"]]
        assert created[0].slug == "gamma-table" and created[0].is_featured is False


def test_seller_and_admin_cannot_manage_tenants(app, shop):
    seller, _ = login(app, shop["slug"], shop["seller1"])
    assert seller.get("/admin/tenants/list/").status_code == 403
    assert seller.get("/admin/users/list/").status_code == 403
    admin, _ = login(app, shop["slug"], shop["admin"])
    assert admin.get("/admin/tenants/list/").status_code == 403
    assert admin.get("/admin/users/list/").status_code == 200
    superadmin, response = login(
        app, shop["slug"], app.config["ADMIN_USERNAME"], app.config["ADMIN_PASSWORD"]
    )
    assert response.status_code == 302
    assert superadmin.get("/admin/tenants/list/").status_code == 200


def test_tenant_admin_never_sees_super_admins_or_other_tenants(app, shop, factory):
    other = factory.tenant()
    other_product = factory.product(factory.seller(other), title="Other tenant sofa")
    other_id = other_product.id
    admin, _ = login(app, shop["slug"], shop["admin"])
    users = admin.get("/admin/users/list/").data
    assert app.config["ADMIN_EMAIL"].encode() not in users
    assert admin.get(f"/admin/products/show/{other_id}").status_code == 404
    assert b"Other tenant sofa" not in admin.get("/admin/products/list/").data


def test_admin_changes_write_audit_rows(app, shop):
    client, _ = login(app, shop["slug"], shop["admin"])
    response = client.post(
        f"/admin/products/edit/{shop['p1']}",
        data={
            "title": "Alpha lamp XL",
            "slug": "alpha-lamp-xl",
            "status": "active",
            "product_type": "physical",
            "seller": str(shop["seller1_id"]),
        },
    )
    assert response.status_code == 302
    with scope(app):
        row = db.session.scalars(
            select(AuditLog)
            .where(
                AuditLog.entity == "Product",
                AuditLog.entity_id == str(shop["p1"]),
                AuditLog.action == "update",
            )
            .order_by(AuditLog.id.desc())
        ).first()
    assert row is not None
    assert row.before["title"] == "Alpha lamp" and row.after["title"] == "Alpha lamp XL"
    assert (
        row.actor == shop["admin"] and row.source == "admin" and row.tenant_id == shop["tenant_id"]
    )
    assert row.ip == "127.0.0.1"

    client.post(f"/admin/products/delete/{shop['p1']}")
    with scope(app):
        deleted = db.session.scalars(
            select(AuditLog).where(
                AuditLog.entity == "Product",
                AuditLog.entity_id == str(shop["p1"]),
                AuditLog.action == "delete",
            )
        ).first()
    assert deleted is not None and deleted.before["title"] == "Alpha lamp XL"


def test_stock_edit_in_admin_goes_through_the_ledger(app, shop):
    from app.inventory.models import StockLevel, StockMovement

    client, _ = login(app, shop["slug"], shop["seller1"])
    stock_id = shop["stock1"]
    assert (
        client.post(
            f"/admin/inventory/edit/{stock_id}",
            data={"quantity_on_hand": "25", "reorder_point": "3"},
        ).status_code
        == 302
    )
    with scope(app, shop["tenant_id"]):
        assert db.session.get(StockLevel, stock_id).quantity_on_hand == 25
        moves = db.session.scalars(
            select(StockMovement).where(StockMovement.stock_level_id == stock_id)
        ).all()
        assert [(m.reason, m.delta_on_hand, m.on_hand_after) for m in moves] == [("count", 15, 25)]
    # a negative count is refused and changes nothing
    client.post(
        f"/admin/inventory/edit/{stock_id}", data={"quantity_on_hand": "-4", "reorder_point": "3"}
    )
    with scope(app, shop["tenant_id"]):
        assert db.session.get(StockLevel, stock_id).quantity_on_hand == 25


def test_login_is_rate_limited(app, factory):
    from app import create_app

    limited = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        AUTH_RATE_LIMIT="3 per minute",
    )
    limited.test_client_class = FormClient
    tenant = factory.tenant()
    client = limited.test_client()
    client.environ_base["HTTP_X_TENANT"] = tenant.slug
    codes = [
        client.post(
            "/login/", data={"username": "nobody@example.com", "password": "wrong-password-1"}
        ).status_code
        for _ in range(4)
    ]
    assert codes[:3] == [302, 302, 302] and codes[3] == 429


def test_one_apps_login_limit_does_not_leak_into_another(app, factory):
    """The app and FAB share one limiter object in a process; each app's AUTH_RATE_LIMIT stays its own."""
    from app import create_app

    limited = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        AUTH_RATE_LIMIT="2 per minute",
    )
    limited.test_client_class = FormClient
    tenant = factory.tenant()
    attempts = {}
    for name, application in (("limited", limited), ("default", app)):
        client = application.test_client()
        client.environ_base["HTTP_X_TENANT"] = tenant.slug
        client.environ_base["REMOTE_ADDR"] = f"10.9.9.{len(attempts) + 1}"
        attempts[name] = [
            client.post(
                "/login/", data={"username": "nobody@example.com", "password": "wrong-pw-1"}
            ).status_code
            for _ in range(4)
        ]
    assert attempts["limited"] == [302, 302, 429, 429]
    assert attempts["default"] == [302, 302, 302, 302]


def test_tenant_admin_cannot_escalate(app, shop):
    """Groups carry roles and FAB's password reset takes any user id: neither may reach a Super
    Admin or grant Super Admin."""
    admin, _ = login(app, shop["slug"], shop["admin"])
    assert admin.get("/groups/list/").status_code == 403
    with scope(app):
        super_id = db.session.scalar(
            select(User.id).where(
                User.username == app.config["ADMIN_USERNAME"], User.tenant_id.is_(None)
            )
        )
        before = db.session.get(User, super_id).password
    form = {"password": "Hijacked-password-1", "conf_password": "Hijacked-password-1"}
    response = admin.post(f"/resetpassword/form?pk={super_id}", data=form)
    assert response.status_code == 404
    with scope(app):
        assert db.session.get(User, super_id).password == before
        seller_id = db.session.scalar(select(User.id).where(User.username == shop["seller2"]))
        seller_before = db.session.get(User, seller_id).password
    # the same form works on a user of the Admin's own tenant
    assert admin.post(f"/resetpassword/form?pk={seller_id}", data=form).status_code == 302
    with scope(app):
        assert db.session.get(User, seller_id).password != seller_before
    # the Super Admin role is not offered when an Admin edits a user
    page = admin.get("/admin/users/add").get_data(as_text=True)
    roles_select = re.search(r'<select[^>]*name="roles".*?</select>', page, re.S).group(0)
    assert "Super Admin" not in roles_select and ">Seller<" in roles_select


def test_locked_account_cannot_sign_in_to_the_admin(app, shop):
    """The lockout after repeated failed API logins holds at the HTML login too."""
    import datetime as dt

    from app.core.types import utcnow

    with scope(app):
        user = db.session.scalar(select(User).where(User.username == shop["admin"]))
        user.locked_until = utcnow() + dt.timedelta(minutes=10)
        db.session.commit()
    client, response = login(app, shop["slug"], shop["admin"], expect_ok=False)
    assert "/login" in response.headers["Location"]
    assert client.get("/admin/products/list/").status_code == 302
    with scope(app):
        user = db.session.scalar(select(User).where(User.username == shop["admin"]))
        user.locked_until = None
        db.session.commit()
    login(app, shop["slug"], shop["admin"])


def test_super_admin_saves_are_checked_in_the_rows_tenant(app, shop, factory):
    """A Super Admin reads every tenant: saving a row must not meet another storefront's product
    slug (it was renamed "<slug>-2") or its tax settings (the save was refused)."""
    from app.tax.models import TaxSettings

    other = factory.tenant()
    twin = factory.product(factory.seller(other))
    with scope(app):
        slug = db.session.get(Product, shop["p1"]).slug
        db.session.get(Product, twin.id).slug = slug
        db.session.add_all(
            [
                TaxSettings(tenant_id=shop["tenant_id"], prices_include_tax=False),
                TaxSettings(tenant_id=other.id, prices_include_tax=True),
            ]
        )
        db.session.commit()
        settings_id = db.session.scalar(
            select(TaxSettings.id).where(TaxSettings.tenant_id == shop["tenant_id"])
        )
    superadmin, _ = login(
        app, shop["slug"], app.config["ADMIN_USERNAME"], app.config["ADMIN_PASSWORD"]
    )
    response = superadmin.post(
        f"/admin/products/edit/{shop['p1']}",
        data={
            "title": "Alpha lamp",
            "slug": slug,
            "seller": str(shop["seller1_id"]),
            "status": "active",
            "product_type": "physical",
        },
    )
    assert response.status_code == 302
    assert (
        superadmin.post(
            f"/admin/tax-settings/edit/{settings_id}",
            data={"prices_include_tax": "y"},
            follow_redirects=True,
        ).status_code
        == 200
    )
    with scope(app):
        assert db.session.get(Product, shop["p1"]).slug == slug
        assert db.session.get(TaxSettings, settings_id).prices_include_tax is True


def _home_numbers(client) -> list[tuple[str, int]]:
    """The admin home page's catalogue numbers, in the page's order: [(label, value)] (the
    dashboard's tiles above them are tests/browser/test_admin_dashboard_browser.py's)."""
    html = client.get("/").get_data(as_text=True).partition('class="dash-subhead">Catalogue')[2]
    found = re.findall(
        r'class="dash-label text-muted">([^<]+)</div>\s*<div class="dash-value">([\d,]+)</div>',
        html,
    )
    return [(label, int(value.replace(",", ""))) for label, value in found]


def test_home_page_numbers_are_the_roles_own(app, shop):
    """Products, variants and sellers come from the catalog, open low-stock alerts from inventory;
    a seller sees its own (no sellers count), an admin the storefront's, in that order."""
    with scope(app, shop["tenant_id"]):
        inventory.adjust_stock(shop["stock1"], -8)  # 2 left, reorder point 3: an alert opens
    admin_client, _ = login(app, shop["slug"], shop["admin"])
    assert _home_numbers(admin_client) == [
        ("Products", 2),
        ("Variants", 2),
        ("Open low-stock alerts", 1),
        ("Sellers", 2),
    ]
    seller1, _ = login(app, shop["slug"], shop["seller1"])
    assert _home_numbers(seller1) == [
        ("Products", 1),
        ("Variants", 1),
        ("Open low-stock alerts", 1),
    ]
    seller2, _ = login(app, shop["slug"], shop["seller2"])
    assert _home_numbers(seller2) == [
        ("Products", 1),
        ("Variants", 1),
        ("Open low-stock alerts", 0),
    ]


@pytest.mark.parametrize("status", ["pending", "suspended"])
def test_a_seller_not_approved_creates_and_changes_no_product(app, factory, status):
    """The admin's product and variant forms refuse a seller whose profile is not approved, as the
    API's product writes do (app.sellers.services.require_approved), with its message as a flash;
    nothing is written."""
    tenant = factory.tenant()
    seller = factory.seller(tenant, status=status)
    product = factory.product(seller, title="Before approval")
    with scope(app, tenant.id):
        variant = db.session.scalars(
            select(ProductVariant).where(ProductVariant.product_id == product.id)
        ).first()
        variant_id, price = variant.id, variant.price
        variant_form = {
            "product": str(product.id),
            "sku": variant.sku,
            "title": variant.title or "",
            "price": "1.00",
            "currency": variant.currency,
            "position": str(variant.position or 0),
            "is_active": "y",
        }
    client, _ = login(app, tenant.slug, seller.user.username)
    form = {
        "title": "Unapproved table",
        "status": "draft",
        "product_type": "physical",
        "seller": str(seller.id),
    }
    refused = client.post("/admin/products/add", data=form, follow_redirects=True)
    assert "your seller account is not approved yet" in refused.get_data(as_text=True)
    edited = client.post(
        f"/admin/products/edit/{product.id}",
        data={**form, "title": "Changed while not approved"},
        follow_redirects=True,
    )
    assert "your seller account is not approved yet" in edited.get_data(as_text=True)
    repriced = client.post(
        f"/admin/variants/edit/{variant_id}", data=variant_form, follow_redirects=True
    )
    assert "your seller account is not approved yet" in repriced.get_data(as_text=True)
    with scope(app, tenant.id):
        titles = db.session.scalars(
            select(Product.title).where(Product.seller_id == seller.id)
        ).all()
        assert titles == ["Before approval"]
        assert db.session.get(ProductVariant, variant_id).price == price
