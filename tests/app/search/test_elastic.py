"""The Elasticsearch backend without an Elasticsearch server (none can run here): the real
`elasticsearch` client talks to a small local HTTP server started by the test, which records each
request (method, path, JSON or NDJSON body) and answers with bodies shaped like Elasticsearch 8's
documented responses, with the `X-Elastic-Product: Elasticsearch` header the client checks.
This is the one remote service faked in this suite; the contract suite (test_contract.py) runs
against a live server whenever ELASTICSEARCH_URL is set.

The tests pin the exact template, mappings, query bodies, bulk lines and alias actions sent for
each contract case, and the parsing of the answers into the service's result types."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.search.elastic import MAPPINGS, ElasticBackend
from app.search.types import SearchRequest

ALIAS = "t-products"


class FakeElasticsearch:
    def __init__(self):
        self.requests: list[dict] = []
        self.aliases: dict[str, list[str]] = {}
        self.search_answers: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict | None):
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("X-Elastic-Product", "Elasticsearch")
                self.send_header(
                    "Content-Type", "application/vnd.elasticsearch+json;compatible-with=8"
                )
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _handle(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if self.path.split("?")[0].endswith("/_bulk"):
                    body = [json.loads(line) for line in raw.splitlines() if line.strip()]
                else:
                    body = json.loads(raw) if raw else None
                fake.requests.append({"method": self.command, "path": self.path, "body": body})
                status, answer = fake.route(self.command, self.path.split("?")[0], body)
                self._answer(status, answer)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def route(self, method: str, path: str, body):
        ack = {"acknowledged": True}
        if path.startswith("/_index_template/"):
            return 200, ack
        if path.startswith("/_alias/"):
            name = path.split("/")[2]
            owners = [i for i, names in self.aliases.items() if name in names]
            if not owners:
                return 404, {"error": "alias [%s] missing" % name, "status": 404}
            return 200, {i: {"aliases": {name: {}}} for i in owners}
        if path.endswith("-*/_alias"):  # every index of a pattern, with its aliases
            prefix = path[1 : -len("*/_alias")]
            return 200, {
                i: {"aliases": {a: {} for a in names}}
                for i, names in self.aliases.items()
                if i.startswith(prefix)
            }
        if path == "/_aliases":
            for action in body["actions"]:
                ((kind, spec),) = action.items()
                names = self.aliases.setdefault(spec["index"], [])
                if kind == "add":
                    names.append(spec["alias"])
                elif spec["alias"] in names:
                    names.remove(spec["alias"])
            return 200, ack
        if path.endswith("/_bulk"):
            items = []
            for line in body:
                ((kind, meta),) = (
                    line.items()
                    if len(line) == 1 and next(iter(line)) in ("index", "delete")
                    else ((None, None),)
                )
                if kind:
                    items.append(
                        {
                            kind: {
                                "_index": "x",
                                "_id": meta["_id"],
                                "status": 200,
                                "result": "updated",
                            }
                        }
                    )
            return 200, {"took": 3, "errors": False, "items": items}
        if path.endswith("/_search"):
            return 200, self.search_answers.pop(0) if self.search_answers else _hits([])
        if path.endswith("/_refresh"):
            return 200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}
        if path.endswith("/_stats/docs,store,segments"):
            index = path.split("/")[1]
            return 200, {
                "indices": {
                    index: {
                        "primaries": {
                            "docs": {"count": 7},
                            "store": {"size_in_bytes": 4096},
                            "segments": {"count": 2},
                        }
                    }
                }
            }
        if method == "PUT" and path.count("/") == 1:
            index = path[1:]
            self.aliases[index] = list((body or {}).get("aliases", {}))
            return 200, {"acknowledged": True, "shards_acknowledged": True, "index": index}
        if method == "DELETE" and path.count("/") == 1:
            self.aliases.pop(path[1:], None)
            return 200, ack
        return 404, {"error": f"no route {method} {path}", "status": 404}

    def last(self, suffix: str) -> dict:
        return [r for r in self.requests if r["path"].split("?")[0].endswith(suffix)][-1]


def _hits(hits: list[dict], total: int | None = None, aggregations: dict | None = None) -> dict:
    body = {
        "took": 2,
        "timed_out": False,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {
            "total": {"value": len(hits) if total is None else total, "relation": "eq"},
            "max_score": None,
            "hits": hits,
        },
    }
    if aggregations is not None:
        body["aggregations"] = aggregations
    return body


@pytest.fixture
def es():
    fake = FakeElasticsearch()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def backend(es):
    return ElasticBackend(es.url, prefix="t-")


def _doc(pid: int = 1) -> dict:
    return {
        "id": pid,
        "tenant_id": 5,
        "title": "Red Cotton Shirt",
        "slug": "red-cotton-shirt",
        "description": "Soft",
        "brand": "Acme",
        "brand_id": 3,
        "brand_facet": "3\x1facme\x1fAcme",
        "category": "Clothing Shirts",
        "category_id": 9,
        "category_ids": [9, 8],
        "category_facet": "9\x1fshirts\x1fShirts",
        "seller_id": 2,
        "attributes": "Red",
        "attr_filter": ["colour=red"],
        "attr_facet": ["colour\x1fColour\x1f\x1fRed"],
        "price": 10.0,
        "in_stock": True,
        "featured": False,
        "rating": 4.5,
        "rating_count": 3,
        "rating_key": 450003.0,
        "sold_count": 10,
        "created_at": 1700000000,
        "rank": 5.9,
        "suggest": ["r", "re", "red"],
        "fingerprint": "abc",
    }


def test_template_mappings_index_and_alias(es, backend):
    backend.ensure()
    template = es.last("/_index_template/t-products")
    assert template["method"] == "PUT"
    assert template["body"] == {
        "index_patterns": ["t-products-*"],
        "template": {
            "settings": {
                "number_of_shards": 1,
                "refresh_interval": "1s",
                "max_result_window": 10000,
            },
            "mappings": MAPPINGS,
        },
    }
    props = template["body"]["template"]["mappings"]["properties"]
    assert template["body"]["template"]["mappings"]["dynamic"] == "strict"
    assert props["suggest"] == {"type": "search_as_you_type"}
    assert props["title"] == props["description"] == props["brand"] == {"type": "text"}
    assert all(
        props[f] == {"type": "keyword"}
        for f in ("brand_facet", "category_facet", "attr_facet", "attr_filter")
    )
    assert props["price"] == {"type": "double"} and props["in_stock"] == {"type": "boolean"}
    assert props["tenant_id"] == props["category_ids"] == {"type": "long"}
    created = [
        r for r in es.requests if r["method"] == "PUT" and r["path"].startswith("/t-products-")
    ][0]
    assert created["body"] == {"aliases": {"t-products": {}}}


def test_bulk_upserts_and_deletes_by_product_id(es, backend):
    assert backend.apply([_doc(1)], [7]) == 2
    bulk = es.last("/t-products/_bulk")
    assert bulk["method"] in ("POST", "PUT")
    source = {k: v for k, v in _doc(1).items() if k != "suggest"} | {
        "suggest": "Red Cotton Shirt Acme"
    }
    assert bulk["body"] == [{"index": {"_id": "1"}}, source, {"delete": {"_id": "7"}}]


def test_keyword_typo_filters_sort_query_body_and_parsing(es, backend):
    req = SearchRequest(
        tenant_id=5,
        q="Red shrit",
        category_id=8,
        brand_ids=[3, 4],
        seller_id=2,
        min_price=Decimal("10"),
        max_price=Decimal("50.5"),
        attrs={"colour": ["Red", "blue"]},
        in_stock=True,
        min_rating=Decimal("4"),
        featured=False,
        sort="price",
        page=2,
        page_size=10,
    )
    es.search_answers += [
        _hits([]),
        _hits(
            [
                {
                    "_index": "t-products-1",
                    "_id": "1",
                    "_score": None,
                    "_source": {"id": 1},
                    "sort": [10.0, 1],
                }
            ],
            total=11,
        ),
    ]
    result = backend.search(req)
    exact, sent = [
        r["body"] for r in es.requests if r["path"].split("?")[0].endswith("/t-products/_search")
    ]

    def word(w, fuzzy):
        should = [
            {"match": {"title": {"query": w, "boost": 3.0}}},
            {"match": {"brand": {"query": w, "boost": 2.0}}},
            {"match": {"category": {"query": w, "boost": 1.5}}},
            {"match": {"attributes": {"query": w, "boost": 1.2}}},
            {"match": {"description": {"query": w, "boost": 1.0}}},
        ]
        if fuzzy:
            should += [
                {"match": {f: {"query": w, "fuzziness": fuzzy, "boost": b}}}
                for f, b in (
                    ("title", 0.6),
                    ("brand", 0.5),
                    ("category", 0.3),
                    ("description", 0.2),
                )
            ]
        return {"bool": {"should": should, "minimum_should_match": 1}}

    # the words as typed found nothing, so the search is asked again with fuzziness
    assert exact["query"]["bool"]["must"] == [
        {"bool": {"must": [word("red", 0), word("shrit", 0)]}}
    ]
    assert {k: v for k, v in exact.items() if k != "query"} == {
        k: v for k, v in sent.items() if k != "query"
    }
    assert exact["query"]["bool"]["filter"] == sent["query"]["bool"]["filter"]
    assert sent == {
        "from": 10,
        "size": 10,
        "track_total_hits": True,
        "_source": ["id", "card"],
        "query": {
            "bool": {
                "must": [{"bool": {"must": [word("red", 0), word("shrit", 1)]}}],
                "filter": [
                    {"term": {"tenant_id": 5}},
                    {"term": {"category_ids": 8}},
                    {"terms": {"brand_id": [3, 4]}},
                    {"term": {"seller_id": 2}},
                    {"range": {"price": {"gte": 10.0, "lte": 50.5}}},
                    {"terms": {"attr_filter": ["colour=red", "colour=blue"]}},
                    {"term": {"in_stock": True}},
                    {"range": {"rating": {"gte": 4.0}}},
                    {"term": {"featured": False}},
                ],
            }
        },
        "sort": [{"price": {"order": "asc", "missing": "_last"}}, {"id": "desc"}],
    }
    assert result.ids == [1] and result.total == 11 and result.facets is None


def test_cards_are_stored_unindexed_and_read_from_source(es, backend):
    from app.search import documents, service

    assert MAPPINGS["properties"]["card"] == {"type": "object", "enabled": False}
    card = {
        "id": 1,
        "title": "Red Cotton Shirt",
        "slug": "red-cotton-shirt",
        "status": "active",
        "product_type": "physical",
        "is_featured": False,
        "price": "10.00",
        "compare_at_price": None,
        "currency": "USD",
        "image": None,
        "brand": {"id": 3, "name": "Acme", "slug": "acme"},
        "category": None,
        "seller": {"id": 2, "store_name": "Shop", "slug": "shop"},
        "rating": {"average": "4.50", "count": 3},
        "sold_count": 10,
        "in_stock": True,
        "created_at": "2026-11-25T10:00:00+00:00",
    }
    backend.apply([{**_doc(1), "card": card}], [])
    assert es.last("/t-products/_bulk")["body"][1]["card"] == card  # _source keeps it as sent
    es.search_answers.append(
        _hits(
            [
                {
                    "_index": "t-products-1",
                    "_id": "1",
                    "_score": 2.0,
                    "_source": {"id": 1, "card": card},
                }
            ]
        )
    )
    result = backend.search(SearchRequest(tenant_id=5, q="shirt"))
    assert es.last("/_search")["body"]["_source"] == ["id", "card"]
    assert result.hits[0].card == card
    parsed = service.cards_of(result.hits)[0]
    assert parsed == documents.card_from_source(card)
    assert parsed.price == Decimal("10.00") and parsed.rating.average == Decimal("4.50")
    assert parsed.created_at.isoformat() == "2026-11-25T10:00:00+00:00"
    assert documents.card_source(parsed) == card  # and back: the stored format, key for key


@pytest.mark.parametrize(
    "sort, expected",
    [
        ("newest", [{"created_at": "desc"}, {"id": "desc"}]),
        ("-price", [{"price": {"order": "desc", "missing": "_last"}}, {"id": "desc"}]),
        ("rating", [{"rating_key": "desc"}, {"id": "desc"}]),
        ("popularity", [{"sold_count": "desc"}, {"id": "desc"}]),
    ],
)
def test_every_sort_order(es, backend, sort, expected):
    backend.search(SearchRequest(tenant_id=5, sort=sort))
    sent = es.last("/_search")["body"]
    assert sent["sort"] == expected
    assert sent["query"] == {
        "bool": {"must": [{"match_all": {}}], "filter": [{"term": {"tenant_id": 5}}]}
    }


def test_relevance_ranking_highlights_and_facets(es, backend):
    aggregations = {
        "brands": {
            "doc_count_error_upper_bound": 0,
            "sum_other_doc_count": 0,
            "buckets": [
                {"key": "3\x1facme\x1fAcme", "doc_count": 2},
                {"key": "4\x1fglobex\x1fGlobex", "doc_count": 3},
            ],
        },
        "categories": {
            "doc_count_error_upper_bound": 0,
            "sum_other_doc_count": 0,
            "buckets": [{"key": "9\x1fshirts\x1fShirts", "doc_count": 5}],
        },
        "attributes": {
            "doc_count_error_upper_bound": 0,
            "sum_other_doc_count": 0,
            "buckets": [
                {"key": "colour\x1fColour\x1f\x1fRed", "doc_count": 2},
                {"key": "size\x1fSize\x1fcm\x1f10", "doc_count": 1},
            ],
        },
        "prices": {
            "buckets": [
                {"key": "*-25.0", "to": 25.0, "doc_count": 4},
                {"key": "25.0-50.0", "from": 25.0, "to": 50.0, "doc_count": 0},
                {"key": "1000.0-*", "from": 1000.0, "doc_count": 1},
            ]
        },
        "price_min": {"value": 5.0},
        "price_max": {"value": 1200.0},
    }
    es.search_answers.append(
        _hits(
            [
                {
                    "_index": "t-products-1",
                    "_id": "1",
                    "_score": 7.5,
                    "_source": {"id": 1},
                    "highlight": {
                        "title": ["Red Cotton <b>Shirt</b>"],
                        "description": ["Soft <b>shirt</b>"],
                    },
                },
                {"_index": "t-products-1", "_id": "2", "_score": 3.1, "_source": {"id": 2}},
            ],
            total=5,
            aggregations=aggregations,
        )
    )
    result = backend.search(SearchRequest(tenant_id=5, q="shirt", facets=True, highlight=True))
    searches = [r for r in es.requests if r["path"].split("?")[0].endswith("/_search")]
    assert len(searches) == 1  # the word as typed found products: no typo-tolerant second request
    sent = es.last("/_search")["body"]
    assert "fuzziness" not in json.dumps(sent)
    assert sent["query"]["function_score"]["field_value_factor"] == {
        "field": "rank",
        "modifier": "ln2p",
        "missing": 0,
    }
    assert sent["query"]["function_score"]["boost_mode"] == "multiply"
    assert sent["sort"] == [{"_score": "desc"}, {"id": "desc"}]
    assert sent["highlight"]["pre_tags"] == ["<b>"] and sent["highlight"]["encoder"] == "html"
    assert (
        sent["highlight"]["highlight_query"]
        == sent["query"]["function_score"]["query"]["bool"]["must"][0]
    )
    assert sent["aggs"]["brands"] == {"terms": {"field": "brand_facet", "size": 100}}
    assert sent["aggs"]["attributes"] == {"terms": {"field": "attr_facet", "size": 1000}}
    assert sent["aggs"]["prices"]["range"]["ranges"][:2] == [
        {"to": 25.0},
        {"from": 25.0, "to": 50.0},
    ]
    assert sent["aggs"]["prices"]["range"]["ranges"][-1] == {"from": 1000.0}
    assert sent["aggs"]["price_min"] == {"min": {"field": "price"}}
    assert result.ids == [1, 2] and result.total == 5 and result.hits[0].score == 7.5
    assert result.hits[0].highlight == {
        "title": "Red Cotton <b>Shirt</b>",
        "description": "Soft <b>shirt</b>",
    }
    f = result.facets
    assert f["brands"] == [
        {"id": 4, "slug": "globex", "name": "Globex", "count": 3},
        {"id": 3, "slug": "acme", "name": "Acme", "count": 2},
    ]
    assert f["categories"] == [{"id": 9, "slug": "shirts", "name": "Shirts", "count": 5}]
    assert f["price"] == {
        "min": Decimal("5.00"),
        "max": Decimal("1200.00"),
        "ranges": [
            {"min": Decimal("0.00"), "max": Decimal("25.00"), "count": 4},
            {"min": Decimal("1000.00"), "max": None, "count": 1},
        ],
    }
    assert f["attributes"] == [
        {
            "code": "colour",
            "name": "Colour",
            "unit": None,
            "param": "attr_colour",
            "values": [{"value": "Red", "count": 2}],
        },
        {
            "code": "size",
            "name": "Size",
            "unit": "cm",
            "param": "attr_size",
            "values": [{"value": "10", "count": 1}],
        },
    ]


def test_suggestions_use_search_as_you_type(es, backend):
    es.search_answers.append(
        _hits(
            [
                {
                    "_index": "i",
                    "_id": "1",
                    "_score": 2.0,
                    "_source": {"id": 1, "title": "Red Cotton Shirt", "slug": "red-cotton-shirt"},
                }
            ]
        )
    )
    found = backend.suggest(5, "Red co", 5)
    sent = es.last("/_search")["body"]
    assert sent["size"] == 5 and sent["_source"] == ["id", "title", "slug"]
    inner = sent["query"]["function_score"]["query"]["constant_score"]["filter"]["bool"]
    assert inner == {
        "must": [
            {
                "multi_match": {
                    "query": "red co",
                    "type": "bool_prefix",
                    "operator": "and",
                    "fields": ["suggest", "suggest._2gram", "suggest._3gram"],
                }
            }
        ],
        "filter": [{"term": {"tenant_id": 5}}],
    }
    assert [(s.text, s.product_id, s.slug) for s in found] == [
        ("Red Cotton Shirt", 1, "red-cotton-shirt")
    ]
    assert backend.suggest(5, "  ", 5) == []


def test_fingerprints_ask_for_ids_only(es, backend):
    es.search_answers.append(
        _hits(
            [{"_index": "i", "_id": "1", "_score": 1.0, "_source": {"id": 1, "fingerprint": "abc"}}]
        )
    )
    assert backend.fingerprints([1, 2]) == {1: "abc"}
    sent = es.last("/_search")
    assert sent["body"]["query"] == {"ids": {"values": ["1", "2"]}} and sent["body"]["size"] == 2
    assert "_source=id%2Cfingerprint" in sent["path"] or sent["body"].get("_source") == [
        "id",
        "fingerprint",
    ]


def test_reindex_bulk_loads_a_new_index_and_moves_the_alias_atomically(es, backend):
    backend.ensure()
    first = next(iter(es.aliases))
    stats = backend.rebuild(iter([_doc(1), _doc(2)]))
    second = stats["generation"]
    assert stats["documents"] == 2 and second != first
    assert es.last(f"/{second}/_bulk")["body"][0] == {"index": {"_id": "1"}}
    assert es.last("/_aliases")["body"] == {
        "actions": [
            {"remove": {"index": first, "alias": ALIAS}},
            {"add": {"index": second, "alias": ALIAS}},
        ]
    }
    assert es.aliases[second] == [ALIAS] and es.aliases[first] == []
    third = backend.rebuild(iter([_doc(1)]))["generation"]
    assert first not in es.aliases  # older than the previous index: deleted
    assert second in es.aliases and es.aliases[third] == [ALIAS]
    status = backend.status()
    assert (
        status["generation"] == third and status["documents"] == 7 and status["size_bytes"] == 4096
    )
    assert all(r["method"] != "DELETE" or r["path"] == f"/{first}" for r in es.requests)


def test_elasticsearch_is_the_backend_when_its_url_is_set(es, tmp_path):
    from types import SimpleNamespace

    from app.search.service import make_backend

    chosen = make_backend(
        SimpleNamespace(config={"ELASTICSEARCH_URL": es.url, "SEARCH_INDEX_DIR": str(tmp_path)})
    )
    assert chosen.name == "elasticsearch" and chosen.alias == "marketplace-products"
    embedded = make_backend(
        SimpleNamespace(config={"ELASTICSEARCH_URL": None, "SEARCH_INDEX_DIR": str(tmp_path)})
    )
    assert embedded.name == "tantivy"
