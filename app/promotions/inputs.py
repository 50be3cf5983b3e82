"""What the promotion use cases take (built by the faces from what they validated)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from app.core.inputs import UNSET, Changes, Unset


@dataclass(frozen=True)
class NewPromotion(Changes):
    """A promotion's fields; what is UNSET takes the column's default (who funds it and whose it
    is come from the caller, not from here)."""

    name: str
    kind: str
    description: str | None | Unset = UNSET
    value: Decimal | Unset = UNSET
    buy_quantity: int | None | Unset = UNSET
    get_quantity: int | None | Unset = UNSET
    code: str | None | Unset = UNSET
    min_subtotal: Decimal | None | Unset = UNSET
    product_ids: list[int] | Unset = UNSET
    category_ids: list[int] | Unset = UNSET
    seller_ids: list[int] | Unset = UNSET
    customer_role: str | None | Unset = UNSET
    first_order_only: bool | Unset = UNSET
    starts_at: dt.datetime | None | Unset = UNSET
    ends_at: dt.datetime | None | Unset = UNSET
    usage_limit: int | None | Unset = UNSET
    usage_limit_per_customer: int | None | Unset = UNSET
    stackable: bool | Unset = UNSET
    priority: int | Unset = UNSET
    is_active: bool | Unset = UNSET
