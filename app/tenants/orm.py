"""Tenancy applied automatically to every ORM query and insert.

Every SELECT, UPDATE and DELETE issued through an ORM session gets `tenant_id = <current>` on
each tenant-scoped entity it touches (relationship loads included); every new tenant-scoped row
gets the current tenant; a write into another tenant is refused. Users (ab_user) are tenant
members except Super Admins, whose tenant_id is NULL and who are visible from every tenant.

Users are scoped whichever class a query names: the app's user model or FAB's own `User` it
extends (FAB's relationships, e.g. Role.user behind the roles page's search form, load that base
class, which is not a subclass of the app's model, so it escaped the rule and an Admin's roles
page listed the users of every tenant).

Refreshes of an object already in the session (expired attributes, by primary key) are not
filtered: they reveal no new row. Raw SQL (text() or Core statements on tables) is not covered: it
must filter by tenant itself.

The listeners are installed by app/hooks.py, with every other session hook, in their order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Row, Select, inspect, or_
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from app.core.errors import TenantError
from app.core.tenancy import current_tenant_id, is_unscoped
from app.extensions import db
from app.tenants.errors import TenancyError
from app.tenants.models import TenantScoped


class TenancyHooks:
    """The two session listeners that apply tenancy, for the app's user model (app/hooks.py
    installs them). Users are scoped through the mapped base of `user_model` (FAB's User, which
    the app's model extends): FAB's relationships (Role.user...) load that base class, which is not
    a subclass of the app's model (app.security.models maps tenant_id on it)."""

    def __init__(self, user_model) -> None:
        self.user_model = inspect(user_model).base_mapper.class_

    def _touches_tenant_data(self, state: ORMExecuteState) -> bool:
        """Whether the statement reads tenant data: a TenantScoped entity, or users."""
        for mapper in state.all_mappers:
            cls = mapper.class_
            if issubclass(cls, TenantScoped) or issubclass(cls, self.user_model):
                return True
        return False

    def scope_statement(self, state: ORMExecuteState) -> None:
        """do_orm_execute: `tenant_id = <current>` on every tenant-scoped entity a SELECT, UPDATE
        or DELETE touches (users: the tenant's and the global ones); none without a tenant."""
        if not (state.is_select or state.is_update or state.is_delete):
            return
        if state.is_column_load:
            # refreshing attributes of an object already held (by primary key): reveals no new row
            return
        if is_unscoped():
            return
        tenant_id = current_tenant_id()
        if tenant_id is None:
            if self._touches_tenant_data(state):
                raise TenantError(
                    "no tenant in context for a query on tenant data",
                    code=TenancyError.TENANT_REQUIRED,
                )
            return
        state.statement = state.statement.options(
            with_loader_criteria(
                TenantScoped,
                lambda cls: cls.tenant_id == tenant_id,
                include_aliases=True,
            ),
            with_loader_criteria(
                self.user_model,
                lambda cls: or_(cls.tenant_id == tenant_id, cls.tenant_id.is_(None)),
                include_aliases=True,
            ),
        )

    def stamp_tenant(self, session: Session, flush_context, instances) -> None:
        """before_flush: new rows get the current tenant; creating a row in another tenant, moving
        a row to another tenant and changing another tenant's row are refused (unscoped, as a
        Super Admin or a system job, none of them is)."""
        user_model = self.user_model
        unscoped = is_unscoped()
        tenant_id = current_tenant_id()
        for obj in session.new:
            if isinstance(obj, TenantScoped):
                if obj.tenant_id is None:
                    if tenant_id is None:
                        raise TenantError(
                            f"cannot create {type(obj).__name__} without a tenant",
                            code=TenancyError.TENANT_REQUIRED,
                        )
                    obj.tenant_id = tenant_id
                elif not unscoped and obj.tenant_id != tenant_id:
                    raise TenantError(f"cannot create {type(obj).__name__} in another tenant")
            elif isinstance(obj, user_model):
                # A user made under a tenant belongs to it; only a user flagged global (a Super
                # Admin, made by `flask init` or the Super Admin service) keeps tenant_id NULL.
                if obj.tenant_id is None and not getattr(obj, "is_global_user", False):
                    if tenant_id is None:
                        raise TenantError(
                            "cannot create a user without a tenant",
                            code=TenancyError.TENANT_REQUIRED,
                        )
                    obj.tenant_id = tenant_id
                elif not unscoped and obj.tenant_id not in (tenant_id, None):
                    raise TenantError("cannot create a user in another tenant")
        if unscoped:
            return
        for obj in list(session.dirty) + list(session.deleted):
            if isinstance(obj, (TenantScoped, user_model)):
                history = inspect(obj).attrs.tenant_id.history
                if history.has_changes():
                    raise TenantError(f"cannot move {type(obj).__name__} to another tenant")
                if tenant_id is not None and obj.tenant_id not in (tenant_id, None):
                    raise TenantError(f"cannot change {type(obj).__name__} of another tenant")


def read_rows(statement_for: Callable[[bool], Select], **params: Any) -> Sequence[Row]:
    """The rows of a prebuilt Core SELECT on tables, run on the session's connection: without the
    ORM's per-statement work (a small ORM select costs ~0.7 ms of CPU, the same Core one ~0.25:
    issue 19's read paths), and so without the hooks above: the statement filters by tenant
    itself. `statement_for(scoped)` returns it with (True) or without (False) its
    `tenant_id = :tenant_id` conditions, built once (functools.cache); the rule is the hooks':
    the current tenant, every tenant when unscoped, refused without a tenant. Pending ORM
    changes are flushed first, as an ORM query's autoflush would."""
    session = db.session()
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()
    if is_unscoped():
        return session.connection().execute(statement_for(False), params).all()
    tenant_id = current_tenant_id()
    if tenant_id is None:
        raise TenantError(
            "no tenant in context for a query on tenant data", code=TenancyError.TENANT_REQUIRED
        )
    return (
        session.connection().execute(statement_for(True), {**params, "tenant_id": tenant_id}).all()
    )
