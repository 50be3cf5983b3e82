"""The production search backend: Elasticsearch 8 through the official client.

Index layout: an index template `<prefix>products` (settings and mappings) applies to every
concrete index `<prefix>products-<stamp>`; searches and incremental writes go through the alias
`<prefix>products`. A full rebuild bulk-loads a new concrete index, then moves the alias in one
atomic `_aliases` call (zero downtime), keeps the previous index and deletes older ones.

The query mirrors the Tantivy backend's (same boosts, the words as typed first and fuzziness per
word length only when they find nothing (types.TYPO_THRESHOLD: a second request), filters in
`bool.filter` so they never score, ranking by `function_score` with `field_value_factor` on
`rank`, modifier `ln2p`); suggestions use a `search_as_you_type` field with a `bool_prefix`
multi_match; facets use the shared terms/range aggregations (app/search/facets.py). Hit totals
are exact (`track_total_hits`). Hits carry the product card from `_source` (`card`, stored but
not indexed), so the service answers without reading the database. Incremental writes are bulk
requests by product id, so a replay is harmless.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from elasticsearch import Elasticsearch, NotFoundError

from app.search import facets as facet_shapes
from app.search.types import (
    FUZZY_FIELDS,
    MAX_RESULT_WINDOW,
    TEXT_FIELDS,
    TYPO_THRESHOLD,
    Hit,
    SearchRequest,
    SearchResult,
    Suggestion,
    fuzziness,
    may_have_typos,
    tokens,
)

BULK_CHUNK = 500
SORTS = {
    "newest": [{"created_at": "desc"}, {"id": "desc"}],
    "price": [{"price": {"order": "asc", "missing": "_last"}}, {"id": "desc"}],
    "-price": [{"price": {"order": "desc", "missing": "_last"}}, {"id": "desc"}],
    "rating": [{"rating_key": "desc"}, {"id": "desc"}],
    "popularity": [{"sold_count": "desc"}, {"id": "desc"}],
}
HIGHLIGHT = {
    "pre_tags": ["<b>"],
    "post_tags": ["</b>"],
    "encoder": "html",
    "fields": {
        "title": {"number_of_fragments": 0},
        "description": {"fragment_size": 160, "number_of_fragments": 1},
    },
}
SUGGEST_FIELDS = ["suggest", "suggest._2gram", "suggest._3gram"]

MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "long"},
        "tenant_id": {"type": "long"},
        "title": {"type": "text"},
        "slug": {"type": "keyword", "index": False},
        "description": {"type": "text"},
        "brand": {"type": "text"},
        "category": {"type": "text"},
        "attributes": {"type": "text"},
        "brand_id": {"type": "long"},
        "category_id": {"type": "long"},
        "category_ids": {"type": "long"},
        "seller_id": {"type": "long"},
        "brand_facet": {"type": "keyword"},
        "category_facet": {"type": "keyword"},
        "attr_facet": {"type": "keyword"},
        "attr_filter": {"type": "keyword"},
        "price": {"type": "double"},
        "in_stock": {"type": "boolean"},
        "featured": {"type": "boolean"},
        "rating": {"type": "double"},
        "rating_count": {"type": "integer"},
        "rating_key": {"type": "double"},
        "sold_count": {"type": "long"},
        "created_at": {"type": "long"},
        "rank": {"type": "double"},
        "suggest": {"type": "search_as_you_type"},
        "fingerprint": {"type": "keyword", "index": False},
        # the product card answered by searches (documents.card_source): kept in _source only
        "card": {"type": "object", "enabled": False},
    },
}
SETTINGS = {"number_of_shards": 1, "refresh_interval": "1s", "max_result_window": MAX_RESULT_WINDOW}


def source_of(doc: dict) -> dict:
    """The stored document: the neutral document, with the suggestion text instead of prefixes
    (search_as_you_type makes its own edge n-grams)."""
    body = {k: v for k, v in doc.items() if k != "suggest"}
    body["suggest"] = " ".join(x for x in (doc["title"], doc.get("brand") or "") if x)
    return body


class ElasticBackend:
    name = "elasticsearch"

    def __init__(
        self,
        url_or_client,
        *,
        prefix: str = "marketplace-",
        refresh: bool = False,
        **client_options,
    ):
        self.client = (
            url_or_client
            if isinstance(url_or_client, Elasticsearch)
            else Elasticsearch(url_or_client, **client_options)
        )
        self.prefix = prefix
        self.alias = f"{prefix}products"
        self.refresh = refresh  # tests: make each write visible before returning
        self._ready = False

    @classmethod
    def from_config(cls, config) -> ElasticBackend:
        return cls(
            config["ELASTICSEARCH_URL"],
            prefix=config.get("ELASTICSEARCH_INDEX_PREFIX", "marketplace-"),
            request_timeout=float(config.get("ELASTICSEARCH_TIMEOUT", 10)),
        )

    # --- index management --------------------------------------------------------------

    def template(self) -> dict:
        return {
            "index_patterns": [f"{self.alias}-*"],
            "template": {"settings": SETTINGS, "mappings": MAPPINGS},
        }

    def _new_index_name(self) -> str:
        return (
            f"{self.alias}-{dt.datetime.now(dt.timezone.utc):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"
        )

    def ensure(self) -> None:
        """The template, and a first index behind the alias, when missing."""
        if self._ready:
            return
        self.client.indices.put_index_template(name=self.alias, **self.template())
        if not self.client.indices.exists_alias(name=self.alias):
            self.client.indices.create(index=self._new_index_name(), aliases={self.alias: {}})
        self._ready = True

    def _concrete(self) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=self.alias).body)
        except NotFoundError:
            return []

    # --- writing ---------------------------------------------------------------------

    def _bulk(self, index: str, lines: list[dict], *, refresh: bool | None = None) -> None:
        if not lines:
            return
        response = self.client.bulk(
            index=index,
            operations=lines,
            refresh="wait_for" if (self.refresh if refresh is None else refresh) else None,
        )
        if response.get("errors"):
            failed = [
                item
                for item in response["items"]
                if next(iter(item.values())).get("error")
                and not (("delete" in item) and item["delete"].get("status") == 404)
            ]
            if failed:
                raise RuntimeError(f"Elasticsearch bulk request failed: {failed[:3]}")

    def apply(self, upserts: Iterable[dict], deletes: Iterable[int]) -> int:
        upserts, deletes = list(upserts), list(deletes)
        if not upserts and not deletes:
            return 0
        self.ensure()
        lines: list[dict] = []
        for doc in upserts:
            lines += [{"index": {"_id": str(doc["id"])}}, source_of(doc)]
        for pid in deletes:
            lines.append({"delete": {"_id": str(pid)}})
        self._bulk(self.alias, lines)
        return len(upserts) + len(deletes)

    def fingerprints(self, ids: list[int]) -> dict[int, str]:
        if not ids:
            return {}
        self.ensure()
        response = self.client.search(
            index=self.alias,
            query={"ids": {"values": [str(i) for i in ids]}},
            size=len(ids),
            source=["id", "fingerprint"],
        )
        return {
            int(h["_source"]["id"]): h["_source"]["fingerprint"] for h in response["hits"]["hits"]
        }

    def rebuild(self, documents: Iterable[dict]) -> dict:
        self.client.indices.put_index_template(name=self.alias, **self.template())
        new = self._new_index_name()
        self.client.indices.create(index=new)
        count, lines = 0, []
        for doc in documents:
            lines += [{"index": {"_id": str(doc["id"])}}, source_of(doc)]
            count += 1
            if len(lines) >= 2 * BULK_CHUNK:
                self._bulk(new, lines, refresh=False)
                lines = []
        self._bulk(new, lines, refresh=False)
        self.client.indices.refresh(index=new)
        old = self._concrete()
        actions = [{"remove": {"index": name, "alias": self.alias}} for name in old]
        actions.append({"add": {"index": new, "alias": self.alias}})
        self.client.indices.update_aliases(actions=actions)  # atomic: searches switch at once
        every = self.client.indices.get_alias(index=f"{self.alias}-*").body
        for name in sorted(set(every) - {new, *old}):  # keep the one just replaced, drop older ones
            self.client.indices.delete(index=name)
        self._ready = True
        return {"documents": count, "generation": new, "size_bytes": None}

    # --- reading ---------------------------------------------------------------------

    def text_query(self, q: str, *, typos: bool = True) -> dict | None:
        words = tokens(q)
        if not words:
            return None
        must = []
        for word in words:
            should = [
                {"match": {f: {"query": word, "boost": boost}}} for f, boost in TEXT_FIELDS.items()
            ]
            distance = fuzziness(word) if typos else 0
            if distance:
                should += [
                    {"match": {f: {"query": word, "fuzziness": distance, "boost": boost}}}
                    for f, boost in FUZZY_FIELDS.items()
                ]
            must.append({"bool": {"should": should, "minimum_should_match": 1}})
        return {"bool": {"must": must}}

    def filters(self, req: SearchRequest) -> list[dict]:
        f: list[dict] = [{"term": {"tenant_id": req.tenant_id}}]
        if req.category_id is not None:
            f.append({"term": {"category_ids": req.category_id}})
        if req.brand_ids:
            f.append({"terms": {"brand_id": list(req.brand_ids)}})
        if req.seller_id is not None:
            f.append({"term": {"seller_id": req.seller_id}})
        if req.min_price is not None or req.max_price is not None:
            bounds = {}
            if req.min_price is not None:
                bounds["gte"] = float(req.min_price)
            if req.max_price is not None:
                bounds["lte"] = float(req.max_price)
            f.append({"range": {"price": bounds}})
        for code, values in sorted(req.attrs.items()):
            f.append({"terms": {"attr_filter": [f"{code.lower()}={v.lower()}" for v in values]}})
        if req.in_stock is not None:
            f.append({"term": {"in_stock": bool(req.in_stock)}})
        if req.min_rating is not None:
            f.append({"range": {"rating": {"gte": float(req.min_rating)}}})
        if req.featured is not None:
            f.append({"term": {"featured": bool(req.featured)}})
        return f

    def body_for(self, req: SearchRequest, *, typos: bool = True) -> dict:
        text = self.text_query(req.q, typos=typos)
        query: dict = {"bool": {"must": [text or {"match_all": {}}], "filter": self.filters(req)}}
        size = req.page_size if req.offset < MAX_RESULT_WINDOW else 0
        body: dict = {
            "from": min(req.offset, MAX_RESULT_WINDOW),
            "size": min(size, MAX_RESULT_WINDOW - min(req.offset, MAX_RESULT_WINDOW)),
            "track_total_hits": True,
            "_source": ["id", "card"],
        }
        if req.sort in SORTS:
            body["query"] = query
            body["sort"] = SORTS[req.sort]
        else:
            body["query"] = {
                "function_score": {
                    "query": query,
                    "field_value_factor": {"field": "rank", "modifier": "ln2p", "missing": 0},
                    "boost_mode": "multiply",
                }
            }
            body["sort"] = [{"_score": "desc"}, {"id": "desc"}]
        if req.highlight and text is not None:
            body["highlight"] = {**HIGHLIGHT, "highlight_query": text}
        if req.facets:
            body["aggs"] = facet_shapes.aggregations(
                terms_field={
                    "brands": "brand_facet",
                    "categories": "category_facet",
                    "attributes": "attr_facet",
                }
            )
        return body

    def search(self, req: SearchRequest) -> SearchResult:
        """The words as typed first; again with fuzziness only when that finds fewer than
        types.TYPO_THRESHOLD products (as the Tantivy backend does)."""
        self.ensure()
        result = self._search(self.body_for(req, typos=False), req)
        if result.total < TYPO_THRESHOLD and may_have_typos(req.q):
            result = self._search(self.body_for(req, typos=True), req)
        return result

    def _search(self, body: dict, req: SearchRequest) -> SearchResult:
        response = self.client.search(index=self.alias, body=body)
        return self.parse(response.body if hasattr(response, "body") else response, req)

    @staticmethod
    def parse(body: dict, req: SearchRequest) -> SearchResult:
        hits = []
        for raw in body["hits"]["hits"]:
            highlight = {
                field: " … ".join(parts)
                for field, parts in (raw.get("highlight") or {}).items()
                if field in ("title", "description")
            }
            score = raw.get("_score")
            hits.append(
                Hit(
                    id=int(raw["_source"]["id"]),
                    score=float(score) if score is not None else None,
                    highlight=highlight,
                    card=raw["_source"].get("card"),
                )
            )
        total = body["hits"]["total"]
        total = total["value"] if isinstance(total, dict) else int(total)
        facets = facet_shapes.parse(body.get("aggregations") or {}, req) if req.facets else None
        return SearchResult(hits=hits, total=int(total), facets=facets)

    def suggest_body(self, tenant_id: int, prefix: str, limit: int) -> dict | None:
        words = tokens(prefix)
        if not words:
            return None
        match = {
            "multi_match": {
                "query": " ".join(words),
                "type": "bool_prefix",
                "fields": SUGGEST_FIELDS,
                "operator": "and",
            }
        }
        query = {"bool": {"must": [match], "filter": [{"term": {"tenant_id": tenant_id}}]}}
        return {
            "size": limit,
            "_source": ["id", "title", "slug"],
            "query": {
                "function_score": {
                    "query": {"constant_score": {"filter": query, "boost": 1}},
                    "field_value_factor": {"field": "rank", "modifier": "ln2p", "missing": 0},
                    "boost_mode": "multiply",
                }
            },
            "sort": [{"_score": "desc"}, {"id": "desc"}],
        }

    def suggest(self, tenant_id: int, prefix: str, limit: int) -> list[Suggestion]:
        body = self.suggest_body(tenant_id, prefix, limit)
        if body is None:
            return []
        self.ensure()
        response = self.client.search(index=self.alias, body=body)
        return [
            Suggestion(
                text=h["_source"]["title"],
                product_id=int(h["_source"]["id"]),
                slug=h["_source"]["slug"],
            )
            for h in response["hits"]["hits"]
        ]

    def status(self) -> dict:
        concrete = self._concrete()
        if not concrete:
            return {
                "backend": self.name,
                "location": self.alias,
                "generation": None,
                "documents": 0,
                "segments": None,
                "size_bytes": 0,
                "updated_at": None,
            }
        stats = self.client.indices.stats(index=concrete[-1], metric=["docs", "store", "segments"])
        primaries = stats["indices"][concrete[-1]]["primaries"]
        return {
            "backend": self.name,
            "location": self.alias,
            "generation": concrete[-1],
            "documents": primaries["docs"]["count"],
            "segments": primaries["segments"]["count"],
            "size_bytes": primaries["store"]["size_in_bytes"],
            "updated_at": None,
        }
