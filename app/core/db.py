"""Transaction helper: one place owns commit and rollback for a use case."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from app.extensions import db

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def transaction() -> Iterator[None]:
    """Commit on success, roll back on any error. Nested use joins the outer transaction."""
    session = db.session
    if session.info.get("_in_transaction"):
        yield
        return
    session.info["_in_transaction"] = True
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop("_in_transaction", None)


def transactional(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of transaction() for service functions."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with transaction():
            return fn(*args, **kwargs)

    return wrapper
