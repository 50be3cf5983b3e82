"""Search-as-you-type selects for relations to tables that grow without bound (products, variants,
customers, users).

FAB's QuerySelectField puts every related row in the page as an <option>. This field renders only
the current value; the browser (select2, shipped with FAB, driven by static/admin/related_select.js)
asks the view's `related/<column>/` endpoint for at most PAGE_SIZE matches of what is typed. The
posted id is resolved again on the server with the same scope the endpoint uses (tenant through the
ORM hooks, the seller's `related_scopes` condition), so an id from outside that scope is refused as
"Not a valid choice", exactly as the plain select refuses an id missing from its query.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape
from sqlalchemy import case, false, inspect, or_, select, true
from wtforms import Field
from wtforms.validators import StopValidation

from app.extensions import db

PAGE_SIZE = 20
MAX_QUERY_LENGTH = 100
# columns searched for the tables views share (MarketModelView.ajax_related)
PRODUCT_SEARCH = ("title",)  # the slug is made from the title: searching it too doubled the time
VARIANT_SEARCH = (
    "sku",
)  # variant titles are option labels ("XL / Red"): unindexed, slow, of no use
USER_SEARCH = ("email", "username", "last_name", "first_name")
CUSTOMER_SEARCH = ("user.email", "user.last_name", "user.first_name", "phone")


def primary_key(model):
    return inspect(model).primary_key[0]


def _matcher(model, path: str) -> tuple[Callable, object | None]:
    """`path` is a column of `model` ("title") or one step through a many-to-one ("user.email").
    Returns (pattern -> condition, orderable column or None)."""
    if "." not in path:
        column = getattr(model, path)
        return (lambda op, q: getattr(column, op)(q, autoescape=True)), column
    rel_name, col_name = path.split(".", 1)
    rel = getattr(model, rel_name)
    column = getattr(rel.property.mapper.class_, col_name)
    return (lambda op, q: rel.has(getattr(column, op)(q, autoescape=True))), None


def search_related(
    model, columns: Sequence[str], q: str, scope, page: int = 1, per_page: int = PAGE_SIZE
):
    """Rows of `model` within `scope` (a condition, or None for no extra condition) matching `q`:
    an exact id, or text contained in one of `columns`. Order: the exact id, then rows whose first
    column starts with `q`, then the rest, each by that column; with nothing typed, newest first.
    Returns (rows, more)."""
    pk = primary_key(model)
    # ids first (the sort then runs on the index, not on whole rows), then those rows
    stmt = select(pk)
    if scope is not None:
        stmt = stmt.where(scope)
    q = (q or "").strip()[:MAX_QUERY_LENGTH]
    if q:
        matchers = [_matcher(model, c) for c in columns]
        conditions = [match("contains", q) for match, _ in matchers]
        exact_id = int(q) if q.isdigit() and len(q) < 10 else None
        if exact_id is not None:
            conditions.append(pk == exact_id)
        stmt = stmt.where(or_(*conditions))
        first_match, first_column = matchers[0]
        rank = case(
            (pk == exact_id if exact_id is not None else false(), 0),
            (first_match("startswith", q), 1),
            else_=2,
        )
        stmt = stmt.order_by(rank, *([first_column] if first_column is not None else []), pk)
    else:
        stmt = stmt.order_by(pk.desc())
    page = max(1, page)
    ids = list(db.session.scalars(stmt.limit(per_page + 1).offset((page - 1) * per_page)))
    more, ids = len(ids) > per_page, ids[:per_page]
    by_id = (
        {getattr(row, pk.key): row for row in db.session.scalars(select(model).where(pk.in_(ids)))}
        if ids
        else {}
    )
    return [by_id[i] for i in ids if i in by_id], more


def get_in_scope(model, raw_id, scope):
    """The row with primary key `raw_id` if it is within `scope` (and the tenant), else None."""
    try:
        pk_value = int(raw_id)
    except (TypeError, ValueError):
        return None
    if not (0 < pk_value < 2**31):
        return None
    pk = primary_key(model)
    return db.session.scalar(
        select(model).where(pk == pk_value, scope if scope is not None else true())
    )


class AjaxSelectWidget:
    """A <select> holding only the blank option and the current value; select2 fills the rest."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        if "name_" in kwargs:  # FAB's search form renames its fields this way
            field.name = kwargs.pop("name_")
        classes = " ".join(
            filter(
                None,
                [
                    "form-control market-ajax-select",
                    kwargs.pop("class", ""),
                    kwargs.pop("class_", ""),
                ],
            )
        )
        attrs = {
            "class": classes,
            "name": field.name,
            "data-related-url": field.url(),
            "data-placeholder": "Type to search…",
            **kwargs,
        }
        if field.flags.required:
            attrs["required"] = True
        options = "".join(
            '<option value="%s" selected>%s</option>' % (escape(field.pk_of(row)), escape(str(row)))
            for row in self.chosen(field)
        )
        return Markup(f"<select {_html_params(attrs)}>{self.blank}{options}</select>")

    blank = '<option value=""></option>'

    def chosen(self, field) -> list:
        return [] if field.data is None else [field.data]


def _html_params(attrs: dict) -> str:
    parts = []
    for key, value in attrs.items():
        if value is True:
            parts.append(str(escape(key)))
        elif value not in (False, None):
            parts.append(f'{escape(key)}="{escape(value)}"')
    return " ".join(parts)


class AjaxRelatedField(Field):
    """A many-to-one field whose options come from the view's related/<column>/ endpoint.

    model: the related model; scope: () -> condition or None, evaluated per request;
    url: () -> the endpoint's URL."""

    widget = AjaxSelectWidget()

    def __init__(
        self, label=None, validators=None, *, model, scope: Callable, url: Callable, **kwargs
    ):
        super().__init__(label, validators, **kwargs)
        self.model = model
        self.scope = scope
        self.url = url
        self._refused = False

    def pk_of(self, obj):
        return getattr(obj, primary_key(self.model).key)

    def process_formdata(self, valuelist):
        self._refused = False
        if not valuelist or valuelist[0] in ("", "__None"):
            self.data = None
            return
        self.data = get_in_scope(self.model, valuelist[0], self.scope())
        # unknown, another tenant's, or outside the seller's scope: never trust the client
        self._refused = self.data is None

    def pre_validate(self, form):
        if self._refused:  # stop: DataRequired would replace this message with "required"
            raise StopValidation(self.gettext("Not a valid choice"))

    def _value(self):
        return "" if self.data is None else str(self.pk_of(self.data))


def get_many_in_scope(model, raw_ids, scope) -> tuple[list, bool]:
    """The rows of `model` whose primary keys are `raw_ids` (texts or ints, in that order, once
    each) within `scope` and the tenant, and whether every id named such a row."""
    ids: list[int] = []
    for raw in raw_ids:
        try:
            value = int(raw)
        except (TypeError, ValueError):
            return [], False
        if not (0 < value < 2**31):
            return [], False
        if value not in ids:
            ids.append(value)
    if not ids:
        return [], True
    pk = primary_key(model)
    stmt = select(model).where(pk.in_(ids), scope if scope is not None else true())
    by_id = {getattr(row, pk.key): row for row in db.session.scalars(stmt)}
    return [by_id[i] for i in ids if i in by_id], len(by_id) == len(ids)


class AjaxMultiSelectWidget(AjaxSelectWidget):
    """A <select multiple> holding only the chosen rows; select2 fills the rest as one types."""

    blank = ""

    def __call__(self, field, **kwargs):
        kwargs["multiple"] = True
        kwargs.setdefault("data-placeholder", "Type a name to add…")
        return super().__call__(field, **kwargs)

    def chosen(self, field) -> list:
        return list(field.data or ())


class AjaxIdListField(AjaxRelatedField):
    """A column holding a JSON list of ids of `model`'s rows (a promotion's product_ids) as a
    search-as-you-type multi-select of their names, fed by the view's related/<column>/ endpoint.
    The form's data is the rows; the column gets their ids. An id outside the scope (another
    tenant's, or not the seller's) refuses the whole field as "Not a valid choice"."""

    widget = AjaxMultiSelectWidget()

    def process_data(self, value):
        # the stored ids (an edit form's start): the rows they still name, in the tenant
        self.data, _ = get_many_in_scope(self.model, value or (), None)

    def process_formdata(self, valuelist):
        chosen = [v for v in valuelist if v not in ("", "__None")]
        self.data, found = get_many_in_scope(self.model, chosen, self.scope())
        self._refused = not found

    def populate_obj(self, obj, name):
        setattr(obj, name, sorted(self.pk_of(row) for row in self.data or ()))

    def _value(self):
        return ",".join(str(self.pk_of(row)) for row in self.data or ())
