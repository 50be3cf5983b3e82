"""admin/bulk.py, the one runner of the lists' bulk actions: each row through the service, one
summary ("3 sub-orders shipped."), one message per refusal naming the row with the service's words,
and the same categories on every list (success, warning, danger). The lists' own tests
(test_bulk_actions_admin, orders/test_fulfilment_admin, app/payments/test_retry_refund,
orders/test_order_desk) post the real actions; this one pins the runner's rules."""

from __future__ import annotations

from flask import get_flashed_messages

from admin.bulk import DANGER, SUCCESS, WARNING, BulkActions, run_each, summary
from admin.bulk import report as flash_report
from admin.views.accounts import SessionView
from admin.views.catalog import ProductView
from admin.views.orders import SubOrderView
from admin.views.payments import PaymentView, RefundView
from admin.views.reviews import ReviewView
from app.core.errors import Conflict, NotFound


def test_the_summary_counts_in_words():
    assert summary(1, "sub-order", "shipped") == "1 sub-order shipped."
    assert summary(3, "sub-order", "shipped") == "3 sub-orders shipped."
    assert summary(0, "product", "published") == "No products published."
    assert summary(2, "mouse", "moved", plural="mice") == "2 mice moved."


def test_each_row_runs_and_each_refusal_is_named_with_the_services_words():
    seen = []

    def call(row_id: int):
        seen.append(row_id)
        if row_id == 2:
            raise Conflict(
                "an order cannot go from paid to shipped", details={"allowed": ["processing"]}
            )
        if row_id == 3:
            raise NotFound("no such sub-order")
        return "look at it" if row_id == 4 else None

    outcome = run_each([1, 2, 3, 4], call, lambda row_id: f"Row {row_id}")
    assert seen == [1, 2, 3, 4]  # a refusal does not stop the others
    assert outcome.done == 2
    assert outcome.refused == [
        "Row 2: An order cannot go from paid to shipped (possible now: processing).",
        "Row 3: No such sub-order.",
    ]
    assert outcome.watch == ["Row 4: look at it"]


def test_the_report_uses_the_same_categories_everywhere(app):
    def call(row_id: int):
        if row_id == 2:
            raise Conflict("refused")
        return "watch this" if row_id == 3 else None

    with app.test_request_context("/"):
        flash_report(run_each([1, 2, 3], call, str), "payment", "marked received")
        assert get_flashed_messages(with_categories=True) == [
            (SUCCESS, "2 payments marked received."),
            (WARNING, "3: watch this"),
            (DANGER, "2: Refused."),
        ]
    with app.test_request_context("/"):
        flash_report(run_each([2], call, str), "payment", "marked received")
        assert get_flashed_messages(with_categories=True) == [
            (WARNING, "No payments marked received."),
            (DANGER, "2: Refused."),
        ]


def test_every_list_with_bulk_actions_runs_them_through_the_one_runner():
    for view in (SubOrderView, ProductView, ReviewView, PaymentView, RefundView, SessionView):
        assert issubclass(view, BulkActions), view
        assert view._bulk is BulkActions._bulk, view
        assert not hasattr(view, "_act_on"), view
