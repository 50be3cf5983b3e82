"""Schemas the shipping and promotions APIs share: a basket line in, a destination."""

from __future__ import annotations

from marshmallow import Schema, fields, post_load, validate

from app.pricing.inputs import BasketItem
from app.pricing_contract import Destination
from storefront_api.fields import REGION, an_id, country

MAX_LINES = 100


class LineInSchema(Schema):
    variant_id = an_id(required=True)
    quantity = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=10_000)
    )

    @post_load
    def _item(self, data, **kwargs) -> BasketItem:
        return BasketItem(**data)


class DestinationSchema(Schema):
    country = country(required=True)
    region = fields.String(allow_none=True, validate=REGION)
    postal_code = fields.String(allow_none=True, validate=validate.Length(max=20))

    @post_load
    def _destination(self, data, **kwargs) -> Destination:
        return Destination(**data)


def lines_field() -> fields.List:
    return fields.List(
        fields.Nested(LineInSchema), required=True, validate=validate.Length(min=1, max=MAX_LINES)
    )
