"""The navbar's search box: /admin/find/?q= answers with the orders, customers and products the
signed-in user may open (app.lookup.find decides what that is), each linked to its page. Admin,
Super Admin and Seller (admin/roles.py); a seller finds its own sub-orders and products."""

from __future__ import annotations

from flask import redirect, request
from flask_appbuilder import BaseView, expose, has_access

from admin.base import current_actor
from app.lookup import LIMIT, MIN_LENGTH, find

# where each kind of hit opens
PAGES = {
    "order": "/admin/orders/show/{id}",
    "sub_order": "/admin/sub-orders/show/{id}",
    "customer": "/admin/customers/show/{id}",
    "product": "/admin/products/show/{id}",
}


class FindView(BaseView):
    route_base = "/admin/find"
    default_view = "find"

    @expose("/")
    @has_access
    def find(self):
        q = request.args.get("q", "")
        found = find(current_actor(), q)
        hits = [*found.orders, *found.customers, *found.products]
        if len(hits) == 1 and request.args.get("go") != "0":
            # exactly one answer (an order number typed whole): open it
            return redirect(PAGES[hits[0].kind].format(id=hits[0].id))
        return self.render_template(
            "admin/find.html", found=found, pages=PAGES, min_length=MIN_LENGTH, limit=LIMIT
        )
