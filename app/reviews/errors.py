"""The error codes of reviews."""

from __future__ import annotations

from app.core.errors import ErrorCode


class ReviewError(ErrorCode):
    ALREADY_REVIEWED = "already_reviewed", 409, "the customer has reviewed this product already"
    OWN_REVIEW = "own_review", 403, "no vote on one's own review"
    ALREADY_VOTED = "already_voted", 409, "the customer found this review helpful already"
