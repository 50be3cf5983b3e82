"""The ancestors of categories: tax overrides and promotion conditions name a category and mean it
and its descendants, so a line matches when its category's chain contains the named one."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from app.catalog.models import Category
from app.extensions import db


def category_chains(category_ids: Iterable[int]) -> dict[int, list[int]]:
    """{category id: [itself, its parent, ..., the root]} for each id, a few queries per tree level."""
    wanted = {c for c in category_ids if c is not None}
    parents: dict[int, int | None] = {}
    frontier = set(wanted)
    while frontier:
        rows = db.session.execute(select(Category.id, Category.parent_id).where(Category.id.in_(frontier))).all()
        for row in rows:
            parents[row.id] = row.parent_id
        frontier = {r.parent_id for r in rows if r.parent_id is not None and r.parent_id not in parents}
    chains: dict[int, list[int]] = {}
    for cid in wanted:
        chain, node, seen = [], cid, set()
        while node is not None and node in parents and node not in seen:
            seen.add(node)
            chain.append(node)
            node = parents[node]
        chains[cid] = chain
    return chains
