"""The project's base ModelView: tenant scoping comes from the ORM hooks (app.tenants.orm);
this adds seller ownership, forms that write back only what was changed (admin.forms), columns
read-only per role, and a single place for form hooks, so no view can forget them.
Audit rows are written by the ORM hook (app.security.audit) for every change."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext

from flask import abort, current_app, g, has_request_context, jsonify, request, url_for
from flask_appbuilder import ModelView, expose, has_access, permission_name
from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import FilterStartsWith, get_field_setup_query
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_login import current_user
from sqlalchemy import false, or_, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import MANYTOONE
from wtforms import StringField, validators

from admin import formatting
from admin.exports import ListExport
from admin.forms import EnumSelectField, LosslessFormsMixin, ReadOnlyField, readonly_form
from admin.related_select import AjaxIdListField, AjaxRelatedField, search_related
from app.core.errors import PermissionDenied
from app.core.tenancy import current_tenant_id, is_unscoped, tenant_scope
from app.extensions import db
from app.security import roles
from app.security.actor import Actor
from app.sellers.actors import actor_for
from app.tenants.models import Tenant, TenantScoped

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


class MarketModelView(ListExport, LosslessFormsMixin, ModelView):
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
    ajax_id_lists: column holding a JSON list of ids (a promotion's product_ids) ->
        admin.formatting.Reference of the rows they name: the add and edit forms ask for names in a
        search-as-you-type multi-select (matching the Reference's `search` columns) fed by the same
        `related/<column>/` endpoint, and lists and show pages show the names, linked to their pages.
        id_list_scopes: column -> (seller_id -> condition on that model), as related_scopes.
    search_related: the same for the list's search only (its filters by name, not by a numeric
        id), the add and edit forms keeping their plain selects.
    readonly_columns: role -> edit-form columns that role may not change ({roles.SELLER:
        ("commission_rate",)}). They are shown as text (the stored value, formatted as the field
        would show it), have no input, and whatever is posted for them is ignored. A user counts
        as its highest staff role (admin_role()). Define `edit_form` through this, never as a
        class attribute.

    List cells and show-page values read like a shop's (admin.formatting): money with its
    currency in the tenant's locale, rates as percentages, times in the display time zone to the
    minute, booleans as icons, None blank; a related row by its name, linked to its page when the
    user may open it. A column the view gives a formatter of its own (`formatters_columns`) keeps
    it.
    references: column holding another table's id -> admin.formatting.Reference (that row's name
        and page instead of the number), for ids with no relationship to follow.
    currency_column: the (dotted) column holding a row's currency; the tenant's default currency
        when the row has none.
    choices_columns: text column -> the values it may hold (an enumeration kept as a string, e.g.
        PRODUCT_STATUSES): a select in the add, edit and search forms instead of a free-text box,
        its options and its values in lists and show pages in words ("Refund requested"); a
        state (`status`, `*_status`) is a coloured badge (admin.formatting.badge).
    word_columns: other codes shown in words.
    A Super Admin (who reads every tenant) gets a Tenant column first and a tenant select above
    the list of tenant-owned rows.
    Every list exports as CSV and XLSX what it shows, filtered and ordered as shown (admin.exports).
    """

    seller_scope: Callable | None = None
    related_scopes: dict[str, Callable] = {}
    ajax_related: dict[str, tuple[str, ...]] = {}
    search_related: dict[str, tuple[str, ...]] = {}
    ajax_id_lists: dict[str, formatting.Reference] = {}
    id_list_scopes: dict[str, Callable] = {}
    add_template = "admin/model/add.html"
    edit_template = "admin/model/edit.html"
    list_template = "admin/model/list.html"
    # non-nullable columns the form may leave empty because before_save fills them (e.g. slug)
    optional_columns: tuple[str, ...] = ()
    readonly_columns: dict[str, tuple[str, ...]] = {}
    references: dict[str, formatting.Reference] = {}
    choices_columns: dict[str, tuple[str, ...]] = {}
    # other columns holding a code (a payment's method, a transaction's kind): shown in words
    word_columns: tuple[str, ...] = ()
    currency_column = "currency"
    page_size = 25
    # titles (issue 13's convention): list_title plural ("Products"), item_title singular
    # ("Product"); the show page is titled item_title, the forms "Add product" and "Edit product".
    # A title the view sets itself wins; the menu shows list_title (admin.views.arrange_menu).
    item_title: str | None = None

    # codes stored upper-case (order numbers): their "Starts with" filter compares as stored, with
    # the value upper-cased, so the column's index serves it (FAB's ilike wraps the column in
    # lower() on MariaDB: every row of the table read, seconds at 100,000 orders)
    upper_prefix_columns: tuple[str, ...] = ()

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
        if self.ajax_related or self.search_related or self.ajax_id_lists:
            self._init_ajax_fields()
        if self.choices_columns:
            self._init_choice_fields()
        searched = [c for c in self.references if c in (self.search_columns or [])]
        if searched:
            # the search form asks for the name (an order number), not for the id
            self.search_form_extra_fields = {
                **{
                    column: StringField(
                        (self.label_columns or {}).get(column) or self._prettify_column(column),
                        widget=BS3TextFieldWidget(),
                    )
                    for column in searched
                    if self.references[column].search
                },
                **(self.search_form_extra_fields or {}),
            }
        super().__init__(**kwargs)
        for column in searched:
            if self.references[column].search:
                # FAB's filters of an id are numeric (equal, greater, smaller): by name instead
                by_name = [_reference_filter(self.references[column])(column, self.datamodel)]
                self._filters._search_filters[column] = by_name  # what the search form offers
                self._filters._all_filters[column] = by_name  # what a URL's _flt_0_<column> means
        for column in self.upper_prefix_columns:
            found = list(self._filters._all_filters.get(column) or [])
            if found and isinstance(found[0], FilterStartsWith):
                found[0] = UpperPrefix(column, self.datamodel)  # same place: _flt_0_<column>
                self._filters._search_filters[column] = found
                self._filters._all_filters[column] = found

    def _init_titles(self):
        item = self.item_title or sentence(self._prettify_name(self.datamodel.model_name))
        self.list_title = self.list_title or f"{item}s"
        self.show_title = self.show_title or item
        self.add_title = self.add_title or f"Add {lower_first(item)}"
        self.edit_title = self.edit_title or f"Edit {lower_first(item)}"
        self.title = self.list_title

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

    def visible_row(self, pk):
        """The row `pk` as the signed-in user's list has it (tenant and seller scope: the view's
        base filters), else 404: the one lookup of every custom page and POST route of a view."""
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            abort(404)
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            abort(404)
        return item

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

    def _id_list_field(self, name: str) -> AjaxIdListField:
        scope_fn = self.id_list_scopes.get(name)
        return AjaxIdListField(
            (self.label_columns or {}).get(name) or self._prettify_column(name),
            list((self.validators_columns or {}).get(name, [])),
            description=(self.description_columns or {}).get(name, ""),
            model=self.ajax_id_lists[name].model,
            scope=lambda: seller_condition(scope_fn),
            url=lambda: url_for(f"{self.endpoint}.related", column=name),
        )

    def _init_ajax_fields(self) -> None:
        for name in {**self.ajax_related, **self.search_related}:
            assert self.datamodel.is_relation_many_to_one(name), (
                f"{name}: ajax_related and search_related are for many-to-one"
            )
        columns = lambda attr: getattr(self, attr) or []  # noqa: E731
        self.add_form_extra_fields = {
            **{n: self._ajax_field(n) for n in self.ajax_related if n in columns("add_columns")},
            **{
                n: self._id_list_field(n) for n in self.ajax_id_lists if n in columns("add_columns")
            },
            **(self.add_form_extra_fields or {}),
        }
        self.edit_form_extra_fields = {
            **{n: self._ajax_field(n) for n in self.ajax_related if n in columns("edit_columns")},
            **{
                n: self._id_list_field(n)
                for n in self.ajax_id_lists
                if n in columns("edit_columns")
            },
            **(self.edit_form_extra_fields or {}),
        }
        self.search_form_extra_fields = {
            **{
                n: self._ajax_field(n, for_search=True)
                for n in {**self.search_related, **self.ajax_related}
                if n in columns("search_columns")
            },
            **(self.search_form_extra_fields or {}),
        }

    # --- enumerations kept as text: selects ------------------------------------------------------
    def _choice_field(self, name: str, for_search: bool = False) -> EnumSelectField:
        nullable = for_search or self.datamodel.is_nullable(name)
        validators_ = list((self.validators_columns or {}).get(name, []))
        if not for_search:
            validators_.append(validators.Optional() if nullable else validators.DataRequired())
        default = None if for_search else self.datamodel.get_col_default(name)
        return EnumSelectField(
            (self.label_columns or {}).get(name) or self._prettify_column(name),
            validators_,
            enums=tuple(self.choices_columns[name]),
            nullable=nullable,
            default=default if default in self.choices_columns[name] else None,
            description=(self.description_columns or {}).get(name, ""),
        )

    def _init_choice_fields(self) -> None:
        for attr, columns, for_search in (
            ("add_form_extra_fields", self.add_columns, False),
            ("edit_form_extra_fields", self.edit_columns, False),
            ("search_form_extra_fields", self.search_columns, True),
        ):
            fields = {
                name: self._choice_field(name, for_search)
                for name in self.choices_columns
                if name in (columns or [])
            }
            # a copy: views sharing one dict (add_form_extra_fields = edit_form_extra_fields) stay apart
            setattr(self, attr, {**fields, **(getattr(self, attr) or {})})

    @expose("/related/<column>/")
    @has_access
    @permission_name("list")
    def related(self, column):
        """select2's data source: {"results": [{"id", "text"}], "pagination": {"more"}}.
        A relation searchable in the list needs can_list (checked by has_access); one only in the
        add/edit forms needs can_add or can_edit as well: nobody gets rows they had no select for."""
        searched = {
            **self.search_related,
            **self.ajax_related,
            **{name: ref.search for name, ref in self.ajax_id_lists.items()},
        }
        if column not in searched:
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
        if column in self.ajax_id_lists:
            model, scope_fn = self.ajax_id_lists[column].model, self.id_list_scopes.get(column)
        else:
            model, scope_fn = (
                self.datamodel.get_related_model(column),
                self.related_scopes.get(column),
            )
        with db.session.no_autoflush:
            rows, more = search_related(
                model, searched[column], request.args.get("q", ""), seller_condition(scope_fn), page
            )
            results = [{"id": row.id, "text": str(row)} for row in rows]
        return jsonify({"results": results, "pagination": {"more": more}})

    # --- values as a shop reads them (admin.formatting) ---------------------------------------
    def _tenant_column(self) -> bool:
        """Whether the signed-in user reads this view's rows across tenants (a Super Admin on a
        tenant-owned table): then the rows say whose they are."""
        model = self.datamodel.obj
        return is_unscoped() and (issubclass(model, TenantScoped) or hasattr(model, "tenant_id"))

    def shown_list_columns(self) -> list[str]:
        columns = list(self.list_columns)
        if self.seller_scope is not None and is_seller_user():
            # a seller's list holds its own rows only: its store's name on each says nothing
            columns = [c for c in columns if c != "seller"]
        return (["tenant"] if self._tenant_column() else []) + columns

    def shown_labels(self, labels: dict[str, str] | None = None) -> dict[str, str]:
        labels = labels if labels is not None else self.label_columns
        return {**labels, "tenant": "Tenant"} if self._tenant_column() else labels

    def _values(self, items: list, columns: list[str]) -> list[dict]:
        """FAB's values of `columns` for each item (the tenant's name for "tenant")."""
        own = [c for c in columns if c != "tenant"]
        rows = list(self.datamodel.get_values(items, own))
        if "tenant" in columns:
            for item, row in zip(items, rows, strict=True):
                row["tenant"] = _tenant(item.tenant_id)
        return rows

    def display_rows(self, items: list, rows: list[dict]) -> list[dict]:
        """`rows` (column -> value, one per item) as the page shows them (admin.formatting)."""
        references = {
            column: formatting.referenced_rows(db.session, ref, (row.get(column) for row in rows))
            for column, ref in self.references.items()
            if any(column in row for row in rows)
        }
        for column, ref in self.ajax_id_lists.items():  # one query a column for the whole page
            if any(column in row for row in rows):
                ids = (i for row in rows for i in (row.get(column) or ()))
                references[column] = formatting.referenced_rows(db.session, ref, ids)
        own = self.formatters_columns or {}
        return [
            {
                column: value
                if column in own
                else self._display(item, column, value, references.get(column))
                for column, value in row.items()
            }
            for item, row in zip(items, rows, strict=True)
        ]

    def _display(self, item, column: str, value, referenced: dict | None):
        fmt = shop_format(getattr(item, "tenant_id", None))
        if column == "tenant":
            return formatting.plain(value.name if value is not None else None, fmt)
        if referenced is not None and column in self.ajax_id_lists:
            ref = self.ajax_id_lists[column]
            named = [referenced.get(i) for i in value or ()]
            return formatting.Markup(", ").join(
                formatting.link(ref.text(row), _row_url(row, ref.view))
                if row is not None
                else formatting.plain(f"#{i} (no longer exists)", fmt)
                for i, row in zip(value or (), named, strict=True)
            )
        if referenced is not None:
            ref = self.references[column]
            row = referenced.get(value)
            if row is None:
                return formatting.plain(value, fmt)
            return formatting.link(ref.text(row), _row_url(row, ref.view))
        if _is_row(value):
            return formatting.link(str(value), _row_url(value))
        if isinstance(value, list | tuple) and value and all(_is_row(v) for v in value):
            return formatting.Markup(", ").join(formatting.link(str(v), _row_url(v)) for v in value)
        if isinstance(value, formatting.Markup):
            return value  # shown already (a view's own _values: ProductView's status label)
        if isinstance(value, str) and value:
            shown = self._enumeration(column)
            if shown is not None:
                return shown(value)
        kind = formatting.column_kind(self.datamodel.obj, column)
        currency = None
        if kind == formatting.MONEY_KIND:
            currency = self._currency(item)
        return formatting.display(value, kind, fmt, currency)

    def _enumeration(self, column: str):
        """How an enumeration's value is shown: a state (`status`, `*_status`) as a badge, the
        `choices_columns` and `word_columns` in words; None for any other column."""
        last = column.rsplit(".", 1)[-1]
        if last == "status" or last.endswith("_status"):
            return formatting.badge
        if column in self.choices_columns or column in self.word_columns:
            return formatting.words
        return None

    def _currency(self, item) -> str | None:
        model = self.datamodel.obj
        column, _ = formatting._column_of(model, self.currency_column)
        if column is None:
            return None
        value = formatting.attribute(item, self.currency_column)
        return value if isinstance(value, str) and value else None

    def _get_list_widget(
        self,
        filters,
        actions=None,
        order_column="",
        order_direction="",
        page=None,
        page_size=None,
        widgets=None,
        **kwargs,
    ):
        """FAB's, with the values formatted (display_rows) and, for a Super Admin, the tenant's
        column and the tenant chosen above the list."""
        page_size = page_size or self.page_size
        if not order_column and self.base_order:
            order_column, order_direction = self.base_order
        joined = self.tenant_filtered(filters.get_joined_filters(self._base_filters))
        count, items = self.datamodel.query(
            joined, order_column, order_direction, page=page, page_size=page_size
        )
        columns = self.shown_list_columns()
        # held while the rows are read: the session's identity map keeps them only weakly
        related = preload_related(self.datamodel.obj, items, columns)  # noqa: F841
        widgets = widgets or {}
        widgets["list"] = self.list_widget(
            label_columns=self.shown_labels(),
            include_columns=columns,
            value_columns=self.display_rows(items, self._values(items, columns)),
            order_columns=self.order_columns,
            formatters_columns=self.formatters_columns,
            page=page,
            page_size=page_size,
            count=count,
            pks=[self._serialize_pk_if_composite(pk) for pk in self.datamodel.get_keys(items)],
            actions=actions or self.actions,
            filters=filters,
            modelview_name=self.__class__.__name__,
            tenant_choices=self.tenant_choices(),
            export_urls=self.export_urls(),
            **kwargs,
        )
        return widgets

    def _get_show_widget(self, pk, item, widgets=None, actions=None, show_fieldsets=None):
        """FAB's, with the values formatted and, for a Super Admin, the row's tenant."""
        tenant = self._tenant_column() and "tenant_id" not in self.show_columns
        columns = (["tenant"] if tenant else []) + list(self.show_columns)
        fieldsets = show_fieldsets or self.show_fieldsets
        (values,) = self.display_rows([item], self._values([item], columns))
        return self.show_widgets(
            pk, columns, values, self.shown_labels(), widgets, actions, fieldsets
        )

    def show_widgets(self, pk, columns, values, labels, widgets=None, actions=None, fieldsets=None):
        """FAB's show widget over `columns` with their display `values` (a dict by column)."""
        widgets = widgets or {}
        widgets["show"] = self.show_widget(
            pk=pk,
            label_columns=labels,
            include_columns=columns,
            value_columns=[values[c] for c in columns],
            formatters_columns=self.formatters_columns,
            actions=actions or self.actions,
            fieldsets=fieldsets,
            modelview_name=self.__class__.__name__,
        )
        return widgets

    def tenant_choices(self) -> list[tuple[int, str, bool]] | None:
        """(id, name, chosen) of every tenant, for a Super Admin's tenant select; None otherwise."""
        if not self._tenant_column():
            return None
        chosen = _chosen_tenant()
        tenants = db.session.query(Tenant.id, Tenant.name).order_by(Tenant.name).all()
        return [(tid, name, tid == chosen) for tid, name in tenants]

    def tenant_filtered(self, filters):
        """`filters` and, for a Super Admin who chose a tenant (?_tenant=<id>), that tenant's rows."""
        chosen = _chosen_tenant() if self._tenant_column() else None
        return filters if chosen is None else filters.add_filter("tenant_id", TenantIs, chosen)

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


def sentence(name: str) -> str:
    """A class's pretty name as words in sentence case: "Product Variant" -> "Product variant"."""
    first, *rest = name.split(" ")
    return " ".join([first, *(lower_first(word) for word in rest)])


def lower_first(text: str) -> str:
    """ "Tax rule" -> "tax rule" for the middle of a sentence; an acronym ("SKU") stays."""
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]


class UpperPrefix(FilterStartsWith):
    """Starts with, for a column stored upper-case: LIKE 'VALUE%' (escaped), no lower()."""

    def apply(self, query, value):
        query, field = get_field_setup_query(query, self.model, self.column_name)
        escaped = str(value).strip().upper()
        escaped = escaped.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return query.filter(field.like(escaped + "%", escape="\\"))


def preload_related(model, items: list, columns) -> list:
    """The rows the page's many-to-one columns name (a sub-order's order and seller), one SELECT per
    relation for the whole page: each row's own lazy load then finds its row in the session instead
    of asking the database (25 rows, two such columns: 2 queries, not 50). The caller holds the
    returned rows while it reads the page's values (the identity map holds them weakly)."""
    loaded: list = []
    if not items:
        return loaded
    mapper = sa_inspect(model)
    for name in columns:
        rel = mapper.relationships.get(name) if isinstance(name, str) else None
        if rel is None or rel.direction is not MANYTOONE or len(rel.local_columns) != 1:
            continue
        target = rel.mapper
        if set(rel.remote_side) != set(target.primary_key) or len(target.primary_key) != 1:
            continue  # not a plain reference to the target's primary key
        key = mapper.get_property_by_column(next(iter(rel.local_columns))).key
        ids = {getattr(item, key) for item in items} - {None}
        if ids:
            loaded += db.session.scalars(
                select(target.class_).where(target.primary_key[0].in_(ids))
            ).all()
    return loaded


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


class TenantIs(BaseFilter):
    """Rows of one tenant (a Super Admin's tenant select above a list)."""

    name = "Tenant"
    arg_name = "tenantis"

    def apply(self, query, value):
        return query.filter(self.datamodel.obj.tenant_id == value)


def _chosen_tenant() -> int | None:
    value = request.args.get("_tenant", "")
    return int(value) if value.isdigit() and len(value) < 10 else None


def _tenant(tenant_id: int | None) -> Tenant | None:
    """A tenant by id, loaded once per request."""
    cache = g.setdefault("_admin_tenants", {})
    if tenant_id not in cache:
        cache[tenant_id] = db.session.get(Tenant, tenant_id) if tenant_id is not None else None
    return cache[tenant_id]


def shop_format(tenant_id: int | None = None) -> formatting.Shop:
    """How a row of `tenant_id` (else the current tenant's) is formatted: its tenant's language,
    currency and time zone (else the platform's DISPLAY_TIME_ZONE). A Super Admin reads rows of
    every tenant, each in its tenant's zone: the zone is then named after each time. The tenant is
    read once per request (the first row of each tenant), not per value."""
    tenant_id = tenant_id or (current_tenant_id() if has_request_context() else None)
    shops = g.setdefault("_admin_shops", {})
    if tenant_id not in shops:
        tenant = _tenant(tenant_id)
        shops[tenant_id] = formatting.shop(
            tenant.default_language if tenant else None,
            tenant.default_currency if tenant else None,
            (tenant.time_zone if tenant else None) or current_app.config.get("DISPLAY_TIME_ZONE"),
            name_zone=is_unscoped(),
        )
    return shops[tenant_id]


def register_filters(app) -> None:
    """The admin's Jinja filters, so templates write values as the lists do (admin.formatting):
    `{{ order.created_at|when(order.tenant_id) }}` (the tenant's zone; the current tenant's when
    none is given), `{{ status|words }}`, `{{ status|badge }}`."""
    app.add_template_filter(
        lambda value, tenant_id=None: formatting.when(value, shop_format(tenant_id)), "when"
    )
    app.add_template_filter(formatting.words, "words")
    app.add_template_filter(formatting.badge, "badge")


def _is_row(value) -> bool:
    return hasattr(type(value), "__mapper__")


def _views_by_model() -> dict:
    views = current_app.extensions.get("admin_views_by_model")
    if views is None:
        views = {}
        for view in current_app.appbuilder.baseviews:
            model = getattr(getattr(view, "datamodel", None), "obj", None)
            if model is not None and "can_show" in (view.base_permissions or ["can_show"]):
                views.setdefault(model, view)
                views.setdefault(type(view).__name__, view)
        current_app.extensions["admin_views_by_model"] = views
    return views


def _row_url(row, view_name: str | None = None) -> str | None:
    """The admin page of `row` when the signed-in user may open it (the view's can_show), else
    None (its name is then shown without a link)."""
    view = _views_by_model().get(view_name or type(row))
    if view is None or getattr(row, "id", None) is None:
        return None
    allowed = g.setdefault("_admin_can_show", {})
    name = view.class_permission_name
    if name not in allowed:
        allowed[name] = current_app.appbuilder.sm.has_access("can_show", name)
    return url_for(f"{view.endpoint}.show", pk=row.id) if allowed[name] else None


def _reference_filter(ref: formatting.Reference) -> type[BaseFilter]:
    """A list-search filter on a column holding ids of `ref.model`: rows whose referenced row's
    `ref.search` columns start with what was typed (tenant-scoped like every query)."""

    class ReferenceStartsWith(BaseFilter):
        name = "Starts with"
        arg_name = "refsw"

        def apply(self, query, value):
            text = str(value or "").strip()
            if not text:
                return query
            matches = or_(
                *(
                    getattr(ref.model, column).startswith(text, autoescape=True)
                    for column in ref.search
                )
            )
            ids = select(ref.model.id).where(matches)
            return query.filter(getattr(self.datamodel.obj, self.column_name).in_(ids))

    return ReferenceStartsWith
