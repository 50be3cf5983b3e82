"""Moved to app.core.tenancy (issue 12: the cache in app/core keys by the current tenant, and core
imports no domain).

This re-export is kept only for the packages that other engineers were restructuring at the time
of the move (app/cart, app/orders, app/pricing and their tests), which were not to be edited
then. The import contract "tenant-context-moved" (pyproject.toml) lists the modules still
importing it and refuses new ones: switch them to app.core.tenancy, shrink the list, and delete
this module with the contract when the list is empty.
"""

from app.core.tenancy import (  # noqa: F401
    current_tenant_id,
    is_unscoped,
    reset_tenant,
    reset_unscoped,
    set_tenant,
    set_unscoped,
    tenant_scope,
    unscoped,
)
