"""The admin's form converter (admin.forms) on column types no model of the shop has yet (Float,
JSON, Enum, a nullable Boolean, microseconds, many-to-many rows a select does not offer): a form
rendered from a row and posted back as a browser would changes nothing. Forms only; no database."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from types import SimpleNamespace

import pytest
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_wtf import FlaskForm
from sqlalchemy import JSON, Boolean, Enum, Float, Integer, Numeric, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from werkzeug.datastructures import MultiDict

from admin.forms import KeepingQuerySelectMultipleField, MarketModelConverter
from app.core.types import UTCDateTime
from tests.builders.admin import BrowserForm

pytestmark = pytest.mark.smoke


class _Base(DeclarativeBase):
    pass


class Colour(enum.Enum):
    red = "Red"
    blue = "Blue"


class Gadget(_Base):
    __tablename__ = "gadgets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ratio: Mapped[float | None] = mapped_column(Float)
    settings: Mapped[dict | None] = mapped_column(JSON)
    colour: Mapped[Colour | None] = mapped_column(Enum(Colour))
    shade: Mapped[str | None] = mapped_column(Enum("light", "dark", name="shade"))
    flag: Mapped[bool | None] = mapped_column(Boolean)
    rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(String(50))
    body: Mapped[str | None] = mapped_column(Text)


# the fields on their own, each form in one request context: the CSRF token (which lives in the
# session of a real browser) is tested with the admin's pages (tests/admin/test_admin_csrf.py)
NO_CSRF = {"csrf": False}

COLUMNS = ["ratio", "settings", "colour", "shade", "flag", "rate", "seen_at", "note", "body"]


def gadget_form():
    labels = {name: name.replace("_", " ").capitalize() for name in COLUMNS}
    return MarketModelConverter(SQLAInterface(Gadget)).create_form(labels, COLUMNS)


def render(form) -> str:
    return '<form id="model_form">' + "".join(str(field()) for field in form) + "</form>"


def round_trip(app, form_class, row):
    """Render a form of `row`, post it back as a browser would, and return (form, a copy of `row`
    the form was saved into)."""
    with app.test_request_context():
        pairs = BrowserForm(render(form_class(obj=row, meta=NO_CSRF))).pairs
    with app.test_request_context(method="POST", data=MultiDict(pairs)):
        form = form_class(meta=NO_CSRF)
        saved = SimpleNamespace(**vars(row))
        if form.validate():
            form.populate_obj(saved)
        return form, saved


@pytest.mark.parametrize(
    "values",
    [
        {
            "ratio": 0.1 + 0.2,
            "settings": {"b": [1, 2.5, "é"], "a": {"nested": None}},
            "colour": Colour.blue,
            "shade": "dark",
            "flag": True,
            "rate": Decimal("0.0725"),
            "seen_at": dt.datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=dt.timezone.utc),
            "note": "one line",
            "body": "two\nlines",
        },
        {name: None for name in COLUMNS},
        {
            "ratio": 1e-7,
            "settings": [],
            "colour": Colour.red,
            "shade": "light",
            "flag": False,
            "rate": Decimal("0"),
            "seen_at": dt.datetime(2030, 1, 2, tzinfo=dt.timezone.utc),
            "note": "",
            "body": "",
        },
    ],
    ids=["values", "nulls", "zeros"],
)
def test_a_row_saved_unchanged_keeps_every_value(app, values):
    form, saved = round_trip(app, gadget_form(), SimpleNamespace(**values))
    assert not form.errors
    assert vars(saved) == values


def test_what_the_fields_show(app):
    row = SimpleNamespace(
        ratio=0.1 + 0.2,
        settings={"a": 1},
        colour=None,
        shade=None,
        flag=None,
        rate=Decimal("0.07"),
        seen_at=dt.datetime(2030, 1, 2, 5, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        note=None,
        body=None,
    )
    with app.test_request_context():
        form = gadget_form()(obj=row, meta=NO_CSRF)
        shown = dict(BrowserForm(render(form)).pairs)
    assert shown["ratio"] == "0.30000000000000004"
    assert shown["settings"] == '{\r\n  "a": 1\r\n}'
    assert shown["colour"] == "" and shown["shade"] == ""  # the blank choice of a nullable enum
    assert "flag" not in shown
    assert shown["rate"] == "0.0700"
    assert shown["seen_at"] == "2030-01-02 03:04:05"  # in UTC


@pytest.mark.parametrize(
    "field, posted, error",
    [
        ("rate", "0.00001", "Rate takes at most 4 decimal places: 0.00001 has 5."),
        ("rate", "10", "Rate must be less than 10 (1 digit before the decimal point)."),
        ("settings", "{'a': 1}", "Not valid JSON"),
        ("seen_at", "2030-13-01 00:00:00", "Not a date and time"),
        ("colour", "green", "Invalid Choice"),
    ],
)
def test_bad_input_is_a_form_error(app, field, posted, error):
    with app.test_request_context(method="POST", data={field: posted}):
        form = gadget_form()(meta=NO_CSRF)
        assert not form.validate()
        assert any(error in message for message in form.errors[field]), form.errors[field]


def test_input_is_converted(app):
    data = {
        "seen_at": "2030-01-02T06:00:00+02:00",
        "body": "a\r\nb",
        "note": "  kept  ",
        "rate": "1.5",
        "colour": "red",
        "settings": '{"x": [1]}',
    }
    with app.test_request_context(method="POST", data=data):
        form = gadget_form()(meta=NO_CSRF)
        assert form.validate(), form.errors
        row = SimpleNamespace(**{name: None for name in COLUMNS})
        form.populate_obj(row)
    assert row.seen_at == dt.datetime(2030, 1, 2, 4, tzinfo=dt.timezone.utc)
    assert (row.body, row.note, row.rate, row.colour, row.settings) == (
        "a\nb",
        "  kept  ",
        Decimal("1.5"),
        Colour.red,
        {"x": [1]},
    )
    assert row.flag is None  # unticked: the NULL stays


def test_text_posted_back_as_the_browser_sends_it_keeps_the_stored_text(app):
    """Line breaks in a one-line input are stripped by browsers, and a textarea sends CRLF: neither
    is a change. A cleared nullable text becomes NULL."""
    row = SimpleNamespace(**{name: None for name in COLUMNS})
    row.note, row.body = "line\nbreak", "windows\r\nlines\nmixed"
    form, saved = round_trip(app, gadget_form(), row)
    assert (saved.note, saved.body) == ("line\nbreak", "windows\r\nlines\nmixed")
    with app.test_request_context(method="POST", data={"note": "", "body": ""}):
        form = gadget_form()(meta=NO_CSRF)
        form.validate()
        form.populate_obj(row)
    assert (row.note, row.body) == (None, None)


def test_many_to_many_keeps_the_rows_its_select_does_not_offer(app):
    offered = [SimpleNamespace(id=1, name="Sizes"), SimpleNamespace(id=2, name="Colours")]
    hidden = SimpleNamespace(id=3, name="Another seller's")

    class TagForm(FlaskForm):
        tags = KeepingQuerySelectMultipleField(
            "Tags", query_func=lambda: offered, get_pk_func=lambda o: o.id, get_label="name"
        )

    row = SimpleNamespace(tags=[offered[0], hidden])
    form, saved = round_trip(app, TagForm, row)
    assert saved.tags == [offered[0], hidden]
    with app.test_request_context(method="POST", data=MultiDict([("tags", "2")])):
        form = TagForm(meta=NO_CSRF)
        assert form.validate()
        form.populate_obj(row)
    assert row.tags == [offered[1], hidden]
