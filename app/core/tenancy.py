"""The current tenant of this request, job or command, and the Super Admin bypass.

Kept in context variables so that request threads, jobs and CLI commands each have their own.
A primitive of the lowest layer: the cache keys its entries by the current tenant, tenancy's ORM
hooks (app/tenants/orm.py) filter and stamp with it, and every domain reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_tenant_id: ContextVar[int | None] = ContextVar("tenant_id", default=None)
_bypass: ContextVar[bool] = ContextVar("tenant_bypass", default=False)


def current_tenant_id() -> int | None:
    return _tenant_id.get()


def is_unscoped() -> bool:
    return _bypass.get()


def set_tenant(tenant_id: int | None):
    """Set the tenant; returns a token for reset_tenant(). Used by the request hooks."""
    return _tenant_id.set(tenant_id)


def reset_tenant(token) -> None:
    _tenant_id.reset(token)


def set_unscoped(value: bool):
    return _bypass.set(value)


def reset_unscoped(token) -> None:
    _bypass.reset(token)


@contextmanager
def tenant_scope(tenant_id: int | None) -> Iterator[None]:
    """Run a block as `tenant_id` (and never unscoped)."""
    t1, t2 = _tenant_id.set(tenant_id), _bypass.set(False)
    try:
        yield
    finally:
        _bypass.reset(t2)
        _tenant_id.reset(t1)


@contextmanager
def unscoped() -> Iterator[None]:
    """Run a block across tenants: Super Admin requests, system jobs, CLI set-up."""
    token = _bypass.set(True)
    try:
        yield
    finally:
        _bypass.reset(token)
