"""The admin's global search: one question ("261206-4B", "ada@", "oak table", a SKU) answered with
the orders, customers and products the asker may open, a few of each.

Staff find orders by number, customers by e-mail or name, products by title or SKU. A seller
finds its own sub-orders (by its number or its order's) and its own products; it never sees
customers. Every query runs in the current tenant (the ORM's tenancy hooks) and through the
domains' own scopes, so the search shows nothing a list would not. Numbers, e-mails and SKUs
match from their start (the indexes serve a prefix); names and titles anywhere in them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

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
    if actor.is_admin:
        return Found(
            query=q,
            orders=_orders(q, limit),
            customers=_customers(q, limit),
            products=_products(q, limit, None),
        )
    seller_id = actor.seller_id
    if seller_id is None:
        return Found(query=q)
    return Found(
        query=q,
        orders=_sub_orders(q, limit, seller_id),
        products=_products(q, limit, seller_id),
    )


def _orders(q: str, limit: int) -> tuple[Hit, ...]:
    rows = db.session.execute(
        select(Order.id, Order.number, Order.status, Order.email)
        .where(Order.number.like(_prefix(q.upper()), escape="\\"))
        .order_by(Order.id.desc())
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
        .order_by(SubOrder.id.desc())
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
    by_sku = select(ProductVariant.product_id).where(
        ProductVariant.sku.like(_prefix(q), escape="\\")
    )
    query = select(Product.id, Product.title, Product.status).where(
        or_(Product.title.like(_anywhere(q), escape="\\"), Product.id.in_(by_sku))
    )
    if seller_id is not None:
        query = query.where(catalog_scopes.products_of_seller(seller_id))
    rows = db.session.execute(query.order_by(Product.title, Product.id).limit(limit)).all()
    return tuple(Hit("product", r.id, r.title, _words(r.status)) for r in rows)
