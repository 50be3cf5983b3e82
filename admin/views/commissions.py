"""Commission rules: /admin/commission-rules (Admins; a Seller has no access, admin/roles.py) and
the preview page /admin/commission-rules/preview/: pick a seller, a category and an example amount,
see which rule applies (app.commissions.services' precedence: seller + category > seller >
category > platform default, else the seller's own rate) and what the platform would keep."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import request, url_for
from flask_appbuilder import AppBuilder, expose, has_access, permission_name
from sqlalchemy import select
from wtforms import DateTimeField, DecimalField, Form, SelectField, StringField, validators

from admin import formatting
from admin.base import MarketModelView, datamodel, shop_format
from app.catalog.models import Category
from app.commissions import services
from app.commissions.models import FIXED_PER, CommissionRule
from app.core.errors import DomainError
from app.core.tenancy import current_tenant_id
from app.extensions import db
from app.sellers.models import SellerProfile
from app.tenants.models import Tenant


class PreviewForm(Form):
    seller = SelectField("Seller", coerce=int, validators=[validators.InputRequired()])
    category = SelectField("Category", coerce=int, default=0)
    amount = DecimalField(
        "Example amount",
        [validators.InputRequired(), validators.NumberRange(min=0, max=9_999_999_999)],
        default=Decimal("100.00"),
        description="The commission base of one order line: its price net of tax and discounts.",
    )
    currency = StringField("Currency", [validators.Length(min=3, max=3)])
    at = DateTimeField(
        "At", [validators.Optional()], render_kw={"placeholder": "now (UTC YYYY-MM-DD HH:MM:SS)"}
    )


class CommissionRuleView(MarketModelView):
    datamodel = datamodel(CommissionRule)
    route_base = "/admin/commission-rules"
    list_title = "Commission rules"
    add_title, edit_title, show_title = (
        "Add commission rule",
        "Edit commission rule",
        "Commission rule",
    )
    list_columns = [
        "name",
        "scope",
        "seller",
        "category",
        "rate",
        "fixed_amount",
        "fixed_per",
        "valid_from",
        "valid_until",
    ]
    # scope is a property (which of seller and category are set): not a column to sort on
    order_columns = ["name", "rate", "fixed_amount", "fixed_per", "valid_from", "valid_until"]
    search_columns = ["name", "seller", "category", "fixed_per", "currency", "valid_from"]
    add_columns = edit_columns = [
        "name",
        "seller",
        "category",
        "rate",
        "fixed_amount",
        "currency",
        "fixed_per",
        "valid_from",
        "valid_until",
    ]
    show_columns = ["name", "scope", *add_columns[1:], "created_at", "updated_at"]
    label_columns = {
        "rate": "Rate",
        "fixed_amount": "Fixed amount",
        "fixed_per": "Fixed amount per",
        "valid_from": "Valid from",
        "valid_until": "Valid until",
    }
    description_columns = {
        "seller": "Empty: every seller.",
        "category": "Empty: every category. A category covers its subcategories.",
        "rate": "Share of the line kept: 0.1000 = 10 %. Empty: none.",
        "fixed_amount": "Charged once per order line or once per sub-order (below). Empty: none.",
        "currency": "Required with a fixed amount; a rule with a currency applies to orders in it only.",
        "valid_from": "UTC; empty: already valid.",
        "valid_until": "UTC, excluded; empty: no end.",
    }
    choices_columns = {"fixed_per": FIXED_PER}
    optional_columns = ("fixed_per",)
    currency_column = "currency"
    base_order = ("id", "desc")

    def before_save(self, item, is_new):
        services.prepare_rule(item)

    @expose("/preview/")
    @has_access
    @permission_name("preview")
    def preview(self):
        """Which rule applies to a seller's sale in a category, and the commission on an amount."""
        tenant = db.session.get(Tenant, current_tenant_id()) if current_tenant_id() else None
        form = PreviewForm(request.args)
        sellers = db.session.scalars(select(SellerProfile).order_by(SellerProfile.store_name))
        form.seller.choices = [(s.id, s.store_name) for s in sellers]
        categories = db.session.scalars(select(Category).order_by(Category.name).limit(1000))
        form.category.choices = [(0, "(no category)")] + [(c.id, str(c)) for c in categories]
        if not form.currency.data:
            form.currency.data = tenant.default_currency if tenant else "USD"
        if not request.args and form.seller.choices:
            form.seller.data = form.seller.choices[0][0]
        result, problem = None, None
        if request.args and form.validate():
            try:
                result = services.preview(
                    form.seller.data,
                    form.category.data or None,
                    form.amount.data,
                    form.currency.data.upper(),
                    form.at.data.replace(tzinfo=dt.timezone.utc) if form.at.data else None,
                )
            except DomainError as exc:
                problem = exc.message
        fmt = shop_format(None)
        shown = None
        if result is not None:
            money = lambda v: formatting.money(v, result.currency, fmt)  # noqa: E731
            rule = result.applied
            shown = {
                "rule": formatting.link(
                    rule.rule_name, url_for("CommissionRuleView.show", pk=rule.rule_id)
                )
                if rule.rule_id
                else "none: the seller's own commission rate",
                "level": rule.level,
                "rate": formatting.percent(rule.rate, fmt),
                "amount": money(result.amount),
                "percentage_part": money(result.percentage_part),
                "fixed_line_part": money(result.fixed_line_part),
                "fixed_order_part": money(result.fixed_order_part),
                "total": money(result.total_for_one_line_order),
            }
        return self.render_template(
            "admin/commission_preview.html", form=form, shown=shown, problem=problem
        )


def register(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(
        CommissionRuleView, "Commission rules", icon="fa-balance-scale", category="Pricing"
    )
    appbuilder.add_link(
        "Commission preview",
        href="/admin/commission-rules/preview/",
        icon="fa-calculator",
        category="Pricing",
        baseview=CommissionRuleView,
    )
