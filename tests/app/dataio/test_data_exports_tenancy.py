"""DataExport is tenant-owned: a row of tenant A is never visible under tenant B (the check of
tests/app/tenants/test_tenancy.py, for this model until TENANT_OWNED lists it), and a user's
exports are its own (app.dataio.exports.export_of)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.errors import NotFound
from app.core.tenancy import tenant_scope
from app.dataio import exports
from app.dataio.models import LIST, DataExport
from app.extensions import db
from app.security import roles


def test_an_export_of_tenant_a_is_invisible_under_b_and_to_another_user(app, factory):
    a, b = factory.tenant(), factory.tenant()
    owner, colleague = factory.user(a, roles.ADMIN), factory.user(a, roles.ADMIN)
    with app.app_context():
        with tenant_scope(a.id):
            export = exports.request_export(owner.id, LIST, "ProductView", {}, "csv", "Products")
            export_id = export.id
            assert export.tenant_id == a.id
            assert [e.id for e in exports.exports_of(owner.id)] == [export_id]
            assert exports.exports_of(colleague.id) == []
            with pytest.raises(NotFound):
                exports.export_of(colleague.id, export_id)
        with tenant_scope(b.id):
            assert db.session.scalar(select(DataExport).where(DataExport.id == export_id)) is None
            assert exports.exports_of(owner.id) == []
            with pytest.raises(NotFound):
                exports.export_of(owner.id, export_id)
        db.session.rollback()
