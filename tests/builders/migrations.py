"""Rows for the migration tests, written as an old database could hold them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def old_rows(engine) -> Iterator:
    """A connection (committed at the end) for rows that name ids their tables' parents do not
    have: only the ids a migration reads. A SQLite file written before the app enforced foreign
    keys (app/core/db.py) may hold such rows, and the migrations run without enforcement
    (migrations/env.py); the connection turns it back on before it returns to the pool."""
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.commit()
        try:
            yield conn
            conn.commit()
        finally:
            conn.rollback()
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()
