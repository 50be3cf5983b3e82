"""The one Idempotency-Key mechanism (app.events.idempotency): claim, replay, another request's
409, keys apart per domain and caller, a result written with the key or recorded after it."""

from __future__ import annotations

import pytest

from app.core.errors import ValidationError
from app.core.tenancy import tenant_scope
from app.events import idempotency
from app.events.idempotency import IdempotencyKeyReused
from app.extensions import db


def test_claim_replays_the_same_request_and_refuses_another(ctx, factory):
    tenant = factory.tenant()
    body = idempotency.request_hash({"b": 2, "a": 1})
    assert body == idempotency.request_hash({"a": 1, "b": 2})  # key order does not matter
    with tenant_scope(tenant.id):
        row, replay = idempotency.claim("checkout", "user:1", "k", "order", body)
        assert not replay and row.result == {}
        row.result = {"order_id": 7}
        db.session.flush()
        earlier, replay = idempotency.claim("checkout", "user:1", "k", "order", body)
        assert replay and earlier.result_id("order_id") == 7
        other = idempotency.request_hash({"a": 2})
        with pytest.raises(IdempotencyKeyReused) as exc:
            idempotency.claim("checkout", "user:1", "k", "order", other)
        assert exc.value.code == "idempotency_key_reused"
        with pytest.raises(IdempotencyKeyReused):  # another operation is another request
            idempotency.claim("checkout", "user:1", "k", "refund", body)
        # the same key is another caller's own, and another domain's own
        assert not idempotency.claim("checkout", "user:2", "k", "order", other)[1]
        assert not idempotency.claim("payments", "user:1", "k", "process", other)[1]


def test_a_result_written_with_the_key_or_recorded_after_it(ctx, factory):
    tenant = factory.tenant()
    body = idempotency.request_hash({})
    with tenant_scope(tenant.id):
        row, _ = idempotency.claim(
            "payments", "system", "w", "payment", body, write=lambda: {"payment_id": 3}
        )
        assert row.result == {"payment_id": 3}
        idempotency.claim("payments", "system", "r", "refund", body)
        idempotency.set_result("payments", "system", "r", payment_id=3, refund_id=9)
        found = idempotency.find("payments", "system", "r", "refund")
        db.session.refresh(found)
        assert found.result == {"payment_id": 3, "refund_id": 9}
        assert idempotency.find("payments", "system", "r", "process") is None


@pytest.mark.parametrize("key", ["", None, "x" * 129])
def test_a_key_has_1_to_the_callers_maximum_characters(key):
    with pytest.raises(ValidationError) as exc:
        idempotency.check_key(key, 128)
    assert exc.value.details == {"Idempotency-Key": ["1 to 128 characters"]}
    idempotency.check_key("x" * 128, 128)
