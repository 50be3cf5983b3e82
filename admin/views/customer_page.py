"""The customers list and a customer's page as a shop's staff read them: each customer by name and
e-mail, found by either (app.customers.search), with how many orders it placed and what it spent
(app.orders.customer_overview.totals, one query for the list's page); its page adds its recent
orders, each linked to the order desk, and its addresses. Admins only (admin/roles.py gives a
Seller no customer page)."""

from __future__ import annotations

from flask import url_for
from flask_appbuilder import expose, has_access
from flask_appbuilder.models.filters import BaseFilter
from markupsafe import Markup
from sqlalchemy import select

from admin import formatting
from admin.base import current_actor, shop_format
from admin.views.order_desk import human
from app.customers.search import name_or_email_matches
from app.orders import customer_overview
from app.security.models import User

SEARCH_MAX = 100


class NameOrEmail(BaseFilter):
    """The list's search of a customer: its e-mail from the start, or every word typed in its
    first or last name."""

    name = "Name or e-mail"
    arg_name = "nameoremail"

    def apply(self, query, value):
        text = " ".join(str(value or "").split())[:SEARCH_MAX]
        if not text:
            return query
        users = select(User.id).where(name_or_email_matches(text))
        return query.filter(self.datamodel.obj.user_id.in_(users))


def spent(totals: customer_overview.CustomerTotals | None, fmt: formatting.Shop) -> Markup:
    """What a customer spent, one line per currency; blank when nothing was paid."""
    if totals is None:
        return formatting.BLANK
    return Markup("<br>").join(formatting.money(s.amount, s.currency, fmt) for s in totals.spent)


class CustomerPageMixin:
    """CustomerView's list columns `name`, `email`, `orders` and `spent`, its search by name or
    e-mail (the `user` search field), and its show page."""

    show_template = "admin/customer/show.html"
    page_columns = ("name", "email", "orders", "spent")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # FAB's filters of a relation ask for one user's id: by name or e-mail instead
        by_text = [NameOrEmail("user", self.datamodel)]
        self._filters._search_filters["user"] = by_text  # what the search form offers
        self._filters._all_filters["user"] = by_text  # what a URL's _flt_0_user means

    def _values(self, items: list, columns: list[str]) -> list[dict]:
        rows = super()._values(items, columns)
        if not any(c in columns for c in self.page_columns):
            return rows
        totals = customer_overview.totals(current_actor(), [item.user_id for item in items])
        for item, row in zip(items, rows, strict=True):
            user = item.user
            fmt = shop_format(item.tenant_id)
            row["name"] = formatting.link(
                _name(user) or f"Customer {item.id}", url_for(f"{self.endpoint}.show", pk=item.id)
            )
            row["email"] = Markup('<a href="mailto:{0}">{0}</a>').format(user.email) if user else ""
            mine = totals.get(item.user_id)
            row["orders"] = mine.orders if mine else 0
            row["spent"] = spent(mine, fmt)
        return rows

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        pk = self._deserialize_pk_if_composite(pk)
        widgets = self._show(pk)  # a customer of another tenant, or none: 404
        item = self.datamodel.get(pk, self._base_filters)
        actor = current_actor()
        fmt = shop_format(item.tenant_id)
        return self.render_template(
            self.show_template,
            pk=pk,
            title=self.show_title,
            widgets=widgets,
            related_views=self._related_views,
            customer=item,
            name=_name(item.user),
            totals=customer_overview.totals(actor, [item.user_id]).get(item.user_id),
            orders=customer_overview.recent_orders(actor, item.user_id),
            recent=customer_overview.RECENT,
            addresses=item.addresses,
            money=lambda amount, currency: formatting.money(amount, currency, fmt),
            when=lambda value: formatting.when(value, fmt),
            spent=lambda totals: spent(totals, fmt),
            human=human,
            may_add_address=self.appbuilder.sm.has_access("can_add", "AddressView"),
            may_edit_address=self.appbuilder.sm.has_access("can_edit", "AddressView"),
        )


def _name(user) -> str:
    if user is None:
        return ""
    return f"{user.first_name or ''} {user.last_name or ''}".strip()
