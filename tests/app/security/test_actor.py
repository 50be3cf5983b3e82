"""The typed Actor the faces build once per request (app.security.actor, built by
app.sellers.actors.actor_for): each role's standing, and a seller's profile id looked up once,
only when asked for, and never for anyone else."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import event

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.security import roles
from app.security.models import User
from app.sellers.actors import actor_for


@pytest.fixture
def statements(app):
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def test_each_role_has_its_standing_and_only_a_seller_looks_up_its_profile(
    app, factory, statements
):
    tenant = factory.tenant()
    seller = factory.seller(tenant)
    customer = factory.customer(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    with app.app_context(), tenant_scope(tenant.id):
        users = {
            name: db.session.get(User, user_id)
            for name, user_id in (
                ("seller", seller.user.id),
                ("customer", customer.user_id),
                ("admin", admin.id),
            )
        }
        for user in users.values():
            assert user.role_names  # roles loaded before counting
        actors = {name: actor_for(user) for name, user in users.items()}
        statements.clear()

        s, c, a = actors["seller"], actors["customer"], actors["admin"]
        assert (s.is_seller, s.is_admin, s.is_customer, s.is_staff) == (True, False, False, True)
        assert (c.is_seller, c.is_admin, c.is_customer, c.is_staff) == (False, False, True, False)
        assert (a.is_seller, a.is_admin, a.is_super_admin, a.is_staff) == (False, True, False, True)
        assert c.seller_id is None and a.seller_id is None
        assert statements == []  # nobody but a seller looks its profile up

        assert s.seller_id == seller.id and s.seller_id == seller.id
        assert len(statements) == 1  # once, on first use
        assert s.user_id == seller.user.id and s.tenant_id == tenant.id
        assert s.role_names == frozenset({roles.SELLER})

    assert actor_for(None) is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.user_id = 0
