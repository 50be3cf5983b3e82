"""Currencies whose minor unit is not a cent: amounts of a zero-decimal currency (JPY) are whole,
3-decimal currencies (KWD, BHD) are kept in hundredths, and Stripe gets each in its minor unit
(ISO 4217 exponents from CLDR through babel; ISK as Stripe wants it)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.core.errors import ValidationError
from app.core.types import currency_exponent, money_places, quantize_money, rounding_currency
from app.payments import refunds as payment_refunds
from app.payments.gateways.stripe import from_minor, to_minor
from tests.builders.payments import CARD_OK, PM


def test_exponents_come_from_cldr():
    assert [
        currency_exponent(c) for c in ("USD", "EUR", "JPY", "KRW", "KWD", "BHD", "jpy", "XXX")
    ] == [2, 2, 0, 0, 3, 3, 0, 2]
    assert [money_places(c) for c in ("USD", "JPY", "KWD", None)] == [2, 0, 2, 2]


def test_quantize_money_rounds_half_up_to_the_currencys_unit():
    assert quantize_money(Decimal("1234.5"), "JPY") == Decimal("1235")
    assert quantize_money(Decimal("1234.49"), "JPY") == Decimal("1234")
    assert quantize_money(Decimal("1.005"), "USD") == Decimal("1.01")
    assert quantize_money(Decimal("1.2350"), "KWD") == Decimal("1.24")
    assert quantize_money(Decimal("1.005")) == Decimal("1.01")  # no currency: cents, as before
    with rounding_currency("JPY"):
        assert quantize_money(Decimal("26.64")) == Decimal("27")
    assert quantize_money(Decimal("26.645")) == Decimal("26.65")  # the block is over


def test_stripe_minor_units():
    assert to_minor(Decimal("19.99"), "USD") == 1999 and from_minor(1999, "usd") == Decimal("19.99")
    assert to_minor(Decimal("1000"), "JPY") == 1000 and from_minor(1000, "jpy") == Decimal("1000")
    assert to_minor(Decimal("12.34"), "KWD") == 12340 and from_minor(12340, "kwd") == Decimal(
        "12.34"
    )
    assert to_minor(Decimal("0.5"), "BHD") == 500 and from_minor(505, "bhd") == Decimal("0.51")
    assert to_minor(Decimal("5"), "ISK") == 500 and from_minor(500, "isk") == Decimal("5")


def test_a_yen_payment_has_no_fraction_and_its_refunds_neither(payments, shop):
    with pytest.raises(ValidationError) as exc:
        payments.start(shop.tenant.id, amount="1000.50", currency="JPY", details=CARD_OK)
    assert exc.value.details == {"amount": ["at most 0 decimal places in JPY"]}
    p = payments.start(shop.tenant.id, amount="1000", currency="JPY", details=CARD_OK)
    assert (p.status, p.currency, p.amount_captured) == ("captured", "JPY", Decimal("1000"))
    with pytest.raises(ValidationError):
        payments.run(shop.tenant.id, payment_refunds.refund, p.id, Decimal("0.5"), "half a yen")
    assert payments.get(shop.tenant.id, p.id).amount_refunded == Decimal("0")
    r = payments.run(shop.tenant.id, payment_refunds.refund, p.id, Decimal("300"), "part")
    assert r.status == "completed" and payments.get(shop.tenant.id, p.id).refundable == Decimal(
        "700"
    )
    # a 3-decimal currency takes hundredths, not thousandths
    with pytest.raises(ValidationError):
        payments.start(shop.tenant.id, amount="1.234", currency="KWD", details=CARD_OK)
    assert (
        payments.start(shop.tenant.id, amount="1.23", currency="KWD", details=CARD_OK).status
        == "captured"
    )


@pytest.mark.parametrize(
    "currency, amount, minor",
    [
        ("JPY", "1000", "1000"),
        ("KWD", "12.34", "12340"),
        ("BHD", "0.50", "500"),
        ("USD", "19.99", "1999"),
    ],
)
def test_stripe_is_sent_each_currencys_minor_unit(
    payments, shop, fake_stripe, currency, amount, minor
):
    p = payments.start(
        shop.tenant.id, amount=amount, currency=currency, method="stripe_card", details=PM
    )
    assert p.status == "captured"
    (_m, _p, create, _h), (_m2, _p2, capture, _h2) = fake_stripe.requests
    assert (create["amount"], create["currency"], capture["amount_to_capture"]) == (
        minor,
        currency.lower(),
        minor,
    )
    refund = payments.run(shop.tenant.id, payment_refunds.refund, p.id, Decimal(amount), "all")
    assert refund.status == "completed" and fake_stripe.requests[-1][2]["amount"] == minor
