"""Daily aggregates of a tenant's sales, products and customers: what the Analytics API reads
(analytics.metrics), so no request scans orders.

Tables (analytics.aggregates.models, migration 0034), days are the tenant's local days
(Tenant.time_zone, UTC when unset: an order placed at 23:30 local time belongs to that day):
- analytics_sales_daily: day x seller x channel x currency. A sale is a paid sub-order (any
  status but pending and cancelled), as app.dashboards. orders: sub-orders; shop_orders: orders
  (a multi-seller order counts once, on its first sale); units; gross (sub-order totals: lines,
  shipping, tax after discounts); refunded (all of it once refunded, else its completed refund
  requests); commission (the frozen commission on the part not refunded); net = gross - refunded
  - commission (what the sellers keep).
- analytics_category_sales_daily: the same by category, from the lines of each category: gross is
  their line totals (no shipping), refunded and commission allocated by the lines' share of the
  sub-order's total; orders: sub-orders holding a line of the category.
- analytics_product_daily: per product and currency: orders (sub-orders holding it), units,
  revenue (line totals), units refunded (lines of completed refund requests; all once refunded).
- analytics_product_activity_daily: product views (`product_view`) and cart adds
  (`add_to_cart`) from customer_activities, folded in by the rebuild/refresh job only.
- analytics_customers / analytics_customer_days: per customer account (guest checkouts have
  none: they count in sales, not here), shop-wide (seller_id 0) and per seller: first and last
  sale, orders, and per day and currency orders and spend (net of refunds).
- channel: orders carry none today; every order comes through the storefront checkout, recorded
  as "storefront" (maintain.CHANNEL).

Kept current by consumers of order.created, order.status_changed and refund.completed
(analytics.aggregates.maintain), repaired nightly by analytics.aggregates.rebuild.
"""
