"""Facet parsing shared by every backend (app/search/facets.py): the cap on values per attribute."""

from __future__ import annotations

from app.search import facets
from app.search.types import SearchRequest, facet_key


def test_each_attribute_lists_its_most_common_values_by_value():
    buckets = [
        {"key": facet_key("colour", "Colour", "", f"c{n:02d}"), "doc_count": 100 - n}
        for n in range(45)
    ]
    buckets.append(
        {"key": facet_key("colour", "Colour", "", "zz-tie"), "doc_count": 100 - 29}
    )  # ties with c29
    buckets.append({"key": facet_key("size", "Size", "cm", "10"), "doc_count": 1})
    buckets.reverse()  # the engine's order must not matter
    parsed = facets.parse({"attributes": {"buckets": buckets}}, SearchRequest(tenant_id=1))
    colour, size = parsed["attributes"]
    assert len(colour["values"]) == facets.ATTRIBUTE_VALUES == 30
    assert colour["values"] == [
        {"value": f"c{n:02d}", "count": 100 - n} for n in range(30)
    ]  # c29 wins the tie
    assert size == {
        "code": "size",
        "name": "Size",
        "unit": "cm",
        "param": "attr_size",
        "values": [{"value": "10", "count": 1}],
    }
    wanted = facets.parse(
        {"attributes": {"buckets": buckets}}, SearchRequest(tenant_id=1, facet_attributes=["SIZE"])
    )
    assert [a["code"] for a in wanted["attributes"]] == ["size"]


def test_parsed_facets_survive_the_cache_round_trip_unchanged():
    from decimal import Decimal

    raw = {
        "brands": {"buckets": [{"key": facet_key(3, "acme", "Acme"), "doc_count": 2}]},
        "prices": {
            "buckets": [
                {"key": "*-25.0", "to": 25.0, "doc_count": 4},
                {"key": "1000.0-*", "from": 1000.0, "doc_count": 1},
            ]
        },
        "price_min": {"value": 5.0},
        "price_max": {"value": 1200.5},
        "attributes": {
            "buckets": [{"key": facet_key("colour", "Colour", "", "Red"), "doc_count": 2}]
        },
    }
    parsed = facets.parse(raw, SearchRequest(tenant_id=1))
    assert (
        parsed["price"]["max"] == Decimal("1200.50") and parsed["price"]["ranges"][1]["max"] is None
    )
    assert facets.loads(facets.dumps(parsed)) == parsed
    empty = facets.parse({}, SearchRequest(tenant_id=1))
    assert facets.loads(facets.dumps(empty)) == empty
