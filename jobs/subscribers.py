"""Which app service consumes which domain event, and on which queue."""

from __future__ import annotations

from analytics.aggregates import maintain as analytics_aggregates
from app.events.bus import EventBus
from app.inbox import consumers as inbox
from app.inbox import delivery as inbox_delivery
from app.inbox import mails as inbox_mails
from app.inventory import services as inventory
from app.orders import alerts as order_alerts
from app.orders import reactions as orders
from app.payouts import ledger as seller_ledger
from app.payouts import notices as payout_notices
from app.realtime import consumers as realtime
from app.search import analytics as search_analytics
from app.search import service as search
from app.security import auth
from app.sellers import kyc as seller_kyc
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
    # ... and of every KYC decision on their documents, once per decision
    bus.subscribe(
        "seller.kyc_reviewed",
        "sellers.kyc_reviewed_mail",
        seller_kyc.mail_decision,
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
    # the notification centre (issue 15): a stored notification's e-mail, SMS and push
    # deliveries are sent after its commit (the real-time service consumes the same event)
    bus.subscribe("notification.created", "inbox.deliver", inbox_delivery.deliver, queue="high")
    # ... and the events users are told of are stored as notifications (in the app, SMS, push;
    # their e-mails are the transactional mails' own consumers)
    bus.subscribe("order.created", "inbox.order_created", inbox.on_order_created, queue="high")
    bus.subscribe("inventory.low_stock", "inbox.low_stock", inbox.on_low_stock, queue="high")
    # payouts (issue 14): the seller is mailed why a run paid it nothing, and when a payout is paid
    # or failed (payout.created is for staff: it shows on the admin's payout list)
    bus.subscribe(
        "payout.skipped", "payouts.skipped_mail", payout_notices.mail_skipped, queue="high"
    )
    bus.subscribe("payout.paid", "payouts.paid_mail", payout_notices.mail_paid, queue="high")
    bus.subscribe("payout.failed", "payouts.failed_mail", payout_notices.mail_failed, queue="high")
    # Socket.IO (issue 15): emitted by the worker after commit, to the rooms of the people
    # concerned (app/realtime/consumers.py; payloads in README.md "Real-time")
    for name, handler in (
        ("order.created", realtime.on_order_created),
        ("order.status_changed", realtime.on_order_status_changed),
        ("inventory.low_stock", realtime.on_low_stock),
        ("inventory.stock_changed", realtime.on_stock_changed),
        ("payout.paid", realtime.on_payout_paid),
        # published by notifications and chat with "recipient_user_ids" in their payload
        ("notification.created", realtime.on_addressed),
        ("chat.message", realtime.on_addressed),
    ):
        bus.subscribe(name, f"realtime.{name}", handler, queue="high")
    # transactional mails (issue 15, item 2): one consumer per audience, once per event; the
    # tenant's templates and branding, the recipients' e-mail preferences (app/inbox/mails.py)
    for name, consumer, handler in (
        ("order.created", "mail.order_confirmation", inbox_mails.order_confirmation),
        ("order.created", "mail.seller_new_order", inbox_mails.seller_new_order),
        ("order.status_changed", "mail.order_status", inbox_mails.status_changed),
        ("refund.requested", "mail.refund_requested", inbox_mails.refund_requested),
        ("refund.decided", "mail.refund_decided", inbox_mails.refund_decided),
        ("refund.completed", "mail.refund_paid", inbox_mails.refund_paid),
        ("payment.failed", "mail.payment_failed", inbox_mails.payment_failed),
        ("inventory.low_stock", "mail.low_stock", inbox_mails.low_stock),
        ("review.created", "mail.review_posted", inbox_mails.review_posted),
        # ... each of which asks for its mails, one event each, sent by their own jobs
        (inbox_mails.MAIL_REQUESTED, "mail.deliver", inbox_mails.deliver),
    ):
        bus.subscribe(name, consumer, handler, queue="high")
    # ... and every real-time event is also a stored notification (item 1), so whoever was
    # offline sees it later (app/inbox/consumers.py)
    for name, consumer, handler in (
        ("order.status_changed", "inbox.order_status_changed", inbox.on_order_status_changed),
        ("payout.paid", "inbox.payout_paid", inbox.on_payout_paid),
        ("review.created", "inbox.review_created", inbox.on_review_created),
        ("chat.message", "inbox.chat_message", inbox.on_chat_message),
    ):
        bus.subscribe(name, consumer, handler, queue="high")
    # analytics aggregates (issue 16): every order event refreshes its order's contribution
    for name in ("order.created", "order.status_changed", "refund.completed"):
        bus.subscribe(
            name, f"analytics.aggregates.{name}", analytics_aggregates.on_order_event, queue="low"
        )
