"""Schemas the shipping and promotions APIs share: money out, a basket line in, a destination."""

from __future__ import annotations

from decimal import ROUND_HALF_UP

from marshmallow import Schema, ValidationError, fields, post_load, validate

from app.pricing.inputs import BasketItem
from app.pricing_contract import Destination

MAX_ID = 2**31 - 1
MAX_MONEY = 9_999_999_999.99
MAX_LINES = 100
COUNTRY = validate.Regexp(r"^[A-Z]{2}$", error="an ISO 3166-1 alpha-2 code such as FR")
REGION = validate.Regexp(
    r"^[A-Z0-9]{1,3}$", error="a region code such as CA (the part after the dash of ISO 3166-2)"
)


def money(**kwargs) -> fields.Decimal:
    """Money out: a string with 2 decimals ("19.90")."""
    metadata = {
        "type": "string",
        "format": "decimal",
        "example": "19.90",
        **kwargs.pop("metadata", {}),
    }
    return fields.Decimal(
        places=2, rounding=ROUND_HALF_UP, as_string=True, metadata=metadata, **kwargs
    )


def decimal_out(**kwargs) -> fields.Decimal:
    """A non-money decimal out (kg, percent): a string, documented as such."""
    metadata = {"type": "string", "format": "decimal", **kwargs.pop("metadata", {})}
    return fields.Decimal(as_string=True, metadata=metadata, **kwargs)


def decimal_in(low, high, *, places: int | None = 2, **kwargs) -> fields.Decimal:
    def check(value):
        if not low <= value <= high:
            raise ValidationError(f"must be between {low} and {high}")

    metadata = {"minimum": low, "maximum": high, **kwargs.pop("metadata", {})}
    return fields.Decimal(
        places=places, rounding=ROUND_HALF_UP, validate=check, metadata=metadata, **kwargs
    )


def an_id(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class LineInSchema(Schema):
    variant_id = an_id(required=True)
    quantity = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=10_000)
    )

    @post_load
    def _item(self, data, **kwargs) -> BasketItem:
        return BasketItem(**data)


class DestinationSchema(Schema):
    country = fields.String(required=True, validate=COUNTRY)
    region = fields.String(allow_none=True, validate=REGION)
    postal_code = fields.String(allow_none=True, validate=validate.Length(max=20))

    @post_load
    def _destination(self, data, **kwargs) -> Destination:
        return Destination(**data)


def lines_field() -> fields.List:
    return fields.List(
        fields.Nested(LineInSchema), required=True, validate=validate.Length(min=1, max=MAX_LINES)
    )
