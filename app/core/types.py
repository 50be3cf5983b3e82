"""Column types and mixins every domain shares: UTC time, money, timestamps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from sqlalchemy import DateTime, Numeric, TypeDecorator
from sqlalchemy.orm import Mapped, mapped_column

MONEY = Numeric(12, 2)
RATE = Numeric(6, 4)  # 0.1250 = 12.5 %
CENT = Decimal("0.01")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# the currency a pricing run rounds in (app.pricing.engine sets it around a basket), so that
# quantize_money() in tax, promotions and shipping rounds JPY to yen without passing it everywhere
_rounding_currency: ContextVar[str | None] = ContextVar("rounding_currency", default=None)


@lru_cache(maxsize=512)
def currency_exponent(currency: str) -> int:
    """The ISO 4217 minor unit of a currency from CLDR (babel): USD 2, JPY 0, KWD and BHD 3;
    2 for a code CLDR does not know."""
    from babel.numbers import get_currency_precision

    return int(get_currency_precision(currency.upper()))


def money_places(currency: str | None) -> int:
    """The decimal places amounts of `currency` are kept with: its exponent, at most 2 (MONEY
    columns keep 2). A 3-decimal currency (KWD, BHD, ...) is carried in hundredths, i.e. in
    multiples of 10 of its minor unit, which is also what Stripe accepts for those currencies."""
    return 2 if currency is None else min(currency_exponent(currency), 2)


def money_unit(currency: str | None = None) -> Decimal:
    """The smallest amount of `currency` (default: the current rounding currency, else a cent)."""
    return Decimal(1).scaleb(-money_places(currency or _rounding_currency.get()))


def quantize_money(value: Decimal | int | str, currency: str | None = None) -> Decimal:
    """Round a money amount half-up to its currency's unit (cents; whole yen for JPY): the rule
    used at every order line. Without `currency`, the one `rounding_currency()` set, else cents."""
    return Decimal(value).quantize(money_unit(currency), rounding=ROUND_HALF_UP)


@contextmanager
def rounding_currency(currency: str | None) -> Iterator[None]:
    """quantize_money() rounds in `currency` inside the block."""
    token = _rounding_currency.set(currency.upper() if currency else None)
    try:
        yield
    finally:
        _rounding_currency.reset(token)


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
