"""services.redeem: usage limits consumed with conditional updates, under real concurrent threads."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from app.core.db import transaction
from app.core.errors import Conflict
from app.core.tenancy import tenant_scope
from app.core.types import utcnow
from app.events.models import OutboxEvent
from app.extensions import db
from app.pricing_contract import AppliedPromotion
from app.promotions import services
from app.promotions.models import Promotion, PromotionCustomerUsage, PromotionRedemption
from tests.builders.order_rows import order_row


def _orders(app, tenant_id, n):
    """n real orders (redemptions reference orders.id)."""
    with app.app_context(), tenant_scope(tenant_id):
        try:
            return [order_row() for _ in range(n)]
        finally:
            db.session.remove()


def _redeem_in_threads(app, tenant_id, promotion_id, users):
    outcomes: list[str] = []
    order_ids = _orders(app, tenant_id, len(users))
    barrier = threading.Barrier(len(users))
    lock = threading.Lock()

    def worker(i, user_id):
        with app.app_context(), tenant_scope(tenant_id):
            barrier.wait()
            try:
                with transaction():
                    services.redeem(
                        [AppliedPromotion(promotion_id, "LAST5", D("1.00"))],
                        order_id=order_ids[i],
                        customer_user_id=user_id,
                    )
                result = "ok"
            except Conflict as exc:
                result = exc.code
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(i, u)) for i, u in enumerate(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def _counts(app, tenant_id, promotion_id):
    with app.app_context(), tenant_scope(tenant_id):
        uses = db.session.scalar(select(Promotion.uses_count).where(Promotion.id == promotion_id))
        rows = db.session.scalar(
            select(func.count())
            .select_from(PromotionRedemption)
            .where(PromotionRedemption.promotion_id == promotion_id)
        )
        return uses, rows


def test_five_uses_left_fifty_concurrent_redeems(app, shop, is_sqlite):
    if is_sqlite:
        pytest.skip("concurrency is tested against MariaDB")
    promo = shop.build.promotion("percentage", "10", code="LAST5", usage_limit=10, uses_count=5)
    outcomes = _redeem_in_threads(app, shop.tenant.id, promo, [None] * 50)
    assert outcomes.count("ok") == 5 and outcomes.count("promotion_exhausted") == 45
    assert _counts(app, shop.tenant.id, promo) == (10, 5)


def test_per_customer_limit_under_concurrency(app, shop, factory, is_sqlite):
    if is_sqlite:
        pytest.skip("concurrency is tested against MariaDB")
    customer = factory.customer(shop.tenant)
    promo = shop.build.promotion("percentage", "10", code="TWICE", usage_limit_per_customer=2)
    outcomes = _redeem_in_threads(app, shop.tenant.id, promo, [customer.user_id] * 20)
    assert outcomes.count("ok") == 2
    assert _counts(app, shop.tenant.id, promo) == (2, 2)
    with app.app_context(), tenant_scope(shop.tenant.id):
        usage = db.session.scalar(
            select(PromotionCustomerUsage.uses_count).where(
                PromotionCustomerUsage.promotion_id == promo
            )
        )
        assert usage == 2


@pytest.mark.smoke
def test_redeem_records_and_a_refusal_keeps_nothing(app, ctx, shop, factory):
    customer = factory.customer(shop.tenant)
    ok = shop.build.promotion("percentage", "10")
    last = shop.build.promotion("fixed_amount", "5", code="ONE", usage_limit=1, uses_count=1)
    o41, o42, o43, o44 = _orders(app, shop.tenant.id, 4)
    with tenant_scope(shop.tenant.id):
        with transaction():
            (r,) = services.redeem(
                [AppliedPromotion(ok, None, D("2.50"))],
                order_id=o41,
                customer_user_id=customer.user_id,
            )
        assert (r.order_id, r.discount_total, r.customer_user_id) == (
            o41,
            D("2.50"),
            customer.user_id,
        )
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(
                    OutboxEvent.name == "promotion.redeemed", OutboxEvent.aggregate_id == str(ok)
                )
            )
            == 1
        )
        with pytest.raises(Conflict) as err:
            with transaction():
                services.redeem(
                    [AppliedPromotion(ok, None, D("2.50")), AppliedPromotion(last, "ONE", D("5"))],
                    order_id=o42,
                    customer_user_id=customer.user_id,
                )
        assert err.value.code == "promotion_exhausted" and err.value.details["promotion_id"] == last
    assert _counts(app, shop.tenant.id, ok) == (1, 1)  # the first use of order 42 was rolled back
    per_customer = shop.build.promotion("percentage", "10", usage_limit_per_customer=1)
    with tenant_scope(shop.tenant.id), pytest.raises(Conflict) as err:
        with transaction():
            services.redeem(
                [AppliedPromotion(per_customer, None, D("1"))], order_id=o43, customer_user_id=None
            )
    assert err.value.details["reason"] == "login_required"
    assert _counts(app, shop.tenant.id, per_customer) == (0, 0)
    ended = shop.build.promotion("percentage", "10", ends_at=utcnow() - dt.timedelta(seconds=1))
    with tenant_scope(shop.tenant.id), pytest.raises(Conflict) as err:
        with transaction():
            services.redeem(
                [AppliedPromotion(ended, None, D("1"))], order_id=o44, customer_user_id=None
            )
    assert err.value.code == "promotion_unavailable" and _counts(app, shop.tenant.id, ended) == (
        0,
        0,
    )
