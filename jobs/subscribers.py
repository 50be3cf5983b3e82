"""Which app service consumes which domain event, and on which queue."""

from __future__ import annotations

from app.events.bus import EventBus
from app.inventory import services as inventory
from app.orders import alerts as order_alerts
from app.orders import reactions as orders
from app.payouts import ledger as seller_ledger
from app.search import analytics as search_analytics
from app.search import service as search
from app.security import auth
from app.sellers import onboarding as seller_onboarding
from app.shipments import services as shipments


def subscribe_all(bus: EventBus) -> None:
    bus.subscribe(
        "inventory.stock_changed",
        "inventory.low_stock_check",
        inventory.check_low_stock,
        queue="high",
    )

    # e-mails of the authentication API: the consumer creates the one-time token (hash stored) and
    # sends the mail in the same job, so the raw token never reaches the database, outbox or Redis
    bus.subscribe(
        "user.registered", "auth.verification_email", auth.send_verification_email, queue="high"
    )
    bus.subscribe("user.registered", "auth.welcome_email", auth.send_welcome_email, queue="high")
    bus.subscribe(
        "auth.verification_requested",
        "auth.verification_email_again",
        auth.send_verification_email,
        queue="high",
    )
    bus.subscribe(
        "auth.registration_attempted",
        "auth.registration_attempt_email",
        auth.send_registration_attempt_email,
        queue="high",
    )
    bus.subscribe(
        "auth.password_reset_requested",
        "auth.password_reset_email",
        auth.send_password_reset_email,
        queue="high",
    )

    # sellers are told of their application and of every status change (issue 14)
    bus.subscribe(
        "seller.registered",
        "sellers.application_received_mail",
        seller_onboarding.mail_application_received,
        queue="high",
    )
    bus.subscribe(
        "seller.status_changed",
        "sellers.status_changed_mail",
        seller_onboarding.mail_status_change,
        queue="high",
    )

    # orders follow their payments (issue 4)
    bus.subscribe("payment.captured", "orders.mark_paid", orders.on_payment_captured, queue="high")
    bus.subscribe("payment.failed", "orders.payment_failed", orders.on_payment_failed, queue="high")
    bus.subscribe(
        "refund.completed", "orders.refund_completed", orders.on_refund_completed, queue="high"
    )
    # a refused payment refund fails its refund request and frees its units and money
    bus.subscribe("refund.failed", "orders.refund_failed", orders.on_refund_failed, queue="high")
    # ... and the tenant's admins are told by e-mail (the customer is still owed that money)
    bus.subscribe(
        "refund.failed",
        "orders.refund_failed_mail",
        order_alerts.mail_admins_refund_failed,
        queue="high",
    )
    # a delivered sub-order's shipments say so (shipments follows orders)
    bus.subscribe(
        "order.delivered", "shipments.record_delivery", shipments.record_delivery, queue="high"
    )
    # a capture that lands after its order was cancelled is refunded (orders' reaction, calling
    # payments; the consumer keeps its first name, which processed events and queued jobs hold)
    bus.subscribe(
        "payment.captured",
        "payments.refund_if_order_cancelled",
        orders.refund_if_order_cancelled,
        queue="high",
    )
    # search indexing (queue "default"): each consumer re-reads the product when it runs, so
    # delivery order does not matter and a replay changes nothing
    for name in ("catalog.product_changed", "review.created", "review.updated", "review.deleted"):
        bus.subscribe(name, "search.index_product", search.on_catalog_event)
    bus.subscribe("inventory.stock_changed", "search.index_stock", search.on_stock_event)
    bus.subscribe("search.reindex_requested", "search.index_touched", search.on_reindex_requested)
    # search analytics (queue "low"): the log rows are written after the search answered
    bus.subscribe(
        "search.performed", "search.log_query", search_analytics.on_search_performed, queue="low"
    )
    bus.subscribe(
        "search.clicked", "search.log_click", search_analytics.on_search_clicked, queue="low"
    )
    # the seller ledger (issue 14): a paid sub-order's sale entries, its money's release at
    # delivery, a completed refund's refund and commission reversal; once per event (consume)
    bus.subscribe(
        "order.status_changed",
        "payouts.ledger_sale",
        seller_ledger.on_sub_order_status_changed,
        queue="high",
    )
    bus.subscribe(
        "order.delivered", "payouts.ledger_release", seller_ledger.on_delivered, queue="high"
    )
    bus.subscribe(
        "refund.completed", "payouts.ledger_refund", seller_ledger.on_refund_completed, queue="high"
    )
