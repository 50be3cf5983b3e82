"""A purchase order's statuses: the steps each allows (app.purchasing.models.TRANSITIONS) and the
refusals of send and cancel, on orders in hand (no database: the rules are the functions')."""

from __future__ import annotations

import pytest

from app.core.errors import Conflict, ValidationError
from app.purchasing import services
from app.purchasing.errors import PurchasingError
from app.purchasing.models import (
    CANCELLED,
    DRAFT,
    PARTLY_RECEIVED,
    PO_STATUSES,
    RECEIVED,
    SENT,
    TRANSITIONS,
    PurchaseOrder,
    PurchaseOrderLine,
)


def _order(status: str, lines: int = 1) -> PurchaseOrder:
    order = PurchaseOrder(number="PO-1", status=status, currency="USD")
    for _ in range(lines):
        order.lines.append(PurchaseOrderLine(quantity_ordered=1, quantity_received=0))
    return order


def test_every_status_has_its_steps_and_the_ends_have_none():
    assert set(TRANSITIONS) == set(PO_STATUSES)
    assert TRANSITIONS[RECEIVED] == () and TRANSITIONS[CANCELLED] == ()
    assert SENT not in TRANSITIONS[SENT] and DRAFT not in sum(TRANSITIONS.values(), ())


@pytest.mark.parametrize("status", [SENT, PARTLY_RECEIVED, RECEIVED, CANCELLED])
def test_only_a_draft_is_sent(status):
    order = _order(status)
    with pytest.raises(Conflict) as refused:
        services.send(order)
    assert refused.value.code == PurchasingError.PURCHASE_ORDER_STATUS
    assert refused.value.details == {"status": status, "allowed": list(TRANSITIONS[status])}
    assert order.status == status


def test_a_draft_without_lines_is_not_sent():
    with pytest.raises(ValidationError):
        services.send(_order(DRAFT, lines=0))
    order = _order(DRAFT)
    services.send(order)
    assert order.status == SENT and order.sent_at is not None


@pytest.mark.parametrize("status", [DRAFT, SENT, PARTLY_RECEIVED])
def test_cancel_until_everything_arrived(status):
    order = _order(status)
    services.cancel(order)
    assert order.status == CANCELLED and order.cancelled_at is not None


@pytest.mark.parametrize("status", [RECEIVED, CANCELLED])
def test_a_received_or_cancelled_order_is_not_cancelled(status):
    with pytest.raises(Conflict):
        services.cancel(_order(status))
