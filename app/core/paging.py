"""One page of a list: what a service returns for a paginated read; the faces shape it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import func, select

from app.extensions import db

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """`items` of page `page` (from 1) of `page_size`, out of `total` in all."""

    items: Sequence[T]
    total: int
    page: int
    page_size: int


def paginate(stmt, page: int, page_size: int) -> Page:
    """One page of an ORM select and the count of all its rows (tenant filtering applies)."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = db.session.scalars(stmt.limit(page_size).offset((page - 1) * page_size)).unique().all()
    return Page(items=list(items), total=total or 0, page=page, page_size=page_size)
