"""Search analytics: every storefront search (query, result count, zero results) and every click
on a search result, written asynchronously by the `search.performed` / `search.clicked` event
consumers (jobs/subscribers.py, queue "low").

For BI, migration 0010 adds two views over these tables (what Superset's read-only user reads):
analytics_search_terms_daily (tenant_id, day, term, searches, zero_result_searches,
avg_result_count, clicks) and analytics_search_product_clicks_daily (tenant_id, day, product_id,
clicks, avg_position)."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.types import UTCDateTime, utcnow
from app.tenants.models import TenantScoped

_ID = BigInteger().with_variant(Integer, "sqlite")


class SearchQueryLog(TenantScoped, Model):
    __tablename__ = "search_queries"
    __table_args__ = (
        UniqueConstraint("source_event_id", name="uq_search_queries_source_event"),
        Index("ix_search_queries_tenant_created", "tenant_id", "created_at"),
        Index("ix_search_queries_tenant_zero", "tenant_id", "result_count", "created_at"),
        Index("ix_search_queries_tenant_normalized", "tenant_id", "normalized"),
    )
    __audit__ = False  # itself a log

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    query: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    normalized: Mapped[str] = mapped_column(
        String(200), nullable=False, default=""
    )  # lower-case words
    endpoint: Mapped[str] = mapped_column(String(32), nullable=False)
    result_count: Mapped[int] = mapped_column(Integer, nullable=False)
    filters: Mapped[dict] = mapped_column(JSON, default=dict, nullable=False)
    sort: Mapped[str | None] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    source_event_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    @property
    def zero_results(self) -> bool:
        return self.result_count == 0

    def __repr__(self) -> str:
        return self.query


class SearchClick(TenantScoped, Model):
    __tablename__ = "search_clicks"
    __table_args__ = (
        UniqueConstraint("source_event_id", name="uq_search_clicks_source_event"),
        Index("ix_search_clicks_tenant_created", "tenant_id", "created_at"),
        Index("ix_search_clicks_tenant_product", "tenant_id", "product_id"),
    )
    __audit__ = False

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    query: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    # the query's lower-case words, as SearchQueryLog.normalized: clicks and searches meet on it
    normalized: Mapped[str] = mapped_column(
        String(200), nullable=False, default="", server_default=""
    )
    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), nullable=False
    )
    position: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    source_event_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    def __repr__(self) -> str:
        return f"{self.query} -> {self.product_id}"
