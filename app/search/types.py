"""The backend-neutral vocabulary of the search service: what is asked, what comes back.

Every backend (app/search/tantivy_backend.py, app/search/elastic.py) takes a `SearchRequest`
whose filters are already resolved to ids (the service checks them against the database) and
answers a `SearchResult`. Prices are Decimals in and out; inside the engines they are floats of
2-decimal values, which compare exactly for the bounds a storefront sends.

What the service answers its callers (the faces) is below them: a `SearchPage` of `SearchHit`s
(the catalog's product cards, with highlights on request) and `SearchFacets`, `SearchFilters`,
`Suggestion`s, an `IndexStatus` and an `IndexBuild`; frozen, and built of the catalog's own view
values (app/catalog/views.py) where they show the same thing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from app.catalog.views import AttributeFacet, PriceFacet, ProductCard, RefCount

SORTS = ("relevance", "newest", "price", "-price", "rating", "popularity")
# the price facet's bucket edges: the same as the database facets (app/catalog/queries.py)
PRICE_EDGES = (
    Decimal("25"),
    Decimal("50"),
    Decimal("100"),
    Decimal("250"),
    Decimal("500"),
    Decimal("1000"),
)
MAX_TOKENS = 10
# text fields and their boosts, the same in every backend: title counts most, then brand,
# category, attributes, description; fuzzy (typo) matches count less
TEXT_FIELDS = {"title": 3.0, "brand": 2.0, "category": 1.5, "attributes": 1.2, "description": 1.0}
FUZZY_FIELDS = {"title": 0.6, "brand": 0.5, "category": 0.3, "description": 0.2}
MAX_RESULT_WINDOW = (
    10_000  # page * page_size beyond this answers an empty page (as Elasticsearch does)
)
SEP = "\x1f"  # joins the parts of a facet key ("id<SEP>slug<SEP>name")


@dataclasses.dataclass
class SearchRequest:
    tenant_id: int
    q: str = ""
    category_id: int | None = None  # the category and its descendants
    brand_ids: list[int] = dataclasses.field(default_factory=list)  # any of
    seller_id: int | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    attrs: dict[str, list[str]] = dataclasses.field(
        default_factory=dict
    )  # code -> any of values (lower case)
    in_stock: bool | None = None
    min_rating: Decimal | None = None
    featured: bool | None = None
    sort: str = "relevance"
    page: int = 1
    page_size: int = 24
    facets: bool = False
    facet_attributes: list[str] | None = None  # attribute codes to count; None: all
    highlight: bool = False

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclasses.dataclass
class Hit:
    id: int
    score: float | None = None
    highlight: dict[str, str] = dataclasses.field(default_factory=dict)
    card: dict | None = (
        None  # the stored product card (documents.card_source), when the index has it
    )


@dataclasses.dataclass
class SearchResult:
    hits: list[Hit]
    total: int
    facets: dict[str, Any] | None = None

    @property
    def ids(self) -> list[int]:
        return [h.id for h in self.hits]


@dataclasses.dataclass(frozen=True, slots=True)
class Suggestion:
    """A product whose title or brand has words starting with what was typed."""

    text: str
    product_id: int
    slug: str


# --- what the service answers ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class SearchHit(ProductCard):
    """A result: the product's card and, when asked for, its highlighted snippets (HTML: the
    matched words in <b>...</b>, the rest escaped; by field: title, description). None when
    highlights were not asked for, {} when asked for and none matched."""

    highlight: Mapping[str, str] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class SearchFacets:
    """Counts over a search and its filters: what each value would leave (brands and
    categories by count, attributes' 30 commonest values listed by value)."""

    brands: tuple[RefCount, ...]
    categories: tuple[RefCount, ...]
    price: PriceFacet
    attributes: tuple[AttributeFacet, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class SearchFilters(SearchFacets):
    """The facets of a search and the number of products it finds."""

    total: int


@dataclasses.dataclass(frozen=True, slots=True)
class SearchPage:
    """A page of results; `facets` None when they were not asked for."""

    items: Sequence[SearchHit]
    total: int
    page: int
    page_size: int
    facets: SearchFacets | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class IndexStatus:
    """The live index: its backend, where it is, its generation (None before the first build),
    documents, segments, size (None when a backend does not tell) and last change."""

    backend: str
    location: str
    generation: str | None
    documents: int
    segments: int | None
    size_bytes: int | None
    updated_at: dt.datetime | None


@dataclasses.dataclass(frozen=True, slots=True)
class IndexBuild:
    """What a full rebuild made: documents indexed into `generation` (now live)."""

    documents: int
    generation: str
    size_bytes: int | None


def tokens(text: str) -> list[str]:
    """Lower-case words, as the engines' default analyzers split them (letters and digits)."""
    return [t for t in re.findall(r"\w+", (text or "").lower()) if len(t) <= 40][:MAX_TOKENS]


def fuzziness(token: str) -> int:
    """Edits a typo may cost: none for short words (too many false friends), 1 up to 7 letters, then 2."""
    if len(token) < 4 or token.isdigit():
        return 0
    return 1 if len(token) < 8 else 2


def may_have_typos(q: str) -> bool:
    """Whether a typo-tolerant query could differ from the exact one (some word is long enough)."""
    return any(fuzziness(word) for word in tokens(q))


# Typo tolerance is a fallback, as in Typesense (typo_tokens_threshold): every backend first asks
# for the words as typed; only when that finds fewer than this many products (with the same
# filters) does it ask again with each word's fuzziness. Words that exist are not expanded into
# their look-alikes (expanding every word on every search cost more than the rest of the search
# together on 100,000 products), and a misspelt word still finds what it meant.
TYPO_THRESHOLD = 1


def facet_key(*parts: Any) -> str:
    return SEP.join("" if p is None else str(p) for p in parts)


def split_key(key: str) -> list[str]:
    return str(key).split(SEP)
