"""Payouts in the admin (/admin/payouts): the list (staff: every seller's, with filters; a Seller:
its own only), a payout's page with the ledger entries it pays, and staff's actions on it:
Approve, Mark paid (the transfer's reference), Pay via adapter (config PAYOUT_ADAPTERS, the
built-in `manual` by default), Mark failed (a reason: the payout is reversed and its entries paid
by the next run). "Run payout job now" builds the tenant's payouts at once (the cron does it
daily). Every action is a POST with the CSRF token, audited by the service
(app.payouts.batches), and idempotent: a second click changes nothing and says so.

/admin/payout-notices lists the job's skip notices (why a run paid a seller nothing): staff see
every seller's, a Seller its own."""

from __future__ import annotations

from contextlib import nullcontext

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import AppBuilder, expose, has_access, permission_name
from wtforms import Form, SelectField, StringField, validators

from admin import formatting
from admin.base import MarketModelView, current_actor, datamodel, is_seller_user, shop_format
from admin.views.order_desk import human
from app.core.errors import DomainError, NotFound, PermissionDenied
from app.core.tenancy import is_unscoped, tenant_scope
from app.extensions import db
from app.payouts import adapters, batches
from app.payouts.models import PAYOUT_STATUSES, SKIP_REASONS, Payout, PayoutSkip, PayoutStatus

ACTIONS = ("can_approve", "can_mark_paid", "can_pay", "can_mark_failed", "can_run")
ENTRIES_PER_PAGE = 50


class ReferenceForm(Form):
    reference = StringField(
        "Transfer reference",
        [
            validators.InputRequired("the bank's reference of the transfer"),
            validators.Length(max=200),
        ],
    )


class ReasonForm(Form):
    reason = StringField(
        "Reason", [validators.InputRequired("say why it failed"), validators.Length(max=500)]
    )


class AdapterForm(Form):
    adapter = SelectField("Adapter", validate_choice=True)


def _errors(form: Form) -> str:
    return "; ".join(
        f"{form[name].label.text}: {', '.join(errors)}" for name, errors in form.errors.items()
    )


def _refusal(exc: DomainError) -> str:
    details = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in (exc.details or {}).items())
    return f"Nothing was changed: {exc.message}{' (' + details + ')' if details else ''}."


class PayoutView(MarketModelView):
    datamodel = datamodel(Payout)
    route_base = "/admin/payouts"
    list_title = "Payouts"
    item_title = "Payout"
    list_template = "admin/payouts/list.html"
    show_template = "admin/payouts/show.html"
    base_permissions = ["can_list", "can_show", *ACTIONS]
    list_columns = [
        "id",
        "created_at",
        "seller",
        "amount",
        "status",
        "entry_count",
        "bank_account_masked",
        "external_reference",
    ]
    search_columns = ["seller", "status", "currency", "created_at", "external_reference"]
    order_columns = ["id", "created_at", "amount", "status"]
    label_columns = {
        "id": "Payout",
        "created_at": "Built",
        "entry_count": "Entries",
        "bank_account_masked": "Bank account",
        "external_reference": "Reference",
    }
    choices_columns = {"status": PAYOUT_STATUSES}
    search_related = {"seller": ("store_name",)}
    base_order = ("id", "desc")
    seller_scope = staticmethod(lambda seller_id: Payout.seller_id == seller_id)

    def owned_by_seller(self, item, seller_id):
        return False  # nobody writes payouts through forms

    def render_template(self, template, **kwargs):
        if template == self.list_template:
            kwargs["may_run"] = not is_seller_user() and self.appbuilder.sm.has_access(
                "can_run", self.class_permission_name
            )
        return super().render_template(template, **kwargs)

    # --- the payout's page --------------------------------------------------------------------

    @staticmethod
    def _id(pk) -> int:
        try:
            return int(pk)
        except (TypeError, ValueError):
            abort(404)

    def _payout(self, pk) -> Payout:
        try:
            return batches.payout_of(current_actor(), self._id(pk))
        except (NotFound, PermissionDenied):
            abort(404)

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        payout = self._payout(pk)
        page = request.args.get("page", "1")
        page = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
        entries = batches.payout_entries(payout, page, ENTRIES_PER_PAGE)
        sm = self.appbuilder.sm
        staff = not is_seller_user()
        may = {name: staff and sm.has_access(name, self.class_permission_name) for name in ACTIONS}
        adapter_form = AdapterForm(meta={"csrf": False})
        adapter_form.adapter.choices = [(n, human(n)) for n in adapters.adapter_names()]
        fmt = shop_format(payout.tenant_id)
        self.update_redirect()
        return self.render_template(
            self.show_template,
            title=f"Payout #{payout.id}",
            payout=payout,
            entries=entries,
            pages=max(1, -(-entries.total // ENTRIES_PER_PAGE)),
            may=may,
            status=PayoutStatus,
            reference_form=ReferenceForm(meta={"csrf": False}),
            reason_form=ReasonForm(meta={"csrf": False}),
            adapter_form=adapter_form,
            money=lambda amount: formatting.money(amount, payout.currency, fmt),
        )

    # --- actions (POST, CSRF by the admin's CSRFProtect) ---------------------------------------

    def _act(self, pk, call, form: Form | None = None):
        payout = self._payout(pk)
        if form is not None and not form.validate():
            flash(f"Nothing was changed. {_errors(form)}", "danger")
            return redirect(url_for(f"{self.endpoint}.show", pk=payout.id))
        scope = tenant_scope(payout.tenant_id) if is_unscoped() else nullcontext()
        try:
            with scope:
                result = call(current_actor(), payout.id)
        except DomainError as exc:
            db.session.rollback()
            flash(_refusal(exc), "danger")
        else:
            now = result.payout.status
            if result.changed:
                flash(f"Payout #{payout.id} is now {human(now).lower()}.", "success")
            else:
                flash(
                    f"Nothing to do: payout #{payout.id} is already {human(now).lower()}.", "info"
                )
        return redirect(url_for(f"{self.endpoint}.show", pk=payout.id))

    @expose("/<pk>/approve", methods=["POST"])
    @has_access
    @permission_name("approve")
    def approve(self, pk):
        return self._act(pk, batches.approve)

    @expose("/<pk>/mark-paid", methods=["POST"])
    @has_access
    @permission_name("mark_paid")
    def mark_paid(self, pk):
        form = ReferenceForm(request.form, meta={"csrf": False})
        return self._act(
            pk, lambda actor, pid: batches.mark_paid(actor, pid, form.reference.data), form
        )

    @expose("/<pk>/pay", methods=["POST"])
    @has_access
    @permission_name("pay")
    def pay(self, pk):
        form = AdapterForm(request.form, meta={"csrf": False})
        form.adapter.choices = [(n, n) for n in adapters.adapter_names()]
        return self._act(
            pk, lambda actor, pid: batches.pay_with_adapter(actor, pid, form.adapter.data), form
        )

    @expose("/<pk>/mark-failed", methods=["POST"])
    @has_access
    @permission_name("mark_failed")
    def mark_failed(self, pk):
        form = ReasonForm(request.form, meta={"csrf": False})
        return self._act(
            pk, lambda actor, pid: batches.mark_failed(actor, pid, form.reason.data), form
        )

    @expose("/run", methods=["POST"])
    @has_access
    @permission_name("run")
    def run(self):
        if is_seller_user():
            abort(403)
        try:
            summary = batches.run_now(current_actor())
        except DomainError as exc:
            db.session.rollback()
            flash(_refusal(exc), "danger")
        else:
            skipped = sum(summary.skipped.values())
            flash(
                f"Payout job done: {summary.payouts} payout(s) built from {summary.entries} "
                f"ledger entries; {skipped} seller balance(s) skipped (see Payout notices).",
                "success",
            )
        return redirect(url_for(f"{self.endpoint}.list"))


class PayoutSkipView(MarketModelView):
    datamodel = datamodel(PayoutSkip)
    route_base = "/admin/payout-notices"
    list_title = "Payout notices"
    item_title = "Payout notice"
    base_permissions = ["can_list", "can_show"]
    list_columns = ["created_at", "seller", "amount", "reason", "minimum"]
    show_columns = ["created_at", "seller", "currency", "amount", "reason", "minimum"]
    search_columns = ["seller", "reason", "currency", "created_at"]
    label_columns = {"created_at": "Run", "amount": "Available", "minimum": "Minimum then"}
    description_columns = {"reason": "Why the payout job paid nothing on that run."}
    choices_columns = {"reason": SKIP_REASONS}
    formatters_columns = {"reason": human}
    search_related = {"seller": ("store_name",)}
    base_order = ("id", "desc")
    seller_scope = staticmethod(lambda seller_id: PayoutSkip.seller_id == seller_id)

    def owned_by_seller(self, item, seller_id):
        return False


def register(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(PayoutView, "Payouts", icon="fa-money", category="Orders")
    appbuilder.add_view(PayoutSkipView, "Payout notices", icon="fa-info-circle", category="Orders")
