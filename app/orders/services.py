"""Orders' use cases, by purpose (import them from their modules; this module holds no code):

- app.orders.visibility   who sees which orders and how (Viewer, order_view); list_orders, get_order
- app.orders.lifecycle    update_order (fulfilment steps, notes, address), cancel_order, expire_unpaid
- app.orders.refunds      request_refund, decide_refund, retry_failed_refund; paying a request out
- app.orders.reactions    consumers of payments' events: paid, payment failed, refund completed or
                          failed, a capture after the order was cancelled
- app.orders.pay_later    pay_order: an order paid by its id
- app.orders.transitions  the state machine applied to sub-orders (move, set_status, follow_refunds)
- app.orders.refundable   what is still refundable and fulfillable (RefundPosition): one rule
- app.orders.stock        the stock an order holds, sells, releases and takes back
- app.orders.states       the state machine's table; app.orders.access a guest's order token;
                          app.orders.shares a seller's share of an order's money

Checkout (the cart becomes an order) is app.checkout.services; an order's tracking and its
shipments are app.shipments.services.
"""
