"""Fixtures of the search tests: a small known catalog per test (own tenants), and the backend
under test. The contract suite runs against every available backend: always Tantivy;
Elasticsearch too when ELASTICSEARCH_URL is set (a live server)."""

from __future__ import annotations

import datetime as dt
import functools
import os
from types import SimpleNamespace

import pytest

from app.catalog.models import Attribute
from app.core.tenancy import tenant_scope
from app.extensions import db
from tests.builders.catalog import add_product, taxonomy
from tests.conftest import unique

BACKENDS = [
    "tantivy",
    pytest.param(
        "elasticsearch",
        marks=pytest.mark.skipif(
            not os.environ.get("ELASTICSEARCH_URL"),
            reason="ELASTICSEARCH_URL not set: no live Elasticsearch here",
        ),
    ),
]


@pytest.fixture(params=BACKENDS)
def engine(request, app, tmp_path):
    """The search backend for this test, installed as the app's backend while it runs."""
    if request.param == "tantivy":
        from app.search.tantivy_backend import TantivyBackend

        backend = TantivyBackend(tmp_path / "index")
    else:
        from app.search.elastic import ElasticBackend

        backend = ElasticBackend(
            os.environ["ELASTICSEARCH_URL"], prefix=f"test-{unique('')}-", refresh=True
        )
    previous = app.extensions.get("search")
    app.extensions["search"] = backend
    yield backend
    if previous is None:
        app.extensions.pop("search", None)
    else:
        app.extensions["search"] = previous


def build_catalog(app, factory):
    """Tenant A: a category tree (Clothing > Shirts > T-shirts, Books), brands Acme and Globex,
    attributes colour (filterable on Clothing) and material, two sellers and seven products with
    known prices, stock, ratings, sales and ages (P4 a draft). Tenant B: one look-alike product."""
    tenant, other = factory.tenant(), factory.tenant()
    s1, s2 = factory.seller(tenant), factory.seller(tenant)
    now = dt.datetime.now(dt.timezone.utc)
    with app.app_context(), tenant_scope(tenant.id):
        t = taxonomy()
        material = Attribute(code="material", name="Material", type="text")
        db.session.add(material)
        colour, clothing, shirts, tees, books = t.colour, t.clothing, t.shirts, t.tees, t.books
        acme, globex = t.acme, t.globex
        product = functools.partial(add_product, warehouse=t.wh, now=now)

        p1 = product(
            "Red Cotton Shirt",
            s1,
            tees,
            acme,
            ["10.00"],
            5,
            description="Soft cotton shirt for summer",
            rating="4.50",
            count=3,
            sold=10,
            age=6,
            attrs=[(colour, "Red"), (material, "Cotton")],
        )
        p2 = product(
            "Blue Denim Shirt",
            s2,
            shirts,
            globex,
            ["50.00"],
            0,
            description="Sturdy denim",
            rating="3.00",
            count=2,
            sold=50,
            age=5,
            attrs=[(colour, "Blue"), (material, "Denim")],
        )
        p3 = product(
            "Mystery Novel",
            s1,
            books,
            acme,
            ["20.00"],
            3,
            reserved=3,
            description="A thrilling detective story",
            age=4,
        )
        p4 = product("Draft Shirt", s1, clothing, acme, ["15.00"], 1, status="draft", age=3)
        p5 = product(
            "Green Wool Hat",
            s2,
            clothing,
            globex,
            ["5.00"],
            2,
            description="Warm wool",
            rating="5.00",
            count=1,
            sold=5,
            age=2,
            attrs=[(colour, "Green")],
            featured=True,
        )
        p6 = product(
            "Leather Wallet",
            s1,
            None,
            None,
            ["120.00"],
            1,
            description="Brown leather",
            rating="4.00",
            count=8,
            sold=100,
            age=1,
        )
        p7 = product(
            "Cotton Socks",
            s2,
            clothing,
            globex,
            ["8.00"],
            4,
            description="Goes well with a shirt",
            age=0,
            attrs=[(colour, "Red")],
        )
        db.session.commit()
        ids = SimpleNamespace(
            p1=p1.id,
            p2=p2.id,
            p3=p3.id,
            p4=p4.id,
            p5=p5.id,
            p6=p6.id,
            p7=p7.id,
            clothing=clothing.id,
            shirts=shirts.id,
            tees=tees.id,
            books=books.id,
            acme=acme.id,
            globex=globex.id,
            wh=t.wh.id,
            p2_variant=p2.variants[0].id,
        )
    foreign = factory.product(factory.seller(other), title="Red Cotton Shirt Imported")
    return SimpleNamespace(tenant=tenant, other=other, s1=s1, s2=s2, ids=ids, foreign=foreign)


@pytest.fixture
def catalog(app, factory, engine):
    return build_catalog(app, factory)
