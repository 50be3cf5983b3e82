"""Slugs: a URL-safe name made from a title, and one not yet used in the current tenant (catalog's
products, categories and brands, sellers' stores)."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select

from app.extensions import db


def slugify(text: str, max_length: int = 200) -> str:
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:max_length].strip("-") or "item"


def unique_slug(model, base: str, exclude_id: int | None = None) -> str:
    """A slug not yet used in this tenant (the ORM hook limits the check to the current tenant)."""
    slug = slugify(base)
    candidate, n = slug, 1
    while True:
        query = select(model.id).where(model.slug == candidate)
        if exclude_id is not None:
            query = query.where(model.id != exclude_id)
        with db.session.no_autoflush:
            if db.session.scalar(query) is None:
                return candidate
        n += 1
        candidate = f"{slug}-{n}"
