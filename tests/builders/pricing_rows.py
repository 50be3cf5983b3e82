"""One row of every pricing model in the current tenant, for tests/app/tenants/test_tenancy.py."""

from __future__ import annotations

from decimal import Decimal

from app.extensions import db
from app.promotions.models import Promotion, PromotionCustomerUsage, PromotionRedemption
from app.shipping.models import ShippingMethod, ShippingRateBracket, ShippingZone
from app.tax.models import TaxRule, TaxSettings
from tests.builders.order_rows import order_row


def add_pricing_rows(seller_id: int, user_id: int) -> None:
    zone = ShippingZone(name="EU", areas="FR, DE")
    method = ShippingMethod(zone=zone, name="Standard", rate_type="weight", seller_id=seller_id)
    method.brackets.append(ShippingRateBracket(min_value=Decimal("0"), rate=Decimal("5.00")))
    promotion = Promotion(
        name="Ten off", kind="percentage", value=Decimal("10"), code="TEN", usage_limit=5
    )
    db.session.add_all(
        [
            TaxSettings(prices_include_tax=True),
            TaxRule(name="VAT", country="FR", rate=Decimal("0.2")),
            zone,
            method,
            promotion,
        ]
    )
    db.session.flush()
    order_id = order_row(customer_user_id=user_id)  # redemptions reference a real order
    db.session.add_all(
        [
            PromotionRedemption(
                promotion_id=promotion.id,
                order_id=order_id,
                customer_user_id=user_id,
                discount_total=Decimal("1.00"),
            ),
            PromotionCustomerUsage(
                promotion_id=promotion.id, customer_user_id=user_id, uses_count=1
            ),
        ]
    )
    db.session.commit()
