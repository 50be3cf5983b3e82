"""Moved to `app.pricing_contract` (below promotions, shipping and tax, which share its types).

Kept only for app/checkout/services.py, which imports these two names from here; delete this
module once checkout imports them from `app.pricing_contract`.
"""

from app.pricing_contract import Destination, PricingResult

__all__ = ["Destination", "PricingResult"]
