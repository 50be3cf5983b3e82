"""Builders for the fulfilment pages of the admin (admin/views/fulfilment.py): orders placed and
moved through the API as a shop's customers and sellers would, and what the admin's forms post."""

from __future__ import annotations

from sqlalchemy import select, update

from app.catalog.models import Product
from app.extensions import db
from app.orders.models import OrderEvent, RefundRequest, SubOrder
from app.reviews import services as reviews
from app.reviews.inputs import NewReview
from app.reviews.models import Review
from app.security.models import User
from app.sellers.actors import actor_for
from app.shipments.models import Shipment
from app.tenants.models import Tenant
from tests.builders.admin import scope
from tests.builders.orders import API, CARD_OK, patch, place, sub_of

SUB_ORDERS = "/admin/sub-orders"


def flashes(client) -> list[tuple[str, str]]:
    """The (category, message) pairs flashed since the last page shown, taken off the session."""
    with client.session_transaction() as session:
        return list(session.pop("_flashes", []))


def messages(client) -> list[str]:
    return [message for _category, message in flashes(client)]


def paid_order(client, shop) -> dict:
    """An order of both sellers paid by card: each sub-order is paid."""
    return place(client, shop, payment=CARD_OK)


def processing_order(client, shop) -> tuple[dict, dict]:
    """A paid order whose first seller's sub-order is processing: (the order, that sub-order)."""
    order = paid_order(client, shop)
    sub = sub_of(order, shop.seller.id)
    response = patch(
        client, shop.h_seller, order["id"], status="processing", sub_order_id=sub["id"]
    )
    assert response.status_code == 200, response.get_json()
    return order, sub


def returned_order(client, shop, *, by=None) -> dict:
    """Seller 1 shipped its sub-order with a label (through the API); the customer (or `by`, the
    headers of who asks) then asks for one of its two units back. The request waits for a decision."""
    order, sub = processing_order(client, shop)
    response = client.post(
        "/api/v1/shipping/create-label/", headers=shop.h_seller, json={"sub_order_id": sub["id"]}
    )
    assert response.status_code in (200, 201), response.get_json()
    line = sub["lines"][0]
    response = client.post(
        f"{API}/{order['id']}/refund/",
        headers=by or shop.h,
        json={
            "reason": "one lamp arrived cracked",
            "lines": [{"line_id": line["id"], "quantity": 1}],
            "sub_order_id": sub["id"],
        },
    )
    assert response.status_code == 200, response.get_json()
    request_id = next(
        r["id"] for r in response.get_json()["refund_requests"] if r["sub_order_id"] == sub["id"]
    )
    return {"order": order, "sub": sub, "line": line, "request_id": request_id}


def sub_order_state(app, tenant_id: int, sub_order_id: int) -> dict:
    """What the database holds of a sub-order: its status, shipments and timeline steps."""
    with scope(app, tenant_id):
        sub = db_get(SubOrder, sub_order_id)
        shipments = _all(select(Shipment).where(Shipment.sub_order_id == sub_order_id))
        events = _all(select(OrderEvent).where(OrderEvent.sub_order_id == sub_order_id))
        return {
            "status": sub.status,
            "shipments": [(s.tracking_number, s.status) for s in shipments],
            "events": len(events),
        }


def shipment_id(app, tenant_id: int, sub_order_id: int) -> int | None:
    with scope(app, tenant_id):
        return db.session.scalar(select(Shipment.id).where(Shipment.sub_order_id == sub_order_id))


def refund_request(app, tenant_id: int, request_id: int) -> dict:
    with scope(app, tenant_id):
        row = db_get(RefundRequest, request_id)
        return {
            "status": row.status,
            "restock": row.restock,
            "restocked": sum(line.restocked_quantity for line in row.lines),
        }


def product_status(app, tenant_id: int, product_id: int) -> str:
    with scope(app, tenant_id):
        return db_get(Product, product_id).status


def review_status(app, tenant_id: int, review_id: int) -> str:
    with scope(app, tenant_id):
        return db_get(Review, review_id).status


def db_get(model, pk):
    return db.session.get(model, pk)


def _all(stmt) -> list:
    return list(db.session.scalars(stmt))


def bulk(client, route_base: str, name: str, ids: list[int], **kwargs):
    """A list page's action on the rows ticked (FAB's action_post), with the CSRF token."""
    return client.post(
        f"{route_base}/action_post",
        data={"action": name, "rowid": [str(i) for i in ids]},
        **kwargs,
    )


def review(app, tenant_id: int, customer, product_id: int, rating: int, title: str) -> int:
    """A customer's review of a product, written through the reviews service (approved)."""
    with scope(app, tenant_id):
        actor = actor_for(db.session.get(User, customer.user_id))
        review_id = reviews.create_review(
            actor, NewReview(product_id=product_id, rating=rating, title=title)
        ).id
        db.session.remove()
        return review_id


def rating(app, tenant_id: int, product_id: int) -> tuple:
    """A product's rating summary: (average, count)."""
    with scope(app, tenant_id):
        product = db.session.get(Product, product_id)
        return product.rating_avg, product.rating_count


def set_product_limit(app, tenant_id: int, limit: int | None) -> None:
    """The tenant's plan limit on products (tenants.max_products)."""
    with scope(app):
        db.session.execute(update(Tenant).where(Tenant.id == tenant_id).values(max_products=limit))
        db.session.commit()
