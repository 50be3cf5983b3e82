"""Analytics > Models (admin/views/models.py): an Admin sees the shop's model versions with their
figures against the baseline, trains them now and rolls one back (POSTs with the CSRF token);
a Seller is refused; another shop's versions never show."""

from __future__ import annotations

import datetime as dt

from analytics import registry
from app.core.tenancy import tenant_scope
from app.core.types import utcnow
from app.extensions import db
from app.security import roles
from tests.builders.admin import login
from tests.builders.customer_history import _customers, _orders
from tests.builders.factories import PASSWORD, Factory


def _history(app, tenant_id) -> list[tuple[str, int, str]]:
    with app.app_context(), tenant_scope(tenant_id):
        rows = [(v.kind, v.version, v.status) for v in registry.history()]
        db.session.rollback()
    return sorted(rows)


def _small_shop(app):
    """40 customers who each ordered once a week ago: enough for segments, too recent for churn
    and lifetime value (nobody had ordered before their training cutoffs)."""
    factory = Factory(app)
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    now = utcnow()
    with app.app_context(), tenant_scope(tenant.id):
        people = _customers(tenant.id, 40, "adm")
        _orders(
            seller.id,
            [
                (u, now - dt.timedelta(days=7 + i % 5), 20.0 + 10 * (i % 4), 0.0, "USD")
                for i, (u, _) in enumerate(people)
            ],
        )
        db.session.commit()
    return factory, tenant, seller, admin


def test_admin_trains_sees_and_rolls_back(app):
    factory, tenant, seller, admin = _small_shop(app)
    client, _ = login(app, tenant.slug, admin.username)
    page = client.get("/admin/models/").get_data(as_text=True)
    assert 'id="models-empty"' in page and 'id="train-now"' in page

    # without the token: refused, nothing trained
    assert client.post("/admin/models/train", csrf=False).status_code == 400
    assert _history(app, tenant.id) == []

    # the embedded runner trains at once: segments served, churn and LTV recorded as failed
    response = client.post("/admin/models/train")
    assert response.status_code == 302
    mine = [h for h in _history(app, tenant.id) if h[0] in ("segments", "churn", "lifetime_value")]
    assert mine == [
        ("churn", 1, "failed"),
        ("lifetime_value", 1, "failed"),
        ("segments", 1, "active"),
    ]
    page = client.get("/admin/models/").get_data(as_text=True)
    assert page.count('class="model-row"') >= 3
    assert "not enough data: 0 customers" in page  # churn's reason, shown to staff
    assert "silhouette" in page and "(baseline " in page
    assert "Roll back" not in page  # nothing to roll back to yet

    client.post("/admin/models/train")
    page = client.get("/admin/models/").get_data(as_text=True)
    assert 'data-kind="segments"' in page and "Roll back customer segments" in page
    assert client.post("/admin/models/rollback/segments").status_code == 302
    states = [h for h in _history(app, tenant.id) if h[0] == "segments"]
    assert states == [("segments", 1, "active"), ("segments", 2, "previous")]
    # a kind with nothing to roll back to: a warning, nothing changes
    client.post("/admin/models/rollback/churn")
    assert "There is no previous churn model" in client.get("/admin/models/").get_data(as_text=True)

    # another shop's Admin sees none of these versions
    other = factory.tenant()
    other_admin = factory.user(other, roles.ADMIN)
    other_client, _ = login(app, other.slug, other_admin.username, PASSWORD)
    assert 'id="models-empty"' in other_client.get("/admin/models/").get_data(as_text=True)

    # a Seller is refused the page and both actions
    seller_client, _ = login(app, tenant.slug, seller.user.username)
    for response in (
        seller_client.get("/admin/models/"),
        seller_client.post("/admin/models/train"),
        seller_client.post("/admin/models/rollback/segments"),
    ):
        assert response.status_code in (302, 403)
        assert "/admin/models" not in response.headers.get("Location", "")
    assert [h for h in _history(app, tenant.id) if h[0] == "segments"] == states
