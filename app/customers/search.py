"""How staff find a customer: by e-mail (from its start, the index serves a prefix) or by name
(every word typed found in the first or last name, anywhere in it). Used by the admin's customers
list and the navbar's search (app.lookup)."""

from __future__ import annotations

from sqlalchemy import and_, or_

from app.security.models import User


def name_or_email_matches(q: str):
    """A condition on User (join it): its e-mail starts with `q`, or each word of `q` is in its
    first or last name. `q` is matched literally (%, _ and \\ are no wildcards)."""
    q = " ".join(q.split())
    by_name = [
        or_(
            User.first_name.contains(word, autoescape=True),
            User.last_name.contains(word, autoescape=True),
        )
        for word in q.split()
    ]
    return or_(User.email.startswith(q, autoescape=True), and_(*by_name))
