"""What the review use cases take (built by the faces from what they validated)."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.inputs import UNSET, Changes, Unset


@dataclass(frozen=True)
class NewReview:
    product_id: int
    rating: int
    title: str
    body: str | None = None


@dataclass(frozen=True)
class ReviewChanges(Changes):
    """The author's rating, title and body; a moderator's status. UNSET: keep it."""

    rating: int | Unset = UNSET
    title: str | Unset = UNSET
    body: str | None | Unset = UNSET
    status: str | Unset = UNSET
