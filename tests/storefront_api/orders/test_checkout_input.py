"""POST /api/v1/orders/'s body becomes a frozen CheckoutInput (storefront_api.orders.CheckoutSchema)
whose fingerprint is the dict the schema loaded before: the request hashes below were computed on
2710a90 from the schema's own load, so every Idempotency-Key stored then still replays."""

from __future__ import annotations

import pytest

from app.checkout.inputs import CheckoutInput, PaymentChoice, ShippingChoice
from app.core.inputs import UNSET
from app.customers.inputs import AddressInput
from app.events.idempotency import request_hash
from storefront_api.orders import CheckoutSchema
from tests.builders.orders import ADDRESS

PINNED = [
    (
        {"shipping_address": ADDRESS},
        "69a7ee946243e7944c7da4521cb8b2fb25143cbee3614992fb2b99e7f68dfd9c",
    ),
    (
        {
            "email": "ada@example.com",
            "shipping_address": dict(
                ADDRESS, company="Analytical Engines", line2=None, phone="+44 20 7946 0000"
            ),
            "coupon_codes": ["SAVE10", "FREESHIP"],
            "shipping_methods": [
                {"seller_id": 3, "method_id": 4},
                {"seller_id": 1, "method_id": 2},
            ],
            "notes": "leave at the door",
            "payment": {"method": "bank_transfer"},
        },
        "7973b163cc9c3d53a498fd7b8e797eb59cc9c196ec3f102bea54074a4d020b70",
    ),
    (
        {"address_id": 12, "notes": None},
        "6043145cbba48f4d71d75c265ab686fa8379838bc4db3b8df8dfa3bed98aa8fd",
    ),
    ({"address_id": 12}, "391148c9d039e2bfe706f6382c3ea0efb01f4583d56c29b3f073664ef4616624"),
    (
        {
            "shipping_address": dict(ADDRESS, company=None, region="ENG"),
            "notes": None,
            "payment": {"method": "test_card", "details": {"card_number": "4242424242424242"}},
        },
        "be658e00b85e7e20570931b0c048a4408fdf36f33c233b89af6e72c856e16bc5",
    ),
]


@pytest.mark.parametrize(("body", "pinned"), PINNED)
def test_the_fingerprint_of_a_loaded_body_is_the_one_stored_before(app, body, pinned):
    with app.test_request_context():
        loaded = CheckoutSchema().load(body)
    assert isinstance(loaded, CheckoutInput)
    assert request_hash(loaded.fingerprint_fields()) == pinned


def test_the_body_loads_into_typed_values_with_unsent_fields_unset(app):
    body, _ = PINNED[1]
    with app.test_request_context():
        full = CheckoutSchema().load(body)
        by_id = CheckoutSchema().load({"address_id": 12})
    assert full.shipping_methods == (ShippingChoice(3, 4), ShippingChoice(1, 2))
    assert full.payment == PaymentChoice("bank_transfer", {})
    assert full.coupon_codes == ("SAVE10", "FREESHIP") and full.address_id is UNSET
    assert full.shipping_address.line2 is None and full.shipping_address.region is UNSET
    assert by_id.shipping_address is UNSET and by_id.notes is UNSET and by_id.payment is UNSET
    assert by_id.coupon_codes == () and by_id.shipping_methods == ()


def test_an_input_built_in_code_fingerprints_as_the_same_request_through_the_api():
    """A face (or a job) that builds the input itself gets the API's fingerprint for it."""
    built = CheckoutInput(shipping_address=AddressInput(**ADDRESS))
    assert request_hash(built.fingerprint_fields()) == PINNED[0][1]
    # a field sent as null is another request than one not sent
    assert (
        request_hash(CheckoutInput(address_id=12, notes=None).fingerprint_fields())
        == (PINNED[2][1])
    )
    assert request_hash(CheckoutInput(address_id=12).fingerprint_fields()) == PINNED[3][1]
