"""Sellers in the admin (issue 14, items 1 and 2): the seller page with its onboarding steps and
KYC, the applicants waiting for a decision, the tenant's KYC requirements and the documents.

Every step calls the app/ service the API calls, with admin.base.current_actor(): approve, reject
(with the reason the applicant reads), suspend (with reason) and reinstate are
app.sellers.onboarding.change_status; a document's upload, review and file are app.sellers.kyc.
What a service refuses (a DomainError) is a flash message on the page and changes nothing. Every
change is a POST carrying the CSRF token. A seller reaches only its own page (the view's
seller_scope) and its own documents (the service checks the owner again on every file, and
that a reviewed document is the page's seller's).

Permissions (admin/roles.py): can_set_status and can_review_kyc are Admin only; can_upload_kyc
and can_kyc_file the seller's too.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, request, url_for
from flask_appbuilder import expose, has_access, permission_name
from flask_appbuilder.models.sqla.filters import FilterEqual

from admin import formatting
from admin.base import MarketModelView, current_actor, datamodel, is_seller_user, shop_format
from admin.related_select import USER_SEARCH
from admin.views.fulfilment import refusal
from app.core.errors import DomainError
from app.security import roles
from app.sellers import kyc, onboarding
from app.sellers import services as sellers
from app.sellers.inputs import NewDocument
from app.sellers.models import (
    BUSINESS_TYPES,
    KYC_DOCUMENT_STATUSES,
    SELLER_STATUSES,
    KycDocument,
    KycRequirement,
    SellerProfile,
)

STEP_LABELS = {
    "approve": "Approve",
    "reject": "Reject",
    "suspend": "Suspend",
    "reinstate": "Reinstate",
}
STEP_DONE = {
    "approve": "approved",
    "reject": "rejected",
    "suspend": "suspended",
    "reinstate": "reinstated",
}


def file_size(size: int | None) -> str:
    """A file's size as people read it: 812 bytes, 34 KB, 2.1 MB."""
    if not size:
        return ""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _to_seller_page(view, pk, seller_of, anchor=None):
    """The row `pk` of `view` as the user may see it (404 otherwise), opened on its seller's page."""
    try:
        item = view.datamodel.get(int(pk), view._base_filters)
    except ValueError:
        item = None
    if item is None:
        abort(404)
    return redirect(
        url_for("SellerView.show", pk=seller_of(item), _anchor=anchor(item) if anchor else None)
    )


class SellerView(MarketModelView):
    datamodel = datamodel(SellerProfile)
    route_base = "/admin/sellers"
    list_title = "Sellers"
    item_title = "Seller"
    show_template = "admin/sellers/show.html"
    list_columns = [
        "store_name",
        "user",
        "status",
        "business_type",
        "commission_rate",
        "created_at",
    ]
    search_columns = ["store_name", "slug", "status", "business_type", "contact_email"]
    # staff create a seller (pending, as an applicant would be) and approve it from its page
    add_columns = [
        "user",
        "store_name",
        "slug",
        "description",
        "contact_email",
        "business_type",
        "commission_rate",
    ]
    # the status moves only through the page's steps (reason, KYC, mail): never a form field
    edit_columns = [
        "store_name",
        "description",
        "contact_email",
        "business_type",
        "commission_rate",
    ]
    show_columns = [
        "user",
        "store_name",
        "slug",
        "description",
        "contact_email",
        "business_type",
        "status",
        "status_reason",
        "status_changed_at",
        "commission_rate",
        "created_at",
        "updated_at",
    ]
    label_columns = {"status_reason": "Reason given", "status_changed_at": "Status since"}
    description_columns = {
        "commission_rate": "Share the platform keeps: 0.1000 = 10 %.",
        "business_type": "Which KYC documents the seller owes.",
    }
    choices_columns = {"status": SELLER_STATUSES, "business_type": BUSINESS_TYPES}
    optional_columns = ("slug",)
    ajax_related = {"user": USER_SEARCH}
    # a seller edits its store's description, not its own approval, commission or business type
    readonly_columns = {roles.SELLER: (*sellers.STAFF_ONLY_COLUMNS, "business_type")}

    seller_scope = staticmethod(lambda sid: SellerProfile.id == sid)

    def owned_by_seller(self, item, seller_id):
        return sellers.seller_may_save(item, seller_id)

    def before_save(self, item, is_new):
        if is_new:  # pending, as an applicant is, and within the plan's max_sellers
            item.status = "pending"
            onboarding.reserve_seller_place()
        sellers.prepare_profile(item)

    # --- the page -------------------------------------------------------------------------------

    def _seller(self, pk) -> SellerProfile:
        """The seller as the user's list has it (a seller: itself), else 404."""
        return self.visible_row(pk)

    def _back(self, pk):
        return redirect(url_for(f"{self.endpoint}.show", pk=pk))

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        item = self._seller(pk)
        widgets = self._show(item.id)
        sm = self.appbuilder.sm
        fmt = shop_format(item.tenant_id)
        staff = not is_seller_user()
        return self.render_template(
            self.show_template,
            pk=item.id,
            title=item.store_name,
            widgets=widgets,
            seller=item,
            steps=onboarding.allowed_steps(item.status)
            if staff and sm.has_access("can_set_status", self.__class__.__name__)
            else [],
            step_labels=STEP_LABELS,
            needs_reason=onboarding.NEEDS_REASON,
            requirements=kyc.standing(item),
            documents=kyc.documents_of(current_actor(), item.id),
            may_review=staff and sm.has_access("can_review_kyc", self.__class__.__name__),
            may_upload=sm.has_access("can_upload_kyc", self.__class__.__name__),
            max_bytes=kyc.max_file_bytes(),
            may_edit=sm.has_access("can_edit", self.__class__.__name__),
            file_size=file_size,
            when=lambda at: formatting.when(at, fmt),
        )

    @expose("/set-status/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("set_status")
    def set_status(self, pk):
        item = self._seller(pk)
        step = request.form.get("step", "")
        if step not in STEP_LABELS:
            flash("Choose one of the steps offered on the page.", "danger")
            return self._back(pk)
        try:
            onboarding.change_status(current_actor(), item.id, step, request.form.get("reason"))
        except DomainError as exc:
            flash(refusal(exc), "danger")
        else:
            flash(
                f"{item.store_name} is {STEP_DONE[step]}; the seller was told by e-mail.", "success"
            )
        return self._back(pk)

    @expose("/kyc-upload/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("upload_kyc")
    def upload_kyc(self, pk):
        item = self._seller(pk)
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("Choose a file to upload.", "danger")
            return self._back(pk)
        data = upload.stream.read(kyc.max_file_bytes() + 1)
        try:
            document = kyc.upload(
                current_actor(),
                NewDocument(
                    document_type=request.form.get("document_type", ""),
                    filename=upload.filename,
                    data=data,
                ),
                seller_id=item.id,
            )
        except DomainError as exc:
            flash(refusal(exc), "danger")
        else:
            flash(f"{document.document_type} uploaded: staff will review it.", "success")
        return self._back(pk)

    @expose("/kyc-review/<int:pk>/<int:document_id>", methods=["POST"])
    @has_access
    @permission_name("review_kyc")
    def review_kyc(self, pk, document_id):
        item = self._seller(pk)
        decision = request.form.get("decision", "")
        try:  # the service checks the document is this seller's (and of this tenant)
            document = kyc.review(
                current_actor(),
                document_id,
                decision,
                request.form.get("reason"),
                seller_id=item.id,
            )
        except DomainError as exc:
            flash(refusal(exc), "danger")
        else:
            flash(f"{document.document_type} {decision}; the seller was told by e-mail.", "success")
        return self._back(pk)

    @expose("/kyc-file/<int:document_id>", methods=["GET"])
    @has_access
    @permission_name("kyc_file")
    def kyc_file(self, document_id):
        try:
            document, data = kyc.read_document(current_actor(), document_id)
        except DomainError:
            abort(404)
        return Response(
            data,
            mimetype=document.content_type,
            headers={
                "Content-Disposition": f'attachment; filename="{kyc.download_name(document)}"',
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )


class SellerApplicationView(MarketModelView):
    """Applicants: the sellers waiting for staff's decision, oldest first (Admin only); each
    opens on its seller page, where the steps are."""

    datamodel = datamodel(SellerProfile)
    route_base = "/admin/seller-applications"
    list_title = "Seller applications"
    base_order = ("created_at", "asc")
    list_columns = ["store_name", "user", "business_type", "contact_email", "created_at"]
    base_permissions = ["can_list", "can_show"]
    search_columns = ["store_name", "business_type", "contact_email", "created_at"]
    choices_columns = {"business_type": BUSINESS_TYPES}
    base_filters = [["status", FilterEqual, "pending"]]

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        return _to_seller_page(self, pk, lambda item: item.id)


class KycRequirementView(MarketModelView):
    datamodel = datamodel(KycRequirement)
    route_base = "/admin/kyc-requirements"
    list_title = "KYC requirements"
    list_columns = ["business_type", "document_type", "is_mandatory", "description"]
    add_columns = edit_columns = show_columns = list_columns
    search_columns = ["business_type", "document_type", "is_mandatory"]
    choices_columns = {"business_type": BUSINESS_TYPES}
    label_columns = {"is_mandatory": "Mandatory"}
    description_columns = {
        "document_type": "A short name sellers choose when they upload (passport, company_register).",
        "is_mandatory": "A seller is approved only once every mandatory document is accepted.",
    }
    base_order = ("business_type", "asc")


class KycDocumentView(MarketModelView):
    """Every seller's documents for staff (filter by status: the ones to review); a seller its
    own. Reviewed and uploaded on the seller's page; no add or edit here."""

    datamodel = datamodel(KycDocument)
    route_base = "/admin/kyc-documents"
    list_title = "KYC documents"
    base_permissions = ["can_list", "can_show"]
    list_columns = ["seller", "document_type", "filename", "status", "created_at", "reviewed_at"]
    show_columns = [
        "seller",
        "document_type",
        "filename",
        "content_type",
        "size",
        "sha256",
        "status",
        "review_reason",
        "reviewed_at",
        "reviews",
        "created_at",
    ]
    search_columns = ["seller", "document_type", "status", "created_at"]
    choices_columns = {"status": KYC_DOCUMENT_STATUSES}
    search_related = {"seller": ("store_name",)}
    label_columns = {"review_reason": "Reason given", "reviews": "Review history"}
    base_order = ("id", "desc")
    formatters_columns = {
        "reviews": lambda reviews: (
            "; ".join(
                f"{r.decision} by {r.reviewer.username if r.reviewer else 'staff'}"
                + (f": {r.reason}" if r.reason else "")
                for r in reviews
            )
            or "none yet"
        ),
        "size": file_size,
    }

    seller_scope = staticmethod(lambda sid: KycDocument.seller_id == sid)
    related_scopes = {"seller": lambda sid: SellerProfile.id == sid}

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        """A document opens on its seller's page, where its file, history and review are."""
        return _to_seller_page(self, pk, lambda item: item.seller_id, lambda item: f"kyc-{item.id}")


def register(appbuilder) -> None:
    """Beside Sellers in the People menu (admin/views/__init__.py adds SellerView itself)."""
    add = appbuilder.add_view
    add(SellerApplicationView, "Seller applications", icon="fa-inbox", category="People")
    add(KycDocumentView, "KYC documents", icon="fa-id-card", category="People")
    add(KycRequirementView, "KYC requirements", icon="fa-list-ol", category="People")
