"""The embedded search engine: Tantivy (PyPI `tantivy`), an index on disk, no server.

Layout under SEARCH_INDEX_DIR:

    current -> gen-v1-20261125T190000-ab12cd    (a symlink: the live generation)
    gen-v1-.../                                 (Tantivy index directories)
    writer.lock                                 (flock: one writer at a time, across processes)

One writer: Tantivy refuses a second IndexWriter on a directory (LockBusy), so every write
(the indexing consumer, the full rebuild) takes `writer.lock` first, opens a writer, commits and
releases it. In the embedded default the writer is the web process (jobs run in-process after
commit); with RQ it is whichever worker runs the indexing job, one at a time.

Readers: every search resolves `current` (one readlink) and reopens the index when it moved
(a full rebuild swapped in a new generation), otherwise calls `reload()` (~0.2 ms) so commits of
other processes are visible at once. A rebuild writes a new generation while readers keep using
the old one, then switches the symlink atomically (rename over it): no downtime. The previous
generation is kept (a reader may still be on it); older ones are removed.

Query building is in code, never through Tantivy's query parser (user input such as `"foo` or
`a:b` would raise). Typo tolerance: the words as typed are searched first; only when they find
nothing (types.TYPO_THRESHOLD) is the search run again with each word matching exactly (boosted)
or within an edit distance (see types.fuzziness); exact matches score higher because fuzzy
matches all score the same. Filters are wrapped in constant-score queries so that they never change the ranking.
Ranking multiplies the text score by log2(2 + rank) (documents.rank_of).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import tantivy
from tantivy import Document, FieldType, Index, Occur, Order, Query, SnippetGenerator

from app.core import cache
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

SCHEMA_VERSION = "v2"  # v2: the stored product card
SORT_FIELDS = {
    "newest": ("created_at", Order.Desc),
    "price": ("price", Order.Asc),
    "-price": ("price", Order.Desc),
    "rating": ("rating_key", Order.Desc),
    "popularity": ("sold_count", Order.Desc),
}
FACET_CACHE_SECONDS = 300
# request fields that do not change the facets
_NOT_COUNTED = {"sort", "page", "page_size", "facets", "highlight", "q"}
WRITER_HEAP = 50_000_000
REBUILD_HEAP = 200_000_000


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_unsigned_field("id", stored=True, indexed=True, fast=True)
    sb.add_unsigned_field("tenant_id", indexed=True, fast=True)
    sb.add_text_field("title", stored=True)
    sb.add_text_field("slug", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("description", stored=True)
    sb.add_text_field("brand")
    sb.add_text_field("category")
    sb.add_text_field("attributes")
    sb.add_unsigned_field("brand_id", indexed=True, fast=True)
    sb.add_unsigned_field("category_ids", indexed=True, fast=True)
    sb.add_unsigned_field("seller_id", indexed=True, fast=True)
    for name in ("brand_facet", "category_facet", "attr_facet"):
        sb.add_text_field(name, tokenizer_name="raw", fast=True, index_option="basic")
    sb.add_text_field("attr_filter", tokenizer_name="raw", index_option="basic")
    sb.add_float_field("price", indexed=True, fast=True)
    sb.add_unsigned_field("in_stock", indexed=True, fast=True)
    sb.add_unsigned_field("featured", indexed=True, fast=True)
    sb.add_float_field("rating", indexed=True, fast=True)
    sb.add_float_field("rating_key", fast=True)
    sb.add_unsigned_field("sold_count", fast=True)
    sb.add_integer_field("created_at", indexed=True, fast=True)
    sb.add_float_field("rank", fast=True)
    sb.add_text_field("suggest", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("fingerprint", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_bytes_field(
        "card", stored=True, indexed=False
    )  # JSON (documents.card_source): answers need no DB
    return sb.build()


def to_document(doc: dict) -> Document:
    d = Document()
    d.add_unsigned("id", doc["id"])
    d.add_unsigned("tenant_id", doc["tenant_id"])
    for name in ("title", "slug", "description", "brand", "category", "attributes", "fingerprint"):
        d.add_text(name, doc[name] or "")
    for name in ("brand_id", "seller_id"):
        if doc.get(name) is not None:
            d.add_unsigned(name, doc[name])
    for cid in doc["category_ids"]:
        d.add_unsigned("category_ids", cid)
    for name in ("brand_facet", "category_facet"):
        if doc.get(name):
            d.add_text(name, doc[name])
    for value in doc["attr_facet"]:
        d.add_text("attr_facet", value)
    for value in doc["attr_filter"]:
        d.add_text("attr_filter", value)
    for value in doc["suggest"]:
        d.add_text("suggest", value)
    if doc.get("price") is not None:
        d.add_float("price", float(doc["price"]))
    d.add_unsigned("in_stock", 1 if doc["in_stock"] else 0)
    d.add_unsigned("featured", 1 if doc["featured"] else 0)
    d.add_float("rating", float(doc["rating"]))
    d.add_float("rating_key", float(doc["rating_key"]))
    d.add_unsigned("sold_count", int(doc["sold_count"]))
    d.add_integer("created_at", int(doc["created_at"]))
    d.add_float("rank", float(doc["rank"]))
    if doc.get("card") is not None:
        d.add_bytes("card", json.dumps(doc["card"], separators=(",", ":")).encode())
    return d


class TantivyBackend:
    name = "tantivy"

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.schema = build_schema()
        self._thread_lock = threading.RLock()
        self._reader: tuple[str, Index] | None = None
        self._reader_lock = threading.Lock()

    # --- locations ---------------------------------------------------------------------

    @property
    def pointer(self) -> Path:
        return self.root / "current"

    def _current_target(self) -> str | None:
        try:
            return os.readlink(self.pointer)
        except FileNotFoundError:
            return None

    def _new_generation(self) -> Path:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
        path = self.root / f"gen-{SCHEMA_VERSION}-{stamp}-{uuid.uuid4().hex[:6]}"
        path.mkdir(parents=True)
        return path

    def _swap_to(self, generation: Path) -> None:
        """Point `current` at `generation` atomically (a new symlink renamed over the old one)."""
        tmp = self.root / f".current-{uuid.uuid4().hex[:8]}"
        os.symlink(generation.name, tmp)
        os.replace(tmp, self.pointer)

    @contextlib.contextmanager
    def _writer_lock(self) -> Iterator[None]:
        """One writer at a time: threads of this process, then processes (flock)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with self._thread_lock, open(self.root / "writer.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _ensure_index(self) -> None:
        """Create an empty first generation when there is none (under the writer lock)."""
        if self._current_target() is None:
            generation = self._new_generation()
            Index(self.schema, path=str(generation), reuse=False)
            self._swap_to(generation)

    def _open_current(self, *, locked: bool = False) -> Index:
        """The live generation; created empty first if there is none (`locked`: the caller
        already holds the writer lock, which flock would not let this process take twice)."""
        if self._current_target() is None:
            if locked:
                self._ensure_index()
            else:
                with self._writer_lock():
                    self._ensure_index()
        target = self._current_target()
        if not target.startswith(f"gen-{SCHEMA_VERSION}-"):
            raise RuntimeError(
                f"search index {target} has another schema version; run `flask search reindex`"
            )
        return Index.open(str(self.root / target))

    def _searcher(self) -> tantivy.Searcher:
        target = self._current_target()
        with self._reader_lock:
            if self._reader is None or self._reader[0] != target:
                index = self._open_current()
                self._reader = (self._current_target(), index)
            else:
                self._reader[1].reload()
            return self._reader[1].searcher()

    # --- writing ---------------------------------------------------------------------

    def apply(self, upserts: Iterable[dict], deletes: Iterable[int]) -> int:
        """Replace (or add) `upserts` and remove `deletes`, in one commit. Returns the changes made."""
        upserts, deletes = list(upserts), list(deletes)
        if not upserts and not deletes:
            return 0
        with self._writer_lock():
            index = self._open_current(locked=True)
            writer = index.writer(heap_size=WRITER_HEAP, num_threads=1)
            try:
                # by query, not by term: delete_documents_by_term takes a Python int as i64 and
                # then matches nothing in this u64 field
                gone = [int(pid) for pid in deletes] + [int(doc["id"]) for doc in upserts]
                writer.delete_documents_by_query(Query.term_set_query(self.schema, "id", gone))
                for doc in upserts:
                    writer.add_document(to_document(doc))
                writer.commit()
            except BaseException:
                writer.rollback()
                raise
            finally:
                writer.wait_merging_threads()  # also releases Tantivy's own lock
        return len(upserts) + len(deletes)

    def fingerprints(self, ids: list[int]) -> dict[int, str]:
        if not ids:
            return {}
        searcher = self._searcher()
        found = searcher.search(
            Query.term_set_query(self.schema, "id", [int(i) for i in ids]),
            len(ids) + 10,
            count=False,
        )
        out = {}
        for _, address in found.hits:
            doc = searcher.doc(address)
            out[int(doc["id"][0])] = doc["fingerprint"][0]
        return out

    def rebuild(self, documents: Iterable[dict]) -> dict:
        """Build a new generation from `documents`, then swap it in. Searches keep answering from
        the old generation meanwhile; incremental writes wait for the writer lock and then go to
        the new generation (the consumer re-reads products at that point, so nothing is lost)."""
        with self._writer_lock():
            generation = self._new_generation()
            index = Index(self.schema, path=str(generation), reuse=False)
            writer = index.writer(heap_size=REBUILD_HEAP, num_threads=2)
            count = 0
            try:
                for doc in documents:
                    writer.add_document(to_document(doc))
                    count += 1
                writer.commit()
            except BaseException:
                writer.rollback()
                writer.wait_merging_threads()
                shutil.rmtree(generation, ignore_errors=True)
                raise
            writer.wait_merging_threads()
            previous = self._current_target()
            self._swap_to(generation)
            self._prune(keep={generation.name, previous})
        return {"documents": count, "generation": generation.name, "size_bytes": _size(generation)}

    def _prune(self, keep: set) -> None:
        for path in self.root.glob("gen-*"):
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)

    # --- reading ---------------------------------------------------------------------

    def _term(self, field: str, value: Any) -> Query:
        return Query.term_query(self.schema, field, value)

    def _any(self, queries: list[Query]) -> Query:
        return (
            queries[0]
            if len(queries) == 1
            else Query.boolean_query([(Occur.Should, q) for q in queries])
        )

    def text_query(self, q: str, *, typos: bool = True) -> Query | None:
        words = tokens(q)
        if not words:
            return None
        clauses = []
        for word in words:
            options = [
                Query.boost_query(self._term(f, word), boost) for f, boost in TEXT_FIELDS.items()
            ]
            distance = fuzziness(word) if typos else 0
            if distance:
                options += [
                    Query.boost_query(
                        Query.fuzzy_term_query(self.schema, f, word, distance=distance), boost
                    )
                    for f, boost in FUZZY_FIELDS.items()
                ]
            clauses.append((Occur.Must, self._any(options)))
        return Query.boolean_query(clauses)

    def filter_queries(self, req: SearchRequest) -> list[Query]:
        f = [self._term("tenant_id", req.tenant_id)]
        if req.category_id is not None:
            f.append(self._term("category_ids", req.category_id))
        if req.brand_ids:
            f.append(self._any([self._term("brand_id", b) for b in req.brand_ids]))
        if req.seller_id is not None:
            f.append(self._term("seller_id", req.seller_id))
        if req.min_price is not None or req.max_price is not None:
            f.append(
                Query.range_query(
                    self.schema,
                    "price",
                    FieldType.Float,
                    _float(req.min_price),
                    _float(req.max_price),
                )
            )
        for code, values in sorted(req.attrs.items()):
            f.append(
                self._any(
                    [self._term("attr_filter", f"{code.lower()}={v.lower()}") for v in values]
                )
            )
        if req.in_stock is not None:
            f.append(self._term("in_stock", 1 if req.in_stock else 0))
        if req.min_rating is not None:
            f.append(
                Query.range_query(
                    self.schema, "rating", FieldType.Float, _float(req.min_rating), None
                )
            )
        if req.featured is not None:
            f.append(self._term("featured", 1 if req.featured else 0))
        return f

    def query_for(self, req: SearchRequest, *, typos: bool = True) -> tuple[Query, Query | None]:
        text = self.text_query(req.q, typos=typos)
        clauses = [
            (
                Occur.Must,
                text if text is not None else Query.const_score_query(Query.all_query(), 1.0),
            )
        ]
        clauses += [(Occur.Must, Query.const_score_query(f, 0.0)) for f in self.filter_queries(req)]
        return Query.boolean_query(clauses), text

    def _stamp(self) -> str | None:
        """Which state of the index a searcher opened now sees at least: the live generation and
        its last commit (meta.json is rewritten by every commit). Read before the searcher."""
        target = self._current_target()
        try:
            return (
                f"{target}:{(self.root / target / 'meta.json').stat().st_mtime_ns}"
                if target
                else None
            )
        except FileNotFoundError:
            return None

    def search(self, req: SearchRequest) -> SearchResult:
        stamp = self._stamp()
        searcher = self._searcher()
        wanted = req.page_size if req.offset < MAX_RESULT_WINDOW else 0
        limit = max(wanted, 1)  # Tantivy's collectors need a limit of at least 1

        def run(typos: bool):
            query, text = self.query_for(req, typos=typos)
            if req.sort in SORT_FIELDS:
                field, order = SORT_FIELDS[req.sort]
                found = searcher.search(
                    query, limit, count=True, order_by_field=field, offset=req.offset, order=order
                )
            else:
                found = searcher.search(
                    query, limit, count=True, offset=req.offset, weight_by_field="rank"
                )
            return query, text, found

        typos = False
        query, text, found = run(typos=False)  # the words as typed first (types.TYPO_THRESHOLD)
        if int(found.count or 0) < TYPO_THRESHOLD and may_have_typos(req.q):
            typos = True
            query, text, found = run(typos=True)
        found_hits = found.hits[:wanted]
        hits = []
        snippets = {}
        if req.highlight and text is not None and found_hits:
            snippets = {
                f: SnippetGenerator.create(searcher, text, self.schema, f)
                for f in ("title", "description")
            }
            for generator in snippets.values():
                generator.set_max_num_chars(160)
        for key, address in found_hits:
            doc = searcher.doc(address)
            card = doc.get_first("card")
            hit = Hit(
                id=int(doc["id"][0]),
                score=float(key) if req.sort not in SORT_FIELDS else None,
                card=json.loads(card) if card else None,
            )
            for field, generator in snippets.items():
                html = generator.snippet_from_doc(doc).to_html()
                if "<b>" in html:
                    hit.highlight[field] = html
            hits.append(hit)
        facets = self.facets(searcher, query, req, stamp=stamp, typos=typos) if req.facets else None
        return SearchResult(hits=hits, total=int(found.count or 0), facets=facets)

    def facets(
        self,
        searcher,
        query: Query,
        req: SearchRequest,
        *,
        stamp: str | None = None,
        typos: bool = False,
    ) -> dict:
        """Facet counts by the engine's aggregations. The parsed counts are cached (app.core.cache:
        Redis, or this process) under the index state they were counted on (`stamp`) and the
        tenant, words and filters: any commit to the index makes a new key, so they are never
        stale, and the same filters again (a shopper paging, the filters endpoint after the
        results) skip the aggregation."""
        key = None
        if stamp is not None:
            asked = {k: v for k, v in dataclasses.asdict(req).items() if k not in _NOT_COUNTED}
            asked["q"], asked["typos"] = tokens(req.q), typos
            digest = hashlib.sha1(
                json.dumps([stamp, asked], sort_keys=True, default=str).encode()
            ).hexdigest()
            key = f"search:facets:{req.tenant_id}:{digest}"
            stored = cache.get(key)
            if stored is not None:
                return facet_shapes.loads(stored)
        aggs = facet_shapes.aggregations(
            terms_field={
                "brands": "brand_facet",
                "categories": "category_facet",
                "attributes": "attr_facet",
            }
        )
        parsed = facet_shapes.parse(searcher.aggregate(query, aggs), req)
        if key is not None:
            cache.put(key, facet_shapes.dumps(parsed), FACET_CACHE_SECONDS)
        return parsed

    def suggest(self, tenant_id: int, prefix: str, limit: int) -> list[Suggestion]:
        words = tokens(prefix)
        if not words:
            return []
        clauses = [(Occur.Must, Query.const_score_query(self._term("tenant_id", tenant_id), 0.0))]
        clauses += [
            (Occur.Must, Query.const_score_query(self._term("suggest", w[:20]), 1.0)) for w in words
        ]
        searcher = self._searcher()
        found = searcher.search(
            Query.boolean_query(clauses), limit, count=False, weight_by_field="rank"
        )
        out = []
        for _, address in found.hits:
            doc = searcher.doc(address)
            out.append(
                Suggestion(text=doc["title"][0], product_id=int(doc["id"][0]), slug=doc["slug"][0])
            )
        return out

    def status(self) -> dict:
        target = self._current_target()
        if target is None:
            return {
                "backend": self.name,
                "location": str(self.root),
                "generation": None,
                "documents": 0,
                "segments": 0,
                "size_bytes": 0,
                "updated_at": None,
            }
        searcher = self._searcher()
        meta = self.root / target / "meta.json"
        return {
            "backend": self.name,
            "location": str(self.root / target),
            "generation": target,
            "documents": searcher.num_docs,
            "segments": searcher.num_segments,
            "size_bytes": _size(self.root / target),
            "updated_at": dt.datetime.fromtimestamp(meta.stat().st_mtime, dt.timezone.utc)
            if meta.exists()
            else None,
        }


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
