"""Column types and mixins every domain shares: UTC time, money, timestamps."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import DateTime, Numeric, TypeDecorator
from sqlalchemy.orm import Mapped, mapped_column

MONEY = Numeric(12, 2)
RATE = Numeric(6, 4)  # 0.1250 = 12.5 %
CENT = Decimal("0.01")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def quantize_money(value: Decimal | int | str) -> Decimal:
    """Round a money amount to cents, half-up (the rule used at every order line)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend.

    MySQL/MariaDB DATETIME and SQLite keep no offset, so values are stored as naive UTC and
    handed back as aware UTC. Naive input is refused: it is a bug to guess its zone.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC (app.core.types.utcnow)")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )
