"""The marshmallow fields the API's schemas share, each written once: money and decimals, ids,
country, region and phone codes, and the postal address.

Money goes out as a string with 2 decimals, rounded half-up, and is documented as such (a plain
`fields.Decimal(as_string=True)` is documented as a number). A decimal comes in as a JSON number
or a numeric string, its bounds checked by a plain validator and documented as numbers (apispec
renders the bounds of a `Range` of Decimals as strings).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP

from marshmallow import Schema, ValidationError, fields, validate

MAX_ID = 2**31 - 1  # ids are INT columns
MAX_MONEY = 9_999_999_999.99  # a float: OpenAPI bounds must be numbers (Decimal compares fine)

COUNTRY = validate.Regexp(r"^[A-Z]{2}$", error="an ISO 3166-1 alpha-2 code such as GB")
REGION = validate.Regexp(
    r"^[A-Z0-9]{1,3}$", error="a region code such as CA (the part after the dash of ISO 3166-2)"
)
PHONE = validate.Regexp(
    r"^\+?[0-9 ()./-]{5,31}$", error="a phone number: digits, spaces and + ( ) . / -"
)


def money(**kwargs) -> fields.Decimal:
    """Money out: a string with 2 decimals ("19.90"), rounded half-up, documented as such."""
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


def rate(**kwargs) -> fields.Decimal:
    """A rate out (a tax rate): a string with 4 decimals ("0.2000")."""
    return fields.Decimal(
        places=4, as_string=True, metadata={"type": "string", "example": "0.2000"}, **kwargs
    )


def decimal_in(low, high, *, places: int | None = 2, **kwargs) -> fields.Decimal:
    """A decimal in (a JSON number or a numeric string) between `low` and `high`, rounded
    half-up to `places` (None: as given)."""

    def check(value):
        if not low <= value <= high:
            raise ValidationError(f"must be between {low} and {high}")

    metadata = {"minimum": low, "maximum": high, **kwargs.pop("metadata", {})}
    return fields.Decimal(
        places=places, rounding=ROUND_HALF_UP, validate=check, metadata=metadata, **kwargs
    )


def an_id(*, strict: bool = True, **kwargs) -> fields.Integer:
    """An id in: 1 to MAX_ID. Strict (an integer, not "5") in a body; a query string's ids are
    text, so its fields pass strict=False."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def country(**kwargs) -> fields.String:
    """An ISO 3166-1 alpha-2 country code."""
    return fields.String(validate=COUNTRY, **kwargs)


def phone(**kwargs) -> fields.String:
    return fields.String(validate=PHONE, **kwargs)


class AddressSchema(Schema):
    """A postal address (an order's, a customer's saved ones add their own fields)."""

    full_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    company = fields.String(allow_none=True, validate=validate.Length(max=200))
    line1 = fields.String(required=True, validate=validate.Length(min=1, max=200))
    line2 = fields.String(allow_none=True, validate=validate.Length(max=200))
    city = fields.String(required=True, validate=validate.Length(min=1, max=100))
    region = fields.String(allow_none=True, validate=validate.Length(max=100))
    postal_code = fields.String(required=True, validate=validate.Length(min=1, max=20))
    country = country(required=True)
    phone = phone(allow_none=True)
