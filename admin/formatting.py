"""How the admin shows a value, so its pages read like a shop's back office, not a database browser.

MarketModelView (admin.base) formats every list cell and show-page value through `display()` by
the column's type, unless the view declares a formatter of its own for the column:

- money (app.core.types.MONEY columns): with its currency's symbol in the tenant's locale
  ("$1,234.50", "1 234,50 €"); the currency is the row's `currency` (or the view's
  `currency_column`), else the tenant's default currency;
- rates (RATE columns, or any column named *_rate): stored as fractions, shown as percentages
  (0.0950 -> "9.5%");
- datetimes: in the display time zone to the minute, the exact stored value on hover (title);
- booleans: a check or a cross icon with a text for screen readers;
- None and empty lists: blank; other lists joined with commas; a JSON object one "key: value"
  a line.

- enumerations (a status, a kind, a method): words ("refund_requested" -> "Refund requested"),
  a status as a coloured badge whose colour says how far along it is (`badge`, one tone per
  state for every page).

Every text is escaped; Markup only ever wraps escaped values. The locale, currency and time zone
are the tenant's (Tenant.default_language, Tenant.default_currency, Tenant.time_zone, that last
one falling back to the platform's DISPLAY_TIME_ZONE, config.py, default UTC). A page that reads
across tenants (a Super Admin's) shows each row in its own tenant's zone and names the zone after
the time. Templates use the same functions through the Jinja filters `when`, `words` and `badge`
(admin.base.register_filters).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_percent
from markupsafe import Markup, escape
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import RelationshipProperty

from app.core.types import MONEY, RATE

BLANK = Markup("")
DEFAULT_LOCALE = "en"
DEFAULT_CURRENCY = "USD"

# column kinds, decided from the model's column type
MONEY_KIND = "money"
RATE_KIND = "rate"


@dataclass(frozen=True)
class Shop:
    """What a page is formatted for: the tenant's locale, currency and time zone; `name_zone`: say
    the zone after each time (a page mixing tenants' rows, each in its own zone)."""

    locale: Locale
    currency: str
    zone: dt.tzinfo
    name_zone: bool = False


@lru_cache(maxsize=64)
def locale_of(language: str | None) -> Locale:
    """The babel Locale of a tenant's language code ("en", "fr", "pt_BR", "de-AT"); English for an
    empty or unknown one."""
    try:
        return Locale.parse((language or DEFAULT_LOCALE).replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(DEFAULT_LOCALE)


@lru_cache(maxsize=64)
def zone_of(name: str | None) -> dt.tzinfo:
    """The time zone named `name` (IANA, e.g. "Europe/Paris"); UTC for an empty or unknown name."""
    try:
        return ZoneInfo(name) if name else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def shop(
    language: str | None = None,
    currency: str | None = None,
    zone: str | None = None,
    name_zone: bool = False,
) -> Shop:
    return Shop(
        locale_of(language), (currency or DEFAULT_CURRENCY).upper(), zone_of(zone), name_zone
    )


def zone_name(zone: dt.tzinfo) -> str:
    """The IANA name of a zone ("Europe/Paris"), "UTC" for UTC."""
    return getattr(zone, "key", None) or "UTC"


# --- one value -------------------------------------------------------------------------------------


def money(value, currency: str | None, fmt: Shop) -> Markup:
    """An amount with its currency's symbol in the locale, to the currency's minor unit ($1,234.50,
    1 234,50 €, ￥1,200)."""
    if value is None:
        return BLANK
    code = (currency or fmt.currency).upper()
    text = format_currency(Decimal(value), code, locale=fmt.locale)
    return Markup('<span class="money" style="white-space: nowrap">{}</span>').format(text)


def percent(value, fmt: Shop) -> Markup:
    """A rate kept as a fraction (0.0950) as a percentage (9.5%), to its stored precision."""
    if value is None:
        return BLANK
    return Markup('<span class="rate">{}</span>').format(
        format_percent(Decimal(value), format="#,##0.##%", locale=fmt.locale)
    )


def when(value: dt.datetime | dt.date | None, fmt: Shop) -> Markup:
    """The one way the admin writes a time: a datetime in the tenant's time zone to the minute in
    the locale's form ("Dec 6, 2026 3:04 PM"), the exact stored UTC value and the zone on hover;
    a date in the locale's medium form. Stored datetimes are UTC (a naive one is read as UTC)."""
    if value is None:
        return BLANK
    if not isinstance(value, dt.datetime):
        return Markup("<span>{}</span>").format(format_date(value, "medium", locale=fmt.locale))
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    local = aware.astimezone(fmt.zone)
    shown = (
        f"{format_date(local, 'medium', locale=fmt.locale)} "
        f"{format_time(local, 'short', locale=fmt.locale)}"
    )
    if fmt.name_zone:
        shown += f" {local.tzname() or zone_name(fmt.zone)}"
    exact = aware.astimezone(dt.UTC).isoformat(sep=" ").replace("+00:00", " UTC")
    return Markup('<time datetime="{}" title="{}" style="white-space: nowrap">{}</time>').format(
        aware.isoformat(), f"{exact} (shown in {zone_name(fmt.zone)})", shown
    )


# how far along a state is, as a Bootstrap label colour: one tone per state on every page
TONES = {
    "pending": "default",
    "draft": "default",
    "unpaid": "default",
    "voided": "default",
    "refunded": "default",
    "archived": "default",
    "hidden": "default",
    "closed": "default",
    "released": "default",
    "requires_action": "warning",
    "requested": "warning",
    "refund_requested": "warning",
    "partially_refunded": "warning",
    "suspended": "warning",
    "authorized": "info",
    "processing": "info",
    "label_created": "info",
    "in_transit": "info",
    "out_for_delivery": "info",
    "held": "info",
    "partially_captured": "info",
    "paid": "primary",
    "captured": "primary",
    "approved": "primary",
    "shipped": "primary",
    "delivered": "success",
    "completed": "success",
    "succeeded": "success",
    "active": "success",
    "consumed": "success",
    "cancelled": "danger",
    "failed": "danger",
    "rejected": "danger",
    "exception": "danger",
}


def words(value) -> str:
    """A stored code as a person reads it: "refund_requested" -> "Refund requested"; "" for None."""
    if value is None:
        return ""
    text = str(getattr(value, "value", value)).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def badge(value) -> Markup:
    """A state as a coloured label in words (TONES); blank for None or an empty state."""
    if value is None or value == "":
        return BLANK
    code = str(getattr(value, "value", value))
    return Markup('<span class="label label-{} state-badge" data-state="{}">{}</span>').format(
        TONES.get(code, "default"), code, words(code)
    )


def flag(value: bool | None) -> Markup:
    """A check or a cross, with a word for screen readers and on hover; blank for None."""
    if value is None:
        return BLANK
    icon, color, word = (
        ("fa-check", "text-success", "Yes") if value else ("fa-times", "text-muted", "No")
    )
    return Markup(
        '<span class="flag" title="{word}"><i class="fa {icon} {color}" aria-hidden="true"></i>'
        '<span class="sr-only">{word}</span></span>'
    ).format(icon=icon, color=color, word=word)


def plain(value, fmt: Shop) -> Markup:
    """Anything else, by its Python type: None and empty lists blank, lists joined with commas,
    decimals and integers in the locale's digits, the rest as its text."""
    if value is None:
        return BLANK
    if isinstance(value, bool):
        return flag(value)
    if isinstance(value, dt.datetime | dt.date):
        return when(value, fmt)
    if isinstance(value, dict):  # a JSON column (an audit row's before/after, an event's payload)
        lines = [f"{key}: {_scalar(item)}" for key, item in value.items()]
        return Markup("\n").join(escape(line) for line in lines) if lines else BLANK
    if isinstance(value, list | tuple | set | frozenset):
        items = [item for item in value if item is not None and item != ""]
        return Markup(", ").join(escape(str(item)) for item in items) if items else BLANK
    if isinstance(value, Markup):
        return value
    return escape(str(value))


def _scalar(value) -> str:
    """A JSON value on one line: text as is, None blank, anything nested as JSON."""
    if value is None:
        return ""
    if isinstance(value, str | int | float | Decimal | bool):
        return str(value)
    return json.dumps(value, default=str, ensure_ascii=False)


def link(text, url: str | None) -> Markup:
    if not text and text != 0:
        return BLANK
    if url is None:
        return escape(str(text))
    return Markup('<a href="{}">{}</a>').format(url, str(text))


# --- columns of a model ------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _column_of(model, name: str):
    """The mapped column `name` of `model` (through many-to-one relations for a dotted name) and
    its model, or (None, None) for a property or anything that is not a column."""
    *path, last = name.split(".")
    for step in path:
        prop = sa_inspect(model).attrs.get(step) if model is not None else None
        if not isinstance(prop, RelationshipProperty):
            return None, None
        model = prop.mapper.class_
    columns = sa_inspect(model).columns if model is not None else {}
    return (columns[last], model) if last in columns else (None, None)


@lru_cache(maxsize=1024)
def column_kind(model, name: str) -> str | None:
    """MONEY_KIND, RATE_KIND or None: how the column `name` of `model` must be shown beyond its
    Python type."""
    column, _ = _column_of(model, name)
    if column is None:
        return RATE_KIND if name.endswith("_rate") else None
    if column.type is MONEY:
        return MONEY_KIND
    if column.type is RATE or name.rsplit(".", 1)[-1].endswith("_rate"):
        return RATE_KIND
    return None


def display(value, kind: str | None, fmt: Shop, currency: str | None = None) -> Markup:
    """One value as the admin shows it (see the module's docstring)."""
    if kind == MONEY_KIND and isinstance(value, Decimal | int | float):
        return money(value, currency, fmt)
    if (
        kind == RATE_KIND
        and isinstance(value, Decimal | int | float)
        and not isinstance(value, bool)
    ):
        return percent(value, fmt)
    return plain(value, fmt)


@dataclass(frozen=True)
class Reference:
    """A column that holds the id of another table's row (no relationship to follow, e.g. across
    domain layers): shown as that row's name, linked to its page when the user may open it, and
    searched by name. `text` makes the name from the row; `view` is the admin view's class name
    showing the row."""

    model: type
    text: Callable[[object], str]
    view: str | None = None
    # the columns of `model` the list's search matches what is typed against (from its start),
    # e.g. ("number",): the column is searched by that name instead of by a numeric id
    search: tuple[str, ...] = ()


def referenced_rows(session, ref: Reference, ids: Iterable) -> dict:
    """id -> row of `ref.model` for the ids given, in one query (tenant-scoped like every query)."""
    wanted = {i for i in ids if isinstance(i, int)}
    if not wanted:
        return {}
    from sqlalchemy import select

    rows = session.scalars(select(ref.model).where(ref.model.id.in_(wanted))).all()
    return {row.id: row for row in rows}


def attribute(item, dotted: str):
    """`item.a.b` for "a.b"; None where a step is missing or None."""
    for step in dotted.split("."):
        item = getattr(item, step, None)
        if item is None:
            return None
    return item
