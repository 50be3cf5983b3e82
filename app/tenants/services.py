"""Tenant operations: resolve the tenant of a request, create and update tenants."""

from __future__ import annotations

import functools
import re
import threading
import time
import zoneinfo

from sqlalchemy import select

from app.core.db import transactional
from app.core.errors import NotFound, ValidationError
from app.core.tenancy import unscoped
from app.extensions import db
from app.tenants.errors import TenancyError
from app.tenants.models import (
    LIMIT_LINE_QUANTITY,
    LIMIT_ORDER_UNITS,
    TENANT_PLANS,
    TENANT_STATUSES,
    Tenant,
)

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_CACHE_TTL = 10.0
_cache: dict[tuple[str, str], tuple[float, tuple[int, str] | None]] = {}
_cache_lock = threading.Lock()


def tenant_ids(only: int | None = None) -> list[int]:
    """Every tenant's id in id order (or just `only`): what the platform-wide jobs loop over (payouts,
    analytics, training, inventory facts, the search rebuild). Read unscoped, and the read
    transaction is ended, so each tenant's work starts its own."""
    if only is not None:
        return [only]
    with unscoped():
        ids = list(db.session.scalars(select(Tenant.id).order_by(Tenant.id)))
    db.session.rollback()
    return ids


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _lookup(kind: str, key: str) -> tuple[int, str] | None:
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get((kind, key))
        if hit and hit[0] > now:
            return hit[1]
    column = Tenant.slug if kind == "slug" else Tenant.domain
    with unscoped():
        row = db.session.execute(select(Tenant.id, Tenant.status).where(column == key)).first()
    value = (row.id, row.status) if row else None
    with _cache_lock:
        _cache[(kind, key)] = (now + _CACHE_TTL, value)
    return value


def resolve_tenant(host: str | None, header: str | None, default_slug: str) -> tuple[int, str]:
    """(tenant id, status) for a request: the X-Tenant header (slug), else the Host's domain,
    else the default tenant. An unknown X-Tenant is an error, not a silent fallback."""
    if header:
        found = _lookup("slug", header.strip().lower())
        if not found:
            raise NotFound(f"unknown tenant {header!r}", code=TenancyError.TENANT_NOT_FOUND)
        return found
    if host:
        found = _lookup("domain", host.split(":", 1)[0].strip().lower())
        if found:
            return found
    found = _lookup("slug", default_slug)
    if not found:
        raise NotFound(
            "the default tenant does not exist; run `flask init`",
            code=TenancyError.TENANT_NOT_FOUND,
        )
    return found


@functools.cache
def time_zones() -> frozenset[str]:
    """The IANA time zone names a tenant may choose (zoneinfo's, from the system's tz database)."""
    return frozenset(zoneinfo.available_timezones())


def validate_tenant_fields(
    *,
    slug: str | None = None,
    status: str | None = None,
    plan: str | None = None,
    default_currency: str | None = None,
    max_line_quantity: int | None = None,
    max_order_units: int | None = None,
    time_zone: str | None = None,
) -> None:
    errors: dict[str, str] = {}
    if time_zone is not None and time_zone not in time_zones():
        errors["time_zone"] = "an IANA time zone name such as Europe/Paris"
    for name, value, top in (
        ("max_line_quantity", max_line_quantity, LIMIT_LINE_QUANTITY),
        ("max_order_units", max_order_units, LIMIT_ORDER_UNITS),
    ):
        if value is not None and not (isinstance(value, int) and 1 <= value <= top):
            errors[name] = f"a whole number from 1 to {top}"
    if slug is not None and not _SLUG.match(slug):
        errors["slug"] = "lower-case letters, digits and dashes, 1-64 characters"
    if status is not None and status not in TENANT_STATUSES:
        errors["status"] = f"one of {', '.join(TENANT_STATUSES)}"
    if plan is not None and plan not in TENANT_PLANS:
        errors["plan"] = f"one of {', '.join(TENANT_PLANS)}"
    if default_currency is not None and not re.fullmatch(r"[A-Z]{3}", default_currency):
        errors["default_currency"] = "an ISO 4217 code such as USD"
    if errors:
        # the message names the fields too: the admin flashes it (the details do not reach the page)
        raise ValidationError(
            "invalid tenant: " + "; ".join(f"{k}: {v}" for k, v in errors.items()), details=errors
        )


@transactional
def create_tenant(
    *,
    slug: str,
    name: str,
    domain: str | None = None,
    default_currency: str = "USD",
    default_language: str = "en",
    plan: str = "standard",
) -> Tenant:
    validate_tenant_fields(slug=slug, plan=plan, default_currency=default_currency)
    with unscoped():
        if db.session.scalar(select(Tenant.id).where(Tenant.slug == slug)):
            raise ValidationError("slug already used", details={"slug": "already used"})
        tenant = Tenant(
            slug=slug,
            name=name,
            domain=domain,
            default_currency=default_currency,
            default_language=default_language,
            languages=default_language,
            plan=plan,
        )
        db.session.add(tenant)
        db.session.flush()
    clear_cache()
    return tenant


def get_or_create_tenant(slug: str, name: str, **fields) -> Tenant:
    with unscoped():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    return tenant or create_tenant(slug=slug, name=name, **fields)
