"""The admin landing page: who you are, which tenant, and the numbers you are allowed to see."""

from __future__ import annotations

from flask import g
from flask_appbuilder import IndexView, expose
from flask_login import current_user

from admin.base import current_seller_id, is_seller_user
from app.catalog.services import catalog_counts
from app.inventory.services import open_low_stock_alerts


class AdminIndexView(IndexView):
    index_template = "admin/index.html"

    @expose("/")
    def index(self):
        counts = None
        if getattr(current_user, "is_authenticated", False) and current_user.is_staff:
            counts = _counts(current_seller_id() if is_seller_user() else None)
        return self.render_template(
            self.index_template,
            appbuilder=self.appbuilder,
            counts=counts,
            tenant_id=g.get("tenant_id"),
        )


def _counts(seller_id: int | None) -> dict[str, int]:
    """The headline numbers, in the page's order: products, variants, open low-stock alerts and
    (for staff who see every seller) sellers; a seller's own when seller_id is given."""
    catalog = catalog_counts(seller_id=seller_id)
    return {
        "Products": catalog.pop("Products"),
        "Variants": catalog.pop("Variants"),
        "Open low-stock alerts": open_low_stock_alerts(seller_id=seller_id),
        **catalog,
    }
