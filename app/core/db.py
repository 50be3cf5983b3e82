"""Transaction helper: one place owns commit and rollback for a use case."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.extensions import db

P = ParamSpec("P")
R = TypeVar("R")


def _sqlite_connection_rules(dbapi_connection, _record) -> None:
    """SQLite (the embedded default) enforces FOREIGN KEY clauses, ON DELETE CASCADE and SET NULL
    only on connections that ask for it: without this, deleting a product left its variants' stock
    rows behind (and SQLite reuses ids, so they later pointed at another shop's variant), where
    MariaDB removes them. Every connection asks, as MariaDB always does. Migrations turn it off for
    their own connection (migrations/env.py): a batch migration recreates a table by dropping it,
    which would cascade into its children."""
    if type(dbapi_connection).__module__ == "sqlite3":
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def install_sqlite_rules() -> None:
    """Once per process (create_app() calls it; a second app finds it installed)."""
    if not event.contains(Engine, "connect", _sqlite_connection_rules):
        event.listen(Engine, "connect", _sqlite_connection_rules)


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


def is_deadlock(exc: BaseException) -> bool:
    """MySQL/MariaDB's deadlock (1213) or lock wait timeout (1205): the transaction was rolled
    back and may simply be run again."""
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "args", [None])[0] if orig is not None else None
    return isinstance(exc, OperationalError) and code in (1213, 1205)


# MySQL/MariaDB client and server errors that mean "no usable connection right now", not a bad
# statement: can't connect (2002, 2003), server gone or connection lost (2006, 2013, 2055), too
# many connections (1040, 1203), server shutting down (1053), connection killed (1927, 4031)
UNAVAILABLE_CODES = frozenset({2002, 2003, 2006, 2013, 2055, 1040, 1203, 1053, 1927, 4031})


def is_database_unavailable(exc: BaseException) -> bool:
    """The database could not serve the request for a moment: the pool had no connection free within
    its timeout, or the server is down, restarting, full of connections or dropped ours. The caller
    answers 503 with Retry-After (the pool reconnects by itself: pool_pre_ping). A bad statement,
    a constraint or a deadlock is not this."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    code = getattr(orig, "args", [None])[0] if orig is not None else None
    return isinstance(code, int) and code in UNAVAILABLE_CODES


def retry_on_deadlock(attempts: int = 5) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator for a service function that owns its transaction: when MariaDB picks it as a
    deadlock victim (e.g. two requests that both lost a duplicate-key race and then lock the
    winner's row), run it again from the start, up to `attempts` times. Inside an outer
    transaction it does not retry (the outer one must)."""

    def decorator(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            for attempt in range(attempts):
                try:
                    return fn(*args, **kwargs)
                except OperationalError as exc:
                    if (
                        not is_deadlock(exc)
                        or attempt == attempts - 1
                        or db.session.info.get("_in_transaction")
                    ):
                        raise
                    db.session.rollback()
                    time.sleep(0.01 * (attempt + 1))
            raise AssertionError("unreachable")

        return wrapper

    return decorator
