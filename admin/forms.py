"""Admin form fields that show a stored value exactly and write back only what a person changed.

Flask-AppBuilder's form converter loses data on an edit saved unchanged: a Numeric column becomes
a WTForms DecimalField that renders 2 decimals whatever the column's scale (a 0.0725 tax rate was
saved back as 0.07), a nullable text left empty comes back as "" instead of NULL, a textarea comes
back with the CRLF line breaks browsers send, a UTC datetime renders as str() and cannot be parsed
back, Float columns get the 2-decimal DecimalField too, JSON columns render as Python repr, a
nullable boolean or enum has no way to stay NULL, and a many-to-many select drops the related rows
it does not offer. `MarketModelConverter` builds every add and edit form of the admin with the
fields below instead (`LosslessFormsMixin`, used by admin.base.MarketModelView and FAB's security
views as this project subclasses them):

- Numeric(p, s): rendered at scale s without rounding (0.0725 in a Numeric(6, 4) field, 12.50 in a
  money field); input with more than s decimals, or too large for p, is a form error naming the
  field, never rounded.
- Float: rendered with every digit (repr), parsed back to the same float.
- DateTime: "YYYY-MM-DD HH:MM:SS" (with microseconds when there are any); a UTCDateTime (or
  timezone-aware) column is shown and read in UTC, an ISO 8601 offset being accepted too.
- String, Text: an empty field leaves an empty value as it is (NULL stays NULL, "" stays ""), and
  a cleared nullable column becomes NULL; a text posted back as the browser renders it (line
  breaks as CRLF in a textarea, stripped from a one-line input) keeps the stored text.
- JSON: edited as JSON text; invalid JSON is a form error.
- Boolean: an unticked box keeps a stored NULL.
- Enum: a nullable enum has a blank choice that stands for NULL.
- Many-to-many: related rows the select does not offer (scoped away) are kept.

`ReadOnlyField` shows a column as text in a form for a role that may not change it (see
MarketModelView.readonly_columns); what is posted for it is ignored.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from flask_appbuilder.fields import QuerySelectMultipleField
from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget, BS3TextFieldWidget
from flask_appbuilder.forms import FieldConverter, GeneralModelConverter
from flask_appbuilder.validators import Unique
from markupsafe import Markup, escape
from sqlalchemy import types as sa_types
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    Field,
    FloatField,
    SelectField,
    StringField,
    TextAreaField,
    validators,
)
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import UnboundField
from wtforms.utils import unset_value
from wtforms.validators import StopValidation
from wtforms.widgets import html_params

from admin.formatting import words
from app.core.types import UTCDateTime

# --- numbers ---------------------------------------------------------------------------------------


def decimal_places(value: Decimal) -> int:
    """The decimals `value` needs (trailing zeros do not count): 0.0725 -> 4, 12.50 -> 1, 100 -> 0."""
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def format_decimal(value, scale: int | None) -> str:
    """`value` written out in full (never in exponent form), padded to `scale` decimals; never
    rounded: a value with more decimals than `scale` keeps them all."""
    value = value if isinstance(value, Decimal) else Decimal(str(value))
    if scale is not None and value.is_finite() and decimal_places(value) <= scale:
        value = value.quantize(Decimal(1).scaleb(-scale))
    return f"{value:f}"


class ScaledDecimalField(DecimalField):
    """A Numeric(precision, scale) column: shown with its `scale` decimals, checked against the
    column instead of rounded."""

    widget = BS3TextFieldWidget()

    def __init__(
        self,
        label=None,
        validators=None,
        *,
        precision: int | None = None,
        scale: int | None = None,
        **kwargs,
    ):
        super().__init__(label, validators, places=None, **kwargs)
        self.precision, self.scale = precision, scale

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else format_decimal(self.data, self.scale)

    def pre_validate(self, form):
        value = self.data
        if self.process_errors or not isinstance(value, Decimal):
            return
        name = self.label.text
        if not value.is_finite():
            raise StopValidation(f"{name}: not a number.")
        if self.scale is not None and decimal_places(value) > self.scale:
            raise StopValidation(
                f"{name} takes at most {self.scale} decimal places: "
                f"{format_decimal(value, None)} has {decimal_places(value)}."
            )
        if self.precision is not None:
            digits = self.precision - (self.scale or 0)
            if abs(value) >= Decimal(10) ** digits:
                raise StopValidation(
                    f"{name} must be less than {Decimal(10) ** digits:f} "
                    f"({digits} digit{'' if digits == 1 else 's'} before the decimal point)."
                )


class ExactFloatField(FloatField):
    """A Float column: every digit shown (repr), so the value parses back to the same float."""

    widget = BS3TextFieldWidget()

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else repr(float(self.data))


# --- dates and times -------------------------------------------------------------------------------

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class DateTimeTextWidget:
    """A plain text input (with a "UTC" tag for UTC columns). Not FAB's picker, whose script is a
    date-only picker that would drop the time."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        kwargs.setdefault("name", field.name)
        kwargs["class"] = "form-control"
        kwargs.setdefault("placeholder", "YYYY-MM-DD HH:MM:SS")
        html = f'<input type="text" {html_params(value=field._value(), **kwargs)}>'
        if field.utc:
            return Markup(
                f'<div class="input-group">{html}<span class="input-group-addon">UTC</span></div>'
            )
        return Markup(html)


def format_datetime(value: dt.datetime, utc: bool) -> str:
    if utc and value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc)
    return value.strftime(DATETIME_FORMAT + (".%f" if value.microsecond else ""))


class UTCDateTimeField(Field):
    """A DateTime column as "YYYY-MM-DD HH:MM:SS" (microseconds when it has any). `utc`: the column
    holds aware UTC datetimes (UTCDateTime): shown in UTC; input without an offset is UTC, input
    with one (ISO 8601) is converted. Otherwise naive values are kept as typed."""

    widget = DateTimeTextWidget()

    def __init__(self, label=None, validators=None, *, utc: bool = True, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.utc = utc

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format_datetime(self.data, self.utc) if isinstance(self.data, dt.datetime) else ""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = valuelist[0].strip()
        if not text:
            self.data = None
            return
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            self.data = None
            raise ValueError(
                f"Not a date and time: use YYYY-MM-DD HH:MM:SS{' (UTC)' if self.utc else ''}."
            ) from exc
        if self.utc:
            value = (
                value.replace(tzinfo=dt.timezone.utc)
                if value.tzinfo is None
                else value.astimezone(dt.timezone.utc)
            )
        elif value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        self.data = value


# --- texts -----------------------------------------------------------------------------------------


class _KeepsStoredText:
    """Write back only a changed text. `nullable`: the column takes NULL, which a cleared field
    becomes; an empty field leaves an empty stored value as it was (NULL or "")."""

    def __init__(self, *args, nullable: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.nullable = nullable

    @staticmethod
    def as_browser_sends(text: str) -> str:
        return text

    def populate_obj(self, obj, name):
        stored = getattr(obj, name, None)
        if not self.data:
            if stored not in (None, ""):
                setattr(obj, name, None if self.nullable else "")
            return
        if isinstance(stored, str) and self.as_browser_sends(stored) == self.data:
            return  # the stored text, as the browser posted it back
        setattr(obj, name, self.data)


class MarketStringField(_KeepsStoredText, StringField):
    """A one-line input: browsers strip line breaks from its value."""

    @staticmethod
    def as_browser_sends(text: str) -> str:
        return text.replace("\r", "").replace("\n", "")


class MarketTextAreaField(_KeepsStoredText, TextAreaField):
    """A textarea: browsers post its line breaks as CRLF; a changed text is stored with LF."""

    @staticmethod
    def as_browser_sends(text: str) -> str:
        return text.replace("\r\n", "\n").replace("\r", "\n")

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if isinstance(self.data, str):
            self.data = self.as_browser_sends(self.data)


class JSONTextField(TextAreaField):
    """A JSON column edited as JSON text (shown indented); invalid JSON is a form error."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else json.dumps(self.data, ensure_ascii=False, indent=2)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = valuelist[0].strip()
        if not text:
            self.data = None
            return
        try:
            self.data = json.loads(text)
        except ValueError as exc:
            self.data = None
            raise ValueError(f"Not valid JSON: {exc}.") from exc


# --- choices ---------------------------------------------------------------------------------------

BLANK_CHOICE = "—"  # what an optional select shows for "none"


class MarketBooleanField(BooleanField):
    """A checkbox: unticked keeps a stored NULL (a nullable column) instead of writing False."""

    def populate_obj(self, obj, name):
        if not self.data and getattr(obj, name, None) is None:
            return
        setattr(obj, name, self.data)


class EnumSelectField(SelectField):
    """An Enum column as a select; a nullable one has a blank first choice standing for NULL (FAB's
    EnumField has none, so the browser posted the first member for a NULL)."""

    def __init__(
        self, label=None, validators=None, *, enum_class=None, enums=(), nullable=False, **kwargs
    ):
        if enum_class is not None:
            choices = [SelectChoice(name, words(enum_class[name].value)) for name in enums]

            def member(value):
                return value if isinstance(value, enum_class) else enum_class[value]
        else:
            choices = [SelectChoice(value, words(value)) for value in enums]
            member = str

        def coerce(value):
            if value in (None, ""):
                return None
            try:
                return member(value)
            except KeyError as exc:
                raise ValueError(value) from exc

        super().__init__(
            label,
            validators,
            coerce=coerce,
            choices=([SelectChoice("", BLANK_CHOICE)] if nullable else []) + choices,
            **kwargs,
        )


class KeepingQuerySelectMultipleField(QuerySelectMultipleField):
    """A many-to-many select: related rows it does not offer (its query scopes them away) are kept,
    since nobody could have unselected them."""

    def populate_obj(self, obj, name):
        offered = {pk for pk, _ in self._get_object_list()}
        hidden = [
            o for o in getattr(obj, name, None) or [] if str(self.get_pk_func(o)) not in offered
        ]
        setattr(obj, name, list(self.data) + hidden)


# --- read-only -------------------------------------------------------------------------------------


class ReadOnlyWidget:
    def __call__(self, field, **kwargs):
        return Markup(
            f'<p class="form-control-static market-readonly" id="{escape(field.id)}">'
            f'<i class="fa fa-lock text-muted" title="You cannot change this"></i> '
            f"{escape(field.text())}</p>"
        )


class ReadOnlyField(Field):
    """Shows the stored value of a column as text, formatted as the editable field would show it.
    Its input is never rendered, what is posted for it is ignored, and it writes nothing."""

    widget = ReadOnlyWidget()

    def __init__(self, label=None, validators=None, *, inner: UnboundField, **kwargs):
        super().__init__(label, None, description=inner.kwargs.get("description", ""), **kwargs)
        self.inner = inner.bind(
            form=kwargs.get("_form"),
            name=self.short_name,
            prefix=kwargs.get("_prefix", ""),
            translations=kwargs.get("_translations"),
        )

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.process_errors = []
        self.raw_data = []
        self.show(None if data is unset_value else data)

    def show(self, value) -> None:
        """Display `value` (the row's stored value)."""
        self.inner.process(None, value)
        self.data = value

    def text(self) -> str:
        if self.data is None:
            return "—"
        if isinstance(self.data, bool):
            return "Yes" if self.data else "No"
        if isinstance(
            self.inner,
            (StringField, ScaledDecimalField, ExactFloatField, UTCDateTimeField, DateField),
        ):
            return self.inner._value()
        return str(self.data)

    def populate_obj(self, obj, name):
        pass  # never written

    def validate(self, form, extra_validators=()):
        self.errors = []
        return True


def readonly_form(form_class, columns):
    """A subclass of `form_class` whose fields `columns` are ReadOnlyFields."""
    fields = {}
    for name in columns:
        unbound = getattr(form_class, name, None)
        if isinstance(unbound, UnboundField):
            label = unbound.kwargs.get("label", unbound.args[0] if unbound.args else None)
            fields[name] = ReadOnlyField(label, inner=unbound)
    return type(form_class.__name__, (form_class,), fields)


# --- the converter ---------------------------------------------------------------------------------


def _is(column_type, *kinds) -> bool:
    impl = column_type.impl if isinstance(column_type, sa_types.TypeDecorator) else column_type
    return isinstance(column_type, kinds) or isinstance(impl, kinds)


class MarketFieldConverter(FieldConverter):
    """FAB's FieldConverter with the lossless fields above for the column types it gets wrong."""

    def convert(self):
        column = self.datamodel.list_columns[self.colname]
        type_ = column.type
        nullable = bool(column.nullable)
        common = {
            "description": self.description,
            "validators": self.validators,
            "default": self.default,
        }
        if self.datamodel.is_image(self.colname) or self.datamodel.is_file(self.colname):
            return super().convert()
        if _is(type_, sa_types.Enum):
            return EnumSelectField(
                self.label,
                enum_class=type_.enum_class,
                enums=type_.enums,
                nullable=nullable,
                **common,
            )
        if (
            _is(type_, sa_types.Numeric) and not type_.asdecimal
        ):  # Float, or a Numeric read as float
            return ExactFloatField(self.label, **common)
        if _is(type_, sa_types.Numeric):
            return ScaledDecimalField(
                self.label, precision=type_.precision, scale=getattr(type_, "scale", None), **common
            )
        if _is(type_, sa_types.JSON):
            return JSONTextField(self.label, widget=BS3TextAreaFieldWidget(), **common)
        if _is(type_, sa_types.Text):
            return MarketTextAreaField(
                self.label, widget=BS3TextAreaFieldWidget(), nullable=nullable, **common
            )
        if _is(type_, sa_types.String):
            return MarketStringField(
                self.label, widget=BS3TextFieldWidget(), nullable=nullable, **common
            )
        if _is(type_, sa_types.Boolean):
            return MarketBooleanField(self.label, **common)
        if _is(type_, sa_types.DateTime):
            utc = isinstance(type_, UTCDateTime) or bool(getattr(type_, "timezone", False))
            return UTCDateTimeField(self.label, utc=utc, **common)
        return super().convert()


class MarketModelConverter(GeneralModelConverter):
    """FAB's model-to-form converter using MarketFieldConverter and the keeping many-to-many select."""

    def _convert_simple(self, col_name, label, description, lst_validators, form_props):
        lst_validators = list(lst_validators)  # FAB appends to the view's own list, once per form
        max_length = self.datamodel.get_max_length(col_name)
        min_length = self.datamodel.get_min_length(col_name)
        if max_length != -1 or min_length != -1:
            lst_validators.append(validators.Length(max=max_length, min=min_length))
        if any(isinstance(v, validators.Optional) for v in lst_validators):
            pass  # declared optional (the view fills it in): FAB's InputRequired came on top, and its
            # `required` attribute made the browser refuse to send the form with it left empty
        elif self.datamodel.is_boolean(col_name):
            # a checkbox always answers (unticked is False): with InputRequired an unticked box
            # was refused, and its `required` attribute kept the browser from sending the form
            lst_validators.append(validators.Optional())
        elif not self.datamodel.is_nullable(col_name):
            lst_validators.append(validators.InputRequired())
        else:
            lst_validators.append(validators.Optional())
        if self.datamodel.is_unique(col_name):
            lst_validators.append(Unique(self.datamodel, col_name))
        form_props[col_name] = MarketFieldConverter(
            self.datamodel,
            col_name,
            label,
            description,
            lst_validators,
            default=self.datamodel.get_col_default(col_name),
        ).convert()
        return form_props

    def _convert_many_to_one(
        self, col_name, label, description, lst_validators, filter_rel_fields, form_props
    ):
        super()._convert_many_to_one(
            col_name, label, description, list(lst_validators), filter_rel_fields, form_props
        )
        # the blank choice of an optional relation: WTForms shows an empty label as its value, "__None"
        form_props[col_name].kwargs["blank_text"] = BLANK_CHOICE
        return form_props

    def _convert_many_to_many(
        self, col_name, label, description, lst_validators, filter_rel_fields, form_props
    ):
        super()._convert_many_to_many(
            col_name, label, description, list(lst_validators), filter_rel_fields, form_props
        )
        unbound = form_props[col_name]
        form_props[col_name] = KeepingQuerySelectMultipleField(*unbound.args, **unbound.kwargs)
        return form_props


class LosslessFormsMixin:
    """For a FAB ModelView: its add and edit forms are built by MarketModelConverter."""

    def _init_forms(self):
        converter = MarketModelConverter(self.datamodel)
        if not self.add_form:
            self.add_form = converter.create_form(
                self.label_columns,
                self.add_columns,
                self.description_columns,
                self.validators_columns,
                self.add_form_extra_fields,
                self.add_form_query_rel_fields,
            )
        if not self.edit_form:
            self.edit_form = converter.create_form(
                self.label_columns,
                self.edit_columns,
                self.description_columns,
                self.validators_columns,
                self.edit_form_extra_fields,
                self.edit_form_query_rel_fields,
            )
        super()._init_forms()
