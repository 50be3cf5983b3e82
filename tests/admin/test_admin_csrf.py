"""CSRF on the admin: every state change is a POST carrying the session's token (Flask-WTF's
CSRFProtect over the whole app, the JSON API's blueprints exempt). A GET of a delete or action URL
(a link someone sends a signed-in Admin) and a token-less POST (a form on another site) change
nothing, for every role. The client's `post(..., csrf=False)` sends no token (tests/conftest.py)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.catalog.models import Brand, Product
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.reviews import services as reviews
from app.reviews.inputs import NewReview
from app.reviews.models import Review
from app.security import roles
from app.security.models import User
from app.security.session_models import AuthSession
from app.sellers.actors import actor_for
from tests.builders.admin import login, scope
from tests.builders.factories import PASSWORD

pytestmark = pytest.mark.smoke

REFUSED_PAGE = "Nothing was changed"


def _flashes(client) -> list[str]:
    with client.session_transaction() as session:
        return [message for _category, message in session.pop("_flashes", [])]


def _refused(response) -> bool:
    return response.status_code == 400 and REFUSED_PAGE in response.get_data(as_text=True)


@pytest.fixture
def shop(app, factory):
    tenant = factory.tenant()
    admin_user = factory.user(tenant, roles.ADMIN)
    seller, other_seller = factory.seller(tenant), factory.seller(tenant)
    lamp = factory.product(seller, title="Csrf lamp")
    desk = factory.product(seller, title="Csrf desk")
    customer = factory.customer(tenant)
    with app.app_context(), tenant_scope(tenant.id):
        user = actor_for(db.session.get(User, customer.user_id))
        review_id = reviews.create_review(
            user, NewReview(product_id=lamp.id, rating=4, title="Fine lamp")
        ).id
        db.session.remove()
    return {
        "tenant": tenant,
        "admin": admin_user.username,
        "seller": seller.user.username,
        "seller_id": seller.id,
        "other_seller": other_seller.user.username,
        "lamp": lamp.id,
        "desk": desk.id,
        "review": review_id,
        "customer": customer,
    }


def _exists(app, tenant_id, model, pk) -> bool:
    with scope(app, tenant_id):
        return db.session.get(model, pk) is not None


def test_the_login_form_needs_the_token_it_renders(app, shop):
    client = app.test_client()
    client.environ_base["HTTP_X_TENANT"] = shop["tenant"].slug
    credentials = {"username": shop["admin"], "password": PASSWORD}
    # a login posted from elsewhere (no token): refused, not signed in
    assert _refused(client.post("/login/", data=credentials, csrf=False))
    assert client.get("/admin/products/list/").status_code == 302
    # the token the login page renders is accepted (and is what the suite's client sends)
    page = client.get("/login/").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login/", data={**credentials, "csrf_token": token}, csrf=False)
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    assert client.get("/admin/products/list/").status_code == 200


def test_admin_delete_needs_a_post_with_the_token(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["admin"])
    tenant_id = shop["tenant"].id
    # the link of the issue: GET /admin/reviews/delete/<id> is refused and deletes nothing
    response = client.get(f"/admin/reviews/delete/{shop['review']}")
    assert response.status_code == 302 and _flashes(client) == ["Access is Denied"]
    assert _exists(app, tenant_id, Review, shop["review"])
    # a post without the token (another site's form) is refused too
    assert _refused(client.post(f"/admin/reviews/delete/{shop['review']}", csrf=False))
    assert _refused(
        client.post(
            f"/admin/reviews/delete/{shop['review']}", data={"csrf_token": "forged"}, csrf=False
        )
    )
    assert _exists(app, tenant_id, Review, shop["review"])
    # the list page's delete button (a form post with the token) works
    assert client.post(f"/admin/reviews/delete/{shop['review']}").status_code == 302
    assert not _exists(app, tenant_id, Review, shop["review"])


def test_seller_delete_and_edit_need_the_token(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["seller"])
    tenant_id = shop["tenant"].id
    assert client.get(f"/admin/products/delete/{shop['desk']}").status_code == 302
    assert _exists(app, tenant_id, Product, shop["desk"])
    assert _refused(client.post(f"/admin/products/delete/{shop['desk']}", csrf=False))
    assert _exists(app, tenant_id, Product, shop["desk"])

    form = {
        "title": "Renamed lamp",
        "slug": "renamed-lamp",
        "seller": str(shop["seller_id"]),
        "status": "active",
        "product_type": "physical",
    }
    assert _refused(client.post(f"/admin/products/edit/{shop['lamp']}", data=form, csrf=False))
    with scope(app, tenant_id):
        assert db.session.get(Product, shop["lamp"]).title == "Csrf lamp"
    assert client.post(f"/admin/products/edit/{shop['lamp']}", data=form).status_code == 302
    with scope(app, tenant_id):
        assert db.session.get(Product, shop["lamp"]).title == "Renamed lamp"

    assert client.post(f"/admin/products/delete/{shop['desk']}").status_code == 302
    assert not _exists(app, tenant_id, Product, shop["desk"])


def test_add_forms_need_the_token(app, shop):
    client, _ = login(app, shop["tenant"].slug, shop["admin"])

    def brands(name):
        with scope(app, shop["tenant"].id):
            return db.session.scalar(
                select(func.count()).select_from(Brand).where(Brand.name == name)
            )

    assert _refused(client.post("/admin/brands/add", data={"name": "Forged brand"}, csrf=False))
    assert brands("Forged brand") == 0
    assert client.post("/admin/brands/add", data={"name": "Real brand"}).status_code == 302
    assert brands("Real brand") == 1


def test_super_admin_forms_need_the_token(app, shop):
    client, response = login(
        app, shop["tenant"].slug, app.config["ADMIN_USERNAME"], app.config["ADMIN_PASSWORD"]
    )
    assert response.status_code == 302
    tenant = shop["tenant"]
    assert _refused(
        client.post(
            f"/admin/tenants/edit/{tenant.id}",
            data={"name": "Hijacked", "slug": tenant.slug},
            csrf=False,
        )
    )
    assert client.get(f"/admin/tenants/delete/{tenant.id}").status_code == 302
    with scope(app):
        from app.tenants.models import Tenant

        row = db.session.get(Tenant, tenant.id)
        assert row is not None and row.name != "Hijacked"


def test_bulk_actions_need_the_token(app, shop):
    # a session to revoke: the customer signs in through the API
    api = app.test_client()
    signed_in = api.post(
        "/api/v1/auth/login/",
        json={"login": shop["customer"].user.email, "password": PASSWORD},
        headers={"X-Tenant": shop["tenant"].slug},
    )
    assert signed_in.status_code == 200, signed_in.get_json()
    with scope(app):
        session_id = db.session.scalar(
            select(AuthSession.id).where(AuthSession.user_id == shop["customer"].user_id)
        )

    def revoked() -> bool:
        with scope(app):
            return db.session.get(AuthSession, session_id).revoked_at is not None

    client, _ = login(app, shop["tenant"].slug, shop["admin"])
    form = {"action": "revoke", "rowid": [str(session_id)]}
    assert _refused(client.post("/admin/sessions/action_post", data=form, csrf=False))
    assert client.get(f"/admin/sessions/action/revoke/{session_id}").status_code == 302
    assert not revoked()
    assert client.post("/admin/sessions/action_post", data=form).status_code == 302
    assert revoked()


def test_every_delete_and_action_url_refuses_get(app, shop):
    """Every view, present and future: GET /delete/<pk> and /action/<name>/<pk> are refused before
    the row is even looked up (without the guard, a missing row would answer 404)."""
    client, _ = login(
        app, shop["tenant"].slug, app.config["ADMIN_USERNAME"], app.config["ADMIN_PASSWORD"]
    )
    checked = 0
    for view in app.appbuilder.baseviews:
        base = getattr(view, "route_base", None)
        if not base or not hasattr(view, "datamodel"):
            continue
        urls = [f"{base}/action/{name}/2147483000" for name in getattr(view, "actions", {})]
        if "can_delete" in (view.base_permissions or []):
            urls.append(f"{base}/delete/2147483000")
        for url in urls:
            response = client.get(url)
            assert response.status_code == 302 and _flashes(client) == ["Access is Denied"], url
            checked += 1
    assert checked >= 20  # every writable view of the admin, not a handful


def test_the_api_is_not_under_form_csrf(app, shop):
    """Bearer-token JSON writes need no form token (the API's cookie mode has its own double submit:
    tests/storefront_api/test_auth.py)."""
    api = app.test_client()
    response = api.post(
        "/api/v1/auth/login/",
        json={"login": shop["customer"].user.email, "password": PASSWORD},
        headers={"X-Tenant": shop["tenant"].slug},
    )
    assert response.status_code == 200, response.get_json()


def test_every_post_only_admin_url_needs_the_token(app, shop):
    """Every admin URL that only takes a POST (an action of a page: the order desk's cancel, status
    move, label, refund decision and note; FAB's action_post), present and future: a GET changes
    nothing (405) and a post without the token is refused before the view runs."""
    client, _ = login(
        app, shop["tenant"].slug, app.config["ADMIN_USERNAME"], app.config["ADMIN_PASSWORD"]
    )
    checked = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin/") or "GET" in rule.methods:
            continue
        url = rule.rule
        for argument in rule.arguments:
            url = re.sub(rf"<[^>]*\b{argument}>", "2147483000", url)
        assert client.get(url).status_code == 405, url
        assert _refused(client.post(url, data={"action": "x", "reason": "x"}, csrf=False)), url
        checked.append(url)
    assert "/admin/orders/2147483000/cancel" in checked and len(checked) >= 6
    # the steps of a sub-order's page (admin/views/fulfilment.py)
    assert "/admin/sub-orders/ship/2147483000" in checked
