"""Staff's use cases on the transactional mails' wording (the admin's "Mail templates" page):
list the message types, edit the current tenant's own subject, text and HTML of one (refused
with the part, line and message when it does not compile or render against the type's sample
data), reset it to the built-in default, and preview it rendered with sample data in the
tenant's branding, currency and time zone. Only an Admin (or a Super Admin inside a tenant) may;
every read and write is the current tenant's (the tenant rule scopes the rows), so a tenant never
sees nor changes another's wording.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from app.catalog.models import Product
from app.core.db import transaction
from app.core.errors import NotFound, PermissionDenied, TenantError
from app.core.tenancy import current_tenant_id
from app.extensions import db
from app.notifications import templating
from app.notifications.models import MailTemplate
from app.security.actor import Actor


@dataclass(frozen=True)
class KindView:
    name: str
    label: str
    audience: str
    variables: tuple[str, ...]
    customised: bool
    updated_at: dt.datetime | None


@dataclass(frozen=True)
class Sources:
    kind: KindView
    subject: str
    text: str
    html: str


def _check(actor: Actor | None) -> int:
    if actor is None or not actor.is_admin:
        raise PermissionDenied("only the shop's admins edit its mails")
    tenant_id = current_tenant_id()
    if tenant_id is None:
        raise TenantError("mail templates are a storefront's: no tenant in context")
    return tenant_id


def _kind(name: str) -> templating.MailKind:
    found = templating.KINDS.get(name)
    if found is None:
        raise NotFound("no such mail type", details={"kind": name})
    return found


def _view(kind: templating.MailKind, own: MailTemplate | None) -> KindView:
    return KindView(
        kind.name,
        kind.label,
        kind.audience,
        kind.variables,
        own is not None,
        own.updated_at if own is not None else None,
    )


def kinds(actor: Actor | None) -> list[KindView]:
    _check(actor)
    own = {row.kind: row for row in db.session.scalars(select(MailTemplate))}
    return [_view(kind, own.get(name)) for name, kind in templating.KINDS.items()]


def sources(actor: Actor | None, name: str) -> Sources:
    """What the editor shows: the tenant's own wording, else the built-in default's."""
    _check(actor)
    kind = _kind(name)
    own = templating.override_of(name)
    if own is not None:
        return Sources(_view(kind, own), own.subject, own.text_body, own.html_body)
    return Sources(
        _view(kind, None),
        *(
            templating.default_source(name, part).strip("\n") + ("" if part == "subject" else "\n")
            for part in templating.PARTS
        ),
    )


def sample_context(name: str) -> dict:
    """The type's sample data in the current tenant's branding, with one of its products' titles."""
    tenant = templating.tenant_of(current_tenant_id())
    title = db.session.scalar(select(Product.title).order_by(Product.id).limit(1))
    return templating.sample(name, templating.shop_of(tenant), product_title=title)


def save(actor: Actor | None, name: str, subject: str, text: str, html: str) -> Sources:
    """The tenant's own wording of `name`, checked first (422 naming part, line and message)."""
    _check(actor)
    _kind(name)
    cleaned = templating.check(
        name, {"subject": subject, "text": text, "html": html}, sample_context(name)
    )
    with transaction():
        row = templating.override_of(name)
        if row is None:
            row = MailTemplate(kind=name)
            db.session.add(row)
        row.subject = cleaned["subject"]
        row.text_body = cleaned["text"]
        row.html_body = cleaned["html"]
        row.updated_by_user_id = actor.user_id
    return sources(actor, name)


def reset(actor: Actor | None, name: str) -> bool:
    """Back to the built-in default; False when the tenant had no wording of its own."""
    _check(actor)
    _kind(name)
    with transaction():
        row = templating.override_of(name)
        if row is None:
            return False
        db.session.delete(row)
    return True


def preview(actor: Actor | None, name: str) -> templating.Rendered:
    """The mail as the tenant sends it now (its own wording or the default) with sample data."""
    _check(actor)
    _kind(name)
    return templating.render(name, sample_context(name), templating.tenant_of(current_tenant_id()))
