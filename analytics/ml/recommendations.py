"""Product recommendations (kind `recommendations`): per product, "bought together" and "similar
items", and the shop's popular products for cold starts.

What the lists mean:
- bought together: products found in the same paid order (any seller's sub-order of one parent
  order) in the training window. A pair counts once per order; a pair needs MIN_SUPPORT orders.
  Ranked by cosine similarity of the two products' columns of the binary order x product matrix
  (support / sqrt(orders with A x orders with B)), then support, then id. A product is never its
  own recommendation.
- similar items: content neighbours, a scikit-learn Pipeline: TF-IDF of title + description,
  one-hot category, brand and price band (powers of two of the lead price: 8-16, 16-32, ...),
  weighted, then cosine nearest neighbours (NearestNeighbors, brute force). Products on the
  storefront at training time only.
- popular: the products sold most (units) in the window: what a product without a list of its own
  (new, never co-purchased) answers, saying `"source": "popular"`.

A sale is what app.dashboards calls one: a sub-order paid, whatever happened after (not pending,
not cancelled). The window is the WINDOW_DAYS days before training.

Metrics (held out by time): the last HOLDOUT_SHARE of the window's orders with two or more products
are kept out of a first fit; for each of their products, a hit when one of the top K recommended
(bought together, else the popular fallback, as the API serves) is another product of the same
order. `hit_rate_at_5` against the popularity baseline's (top K popular, the product excluded).
`similar_same_category_at_5`: the share of similar items in the product's own category, against
the share a random pick would give (`baseline`).

Serving (`recommendations_for`): the active version's rows of the product and list, joined to the
products still on the storefront (the catalog's rule, app.catalog.scopes.on_storefront), one read
by the index (tenant, version, product, list, rank), then the cards.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
from flask_appbuilder import Model
from scipy import sparse
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from sqlalchemy import Float, ForeignKey, Index, Integer, String, func, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from analytics import registry
from analytics.training import NotEnoughData, register_trainer
from app.catalog.models import Product, ProductVariant
from app.catalog.queries import product_cards
from app.catalog.scopes import on_storefront
from app.catalog.views import ProductCard
from app.core.errors import NotFound
from app.core.tenancy import current_tenant_id
from app.core.types import utcnow
from app.dashboards import NOT_SALES
from app.extensions import db
from app.orders.models import OrderLine, SubOrder
from app.tenants.models import TenantScoped

BOUGHT_TOGETHER, SIMILAR, POPULAR = "bought_together", "similar", "popular"
LISTS = (BOUGHT_TOGETHER, SIMILAR)
WINDOW_DAYS = 365
MIN_SUPPORT = 2  # orders holding both products before a pair is recommended
STORED = 20  # rows kept per product and list (hidden products are filtered when served)
STORED_POPULAR = 50
K = 5  # the holdout's hit rate at K
HOLDOUT_SHARE = 0.2
MAX_LIMIT = 20
# how much each content feature weighs in the similar items' cosine
WEIGHTS = {"text": 1.0, "category": 0.7, "brand": 0.4, "price_band": 0.3}
FEATURES = ["title + description (tf-idf)", "category", "brand", "price band"]


class Recommendation(TenantScoped, Model):
    """One recommended product of one list of one product (`product_id` None: the shop's
    popular list), written by the version `model_version_id`."""

    __tablename__ = "analytics_recommendations"
    __table_args__ = (
        Index(
            "ix_analytics_recommendations_serve",
            "tenant_id",
            "model_version_id",
            "product_id",
            "list_kind",
            "rank",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_version_id: Mapped[int] = mapped_column(
        ForeignKey(
            "analytics_model_versions.id", ondelete="CASCADE", name="fk_analytics_recs_version"
        ),
        nullable=False,
    )
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE", name="fk_analytics_recs_product")
    )
    list_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    rank: Mapped[int] = mapped_column(Integer, nullable=False)  # 1, 2, ...
    recommended_product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE", name="fk_analytics_recs_recommended"),
        nullable=False,
    )
    score: Mapped[float] = mapped_column(Float, nullable=False)


registry.register_predictions(registry.RECOMMENDATIONS, Recommendation)


# --- the data ------------------------------------------------------------------------------------


def _baskets(since: dt.datetime) -> list[tuple[int, frozenset[int], dict[int, int]]]:
    """The paid orders since `since`, oldest first: (order id, its products, units per product)."""
    rows = db.session.execute(
        select(
            OrderLine.order_id,
            OrderLine.product_id,
            func.sum(OrderLine.quantity),
            func.min(SubOrder.created_at),
        )
        .join(SubOrder, SubOrder.id == OrderLine.sub_order_id)
        .where(
            SubOrder.created_at >= since,
            SubOrder.status.not_in(NOT_SALES),
            OrderLine.product_id.is_not(None),
        )
        .group_by(OrderLine.order_id, OrderLine.product_id)
    ).all()
    units: dict[int, dict[int, int]] = defaultdict(dict)
    placed: dict[int, dt.datetime] = {}
    for order_id, product_id, quantity, at in rows:
        units[order_id][product_id] = int(quantity)
        placed[order_id] = min(at, placed.get(order_id, at))
    ordered = sorted(units, key=lambda oid: (placed[oid], oid))
    return [(oid, frozenset(units[oid]), units[oid]) for oid in ordered]


@dataclass
class _Catalog:
    ids: list[int]
    rows: np.ndarray  # object array: text, category, brand, price band
    category: list[str]


def _catalog() -> _Catalog:
    """The products on the storefront now, with their content features."""
    rows = db.session.execute(
        select(
            Product.id,
            Product.title,
            Product.description,
            Product.category_id,
            Product.brand_id,
            func.min(ProductVariant.price),
        )
        .outerjoin(
            ProductVariant,
            (ProductVariant.product_id == Product.id) & ProductVariant.is_active.is_(True),
        )
        .where(*on_storefront())
        .group_by(Product.id, Product.title, Product.description, Product.category_id)
        .group_by(Product.brand_id)
        .order_by(Product.id)
    ).all()
    features = [
        (
            f"{title} {description or ''}",
            f"c{category_id}",
            f"b{brand_id}",
            "p-" if not price or price <= 0 else f"p{math.floor(math.log2(float(price)))}",
        )
        for _, title, description, category_id, brand_id, price in rows
    ]
    array = np.empty((len(rows), 4), dtype=object)
    for i, row in enumerate(features):
        array[i] = row
    return _Catalog([r[0] for r in rows], array, [f[1] for f in features])


# --- the models ----------------------------------------------------------------------------------


def _bought_together(
    baskets: list[frozenset[int]], keep: int = STORED
) -> dict[int, list[tuple[int, float]]]:
    """product -> [(product, cosine)] of the products co-purchased at least MIN_SUPPORT times."""
    products = sorted({p for basket in baskets for p in basket})
    if not products:
        return {}
    index = {p: i for i, p in enumerate(products)}
    rows = [r for r, basket in enumerate(baskets) for _ in basket]
    cols = [index[p] for basket in baskets for p in basket]
    x = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(baskets), len(products)))
    co = (x.T @ x).tocsr()  # co[i, j]: orders holding both; co[i, i]: orders holding i
    counts = co.diagonal()
    lists: dict[int, list[tuple[int, float]]] = {}
    for i, product in enumerate(products):
        start, end = co.indptr[i], co.indptr[i + 1]
        pairs = []
        for j, support in zip(co.indices[start:end], co.data[start:end], strict=True):
            if j == i or support < MIN_SUPPORT:
                continue
            cosine = float(support / math.sqrt(counts[i] * counts[j]))
            pairs.append((-cosine, -support, products[j], cosine))
        if pairs:
            pairs.sort()
            lists[product] = [(p, round(c, 6)) for _, _, p, c in pairs[:keep]]
    return lists


def _popular(units: list[dict[int, int]], keep: int = STORED_POPULAR) -> list[tuple[int, float]]:
    total: Counter[int] = Counter()
    for basket in units:
        total.update(basket)
    ranked = sorted(total.items(), key=lambda item: (-item[1], item[0]))
    return [(p, float(n)) for p, n in ranked[:keep]]


def content_pipeline(n_neighbors: int, text: bool = True) -> Pipeline:
    """Content features -> cosine nearest neighbours (columns: text, category, brand, band);
    without the text when `text` is False (a catalog whose titles hold no word but stop words)."""
    columns = [
        ("category", OneHotEncoder(handle_unknown="ignore"), [1]),
        ("brand", OneHotEncoder(handle_unknown="ignore"), [2]),
        ("price_band", OneHotEncoder(handle_unknown="ignore"), [3]),
    ]
    if text:
        columns.insert(0, ("text", TfidfVectorizer(sublinear_tf=True, stop_words="english"), 0))
    features = ColumnTransformer(
        columns, transformer_weights={name: WEIGHTS[name] for name, _, _ in columns}
    )
    return Pipeline(
        [
            ("features", features),
            (
                "neighbours",
                NearestNeighbors(n_neighbors=n_neighbors, metric="cosine", algorithm="brute"),
            ),
        ]
    )


def _similar(catalog: _Catalog) -> dict[int, list[tuple[int, float]]]:
    n = len(catalog.ids)
    if n < 2:
        return {}
    try:
        pipeline = content_pipeline(min(STORED + 1, n)).fit(catalog.rows)
    except ValueError as exc:  # "empty vocabulary": no title or description has a real word
        if "vocabulary" not in str(exc):
            raise
        pipeline = content_pipeline(min(STORED + 1, n), text=False).fit(catalog.rows)
    distances, neighbours = pipeline[-1].kneighbors(pipeline[:-1].transform(catalog.rows))
    lists = {}
    for i, product in enumerate(catalog.ids):
        found = [
            (catalog.ids[j], round(1.0 - float(d), 6))
            for d, j in zip(distances[i], neighbours[i], strict=True)
            if j != i and d < 1.0 - 1e-9  # nothing in common: not similar
        ]
        lists[product] = found[:STORED]
    return lists


# --- the evaluation ------------------------------------------------------------------------------


def _hit_rates(
    train: list[frozenset[int]], train_units: list[dict[int, int]], test: list[frozenset[int]]
) -> tuple[float | None, float | None, int]:
    """Hit rate at K of the served lists (bought together, else popular) and of popularity alone,
    over every product of every held-out order with two or more products."""
    lists = _bought_together(train, keep=K)
    popular = [p for p, _ in _popular(train_units, keep=K + 1)]
    hits = baseline_hits = trials = 0
    for basket in test:
        for product in basket:
            others = basket - {product}
            top_popular = [p for p in popular if p != product][:K]
            served = [p for p, _ in lists.get(product, ())][:K] or top_popular
            trials += 1
            hits += bool(others & set(served))
            baseline_hits += bool(others & set(top_popular))
    if not trials:
        return None, None, 0
    return round(hits / trials, 4), round(baseline_hits / trials, 4), trials


def _same_category(catalog: _Catalog, similar: dict[int, list[tuple[int, float]]]):
    """Share of the top K similar items in the product's category, and a random pick's."""
    category = dict(zip(catalog.ids, catalog.category, strict=True))
    same = total = 0
    for product, found in similar.items():
        for other, _ in found[:K]:
            total += 1
            same += category[other] == category[product]
    sizes = Counter(catalog.category)
    n = len(catalog.ids)
    random_pick = sum(s * (s - 1) for s in sizes.values()) / (n * (n - 1)) if n > 1 else 0.0
    return (round(same / total, 4) if total else None), round(random_pick, 4)


# --- the trainer ---------------------------------------------------------------------------------


@register_trainer(registry.RECOMMENDATIONS)
def train(version: registry.ModelVersion) -> None:
    end = utcnow()
    start = end - dt.timedelta(days=WINDOW_DAYS)
    catalog = _catalog()
    if len(catalog.ids) < 2:
        raise NotEnoughData(f"{len(catalog.ids)} product(s) on the storefront, 2 needed")
    orders = _baskets(start)
    baskets = [b for _, b, _ in orders]
    units = [u for _, _, u in orders]

    multi = [i for i, b in enumerate(baskets) if len(b) >= 2]
    cut = multi[int(len(multi) * (1 - HOLDOUT_SHARE))] if len(multi) >= 5 else len(baskets)
    hit_rate, popular_hit_rate, trials = _hit_rates(
        baskets[:cut], units[:cut], [b for b in baskets[cut:] if len(b) >= 2]
    )

    together = _bought_together(baskets)
    similar = _similar(catalog)
    popular = _popular(units)
    same_category, random_same_category = _same_category(catalog, similar)

    rows = [
        {"product_id": product, "list_kind": kind, "rank": rank, "recommended_product_id": other}
        | {"score": score}
        for kind, lists in ((BOUGHT_TOGETHER, together), (SIMILAR, similar))
        for product, found in lists.items()
        for rank, (other, score) in enumerate(found, 1)
    ]
    rows += [
        {"product_id": None, "list_kind": POPULAR, "rank": rank, "recommended_product_id": p}
        | {"score": score}
        for rank, (p, score) in enumerate(popular, 1)
    ]
    tenant_id = current_tenant_id()
    for row in rows:
        row.update(model_version_id=version.id, tenant_id=tenant_id)
    for i in range(0, len(rows), 2000):
        db.session.execute(insert(Recommendation.__table__), rows[i : i + 2000])

    version.algorithm = (
        f"co-purchase cosine (min support {MIN_SUPPORT}) + "
        "Pipeline(ColumnTransformer(TfidfVectorizer, OneHotEncoder x3), "
        "NearestNeighbors(metric=cosine)) + popularity"
    )
    version.params = {
        "window_days": WINDOW_DAYS,
        "min_support": MIN_SUPPORT,
        "stored_per_list": STORED,
        "k": K,
        "holdout_share": HOLDOUT_SHARE,
        "weights": WEIGHTS,
    }
    version.features = FEATURES + ["co-purchases in paid orders", "units sold"]
    version.window_start, version.window_end = start, end
    version.rows = len(baskets)
    version.metrics = {
        f"hit_rate_at_{K}": hit_rate,
        f"similar_same_category_at_{K}": same_category,
        "holdout_trials": trials,
        "products_with_bought_together": len(together),
        "catalog_products": len(catalog.ids),
    }
    version.baseline = {
        f"hit_rate_at_{K}": popular_hit_rate,
        f"similar_same_category_at_{K}": random_same_category,
        "baseline": "popularity (hit rate); a random pick (same category)",
    }


# --- serving -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recommended:
    score: float
    product: ProductCard


@dataclass(frozen=True)
class Recommendations:
    product_id: int
    kind: str
    source: str  # the list answered: the kind asked for, "popular" (cold start) or "none"
    model_version: int | None  # the version's number (None: nothing trained yet)
    items: tuple[Recommended, ...]


def _read(version_id: int, product_id: int | None, kind: str, exclude: int, limit: int):
    rec = Recommendation
    owner = rec.product_id.is_(None) if product_id is None else rec.product_id == product_id
    return db.session.execute(
        select(rec.recommended_product_id, rec.score)
        .join(Product, Product.id == rec.recommended_product_id)
        .where(rec.model_version_id == version_id, owner, rec.list_kind == kind)
        .where(Product.id != exclude, *on_storefront())
        .order_by(rec.rank)
        .limit(limit)
    ).all()


def recommendations_for(product_id: int, kind: str, limit: int) -> Recommendations:
    """The product's `kind` list (bought_together or similar) of the active version, the popular
    list when it has none on the storefront; NotFound for a product the storefront does not show."""
    shown = db.session.scalar(select(Product.id).where(Product.id == product_id, *on_storefront()))
    if shown is None:
        raise NotFound("no such product")
    version = registry.active(registry.RECOMMENDATIONS)
    if version is None:
        return Recommendations(product_id, kind, "none", None, ())
    source, rows = kind, _read(version.id, product_id, kind, product_id, limit)
    if not rows:
        source, rows = POPULAR, _read(version.id, None, POPULAR, product_id, limit)
    cards = {card.id: card for card in product_cards([pid for pid, _ in rows])}
    items = tuple(Recommended(round(score, 4), cards[pid]) for pid, score in rows if pid in cards)
    return Recommendations(product_id, kind, source, version.version, items)
