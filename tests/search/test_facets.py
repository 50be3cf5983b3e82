"""Facet parsing shared by every backend (app/search/facets.py): the cap on values per attribute."""

from __future__ import annotations

from app.search import facets
from app.search.types import SearchRequest, facet_key


def test_each_attribute_lists_its_most_common_values_by_value():
    buckets = [{"key": facet_key("colour", "Colour", "", f"c{n:02d}"), "doc_count": 100 - n} for n in range(45)]
    buckets.append({"key": facet_key("colour", "Colour", "", "zz-tie"), "doc_count": 100 - 29})  # ties with c29
    buckets.append({"key": facet_key("size", "Size", "cm", "10"), "doc_count": 1})
    buckets.reverse()  # the engine's order must not matter
    parsed = facets.parse({"attributes": {"buckets": buckets}}, SearchRequest(tenant_id=1))
    colour, size = parsed["attributes"]
    assert len(colour["values"]) == facets.ATTRIBUTE_VALUES == 30
    assert colour["values"] == [{"value": f"c{n:02d}", "count": 100 - n} for n in range(30)]  # c29 wins the tie
    assert size == {"code": "size", "name": "Size", "unit": "cm", "param": "attr_size",
                    "values": [{"value": "10", "count": 1}]}
    wanted = facets.parse({"attributes": {"buckets": buckets}}, SearchRequest(tenant_id=1, facet_attributes=["SIZE"]))
    assert [a["code"] for a in wanted["attributes"]] == ["size"]
