"""The ancestors of categories: tax overrides and promotion conditions name a category and mean it
and its descendants, so a line matches when its category's chain contains the named one."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import select

from app.catalog.models import Category
from app.core import cache
from app.core.tenancy import current_tenant_id
from app.extensions import db

# The tenant's whole category tree (id -> parent id) is small and read by every cart view and
# checkout: cached under a namespace of its own, bumped after any commit that writes a category
# (the catalog namespace moves with every stock change, so it would always miss here).
CACHE_NAMESPACE = "category_tree"
CACHE_TTL = 3600
TREE_ENTRY = (CACHE_NAMESPACE, "category-parents")  # (namespace, key) for cache.batched
cache.watch(Category, namespace=CACHE_NAMESPACE)


def _walk(wanted: set[int]) -> dict[int, int | None]:
    """Without a tenant (no cache key): the ancestors of `wanted`, one query per tree level."""
    parents: dict[int, int | None] = {}
    frontier = set(wanted)
    while frontier:
        rows = db.session.execute(
            select(Category.id, Category.parent_id).where(Category.id.in_(frontier))
        ).all()
        for row in rows:
            parents[row.id] = row.parent_id
        frontier = {
            r.parent_id for r in rows if r.parent_id is not None and r.parent_id not in parents
        }
    return parents


def _tree(wanted: set[int]) -> dict[int, int | None]:
    tenant_id = current_tenant_id()
    if tenant_id is None:
        return _walk(wanted)

    def load(session) -> bytes:
        return json.dumps(
            {
                row.id: row.parent_id
                for row in session.execute(select(Category.id, Category.parent_id))
            }
        ).encode()

    stored = cache.remember(*TREE_ENTRY, load, CACHE_TTL)
    return {int(k): v for k, v in json.loads(stored).items()}


def category_chains(category_ids: Iterable[int]) -> dict[int, list[int]]:
    """{category id: [itself, its parent, ..., the root]} for each id, from the tenant's cached tree
    (one query for the whole tree when the cache misses)."""
    wanted = {c for c in category_ids if c is not None}
    if not wanted:
        return {}
    parents = _tree(wanted)
    chains: dict[int, list[int]] = {}
    for cid in wanted:
        chain, node, seen = [], cid, set()
        while node is not None and node in parents and node not in seen:
            seen.add(node)
            chain.append(node)
            node = parents[node]
        chains[cid] = chain
    return chains
