"""Payments' use cases, by purpose (import them from their modules; this module holds no code):

- app.payments.charges        open, run (authorize, capture), process, confirm, capture,
                              mark_received, void a payment
- app.payments.refunds        refund (the only way money goes back), retry_refund,
                              void_or_refund_for_cancel, refund_for_api
- app.payments.webhooks       handle_webhook: gateways' signed events, applied once
- app.payments.methods        enabled_methods and the checks of a method and its details
- app.payments.access         whose payment it is (404 otherwise), list_transactions
- app.payments.idempotency    Idempotency-Key (payments' scopes over app.events.idempotency):
                              the same key and body give the first result
- app.payments.gateway_calls  the claim and the gateway call, with no transaction open
- app.payments.ledger         the payment row, its transactions and events, amounts
- app.payments.gateways       the adapters (manual, test, stripe)

Payments sits below orders: what it must know of an order comes as arguments, and what orders
must do when a payment or refund changes follows payments' events (app.orders.reactions).
"""
