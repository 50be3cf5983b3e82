"""The JSON API authenticates by its JWT only: a browser signed in to the admin sends its session
cookie to /api/ too, and that session must neither make the API treat the caller as its user nor
widen the request beyond the storefront it names (a Super Admin's admin pages are unscoped)."""

from __future__ import annotations

from tests.builders.admin import login


def test_a_super_admins_admin_session_does_not_unscope_the_api(app, factory):
    shop, other = factory.tenant(), factory.tenant()
    mine = factory.product(factory.seller(shop), title="Shown at its own shop")
    elsewhere = factory.product(factory.seller(other), title="Sold at the other shop")
    client, _ = login(app, shop.slug, app.config["ADMIN_USERNAME"], app.config["ADMIN_PASSWORD"])
    assert client.get("/admin/tenants/list/").status_code == 200  # signed in as a Super Admin

    response = client.get("/api/v1/products/?page_size=100", headers={"X-Tenant": shop.slug})

    assert response.status_code == 200
    ids = {item["id"] for item in response.get_json()["items"]}
    assert mine.id in ids
    assert elsewhere.id not in ids
    # the same list as a guest's (the admin session is no API credential)
    guest = app.test_client().get(
        "/api/v1/products/?page_size=100", headers={"X-Tenant": shop.slug}
    )
    assert {item["id"] for item in guest.get_json()["items"]} == ids
