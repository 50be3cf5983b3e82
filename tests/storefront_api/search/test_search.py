"""/api/v1/search/{products,suggestions,filters}/ and /api/v1/products/search/ (served by the
search service): success, 422 with field details, 401 for a bad token, 404 for an unknown
storefront, tenant isolation (another tenant's products and categories are never found), 429."""

from __future__ import annotations

import pytest
from flask_jwt_extended import create_access_token

from app.core.tenancy import tenant_scope
from tests.builders.api import error
from tests.builders.auth import api_headers, bearer

API = "/api/v1/search"


def ok(response) -> dict:
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ids(body) -> list[int]:
    return [item["id"] for item in body["items"]]


@pytest.mark.smoke
def test_search_products_with_facets_and_highlights(client, catalog):
    i, t = catalog.ids, catalog.tenant
    body = ok(client.get(f"{API}/products/?q=shirt", headers=api_headers(tenant=t)))
    assert set(ids(body)) == {i.p1, i.p2, i.p7} and body["total"] == 3 and body["page"] == 1
    first = body["items"][0]
    assert first["id"] == i.p1 and first["price"] == "10.00" and first["in_stock"] is True
    assert first["brand"]["slug"] == "acme" and first["rating"] == {"average": "4.50", "count": 3}
    assert first["highlight"]["title"] == "Red Cotton <b>Shirt</b>"
    assert {b["slug"]: b["count"] for b in body["facets"]["brands"]} == {"acme": 1, "globex": 2}
    assert body["facets"]["price"]["ranges"][0] == {"min": "0.00", "max": "25.00", "count": 2}
    colour = next(a for a in body["facets"]["attributes"] if a["code"] == "colour")
    assert colour["param"] == "attr_colour" and {v["value"] for v in colour["values"]} == {
        "Red",
        "Blue",
    }
    # the products list's filters, sorts and pages
    body = ok(
        client.get(
            f"{API}/products/?q=shirt&attr_colour=red&sort=price&facets=false",
            headers=api_headers(tenant=t),
        )
    )
    assert ids(body) == [i.p7, i.p1] and "facets" not in body
    body = ok(
        client.get(
            f"{API}/products/?category=clothing&in_stock=true&sort=-price&page_size=2&page=2",
            headers=api_headers(tenant=t),
        )
    )
    assert ids(body) == [i.p5] and body["total"] == 3
    assert (
        ok(client.get(f"{API}/products/?q=mistery", headers=api_headers(tenant=t)))["items"][0][
            "id"
        ]
        == i.p3
    )  # typo


def test_suggestions_and_filters(client, catalog):
    i, t = catalog.ids, catalog.tenant
    body = ok(client.get(f"{API}/suggestions/?q=red+co", headers=api_headers(tenant=t)))
    assert body["items"][0] == {
        "text": "Red Cotton Shirt",
        "product_id": i.p1,
        "slug": body["items"][0]["slug"],
    }
    assert (
        len(
            ok(client.get(f"{API}/suggestions/?q=s&limit=1", headers=api_headers(tenant=t)))[
                "items"
            ]
        )
        == 1
    )
    body = ok(client.get(f"{API}/filters/?category=clothing", headers=api_headers(tenant=t)))
    assert body["total"] == 4
    assert sum(c["count"] for c in body["categories"]) == 4
    assert [a["code"] for a in body["attributes"]] == ["colour"]
    assert ok(client.get(f"{API}/filters/?q=zebra", headers=api_headers(tenant=t)))["total"] == 0


def test_products_search_endpoint_is_served_by_the_engine(client, catalog):
    i, t = catalog.ids, catalog.tenant
    body = ok(
        client.get("/api/v1/products/search/?q=shrit", headers=api_headers(tenant=t))
    )  # a typo: the database search missed it
    assert set(ids(body)) >= {i.p1, i.p2}
    assert set(body) == {"items", "page", "page_size", "total"}  # its response schema is unchanged
    assert "highlight" not in body["items"][0]
    assert ids(
        ok(client.get("/api/v1/products/search/?q=shirt&sort=price", headers=api_headers(tenant=t)))
    ) == [
        i.p7,
        i.p1,
        i.p2,
    ]
    error(
        client.get("/api/v1/products/search/?q=+", headers=api_headers(tenant=t)),
        422,
        "validation_error",
    )


@pytest.mark.parametrize(
    "url, field",
    [
        ("/products/?sort=cheapest", "sort"),
        ("/products/?min_price=20&max_price=10", "min_price"),
        ("/products/?page_size=101", "page_size"),
        ("/products/?category=nope", "category"),
        ("/products/?brand=nope", "brand"),
        ("/products/?attr_nope=x", "attr_nope"),
        ("/products/?attr_bad%20code=x", "attr_bad code"),
        ("/products/?q=" + "x" * 201, "q"),
        ("/products/?colour=red", "colour"),  # undocumented keys are refused, never ignored
        ("/suggestions/", "q"),
        ("/suggestions/?q=a&limit=0", "limit"),
        ("/filters/?in_stock=maybe", "in_stock"),
    ],
)
def test_invalid_input_is_a_422_with_field_details(client, catalog, url, field):
    body = error(client.get(f"{API}{url}", headers=api_headers(tenant=catalog.tenant)), 422)
    assert field in str(body["details"]), body


def test_a_bad_token_is_401_and_an_unknown_storefront_404(app, client, catalog):
    for url in ("/products/?q=shirt", "/suggestions/?q=sh", "/filters/"):
        error(
            client.get(
                f"{API}{url}", headers=api_headers(tenant=catalog.tenant, **bearer("not-a-token"))
            ),
            401,
            "unauthorized",
        )
        error(client.get(f"{API}{url}", headers={"X-Tenant": "no-such-shop"}), 404)
    # a token of another storefront is refused too
    with app.app_context(), tenant_scope(catalog.other.id):
        foreign = create_access_token(
            identity="1", additional_claims={"tenant_id": catalog.other.id}
        )
    error(
        client.get(
            f"{API}/products/?q=shirt",
            headers=api_headers(tenant=catalog.tenant, **bearer(foreign)),
        ),
        401,
    )


def test_tenants_never_see_each_others_products(client, catalog, factory):
    t, other = catalog.tenant, catalog.other
    assert (
        ok(client.get(f"{API}/products/?q=imported", headers=api_headers(tenant=t)))["items"] == []
    )
    assert ids(
        ok(client.get(f"{API}/products/?q=imported", headers=api_headers(tenant=other)))
    ) == [catalog.foreign.id]
    assert ok(client.get(f"{API}/suggestions/?q=imp", headers=api_headers(tenant=t)))["items"] == []
    assert (
        ok(client.get("/api/v1/products/search/?q=imported", headers=api_headers(tenant=t)))[
            "items"
        ]
        == []
    )
    # another tenant's category or brand is unknown here, as the product list says
    error(client.get(f"{API}/products/?category=clothing", headers=api_headers(tenant=other)), 422)
    error(client.get(f"{API}/products/?brand=acme", headers=api_headers(tenant=other)), 422)
    assert ok(client.get(f"{API}/filters/", headers=api_headers(tenant=other)))["total"] == 1


def test_searches_are_rate_limited_per_client(app, factory, tmp_path):
    from app import create_app

    limited = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        API_SEARCH_RATE_LIMIT="2 per minute",
        SEARCH_INDEX_DIR=str(tmp_path / "index"),
    )
    tenant = factory.tenant()
    client = limited.test_client()
    client.environ_base["HTTP_X_TENANT"] = tenant.slug
    for url in ("/products/?q=lamp", "/suggestions/?q=la", "/filters/"):
        codes = [client.get(f"{API}{url}").status_code for _ in range(3)]
        assert codes == [200, 200, 429], url
    assert client.get(f"{API}/products/").get_json()["error"]["code"] == "rate_limited"


def test_openapi_documents_the_search_api(client):
    spec = client.get("/api/schema/").get_json()
    for path in ("products", "suggestions", "filters"):
        operation = spec["paths"][f"{API}/{path}/"]["get"]
        assert {"200", "401", "404", "422", "429"} <= set(operation["responses"])


def test_bodies_are_exactly_what_the_response_schemas_dump(app, client, catalog):
    """products/ and filters/ write their JSON directly (storefront_api/search.py, for speed): the
    bodies must equal the documented schemas' dump of the same answer, field for field."""
    from app.catalog.queries import ProductFilters
    from app.search import service
    from storefront_api.search import SearchFiltersSchema, SearchPageSchema

    t = catalog.tenant
    cases = [
        ("shirt", {}, True, True),
        ("", {}, True, True),
        ("wallet", {}, False, False),
        ("shrit", {"in_stock": False}, True, True),
        ("", {"category": "clothing"}, True, False),
    ]
    for q, filters, facets, highlight in cases:
        params = {
            "q": q,
            "facets": str(facets).lower(),
            "highlight": str(highlight).lower(),
            **filters,
        }
        body = ok(
            client.get(f"{API}/products/", query_string=params, headers=api_headers(tenant=t))
        )
        with app.app_context(), tenant_scope(t.id):
            expected = SearchPageSchema().dump(
                service.search_products(
                    q,
                    ProductFilters(**filters),
                    facets=facets,
                    highlight=highlight,
                    require_words=False,
                )
            )
        assert body == expected and body["items"], params
    nulls = next(
        item
        for item in ok(client.get(f"{API}/products/?q=wallet", headers=api_headers(tenant=t)))[
            "items"
        ]
    )
    assert nulls["brand"] is None and nulls["category"] is None and nulls["image"] is None
    assert nulls["compare_at_price"] is None and nulls["created_at"].endswith("+00:00")
    body = ok(client.get(f"{API}/filters/?q=shirt", headers=api_headers(tenant=t)))
    with app.app_context(), tenant_scope(t.id):
        assert body == SearchFiltersSchema().dump(service.search_filters("shirt", ProductFilters()))
