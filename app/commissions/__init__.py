"""Commission rules: the share of a sale the platform keeps, as a percentage and/or a fixed amount
(per order line or per sub-order), by platform default, category, seller, or seller and category,
valid from / until. Checkout freezes what applied on each line and sub-order (services.py)."""
