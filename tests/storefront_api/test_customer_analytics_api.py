"""/api/v1/customer-analytics: Admins of the shop only (Seller and Customer 403, 401 without a
token), each shop sees its own customers and models only, 409 before a model is trained, the
active version's predictions served (a rollback serves the previous one), input checked (422)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from analytics import registry, training
from analytics.ml.customers.models import ChurnPrediction
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.security import roles
from tests.builders.api import error
from tests.builders.auth import api_headers
from tests.builders.customer_history import lifecycle_history, once, segments_history
from tests.builders.factories import Factory

API = "/api/v1/customer-analytics"
ENDPOINTS = ("segments/", "behavior/", "lifetime-value/", "churn-prediction/")
KINDS = (registry.SEGMENTS, registry.CHURN, registry.LIFETIME_VALUE)


def _train(app, tenant_id, *kinds):
    with app.app_context():
        for kind in kinds:
            result = training.train(kind, tenant_id)
            assert result.status == registry.ACTIVE, result.error


@pytest.fixture(scope="module")
def shops(app):
    """Shop A (the lifecycle history) and shop B (the planted segments), every model trained."""
    a, b = once(app, lifecycle_history), once(app, segments_history)
    _train(app, a.tenant.id, *KINDS)
    _train(app, b.tenant.id, *KINDS)
    return a, b


def test_roles_and_tokens(app, client, shops):
    a, _ = shops
    factory = Factory(app)
    seller = factory.seller(a.tenant)
    customer = factory.customer(a.tenant)
    for path in ENDPOINTS:
        error(client.get(f"{API}/{path}", headers=api_headers(tenant=a.tenant)), 401)
        for user in (seller.user, customer.user):
            error(client.get(f"{API}/{path}", headers=api_headers(app, user)), 403, "forbidden")
        assert client.get(f"{API}/{path}", headers=api_headers(app, a.admin)).status_code == 200


def test_409_before_any_model_is_trained(app, client):
    factory = Factory(app)
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    for path in ENDPOINTS:
        body = error(client.get(f"{API}/{path}", headers=api_headers(app, admin)), 409, "conflict")
        assert body["details"]["reason"] == "not_trained"


def test_segments_and_a_segments_customers(app, client, shops):
    _, b = shops
    h = api_headers(app, b.admin)
    body = client.get(f"{API}/segments/", headers=h).get_json()
    assert body["model"]["kind"] == "segments" and body["model"]["metrics"]["chosen_k"] == 5
    assert body["model"]["baseline"]["silhouette"] < body["model"]["metrics"]["silhouette"]
    assert {s["name"]: s["size"] for s in body["segments"]} == {
        "champions": 40,
        "loyal": 40,
        "new": 40,
        "at risk": 40,
        "hibernating": 40,
    }
    assert body["customers"] is None
    champions = {u for u, g in b.groups.items() if g == "champions"}
    seen, page = [], 1
    while True:
        r = client.get(f"{API}/segments/?segment=champions&page={page}&page_size=15", headers=h)
        got = r.get_json()["customers"]
        assert got["total"] == 40 and got["page_size"] == 15
        seen += got["items"]
        if page * 15 >= 40:
            break
        page += 1
    assert {c["user_id"] for c in seen} == champions  # every planted champion, nobody else
    spend = [Decimal(c["monetary"]) for c in seen]
    assert spend == sorted(spend, reverse=True) and all(c["segment"] == "champions" for c in seen)
    nobody = client.get(f"{API}/segments/?segment=nobody", headers=h).get_json()
    assert nobody["customers"]["items"] == [] and nobody["customers"]["total"] == 0


def test_behavior_by_hand(app, client, shops):
    """The planted groups' intervals: champions and at-risk buy every 18 days (+-30 %: 8-30),
    loyal every 40 (31-90); new and hibernating placed one order."""
    _, b = shops
    body = client.get(f"{API}/behavior/", headers=api_headers(app, b.admin)).get_json()
    assert body["currency"] == "USD" and body["overall"]["customers"] == 200
    by = {s["segment"]: s for s in body["segments"]}
    expected = {
        "champions": "8-30 days",
        "at risk": "8-30 days",
        "loyal": "31-90 days",
        "new": "one order only",
        "hibernating": "one order only",
    }
    for name, bucket in expected.items():
        assert by[name]["customers"] == 40
        assert by[name]["purchase_intervals"][bucket] == 40, (name, by[name])
        assert sum(by[name]["purchase_intervals"].values()) == 40
    assert by["new"]["averages"]["frequency"] == 1.0
    assert (
        by["hibernating"]["activity_mix"]
        == {
            "views": 0,
            "cart_adds": 0,
            "wishlist_adds": 0,
            "searches": 0,
        }
        or sum(by["hibernating"]["activity_mix"].values()) <= 2 * 40
    )
    # the overall activity mix adds up the segments'
    for kind in ("views", "cart_adds", "wishlist_adds", "searches"):
        assert body["overall"]["activity_mix"][kind] == sum(
            s["activity_mix"][kind] for s in body["segments"]
        )


def test_churn_list_filters_and_stays_in_its_shop(app, client, shops):
    a, b = shops
    h = api_headers(app, a.admin)
    body = client.get(f"{API}/churn-prediction/?min_probability=0.9&page_size=100", headers=h)
    body = body.get_json()
    with app.app_context(), tenant_scope(a.tenant.id):
        version_id = registry.active(registry.CHURN).id
        expected = db.session.scalar(
            select(func.count(ChurnPrediction.id)).where(
                ChurnPrediction.model_version_id == version_id, ChurnPrediction.probability >= 0.9
            )
        )
        db.session.rollback()
    assert body["total"] == expected > 0 and body["model"]["id"] == version_id
    p = [c["probability"] for c in body["items"]]
    assert p == sorted(p, reverse=True) and min(p) >= 0.9
    assert body["model"]["metrics"]["roc_auc"] > body["model"]["baseline"]["roc_auc"]
    assert all(1 <= len(c["reasons"]) <= 3 for c in body["items"])
    assert {c["user_id"] for c in body["items"]} <= set(a.customers)
    # shop B's admin sees B's customers only, and A's never
    other = client.get(
        f"{API}/churn-prediction/?page_size=100", headers=api_headers(app, b.admin)
    ).get_json()
    assert {c["user_id"] for c in other["items"]} <= set(b.groups)
    assert not {c["user_id"] for c in other["items"]} & set(a.customers)
    # A's admin at B's storefront: refused by the tenant check (the token belongs to A)
    assert client.get(
        f"{API}/churn-prediction/", headers=api_headers(app, a.admin, tenant=b.tenant)
    ).status_code in (401, 403)


def test_lifetime_value_list(app, client, shops):
    a, _ = shops
    body = client.get(
        f"{API}/lifetime-value/?page_size=50", headers=api_headers(app, a.admin)
    ).get_json()
    values = [Decimal(c["predicted_value"]) for c in body["items"]]
    assert values == sorted(values, reverse=True) and len(values) == 50
    assert {c["currency"] for c in body["items"]} == {"USD"}
    assert body["model"]["metrics"]["mae"] < body["model"]["baseline"]["mae"]
    assert body["total"] == body["model"]["rows"] or body["total"] > 0


def test_rollback_serves_the_previous_version(app, client, shops):
    a, _ = shops
    h = api_headers(app, a.admin)
    _train(app, a.tenant.id, registry.CHURN)
    served = client.get(f"{API}/churn-prediction/", headers=h).get_json()["model"]["id"]
    with app.app_context(), tenant_scope(a.tenant.id):
        previous = registry.rollback(registry.CHURN).id
        db.session.commit()
    assert previous != served
    assert client.get(f"{API}/churn-prediction/", headers=h).get_json()["model"]["id"] == previous


@pytest.mark.parametrize(
    "query, field",
    [
        ("churn-prediction/?min_probability=2", "min_probability"),
        ("churn-prediction/?min_probability=x", "min_probability"),
        ("lifetime-value/?page_size=101", "page_size"),
        ("segments/?segment=" + "x" * 40, "segment"),
        ("behavior/?page=1", "page"),
    ],
)
def test_bad_input_is_422(app, client, shops, query, field):
    a, _ = shops
    body = error(client.get(f"{API}/{query}", headers=api_headers(app, a.admin)), 422)
    assert field in str(body["details"])
