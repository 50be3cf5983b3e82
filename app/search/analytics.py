"""Search analytics, recorded asynchronously. A search: with RQ, one Redis call (log_buffer.py,
written in batches by the cron); otherwise an event (one outbox row, committed at once) whose
consumer writes the log row after commit (in-process in the embedded default). A click: an
event. A replayed event writes nothing twice (consume() and the unique source_event_id)."""

from __future__ import annotations

from sqlalchemy import select

from app.catalog.models import Product
from app.core.db import transaction
from app.core.errors import NotFound
from app.events.bus import publish
from app.extensions import db
from app.search import log_buffer
from app.search.models import SearchClick, SearchQueryLog
from app.search.types import tokens


def _filters_of(filters) -> dict:
    out = {}
    for name in (
        "category",
        "brand",
        "seller",
        "min_price",
        "max_price",
        "attrs",
        "in_stock",
        "min_rating",
    ):
        value = getattr(filters, name, None)
        if value not in (None, [], {}):
            out[name] = str(value) if name in ("min_price", "max_price", "min_rating") else value
    return out


def record_search(
    q: str,
    *,
    endpoint: str,
    total: int,
    filters=None,
    sort: str | None = None,
    user_id: int | None = None,
) -> None:
    """One search in the search analytics: buffered in Redis where RQ runs the cron that writes
    it (log_buffer: one round trip), else through the outbox (a `search.performed` event)."""
    entry = {
        "query": (q or "")[:200],
        "endpoint": endpoint,
        "result_count": int(total),
        "filters": _filters_of(filters),
        "sort": sort,
        "user_id": user_id,
    }
    if log_buffer.enabled() and log_buffer.append(entry):
        return
    with transaction():
        publish("search.performed", entry, aggregate="search")


def record_click(*, query: str, product_id: int, position: int | None, user_id: int | None) -> None:
    """A shopper opened a search result. The product must be an active one of this storefront."""
    with transaction():
        found = db.session.scalar(
            select(Product.id).where(Product.id == product_id, Product.status == "active")
        )
        if found is None:
            raise NotFound("no such product")
        publish(
            "search.clicked",
            {
                "query": query[:200],
                "product_id": product_id,
                "position": position,
                "user_id": user_id,
            },
            aggregate="product",
            aggregate_id=product_id,
        )


# --- consumers ---------------------------------------------------------------------------------


def _normalized(query: str) -> str:
    """A query's lower-case words: what searches and clicks meet on (the BI views group by it)."""
    return " ".join(tokens(query or ""))[:200]


def on_search_performed(event) -> None:
    p = event.payload
    db.session.add(
        SearchQueryLog(
            query=p.get("query") or "",
            normalized=_normalized(p.get("query")),
            endpoint=p.get("endpoint") or "",
            result_count=int(p.get("result_count") or 0),
            filters=p.get("filters") or {},
            sort=p.get("sort"),
            user_id=p.get("user_id"),
            source_event_id=event.id,
            created_at=event.created_at,
        )
    )


def on_search_clicked(event) -> None:
    p = event.payload
    db.session.add(
        SearchClick(
            query=p.get("query") or "",
            normalized=_normalized(p.get("query")),
            product_id=int(p["product_id"]),
            position=p.get("position"),
            user_id=p.get("user_id"),
            source_event_id=event.id,
            created_at=event.created_at,
        )
    )
