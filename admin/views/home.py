"""The admin landing page: who you are, which tenant, and the numbers you are allowed to see."""

from __future__ import annotations

from flask import g
from flask_appbuilder import IndexView, expose
from flask_login import current_user

from admin.base import current_seller_id, is_seller_user
from app.catalog.services import catalog_counts


class AdminIndexView(IndexView):
    index_template = "admin/index.html"

    @expose("/")
    def index(self):
        counts = None
        if getattr(current_user, "is_authenticated", False) and current_user.is_staff:
            counts = catalog_counts(seller_id=current_seller_id() if is_seller_user() else None)
        return self.render_template(
            self.index_template,
            appbuilder=self.appbuilder,
            counts=counts,
            tenant_id=g.get("tenant_id"),
        )
