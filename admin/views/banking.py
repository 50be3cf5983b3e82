"""Sellers' bank accounts: /admin/bank-accounts. A seller lists, adds, edits and deletes its own
(never another's: list, show and edit URLs, the seller select); staff see every seller's and
verify or reject them (actions "Verify" and "Reject", Admin only: admin/roles.py). "Reject" opens
a form (/admin/bank-accounts/reject/?ids=...) asking the reason the seller reads (required, CSRF,
the change audited); the seller sees it on the account's page and in the API.

The number is never shown: lists and pages show its last 4; the add and edit forms have an empty
password field that replaces it when something is typed (an IBAN, or an account number when the
routing number is filled), and a form sent back with an error never echoes it. Rules (IBAN check
digits, duplicates, one default per seller and currency under the seller's row lock, a changed
number or holder unverified again) are app.sellers.banking.services', as for the API."""

from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import AppBuilder, expose, has_access, permission_name
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget
from wtforms import BooleanField, PasswordField, validators

from admin.base import MarketModelView, current_actor, datamodel
from admin.references import USER
from app.core.errors import DomainError, ValidationError
from app.extensions import db
from app.sellers.banking import scopes, services
from app.sellers.banking.models import VERIFICATION_STATUSES, SellerBankAccount
from app.sellers.models import SellerProfile

MAX_REJECTED_AT_ONCE = 100

_NUMBER = PasswordField(
    "IBAN or account number",
    [validators.Optional(), validators.Length(max=50)],
    widget=BS3PasswordFieldWidget(),
    description="Never shown, not even here. Type an IBAN, or an account number with its routing "
    "number below. Editing: leave empty to keep the stored number; a new one must be verified again.",
)


class BankAccountView(MarketModelView):
    datamodel = datamodel(SellerBankAccount)
    route_base = "/admin/bank-accounts"
    list_title = "Bank accounts"
    add_title, edit_title, show_title = "Add bank account", "Edit bank account", "Bank account"
    list_columns = [
        "seller",
        "holder_name",
        "masked_number",
        "currency",
        "country",
        "verification_status",
        "is_default",
        "updated_at",
    ]
    # the number is a property (its last 4): not a column to sort on
    order_columns = [
        "holder_name",
        "currency",
        "country",
        "verification_status",
        "is_default",
        "updated_at",
    ]
    search_columns = [
        "seller",
        "holder_name",
        "number_last4",
        "currency",
        "country",
        "verification_status",
        "is_default",
    ]
    show_columns = [
        "seller",
        "holder_name",
        "kind",
        "masked_number",
        "routing_number",
        "currency",
        "country",
        "verification_status",
        "verified_at",
        "verified_by_user_id",
        "rejection_reason",
        "is_default",
        "created_at",
        "updated_at",
    ]
    add_columns = [
        "seller",
        "holder_name",
        "new_number",
        "routing_number",
        "currency",
        "country",
        "make_default",
    ]
    edit_columns = ["holder_name", "new_number", "routing_number", "make_default"]
    add_form_extra_fields = edit_form_extra_fields = {
        "new_number": _NUMBER,
        "make_default": BooleanField(
            "Default for its currency",
            description="The account payouts in this currency go to (the first one always is).",
        ),
    }
    label_columns = {
        "masked_number": "Number",
        "number_last4": "Number ending",
        "holder_name": "Holder",
        "verification_status": "Verification",
        "verified_by_user_id": "Decided by",
        "verified_at": "Decided at",
        "is_default": "Default",
        "rejection_reason": "Rejection reason",
        "routing_number": "Routing number",
    }
    description_columns = {
        "routing_number": "With an account number only (US: the 9-digit ABA number). Empty for an IBAN.",
        "currency": "ISO 4217, e.g. EUR.",
        "country": "ISO 3166-1 alpha-2, e.g. DE (an IBAN's must match).",
    }
    choices_columns = {"verification_status": VERIFICATION_STATUSES}
    references = {"verified_by_user_id": USER}
    # a seller's accounts are its own whatever the form says (claim_for_seller); staff must choose
    optional_columns = ("seller",)
    base_order = ("id", "desc")

    seller_scope = staticmethod(scopes.accounts_of_seller)
    related_scopes = {"seller": lambda sid: SellerProfile.id == sid}

    def prefill_form(self, form, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is not None:
            form.make_default.data = item.is_default

    def claim_for_seller(self, item, seller_id, is_new):
        if is_new:
            item.seller = db.session.get(SellerProfile, seller_id)
            item.seller_id = seller_id

    def owned_by_seller(self, item, seller_id):
        return scopes.owns_account(seller_id, item)

    def before_save(self, item, is_new):
        if item.seller is None:
            raise ValidationError("choose the seller whose account this is")
        item.seller_id = item.seller.id
        services.prepare_account(
            item,
            getattr(item, "new_number", None),
            bool(getattr(item, "make_default", False)),
            is_new,
        )

    def pre_delete(self, item):
        super().pre_delete(item)
        g.bank_account_deleted = (item.seller_id, item.currency)

    def post_delete(self, item):
        seller_id, currency = g.pop("bank_account_deleted")
        services.promote_default(seller_id, currency)
        db.session.commit()

    def _decide(self, items, decide, done: str):
        rows = [
            item for item in (items if isinstance(items, list) else [items]) if item is not None
        ]
        if not rows:
            abort(404)
        count = 0
        for row_id in [row.id for row in rows]:
            try:
                decide(current_actor(), row_id)
                count += 1
            except DomainError as exc:
                flash(f"#{row_id}: {exc.message}", "warning")
        flash(done.format(count), "info")
        return redirect(request.referrer or self.get_redirect())

    @action(
        "verify", "Verify", "Mark the selected bank accounts verified?", "fa-check", single=True
    )
    def verify(self, items):
        return self._decide(items, services.verify_account, "{} bank account(s) verified.")

    @action("reject", "Reject", None, "fa-ban", single=True)
    def reject(self, items):
        """The selected accounts go to the rejection form (the reason the seller reads)."""
        ids = [item.id for item in (items if isinstance(items, list) else [items]) if item]
        if not ids:
            abort(404)
        return redirect(url_for(f"{self.endpoint}.reject_form", ids=",".join(map(str, ids))))

    def _chosen(self, text: str) -> list[SellerBankAccount]:
        """The accounts `text` names (ids separated by commas) as this user's list has them; 404
        when it names none (or something that is no id)."""
        parts = [p for p in (text or "").split(",") if p.strip()]
        if not parts or len(parts) > MAX_REJECTED_AT_ONCE or not all(p.isdigit() for p in parts):
            abort(404)
        rows = [self.datamodel.get(int(p), self._base_filters) for p in dict.fromkeys(parts)]
        rows = [row for row in rows if row is not None]
        if not rows:
            abort(404)
        return rows

    @expose("/reject/", methods=["GET", "POST"])
    @has_access
    @permission_name("reject")
    def reject_form(self):
        """Reject accounts with a reason (required; the seller reads it in the API and here).
        GET shows the form, POST (CSRF) rejects each account through the service, which the
        audit records, and goes back to the list (one account: its page)."""
        rows = self._chosen(request.values.get("ids", ""))
        error = None
        reason = request.form.get("reason", "") if request.method == "POST" else ""
        if request.method == "POST":
            try:
                reason = services.clean_rejection_reason(reason)
            except DomainError as exc:
                error = exc.message
            else:
                done = 0
                for row_id in [row.id for row in rows]:
                    try:
                        services.reject_account(current_actor(), row_id, reason)
                        done += 1
                    except DomainError as exc:
                        flash(f"#{row_id}: {exc.message}", "warning")
                flash(f"{done} bank account(s) rejected; the seller sees the reason.", "info")
                if len(rows) == 1:
                    return redirect(url_for(f"{self.endpoint}.show", pk=rows[0].id))
                return redirect(self.get_redirect())
        return self.render_template(
            "admin/bank_accounts/reject.html",
            title="Reject bank account" if len(rows) == 1 else "Reject bank accounts",
            accounts=rows,
            ids=",".join(str(row.id) for row in rows),
            reason=reason,
            error=error,
            max_reason=services.MAX_REJECTION_REASON,
        )


def register(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(BankAccountView, "Bank accounts", icon="fa-university", category="People")
