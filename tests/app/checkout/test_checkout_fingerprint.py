"""Checkout's Idempotency-Key fingerprint (app.events.idempotency.request_hash of the request) is
pinned: the hashes below are what the code stored before checkout took a typed input (computed on
2710a90), so keys stored then still replay after it, and a changed body (a key left out instead of
sent as null included) is still refused."""

from __future__ import annotations

from sqlalchemy import select

from app.core.tenancy import tenant_scope
from app.events.idempotency import IdempotencyKey
from app.extensions import db
from tests.builders.api import error
from tests.builders.orders import ADDRESS, CARD_OK, checkout, fill, key

CUSTOMER_BODY = {
    "shipping_address": dict(ADDRESS, company=None, region="ENG"),
    "notes": None,
    "payment": CARD_OK,
}
CUSTOMER_HASH = "be658e00b85e7e20570931b0c048a4408fdf36f33c233b89af6e72c856e16bc5"
GUEST_BODY = {"shipping_address": ADDRESS, "email": "guest@example.com"}
GUEST_HASH = "00b52fb641861443bf19c5e2d705861390e892f2d744546a394f0cef057b9b20"


def stored_hash(app, tenant_id: int, idem: str) -> str:
    with app.app_context(), tenant_scope(tenant_id):
        return db.session.scalar(
            select(IdempotencyKey.request_hash).where(
                IdempotencyKey.key == idem, IdempotencyKey.domain == "checkout"
            )
        )


def test_a_customers_checkout_stores_the_same_fingerprint_as_before(app, client, shop):
    fill(client, shop.h, (shop.product.variant_id, 1))
    idem = key()
    first = checkout(client, shop.h, CUSTOMER_BODY, idem=idem)
    assert first.status_code == 201, first.get_json()
    assert stored_hash(app, shop.tenant.id, idem) == CUSTOMER_HASH
    again = checkout(client, shop.h, CUSTOMER_BODY, idem=idem)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    # notes left out is another body than notes sent as null, as it always was
    error(
        checkout(client, shop.h, {k: v for k, v in CUSTOMER_BODY.items() if k != "notes"}, idem),
        409,
        "idempotency_key_reused",
    )
    error(
        checkout(client, shop.h, dict(CUSTOMER_BODY, coupon_codes=["X1"]), idem),
        409,
        "idempotency_key_reused",
    )


def test_a_key_stored_before_replays_and_a_changed_body_is_refused(app, client, shop):
    """A key row as the code before the typed input wrote it (the literal hash) answers its order
    to the same body."""
    fill(client, shop.h, (shop.product.variant_id, 1))
    placed = checkout(client, shop.h, CUSTOMER_BODY)
    assert placed.status_code == 201, placed.get_json()
    old_key = key()
    with app.app_context(), tenant_scope(shop.tenant.id):
        db.session.add(
            IdempotencyKey(
                domain="checkout",
                scope=f"user:{shop.customer.user.id}",
                key=old_key,
                operation="order",
                request_hash=CUSTOMER_HASH,
                result={"order_id": placed.get_json()["id"]},
            )
        )
        db.session.commit()
    replay = checkout(client, shop.h, CUSTOMER_BODY, idem=old_key)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json()["id"] == placed.get_json()["id"]
    changed = dict(CUSTOMER_BODY, shipping_address=dict(CUSTOMER_BODY["shipping_address"]))
    del changed["shipping_address"]["company"]  # absent, not null: another body
    error(checkout(client, shop.h, changed, idem=old_key), 409, "idempotency_key_reused")


def test_a_guests_checkout_stores_the_same_fingerprint_as_before(app, client, shop):
    h = fill(client, shop.h_guest, (shop.product2.variant_id, 1))
    idem = key()
    first = checkout(client, h, GUEST_BODY, idem=idem)
    assert first.status_code == 201, first.get_json()
    assert stored_hash(app, shop.tenant.id, idem) == GUEST_HASH
