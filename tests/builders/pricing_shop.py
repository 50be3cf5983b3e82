"""Fixtures of the pricing tests: a shop with two sellers and a builder of pricing data."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.builders.pricing import Builder


@pytest.fixture
def shop(app, factory):
    tenant = factory.tenant()
    s1, s2 = factory.seller(tenant), factory.seller(tenant)
    build = Builder(app, tenant.id)
    return SimpleNamespace(tenant=tenant, seller=s1, seller2=s2, build=build)
