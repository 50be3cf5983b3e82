"""The project's base ModelView: tenant scoping comes from the ORM hooks (app.tenants.orm);
this adds seller ownership, forms that write back only what was changed (admin.forms), columns
read-only per role, and a single place for form hooks, so no view can forget them.
Audit rows are written by the ORM hook (app.security.audit) for every change."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext

from flask import abort, g, has_request_context, jsonify, request, url_for
from flask_appbuilder import ModelView, expose, has_access, permission_name
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_login import current_user
from sqlalchemy import false
from wtforms import validators

from admin.forms import LosslessFormsMixin, ReadOnlyField, readonly_form
from admin.related_select import AjaxRelatedField, search_related
from app.core.errors import PermissionDenied
from app.core.tenancy import current_tenant_id, is_unscoped, tenant_scope
from app.extensions import db
from app.security import roles
from app.security.actor import Actor
from app.sellers.actors import actor_for
from app.tenants.models import TenantScoped

_NOT_A_SELLER = object()


def current_actor() -> Actor | None:
    """The signed-in user's Actor (app.security.actor), built once per request; None signed out."""
    if "admin_actor" not in g:
        user = current_user
        g.admin_actor = actor_for(user) if getattr(user, "is_authenticated", False) else None
    return g.admin_actor


def current_seller_id():
    """The seller profile id of a seller-only user; _NOT_A_SELLER for staff who see everything;
    None for a seller user without a profile (sees nothing)."""
    actor = current_actor()
    if actor is None or not actor.is_seller:
        return _NOT_A_SELLER
    with db.session.no_autoflush:
        return actor.seller_id  # looked up once per request


def is_seller_user() -> bool:
    return current_seller_id() is not _NOT_A_SELLER


# a user works in the admin as its highest staff role (a Seller who is also an Admin is an Admin,
# as User.is_seller says)
_ROLES_BY_RANK = (roles.SUPER_ADMIN, roles.ADMIN, roles.SELLER)


def admin_role() -> str | None:
    """The role the signed-in user works in the admin as; None outside a request or signed out."""
    if not has_request_context() or not getattr(current_user, "is_authenticated", False):
        return None
    names = current_user.role_names
    return next((name for name in _ROLES_BY_RANK if name in names), None)


class SellerScopeFilter(BaseFilter):
    """A base filter whose value is a function seller_id -> SQL condition, applied to seller users."""

    name = "Seller scope"
    arg_name = "sellerscope"

    def apply(self, query, value):
        seller_id = current_seller_id()
        if seller_id is _NOT_A_SELLER:
            return query
        if seller_id is None:
            return query.filter(false())
        return query.filter(value(seller_id))


def seller_scoped(fn: Callable) -> list:
    return [["id", SellerScopeFilter, fn]]


def seller_condition(fn: Callable | None):
    """The condition `fn(seller_id)` for a seller user (nothing for a seller without a profile),
    None (no extra condition) for staff or when there is no seller scope."""
    if fn is None:
        return None
    seller_id = current_seller_id()
    if seller_id is _NOT_A_SELLER:
        return None
    if seller_id is None:
        return false()
    return fn(seller_id)


class MarketModelView(LosslessFormsMixin, ModelView):
    """Base for every admin view.

    Its add and edit forms render every column exactly and write back only what was changed
    (admin.forms.MarketModelConverter): a Numeric column at its scale and checked against it, UTC
    datetimes, empty optional texts left NULL, and so on; saving a form unchanged changes nothing.

    seller_scope: seller_id -> condition on this view's model (rows a seller may see and change).
    related_scopes: form field -> (seller_id -> condition on the related model), so a seller can
        only pick its own rows in select boxes; checked again on save (`owned_by_seller`).
    ajax_related: relation -> columns of the related model to search ("title", or "user.email"
        through a many-to-one), for relations to tables that grow without bound. Their add, edit
        and search form fields become search-as-you-type selects fed by `related/<relation>/`
        (at most 20 matches a page) instead of a <select> with every row; the endpoint and the
        posted id get the same tenant and `related_scopes` scoping as a plain select.
    readonly_columns: role -> edit-form columns that role may not change ({roles.SELLER:
        ("commission_rate",)}). They are shown as text (the stored value, formatted as the field
        would show it), have no input, and whatever is posted for them is ignored. A user counts
        as its highest staff role (admin_role()). Define `edit_form` through this, never as a
        class attribute.
    """

    seller_scope: Callable | None = None
    related_scopes: dict[str, Callable] = {}
    ajax_related: dict[str, tuple[str, ...]] = {}
    add_template = "admin/model/add.html"
    edit_template = "admin/model/edit.html"
    list_template = "admin/model/list.html"
    # non-nullable columns the form may leave empty because before_save fills them (e.g. slug)
    optional_columns: tuple[str, ...] = ()
    readonly_columns: dict[str, tuple[str, ...]] = {}
    page_size = 25

    def __init__(self, **kwargs):
        # FAB requires input for every non-nullable column (checkboxes need none: admin.forms)
        self.validators_columns = {
            **{name: [validators.Optional()] for name in self.optional_columns},
            **(self.validators_columns or {}),
        }
        if self.seller_scope is not None:
            self.base_filters = seller_scoped(type(self).seller_scope)
        if self.related_scopes:
            rel = {name: seller_scoped(fn) for name, fn in self.related_scopes.items()}
            self.add_form_query_rel_fields = {**rel, **(self.add_form_query_rel_fields or {})}
            self.edit_form_query_rel_fields = {**rel, **(self.edit_form_query_rel_fields or {})}
            # the search form's select boxes list related rows too: scope them the same way
            self.search_form_query_rel_fields = {**rel, **(self.search_form_query_rel_fields or {})}
        if self.ajax_related:
            self._init_ajax_fields()
        super().__init__(**kwargs)

    # --- columns read-only per role -------------------------------------------------------------
    @property
    def edit_form(self):
        """The edit form class for the signed-in user: its role's `readonly_columns` as text."""
        form = self.__dict__.get("_edit_form")
        columns = self.readonly_columns.get(admin_role()) if form is not None else None
        if not columns:
            return form
        forms = self.__dict__.setdefault("_readonly_edit_forms", {})
        if columns not in forms:
            forms[columns] = readonly_form(form, columns)
        return forms[columns]

    @edit_form.setter
    def edit_form(self, form) -> None:
        self.__dict__["_edit_form"] = form
        self.__dict__.pop("_readonly_edit_forms", None)

    def _fill_form_exclude_cols(self, exclude_cols, form):
        """FAB's hook on a posted form: read-only fields show the row's stored values again when
        the form comes back with errors (the post carries none for them)."""
        super()._fill_form_exclude_cols(exclude_cols, form)
        readonly = [field for field in form if isinstance(field, ReadOnlyField)]
        pk = (request.view_args or {}).get("pk")
        if readonly and pk is not None:
            item = self.datamodel.get(pk, self._base_filters)
            for field in readonly:
                field.show(getattr(item, field.short_name, None) if item is not None else None)

    # --- search-as-you-type selects ----------------------------------------------------------
    def _ajax_field(self, name: str, for_search: bool = False) -> AjaxRelatedField:
        model = self.datamodel.get_related_model(name)
        scope_fn = self.related_scopes.get(name)
        validators_ = list((self.validators_columns or {}).get(name, []))
        if not for_search:
            required = not self.datamodel.is_nullable(name)
            validators_.append(validators.DataRequired() if required else validators.Optional())
        return AjaxRelatedField(
            (self.label_columns or {}).get(name) or self._prettify_column(name),
            validators_,
            description=(self.description_columns or {}).get(name, ""),
            model=model,
            scope=lambda: seller_condition(scope_fn),
            url=lambda: url_for(f"{self.endpoint}.related", column=name),
        )

    def _init_ajax_fields(self) -> None:
        for name in self.ajax_related:
            assert self.datamodel.is_relation_many_to_one(name), (
                f"{name}: ajax_related is for many-to-one"
            )
        columns = lambda attr: getattr(self, attr) or []  # noqa: E731
        self.add_form_extra_fields = {
            **{n: self._ajax_field(n) for n in self.ajax_related if n in columns("add_columns")},
            **(self.add_form_extra_fields or {}),
        }
        self.edit_form_extra_fields = {
            **{n: self._ajax_field(n) for n in self.ajax_related if n in columns("edit_columns")},
            **(self.edit_form_extra_fields or {}),
        }
        self.search_form_extra_fields = {
            **{
                n: self._ajax_field(n, for_search=True)
                for n in self.ajax_related
                if n in columns("search_columns")
            },
            **(self.search_form_extra_fields or {}),
        }

    @expose("/related/<column>/")
    @has_access
    @permission_name("list")
    def related(self, column):
        """select2's data source: {"results": [{"id", "text"}], "pagination": {"more"}}.
        A relation searchable in the list needs can_list (checked by has_access); one only in the
        add/edit forms needs can_add or can_edit as well: nobody gets rows they had no select for."""
        if column not in self.ajax_related:
            abort(404)
        in_forms = [
            perm
            for perm, cols in (("can_add", self.add_columns), ("can_edit", self.edit_columns))
            if column in (cols or []) and perm in self.base_permissions
        ]
        if column not in (self.search_columns or []):
            if not any(
                self.appbuilder.sm.has_access(perm, self.class_permission_name) for perm in in_forms
            ):
                abort(403)
        try:
            page = min(max(int(request.args.get("page", 1)), 1), 1000)
        except ValueError:
            page = 1
        model = self.datamodel.get_related_model(column)
        with db.session.no_autoflush:
            rows, more = search_related(
                model,
                self.ajax_related[column],
                request.args.get("q", ""),
                seller_condition(self.related_scopes.get(column)),
                page,
            )
            results = [{"id": row.id, "text": str(row)} for row in rows]
        return jsonify({"results": results, "pagination": {"more": more}})

    # --- hooks subclasses implement -----------------------------------------------------------
    def before_save(self, item, is_new: bool) -> None:
        """Business checks and defaults; raise a DomainError to refuse."""

    def claim_for_seller(self, item, seller_id: int, is_new: bool) -> None:
        """Make `item` the seller's own before its ownership is checked, as the domain decides
        (a seller's product or promotion is always its own, whatever its form said); raise a
        DomainError to refuse (FAB shows it as a flash message)."""

    def owned_by_seller(self, item, seller_id: int) -> bool:
        """Whether `item`, as it would be saved, belongs to seller `seller_id`: a call to the
        domain's rule (app/<domain>/scopes.py), never a rule of the view's own."""
        return True

    # --- FAB hooks ------------------------------------------------------------------------------
    @staticmethod
    def _in_row_tenant(item):
        """A Super Admin's requests read across tenants; the checks of a save (a slug or coupon code
        unique in its storefront, one tax settings row, plan quotas) must see the row's tenant only,
        as they do for that tenant's admins. Elsewhere, nothing to change."""
        tenant_id = getattr(item, "tenant_id", None) or current_tenant_id()
        if not is_unscoped() or not isinstance(item, TenantScoped) or tenant_id is None:
            return nullcontext()
        return tenant_scope(tenant_id)

    def _guard(self, item, is_new: bool) -> None:
        try:
            # no autoflush: the checks load related rows, and a flush now would both write a
            # half-checked row and clear the change history that before_save relies on
            with db.session.no_autoflush, self._in_row_tenant(item):
                seller_id = current_seller_id()
                if seller_id is not _NOT_A_SELLER:
                    if seller_id is None:
                        raise PermissionDenied("You can only change your own records.")
                    self.claim_for_seller(item, seller_id, is_new)
                    if not self.owned_by_seller(item, seller_id):
                        raise PermissionDenied("You can only change your own records.")
                self.before_save(item, is_new)
        except Exception:
            # FAB flashes the message; the half-populated object must never reach the database
            db.session.rollback()
            raise

    def pre_add(self, item):
        self._guard(item, True)

    def pre_update(self, item):
        self._guard(item, False)

    def pre_delete(self, item):
        seller_id = current_seller_id()
        if seller_id is not _NOT_A_SELLER and (
            seller_id is None or not self.owned_by_seller(item, seller_id)
        ):
            raise PermissionDenied("You can only delete your own records.")


def datamodel(model) -> SQLAInterface:
    return SQLAInterface(model, db.session)


class CurrentTenantFilter(BaseFilter):
    """For tables that are not TenantScoped (audit log, outbox): rows of the current tenant only,
    unless the user is a Super Admin (unscoped)."""

    name = "Current tenant"
    arg_name = "currenttenant"

    def apply(self, query, value):
        if is_unscoped():
            return query
        return query.filter(self.datamodel.obj.tenant_id == current_tenant_id())
