"""Transactional mails per tenant: the message types, their built-in templates, a tenant's own
wording (app.notifications.models.MailTemplate) and the sandbox that renders both.

Every type has a subject, a text and an HTML template in templates/mail/<kind>.subject.txt,
<kind>.txt and <kind>.html (the HTML ones extend `_brand.html`: the tenant's name, logo and
colour). A tenant may replace the three with its own (edited by staff in the admin); those are
written by people who are not developers, so they render in Jinja's ImmutableSandboxedEnvironment
(no attribute of Python internals, no mutation of what they are given) with StrictUndefined (a
misspelt variable is an error, never an empty hole in a customer's mail). `check()` refuses a
template that does not compile or does not render against the type's sample data, naming the
part, the line and Jinja's message; a tenant's template that still fails when a real mail is sent
(data the sample did not have) is logged and the built-in default is sent instead, so a customer
always gets its mail.

Amounts are written in the tenant's language with the currency's symbol (`{{ total|money }}`, or
`{{ amount|money(currency) }}` for another currency) and times in the tenant's time zone
(`{{ placed_at|datetime }}`, `{{ placed_at|date }}`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.numbers import format_currency
from flask import current_app
from jinja2 import (
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
    pass_context,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import select

from app.core.errors import ValidationError
from app.extensions import db
from app.notifications import mail
from app.notifications.models import MailTemplate
from app.tenants.models import Tenant

log = logging.getLogger(__name__)

PARTS = ("subject", "text", "html")
SUBJECT_MAX = 255
BODY_MAX = 60_000  # a TEXT column holds 64 KB


@dataclass(frozen=True)
class MailKind:
    name: str
    label: str
    # who receives it, as staff read it on the "Mail templates" page
    audience: str
    # the notification preference type whose e-mail channel decides (app.inbox.catalog)
    preference: str
    # what the template may use, besides `shop`, `recipient_name` and `link` (every mail has them)
    variables: tuple[str, ...] = field(default_factory=tuple)


KINDS: dict[str, MailKind] = {
    k.name: k
    for k in (
        MailKind(
            "order_confirmation",
            "Order confirmation",
            "The customer, when an order is placed",
            "order.created",
            ("order_number", "placed_at", "total", "currency", "lines", "shipping_address"),
        ),
        MailKind(
            "seller_new_order",
            "New order for a seller",
            "Each seller of a new order (its own part only)",
            "order.created",
            ("order_number", "placed_at", "total", "currency", "lines", "store_name"),
        ),
        MailKind(
            "order_shipped",
            "Order shipped",
            "The customer, when a seller ships its part",
            "order.status_changed",
            ("order_number", "store_name", "shipments", "lines"),
        ),
        MailKind(
            "order_delivered",
            "Order delivered",
            "The customer, when a part is delivered",
            "order.status_changed",
            ("order_number", "store_name", "lines"),
        ),
        MailKind(
            "order_cancelled",
            "Order cancelled",
            "The customer, when an order or a part of it is cancelled",
            "order.status_changed",
            ("order_number", "store_name", "total", "currency", "lines"),
        ),
        MailKind(
            "refund_requested",
            "Refund requested",
            "The seller of the part (the shop's admins when the seller asked)",
            "order.status_changed",
            ("order_number", "store_name", "amount", "currency", "reason"),
        ),
        MailKind(
            "refund_decided",
            "Refund approved or refused",
            "The customer, when the seller or the shop decides",
            "order.status_changed",
            ("order_number", "store_name", "amount", "currency", "approved", "note"),
        ),
        MailKind(
            "refund_paid",
            "Refund paid",
            "The customer, when the money has gone back",
            "order.status_changed",
            ("order_number", "amount", "currency"),
        ),
        MailKind(
            "payment_failed",
            "Payment failed",
            "The customer, when a payment of an order is refused",
            "order.status_changed",
            ("order_number", "amount", "currency", "failure_code"),
        ),
        MailKind(
            "low_stock",
            "Low stock",
            "The product's seller and the shop's admins",
            "inventory.low_stock",
            ("product_title", "sku", "warehouse", "available", "reorder_point", "store_name"),
        ),
        MailKind(
            "review_posted",
            "New review",
            "The seller of the reviewed product",
            "review.created",
            ("product_title", "rating", "title", "body", "reviewer", "store_name"),
        ),
    )
}


# --- the tenant's look and formats ---------------------------------------------------------------


@dataclass(frozen=True)
class Shop:
    """What a template knows of the tenant: `shop.name`, `shop.logo_url`, `shop.color`,
    `shop.url`, `shop.currency`, `shop.time_zone` (and, not for templates, the babel locale)."""

    name: str
    logo_url: str | None
    color: str
    url: str
    currency: str
    time_zone: str
    language: str

    @property
    def locale(self) -> Locale:
        return _locale(self.language)

    @property
    def zone(self) -> dt.tzinfo:
        return _zone(self.time_zone)


DEFAULT_COLOR = "#337ab7"


@lru_cache(maxsize=64)
def _locale(language: str | None) -> Locale:
    try:
        return Locale.parse((language or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse("en")


@lru_cache(maxsize=64)
def _zone(name: str | None) -> dt.tzinfo:
    try:
        return ZoneInfo(name) if name else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def shop_of(tenant: Tenant | None) -> Shop:
    config = current_app.config
    zone = (tenant.time_zone if tenant else None) or config.get("DISPLAY_TIME_ZONE") or "UTC"
    return Shop(
        name=tenant.name if tenant else config.get("APP_NAME", "Marketplace"),
        logo_url=(tenant.logo_url or None) if tenant else None,
        color=(tenant.primary_color if tenant and tenant.primary_color else DEFAULT_COLOR),
        url=config["FRONTEND_URL"].rstrip("/") + "/",
        currency=(tenant.default_currency if tenant else "USD") or "USD",
        time_zone=zone,
        language=(tenant.default_language if tenant else "en") or "en",
    )


def _shop_in(ctx) -> Shop:
    found = ctx.get("shop")
    return found if isinstance(found, Shop) else shop_of(None)


@pass_context
def _money(ctx, value, currency: str | None = None) -> str:
    if value is None or value == "":
        return ""
    shop = _shop_in(ctx)
    code = (currency or ctx.get("currency") or shop.currency or "USD").upper()
    try:
        return format_currency(Decimal(str(value)), code, locale=shop.locale)
    except (InvalidOperation, ValueError, TypeError):
        return f"{value} {code}"


def _aware(value):
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


@pass_context
def _datetime(ctx, value) -> str:
    if value is None or value == "":
        return ""
    shop = _shop_in(ctx)
    value = _aware(value)
    if not isinstance(value, dt.datetime):
        return format_date(value, "medium", locale=shop.locale)
    local = value.astimezone(shop.zone)
    return (
        f"{format_date(local, 'medium', locale=shop.locale)} "
        f"{format_time(local, 'short', locale=shop.locale)} ({shop.time_zone})"
    )


@pass_context
def _date(ctx, value) -> str:
    if value is None or value == "":
        return ""
    shop = _shop_in(ctx)
    value = _aware(value)
    if isinstance(value, dt.datetime):
        value = value.astimezone(shop.zone).date()
    return format_date(value, "long", locale=shop.locale)


def _environment(html: bool) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(str(mail.TEMPLATE_DIR)),
        autoescape=html,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=_money, datetime=_datetime, date=_date)
    # a template loops over the data it is given, nothing else: no range() nor lorem ipsum that a
    # shop's template could turn into minutes of rendering
    for name in ("range", "lipsum"):
        env.globals.pop(name, None)
    return env


_HTML = _environment(html=True)
_TEXT = _environment(html=False)


def _env_for(part: str) -> ImmutableSandboxedEnvironment:
    return _HTML if part == "html" else _TEXT


def default_source(kind: str, part: str) -> str:
    """The built-in template's source (what the admin's editor starts from)."""
    suffix = {"subject": "subject.txt", "text": "txt", "html": "html"}[part]
    return (mail.TEMPLATE_DIR / f"{kind}.{suffix}").read_text(encoding="utf-8")


# --- rendering -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    # "tenant": the tenant's own templates; "default": the built-in ones
    source: str


def _template_line(exc: BaseException) -> int | None:
    """The template line a render error happened on (Jinja puts its frames in the traceback)."""
    line = getattr(exc, "lineno", None)
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _render_part(part: str, source: str, context: dict) -> str:
    out = _env_for(part).from_string(source).render(context)
    return " ".join(out.split()) if part == "subject" else out


def render_sources(sources: dict[str, str], context: dict) -> Rendered:
    return Rendered(*(_render_part(p, sources[p], context) for p in PARTS), source="tenant")


def render_default(kind: str, context: dict) -> Rendered:
    return Rendered(
        *(_render_part(p, default_source(kind, p), context) for p in PARTS), source="default"
    )


def override_of(kind: str) -> MailTemplate | None:
    """The current tenant's own templates of `kind` (the tenant rule scopes the query)."""
    return db.session.scalars(select(MailTemplate).where(MailTemplate.kind == kind)).first()


def render(kind: str, context: dict, tenant: Tenant | None) -> Rendered:
    """`kind` for the current tenant: its own templates when it has them (the built-in default if
    they fail on this data: logged), else the default."""
    context = {"shop": shop_of(tenant), "recipient_name": "", "link": None, **context}
    own = override_of(kind) if tenant is not None else None
    if own is not None:
        try:
            return render_sources(
                {"subject": own.subject, "text": own.text_body, "html": own.html_body}, context
            )
        except Exception as exc:  # a tenant's template: never lose the customer's mail for it
            log.warning(
                "tenant %s's %s template failed (line %s: %s); the default is sent",
                tenant.id,
                kind,
                _template_line(exc),
                exc,
            )
    return render_default(kind, context)


def check(kind: str, sources: dict[str, str], sample: dict) -> dict[str, str]:
    """The three parts, trimmed, if they compile and render against `sample`; else a 422
    naming each bad part with its line and Jinja's message."""
    if kind not in KINDS:
        raise ValidationError("no such mail type", details={"kind": [f"one of {', '.join(KINDS)}"]})
    cleaned = {part: (sources.get(part) or "").replace("\r\n", "\n") for part in PARTS}
    cleaned["subject"] = cleaned["subject"].strip()
    errors: dict[str, list[str]] = {}
    limits = {"subject": SUBJECT_MAX, "text": BODY_MAX, "html": BODY_MAX}
    for part in PARTS:
        source = cleaned[part]
        if not source.strip():
            errors[part] = ["must not be empty"]
            continue
        if len(source) > limits[part]:
            errors[part] = [f"at most {limits[part]} characters"]
            continue
        try:
            _render_part(part, source, sample)
        except TemplateSyntaxError as exc:
            errors[part] = [f"line {exc.lineno}: {exc.message}"]
        except (TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
            line = _template_line(exc)
            where = f"line {line}: " if line else ""
            errors[part] = [f"{where}{exc}"]
    if errors:
        raise ValidationError("the template does not render", details=errors)
    return cleaned


# --- sending ---------------------------------------------------------------------------------------


def message(rendered: Rendered, to: str, shop: Shop, key: str | None = None) -> EmailMessage:
    """The mail: from the platform's sender address under the tenant's name. `key` (what asked
    for this mail, e.g. its mail.requested event) makes its Message-ID stable: a mail sent again
    because the process died between the SMTP hand-off and the commit is the same message, which
    receiving systems recognise and collapse (at-least-once hand-off, one message)."""
    _, address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    msg = EmailMessage()
    msg["Subject"] = rendered.subject
    msg["From"] = formataddr((shop.name, address))
    msg["To"] = to
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    domain = address.rpartition("@")[2] or "marketplace.local"
    msg["Message-ID"] = _stable_msgid(key, domain) if key else make_msgid(domain=domain)
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    return msg


def _stable_msgid(key: str, domain: str) -> str:
    """<digest.key@domain>: the digest (keyed with SECRET_KEY) keeps two installations' ids for the
    same key apart and says nothing about the key to a reader."""
    digest = hmac.new(current_app.secret_key.encode(), key.encode(), hashlib.sha256).hexdigest()
    return f"<{digest[:20]}.{key}@{domain}>"


def tenant_of(tenant_id: int | None) -> Tenant | None:
    return db.session.get(Tenant, tenant_id) if tenant_id else None


def send(kind: str, to: str, context: dict, tenant_id: int | None) -> None:
    tenant = tenant_of(tenant_id)
    rendered = render(kind, context, tenant)
    mail.deliver(message(rendered, to, shop_of(tenant)))


# --- sample data (the check at save and the admin's preview) ------------------------------------


def sample(
    kind: str, shop: Shop, *, product_title: str | None = None, store_name: str | None = None
):
    """Data of the shape the consumers give `kind`, in the tenant's currency: what a template is
    checked against when saved and what the preview shows."""
    product = product_title or "Linen shirt"
    store = store_name or "Northwind Goods"
    placed = dt.datetime(2026, 3, 14, 15, 9, tzinfo=dt.UTC)
    lines = [
        {
            "title": product,
            "sku": "LS-001-M",
            "quantity": 2,
            "unit_price": "29.50",
            "total": "59.00",
        },
        {
            "title": "Canvas tote",
            "sku": "CT-010",
            "quantity": 1,
            "unit_price": "12.00",
            "total": "12.00",
        },
    ]
    common = {
        "recipient_name": "Ada",
        "link": shop.url + "orders/260314-5F3A9C21D0",
        "order_number": "260314-5F3A9C21D0",
        "currency": shop.currency,
        "store_name": store,
    }
    by_kind = {
        "order_confirmation": {
            "placed_at": placed,
            "total": "75.99",
            "lines": lines,
            "shipping_address": "Ada Lovelace, 1 Main St, N1 1AA London, GB",
        },
        "seller_new_order": {"placed_at": placed, "total": "71.00", "lines": lines},
        "order_shipped": {
            "lines": lines,
            "shipments": [{"carrier": "manual", "tracking_number": "TRK123456789"}],
        },
        "order_delivered": {"lines": lines},
        "order_cancelled": {"total": "71.00", "lines": lines},
        "refund_requested": {"amount": "29.50", "reason": "The shirt is too small"},
        "refund_decided": {"amount": "29.50", "approved": True, "note": "Sorry about the size"},
        "refund_paid": {"amount": "29.50"},
        "payment_failed": {"amount": "75.99", "failure_code": "card_declined"},
        "low_stock": {
            "product_title": product,
            "sku": "LS-001-M",
            "warehouse": "Main warehouse",
            "available": 2,
            "reorder_point": 5,
        },
        "review_posted": {
            "product_title": product,
            "rating": 4,
            "title": "Lovely fabric",
            "body": "Soft and well cut; runs a little small.",
            "reviewer": "Ada L.",
        },
    }
    return {"shop": shop, **common, **by_kind[kind]}
