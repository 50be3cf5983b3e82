"""The admin's global search: one question ("261206-4B", "ada@", "oak table", a SKU) answered with
the orders, customers and products the asker may open, a few of each.

Staff find orders by number, customers by e-mail or name, products by title or SKU. A seller
finds its own sub-orders (by its number or its order's) and its own products; it never sees
customers. Every query runs in the current tenant (the ORM's tenancy hooks) and through the
domains' own scopes, so the search shows nothing a list would not. Numbers, e-mails and SKUs
match from their start (the indexes serve a prefix); names and titles anywhere in them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from app.catalog import scopes as catalog_scopes
from app.catalog.models import Product, ProductVariant
from app.customers import search as customer_search
from app.customers.models import CustomerProfile
from app.extensions import db
from app.orders import scopes as order_scopes
from app.orders.models import Order, SubOrder
from app.security.actor import Actor
from app.security.models import User

MIN_LENGTH = 2
LIMIT = 8
# the start of an order or sub-order number (YYMMDD-XXXXXXXXXX-n: app.checkout.services), from the
# whole date on
_ORDER_NUMBER = re.compile(r"\d{6}-[0-9A-Fa-f]{0,10}(-\d*)?")


@dataclass(frozen=True, slots=True)
class Hit:
    """One thing found: what it is (`kind`: order, sub_order, customer, product), its id, the
    words it reads as and a second line (a status, an e-mail, a SKU)."""

    kind: str
    id: int
    label: str
    detail: str


@dataclass(frozen=True, slots=True)
class Found:
    query: str
    orders: tuple[Hit, ...] = ()
    customers: tuple[Hit, ...] = ()
    products: tuple[Hit, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.orders or self.customers or self.products)


def _words(status) -> str:
    """A stored status as a person reads it, as the admin's pages write it (admin.formatting.words):
    "refund_requested" -> "Refund requested"."""
    text = str(status).replace("_", " ")
    return text[:1].upper() + text[1:]


def _prefix(q: str) -> str:
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _anywhere(q: str) -> str:
    return "%" + _prefix(q)


def find(actor: Actor, q: str, limit: int = LIMIT) -> Found:
    """What `actor` may open that answers `q` (stripped; under MIN_LENGTH characters: nothing)."""
    q = " ".join(q.split())[:100]
    if len(q) < MIN_LENGTH or not actor.is_staff:
        return Found(query=q)
    # an order number or an e-mail is no title nor SKU: no need to read every product's title
    catalogue = not (_ORDER_NUMBER.fullmatch(q) or "@" in q)
    if actor.is_admin:
        return Found(
            query=q,
            orders=_orders(q, limit),
            customers=_customers(q, limit),
            products=_products(q, limit, None) if catalogue else (),
        )
    seller_id = actor.seller_id
    if seller_id is None:
        return Found(query=q)
    return Found(
        query=q,
        orders=_sub_orders(q, limit, seller_id),
        products=_products(q, limit, seller_id) if catalogue else (),
    )


def _orders(q: str, limit: int) -> tuple[Hit, ...]:
    rows = db.session.execute(
        select(Order.id, Order.number, Order.status, Order.email)
        .where(Order.number.like(_prefix(q.upper()), escape="\\"))
        # numbers start with their date: the number index's range, newest first, no sort
        .order_by(Order.number.desc())
        .limit(limit)
    ).all()
    return tuple(
        Hit("order", r.id, r.number, f"{_words(r.status)} · {r.email or ''}") for r in rows
    )


def _sub_orders(q: str, limit: int, seller_id: int) -> tuple[Hit, ...]:
    rows = db.session.execute(
        select(SubOrder.id, SubOrder.number, SubOrder.status)
        .where(
            order_scopes.sub_orders_of_seller(seller_id),
            SubOrder.number.like(_prefix(q.upper()), escape="\\"),
        )
        .order_by(SubOrder.number.desc())
        .limit(limit)
    ).all()
    return tuple(Hit("sub_order", r.id, r.number, _words(r.status)) for r in rows)


def _customers(q: str, limit: int) -> tuple[Hit, ...]:
    rows = db.session.execute(
        select(CustomerProfile.id, User.first_name, User.last_name, User.email)
        .join(User, User.id == CustomerProfile.user_id)
        .where(customer_search.name_or_email_matches(q))
        .order_by(User.last_name, User.first_name, CustomerProfile.id)
        .limit(limit)
    ).all()
    return tuple(
        Hit(
            "customer",
            r.id,
            f"{r.first_name or ''} {r.last_name or ''}".strip() or r.email,
            r.email,
        )
        for r in rows
    )


def _products(q: str, limit: int, seller_id: int | None) -> tuple[Hit, ...]:
    """Titles containing q, and products with a SKU starting with q: two queries, each served by
    an index (an OR of the two would read every product and every variant), merged in title
    order. The title query selects only what the title index holds (id, title): a title found
    anywhere in it is a scan of that index, not of the table; the status of the few hits is read
    after."""
    scope = () if seller_id is None else (catalog_scopes.products_of_seller(seller_id),)
    by_title = db.session.execute(
        select(Product.id, Product.title)
        .where(Product.title.like(_anywhere(q), escape="\\"), *scope)
        .order_by(Product.title, Product.id)
        .limit(limit)
    ).all()
    skus = select(ProductVariant.product_id).where(ProductVariant.sku.like(_prefix(q), escape="\\"))
    if seller_id is not None:
        skus = skus.where(ProductVariant.seller_id == seller_id)
    by_sku = db.session.execute(
        select(Product.id, Product.title)
        .where(Product.id.in_(skus), *scope)
        .order_by(Product.title, Product.id)
        .limit(limit)
    ).all()
    first = sorted({r.id: (r.title, r.id) for r in (*by_title, *by_sku)}.values())[:limit]
    if not first:
        return ()
    statuses = dict(
        db.session.execute(
            select(Product.id, Product.status).where(Product.id.in_([pid for _, pid in first]))
        ).all()
    )
    return tuple(
        Hit("product", pid, title, _words(statuses[pid])) for title, pid in first if pid in statuses
    )
