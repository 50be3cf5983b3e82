"""Facet counts, one shape for every backend.

Both engines take Elasticsearch-shaped aggregation requests and answer Elasticsearch-shaped
buckets (`key`, `doc_count`; range buckets with `from`/`to`), so the request is built and the
answer parsed here once. Facet keys carry what the storefront shows ("id<SEP>slug<SEP>name"),
so counting needs no database round trip.

Attributes list at most ATTRIBUTE_VALUES values each, those with the most products.

Counts are over the current query and filters (what the shopper would get by adding that
value). Brands and categories count each product once (a product has at most one of each), so
their counts add up to the total less the products without one; price ranges add up to the
products that have a price.
"""

from __future__ import annotations

import heapq
import json
from decimal import Decimal
from operator import itemgetter

from app.search.types import PRICE_EDGES, SEP, SearchRequest, split_key

TERMS_SIZE = {"brands": 100, "categories": 200, "attributes": 1000}
# values shown per attribute: those with the most products (ties: by value), then listed by value;
# a storefront shows a handful per attribute, and hundreds (colours of 100,000 products) made up
# most of a faceted search's time and body
ATTRIBUTE_VALUES = 30


def price_ranges() -> list[dict]:
    edges = [None, *PRICE_EDGES, None]
    ranges = []
    for low, high in zip(edges, edges[1:], strict=False):
        item = {}
        if low is not None:
            item["from"] = float(low)
        if high is not None:
            item["to"] = float(high)
        ranges.append(item)
    return ranges


def aggregations(terms_field: dict[str, str]) -> dict:
    aggs = {
        name: {"terms": {"field": field, "size": TERMS_SIZE[name]}}
        for name, field in terms_field.items()
    }
    aggs["prices"] = {"range": {"field": "price", "ranges": price_ranges()}}
    aggs["price_min"] = {"min": {"field": "price"}}
    aggs["price_max"] = {"max": {"field": "price"}}
    return aggs


def _money(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def _buckets(raw: dict, name: str) -> list[dict]:
    return (raw.get(name) or {}).get("buckets") or []


def parse(raw: dict, req: SearchRequest) -> dict:
    brands, categories = [], []
    for target, name in ((brands, "brands"), (categories, "categories")):
        for bucket in _buckets(raw, name):
            parts = split_key(bucket["key"])
            if len(parts) >= 3 and bucket["doc_count"]:
                target.append(
                    {
                        "id": int(parts[0]),
                        "slug": parts[1],
                        "name": parts[2],
                        "count": bucket["doc_count"],
                    }
                )
        target.sort(key=lambda b: (-b["count"], b["name"], b["id"]))
    # per attribute (code): (-count, value) pairs, so the most common come first, ties by value,
    # whatever order a backend answers its buckets in
    values_of: dict[str, list[tuple[int, str]]] = {}
    header: dict[str, list[str]] = {}
    wanted = None if req.facet_attributes is None else {c.lower() for c in req.facet_attributes}
    for bucket in _buckets(raw, "attributes"):
        count = bucket["doc_count"]
        parts = bucket["key"].split(SEP)
        if len(parts) < 4 or not count:
            continue
        values = values_of.get(parts[0])
        if values is None:
            if wanted is not None and parts[0].lower() not in wanted:
                continue
            values = values_of[parts[0]] = []
            header[parts[0]] = parts
        values.append((-count, parts[3]))
    attributes = []
    for code in sorted(values_of):
        values = values_of[code]
        if len(values) > ATTRIBUTE_VALUES:
            values = heapq.nsmallest(ATTRIBUTE_VALUES, values)
        values.sort(key=itemgetter(1))
        name, unit = header[code][1], header[code][2] or None
        attributes.append(
            {
                "code": code,
                "name": name,
                "unit": unit,
                "param": f"attr_{code}",
                "values": [{"value": value, "count": -negative} for negative, value in values],
            }
        )
    ranges = []
    for bucket in _buckets(raw, "prices"):
        if bucket.get("doc_count"):
            ranges.append(
                {
                    "min": _money(bucket.get("from", 0)),
                    "max": _money(bucket.get("to")),
                    "count": bucket["doc_count"],
                }
            )
    ranges.sort(key=lambda r: r["min"])
    return {
        "brands": brands,
        "categories": categories,
        "price": {
            "min": _money((raw.get("price_min") or {}).get("value")),
            "max": _money((raw.get("price_max") or {}).get("value")),
            "ranges": ranges,
        },
        "attributes": attributes,
    }


def dumps(facets: dict) -> bytes:
    """parse()'s answer as JSON bytes (for a cache); loads() restores its Decimals."""
    return json.dumps(facets, default=str, separators=(",", ":")).encode()


def loads(data: bytes) -> dict:
    facets = json.loads(data)
    price = facets["price"]
    price["min"], price["max"] = _decimal(price["min"]), _decimal(price["max"])
    for bucket in price["ranges"]:
        bucket["min"], bucket["max"] = _decimal(bucket["min"]), _decimal(bucket["max"])
    return facets


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)
