"""The ORM half of "no UPDATE or DELETE on the ledger, ever" (migration 0020's triggers are the
database's half): app/hooks.py installs both listeners. A change to a loaded entry or release, a
session.delete() of one, or an ORM bulk UPDATE/DELETE of their tables is refused before anything
reaches the database."""

from __future__ import annotations

from sqlalchemy.orm import ORMExecuteState, Session

from app.core.errors import Conflict
from app.payouts.errors import LedgerError
from app.payouts.models import SellerLedgerEntry, SellerLedgerRelease

APPEND_ONLY = (SellerLedgerEntry, SellerLedgerRelease)


def _refuse(what: str) -> None:
    raise Conflict(
        f"the seller ledger is append-only: {what} refused; correct it with an adjustment",
        code=LedgerError.LEDGER_APPEND_ONLY,
    )


def refuse_changes(session: Session, flush_context, instances) -> None:
    """before_flush: no dirty (really modified) or deleted ledger row."""
    for obj in session.deleted:
        if isinstance(obj, APPEND_ONLY):
            _refuse(f"deleting {type(obj).__tablename__} row {obj.id}")
    for obj in session.dirty:
        if isinstance(obj, APPEND_ONLY) and session.is_modified(obj, include_collections=False):
            _refuse(f"changing {type(obj).__tablename__} row {obj.id}")


def refuse_bulk_writes(state: ORMExecuteState) -> None:
    """do_orm_execute: no ORM UPDATE or DELETE statement on a ledger table."""
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.class_ in APPEND_ONLY:
        _refuse(("UPDATE" if state.is_update else "DELETE") + f" of {mapper.local_table.name}")
