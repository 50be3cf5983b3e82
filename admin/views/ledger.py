"""The seller ledger in the admin (/admin/seller-ledger): its entries, read-only (the ledger is
append-only: no add, edit or delete for anyone), with the balances and a statement download.

A Seller (admin/roles.py: list, show and statement) sees only its own entries, its own balances
above the list, and downloads its own statement (CSV streamed, or XLSX) for a date range. Staff
see every seller's entries with filters (seller, kind, currency, sub-order, dates), download any
seller's statement, and an Admin adds an adjustment (signed amount, currency, reason: it is
written with who made it) through app.payouts.ledger.record_adjustment. The tenant's payout
settings (hold period, minimum payout) are at /admin/payout-settings (Admins)."""

from __future__ import annotations

from decimal import Decimal

from flask import Response, abort, flash, redirect, request, send_file, stream_with_context, url_for
from flask_appbuilder import AppBuilder, expose, has_access
from sqlalchemy import select
from wtforms import DateField, DecimalField, Form, SelectField, StringField, validators

from admin import formatting
from admin.base import (
    MarketModelView,
    current_actor,
    current_seller_id,
    datamodel,
    is_seller_user,
    shop_format,
)
from admin.views.order_desk import human
from app.core.errors import DomainError
from app.extensions import db
from app.payouts import ledger, statements
from app.payouts.models import ENTRY_KINDS, PayoutSettings, SellerLedgerEntry
from app.sellers.models import SellerProfile

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class StatementForm(Form):
    seller_id = SelectField("Seller", coerce=int, validate_choice=True)
    since = DateField("From", [validators.Optional()])
    until = DateField("To", [validators.Optional()])


class AdjustmentForm(Form):
    seller_id = SelectField("Seller", coerce=int, validate_choice=True)
    currency = StringField(
        "Currency", [validators.InputRequired(), validators.Length(min=3, max=3)], default="USD"
    )
    amount = DecimalField(
        "Amount",
        [
            validators.InputRequired(),
            validators.NumberRange(min=Decimal("-9999999999"), max=Decimal("9999999999")),
        ],
        description="Signed: positive credits the seller, negative debits it.",
    )
    reason = StringField(
        "Reason", [validators.InputRequired("say why"), validators.Length(max=500)]
    )


def _seller_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(SellerProfile.id, SellerProfile.store_name).order_by(SellerProfile.store_name)
    )
    return [(seller_id, name) for seller_id, name in rows]


class SellerLedgerView(MarketModelView):
    datamodel = datamodel(SellerLedgerEntry)
    route_base = "/admin/seller-ledger"
    list_title = "Seller ledger"
    item_title = "Ledger entry"
    list_template = "admin/ledger/list.html"
    base_permissions = ["can_list", "can_show", "can_statement", "can_adjust"]
    list_columns = [
        "created_at",
        "seller",
        "kind",
        "sub_order",
        "amount",
        "available_from",
        "note",
    ]
    show_columns = [
        "id",
        "created_at",
        "seller",
        "kind",
        "sub_order",
        "order_line",
        "currency",
        "amount",
        "available_from",
        "note",
        "created_by",
        "source_event_id",
    ]
    search_columns = ["seller", "kind", "currency", "sub_order", "created_at"]
    order_columns = ["created_at", "kind", "amount"]
    label_columns = {
        "created_at": "Date",
        "sub_order": "Sub-order",
        "order_line": "Order line",
        "available_from": "Available from",
        "created_by": "Made by",
        "source_event_id": "Event",
        "note": "Note / reason",
    }
    choices_columns = {"kind": ENTRY_KINDS}
    formatters_columns = {"kind": human}  # commission_reversal -> Commission reversal
    search_related = {"seller": ("store_name",), "sub_order": ("number",)}
    base_order = ("id", "desc")
    seller_scope = staticmethod(lambda seller_id: SellerLedgerEntry.seller_id == seller_id)

    def owned_by_seller(self, item, seller_id):
        return False  # nobody writes entries through forms

    # --- the balances and downloads above the list ----------------------------------------
    def render_template(self, template, **kwargs):
        if template == self.list_template:
            kwargs["ledger"] = self._panel()
        return super().render_template(template, **kwargs)

    def _panel(self) -> dict:
        seller = is_seller_user()
        seller_id = current_seller_id() if seller else None
        form = StatementForm(request.args, meta={"csrf": False})
        form.seller_id.choices = [] if seller else _seller_choices()
        fmt = shop_format(None)
        balances = statements.balances(seller_id) if seller and seller_id else []
        return {
            "is_seller": seller,
            "balances": [
                {
                    "currency": b.currency,
                    **{
                        name: formatting.money(getattr(b, name), b.currency, fmt)
                        for name in ("pending", "available", "paid")
                    },
                }
                for b in balances
            ],
            "form": form,
            "may_adjust": self.appbuilder.sm.has_access("can_adjust", self.class_permission_name),
        }

    @expose("/statement/<fmt>")
    @has_access
    def statement(self, fmt):
        """A seller's statement for a date range: CSV (streamed) or XLSX."""
        if fmt not in ("csv", "xlsx"):
            abort(404)
        form = StatementForm(request.args, meta={"csrf": False})
        if is_seller_user():
            seller_id = current_seller_id()
            if not seller_id:
                abort(404)
            form.seller_id.choices = [(seller_id, "")]
            form.seller_id.data = seller_id
        else:
            form.seller_id.choices = _seller_choices()
        if not form.validate():
            flash("; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items()), "danger")
            return redirect(url_for(f"{self.endpoint}.list"))
        try:
            period = statements.Period(form.since.data, form.until.data)
        except DomainError as exc:
            flash(exc.message, "danger")
            return redirect(url_for(f"{self.endpoint}.list"))
        lines = statements.statement_lines(form.seller_id.data, period)
        name = f"statement-{form.seller_id.data}-{period.since or 'start'}-{period.until or 'now'}"
        if fmt == "csv":
            return Response(
                stream_with_context(statements.csv_chunks(lines)),
                mimetype="text/csv",
                headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
            )
        return send_file(
            statements.xlsx_file(lines),
            mimetype=XLSX,
            as_attachment=True,
            download_name=f"{name}.xlsx",
        )

    @expose("/adjust", methods=["GET", "POST"])
    @has_access
    def adjust(self):
        """An Admin's adjustment of a seller's balance (with its reason)."""
        form = AdjustmentForm(
            request.form if request.method == "POST" else None, meta={"csrf": False}
        )
        form.seller_id.choices = _seller_choices()
        if request.method == "GET" and request.args.get("seller_id", "").isdigit():
            form.seller_id.data = int(request.args["seller_id"])
        if request.method == "POST" and form.validate():
            try:
                entry = ledger.record_adjustment(
                    current_actor(),
                    ledger.Adjustment(
                        seller_id=form.seller_id.data,
                        currency=form.currency.data,
                        amount=form.amount.data,
                        reason=form.reason.data,
                    ),
                )
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                details = "; ".join(
                    f"{k}: {', '.join(map(str, v))}" for k, v in (exc.details or {}).items()
                )
                flash(f"{exc.message}{': ' + details if details else ''}", "danger")
            else:
                flash(f"Adjustment of {entry.amount} {entry.currency} recorded.", "success")
                return redirect(url_for(f"{self.endpoint}.list"))
        return self.render_template(
            "admin/ledger/adjust.html", form=form, title="Adjust a seller's balance"
        )


class PayoutSettingsView(MarketModelView):
    datamodel = datamodel(PayoutSettings)
    route_base = "/admin/payout-settings"
    list_title = "Payout settings"
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    list_columns = add_columns = edit_columns = ["hold_days", "minimum_payout"]
    show_columns = ["hold_days", "minimum_payout", "created_at", "updated_at"]
    label_columns = {"hold_days": "Hold period (days)", "minimum_payout": "Minimum payout"}
    description_columns = {
        "hold_days": "Days after delivery before a sale's money may be paid out (0 to 365).",
        "minimum_payout": "A seller's available balance below this is not paid out yet.",
    }
    validators_columns = {
        "hold_days": [validators.NumberRange(min=0, max=365)],
        "minimum_payout": [validators.NumberRange(min=0)],
    }


def register(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(SellerLedgerView, "Seller ledger", icon="fa-book", category="Orders")
    appbuilder.add_view(PayoutSettingsView, "Payout settings", icon="fa-cog", category="Orders")
