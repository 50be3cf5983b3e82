"""Promotions: percentage, fixed amount, free shipping and buy-X-get-Y discounts, automatic or by
coupon code, with conditions, usage limits and stacking rules. The engine part is
`app.promotions.apply`; limits are consumed by `app.promotions.services.redeem` at checkout."""
