"""Every SQLAlchemy session hook of the app, installed from here and nowhere else.

create_app() calls install(); it registers each listener once per process (a second app in the
same process, as the tests make, finds them installed), and no module registers a listener when
it is imported. SQLAlchemy calls the listeners of one event in the order they were registered, so
HOOKS is also the order they run in. Where it matters, and why (the other events have one
listener, or listeners that do not depend on each other):

do_orm_execute   tenancy first: the statement every later listener sees (and the database runs)
                 is the tenant's, and a statement refused for want of a tenant marks nothing.
before_flush     tenancy first: the rows the next listeners derive from carry their tenant, and a
                 write into another tenant is refused before ownership's Core UPDATEs (a product
                 given to another seller) run. The seller_id copies and the min_price bookkeeping
                 do not depend on each other.
after_flush      min_price first: its UPDATE of products.min_price is part of what the flush
                 writes; it expires that column on loaded products but never on one this flush
                 deleted, so the audit, next, can still read every column of a deleted row. The
                 rest only note what the flush touched (audit: the values at this flush) and read
                 nothing another one writes.
after_commit     the audit's late rows (their own connection); then the cache versions, before the
                 outbox hands events to their consumers: in the embedded default the consumers run
                 right there, in this process, and must not be answered from cache entries older
                 than the commit they react to.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import NamedTuple

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.catalog import min_price
from app.core import cache
from app.events import bus as outbox
from app.inventory import ownership
from app.payouts import guard as ledger_guard
from app.search import hooks as search
from app.security import audit
from app.security.models import User
from app.tenants.orm import TenancyHooks


class Hook(NamedTuple):
    event: str
    listener: Callable
    derives: str  # what it derives or does, in one line


_tenancy = TenancyHooks(User)

HOOKS: tuple[Hook, ...] = (
    # --- a statement is about to run ---
    Hook(
        "do_orm_execute",
        _tenancy.scope_statement,
        "tenant_id = <current> on every SELECT, UPDATE and DELETE of tenant data",
    ),
    Hook(
        "do_orm_execute",
        cache.remember_statements,
        "cache namespaces an ORM UPDATE or DELETE of watched models writes",
    ),
    # --- before a flush ---
    Hook(
        "do_orm_execute",
        ledger_guard.refuse_bulk_writes,
        "no ORM UPDATE or DELETE of the seller ledger (append-only)",
    ),
    Hook("before_flush", _tenancy.stamp_tenant, "new rows' tenant_id; cross-tenant writes refused"),
    Hook("before_flush", ledger_guard.refuse_changes, "no change to or removal of a ledger row"),
    Hook(
        "before_flush",
        ownership.sync_seller_ids,
        "seller_id of variants, stock levels, movements and alerts = their product's",
    ),
    Hook("before_flush", min_price.collect, "the products whose variants' prices change"),
    # --- after a flush, in its transaction ---
    Hook("after_flush", min_price.recompute, "products.min_price = lowest active variant price"),
    Hook("after_flush", audit.collect_rows, "the audit rows (before/after) of what was flushed"),
    Hook("after_flush", cache.remember_writes, "cache namespaces (per tenant) written"),
    Hook("after_flush", outbox.remember_flushed, "outbox events to dispatch after the commit"),
    Hook("after_flush", search.collect, "catalog rows touched, per tenant, for the search index"),
    Hook(
        "after_flush_postexec",
        search.publish_requests,
        "one search.reindex_requested outbox event per tenant",
    ),
    # --- commit ---
    Hook("before_commit", audit.write_rows, "the transaction's audit rows, in one INSERT"),
    Hook("after_commit", audit.write_late_rows, "audit rows of a savepoint open at the commit"),
    Hook("after_commit", cache.bump_after_commit, "new versions of the namespaces written"),
    Hook("after_commit", outbox.dispatch_after_commit, "the committed events, to dispatch"),
    Hook(
        "after_transaction_end",
        outbox.dispatch_after_transaction_end,
        "the committed events to their consumers, the connection back in the pool",
    ),
    # --- rollback: forget what a transaction that did not commit had noted ---
    Hook("after_rollback", cache.forget_on_rollback, "no version bump"),
    Hook("after_rollback", outbox.forget_on_rollback, "no dispatch"),
    Hook("after_rollback", search.forget_on_rollback, "no reindex request"),
    Hook("after_soft_rollback", audit.drop_rolled_back, "no audit rows of rolled-back changes"),
    Hook("after_transaction_end", audit.end_transaction, "the audit's per-transaction state"),
)

_lock = threading.Lock()


def install() -> None:
    """Register every hook on the Session class, in HOOKS' order; those registered already are
    left as they are, so a second call changes nothing."""
    with _lock:
        for hook in HOOKS:
            if not event.contains(Session, hook.event, hook.listener):
                event.listen(Session, hook.event, hook.listener)
