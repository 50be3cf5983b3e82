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
        html = ["<select %s>" % _html_params(attrs), '<option value=""></option>']
        obj = field.data
        if obj is not None:
            html.append(
                '<option value="%s" selected>%s</option>'
                % (escape(field.pk_of(obj)), escape(str(obj)))
            )
        html.append("</select>")
        return Markup("".join(html))


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
