"""GET /api/v1/sellers/me/payouts/ (filters, paging), /payouts/<id>/ with its entries, and
/payouts/skips/: a seller only ever reads its own payouts; staff and customers are refused; bad
filters are 422 in the envelope."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.payouts import batches
from tests.builders.auth import api_headers
from tests.builders.payouts import payout_shop  # noqa: F401

D = Decimal
API = "/api/v1/sellers/me/payouts/"
FIXTURES = (payout_shop,)


@pytest.fixture
def paid_shop(app, payout_shop):
    """Seller a: a paid USD payout (30.00, 2 entries), a created JPY one (1167) and a USD skip
    (no account in EUR); seller b: a created USD payout (99.00)."""
    shop = payout_shop
    a, b = shop.sellers
    shop.account(a)
    shop.account(a, "JPY")
    shop.account(b)
    shop.adjust(a, "25.00")
    shop.adjust(a, "5.00")
    shop.adjust(b, "99.00")
    shop.job()
    first = shop.payouts(a)[0][0]
    shop.act(batches.approve, first)
    shop.act(batches.mark_paid, first, "TRX-77")
    shop.adjust(a, "1500", "JPY")
    shop.adjust(a, "7.00", "EUR")
    shop.job()
    shop.h_a = api_headers(app, a.user)
    shop.h_b = api_headers(app, b.user)
    shop.first = first
    return shop


def test_a_sellers_payouts_newest_first_filtered(client, paid_shop):
    shop = paid_shop
    r = client.get(API, headers=shop.h_a)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["total"] == 2 and body["page"] == 1
    jpy, usd = body["items"]
    assert (jpy["currency"], jpy["amount"], jpy["status"]) == ("JPY", "1500", "created")
    assert (usd["amount"], usd["status"], usd["reference"], usd["entry_count"]) == (
        "30.00",
        "paid",
        "TRX-77",
        2,
    )
    assert usd["bank_account"].startswith("•••• ") and len(usd["bank_account"]) == 9
    only_paid = client.get(API, query_string={"status": "paid"}, headers=shop.h_a).get_json()
    assert [p["id"] for p in only_paid["items"]] == [shop.first]
    only_jpy = client.get(API, query_string={"currency": "jpy"}, headers=shop.h_a).get_json()
    assert [p["currency"] for p in only_jpy["items"]] == ["JPY"]
    paged = client.get(API, query_string={"page_size": 1, "page": 2}, headers=shop.h_a)
    assert [p["id"] for p in paged.get_json()["items"]] == [shop.first]


def test_one_payout_with_its_entries(client, paid_shop):
    shop = paid_shop
    body = client.get(f"{API}{shop.first}/", headers=shop.h_a).get_json()
    assert body["id"] == shop.first and body["paid_at"] is not None
    assert body["entries"]["total"] == 2
    assert [(e["kind"], e["amount"]) for e in body["entries"]["items"]] == [
        ("adjustment", "25.00"),
        ("adjustment", "5.00"),
    ]


def test_skips_say_why(client, paid_shop):
    body = client.get(f"{API}skips/", headers=paid_shop.h_a).get_json()
    assert [(s["currency"], s["reason"], s["amount"]) for s in body["items"]] == [
        ("EUR", "no_bank_account", "7.00")
    ]
    assert client.get(f"{API}skips/", headers=paid_shop.h_b).get_json()["items"] == []


def test_never_another_sellers_payouts(client, paid_shop):
    shop = paid_shop
    body = client.get(API, headers=shop.h_b).get_json()
    assert [(p["amount"], p["currency"]) for p in body["items"]] == [("99.00", "USD")]
    r = client.get(f"{API}{shop.first}/", headers=shop.h_b)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    assert "TRX-77" not in r.get_data(as_text=True)


def test_who_may_ask(app, client, paid_shop):
    shop = paid_shop
    assert client.get(API).status_code == 401
    for user in (shop.admin, shop.shop.customer.user):
        r = client.get(API, headers=api_headers(app, user))
        assert r.status_code == 403
        assert r.get_json()["error"]["code"] == "no_seller_profile"


@pytest.mark.parametrize(
    "query, field",
    [
        ({"status": "lost"}, "status"),
        ({"currency": "dollars"}, "currency"),
        ({"page_size": 101}, "page_size"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_filters_are_422(client, paid_shop, query, field):
    r = client.get(API, query_string=query, headers=paid_shop.h_a)
    assert r.status_code == 422
    assert field in str(r.get_json()["error"]["details"])


def test_the_dashboard_says_what_the_next_payout_would_pay(app, client, payout_shop):
    shop = payout_shop
    a = shop.sellers[0]
    shop.account(a)
    shop.minimum("20.00")
    shop.adjust(a, "12.50")
    shop.adjust(a, "30.00", "EUR")
    shop.adjust(a, "3.00", "GBP")
    r = client.get("/api/v1/sellers/me/dashboard/", headers=api_headers(app, a.user))
    assert r.status_code == 200, r.get_json()
    nxt = r.get_json()["next_payout"]
    assert nxt["run_at"].endswith("02:00:00+00:00")
    assert [
        (c["currency"], c["amount"], c["would_pay"], c["reason"]) for c in nxt["currencies"]
    ] == [
        ("EUR", "30.00", False, "no_bank_account"),
        ("GBP", "3.00", False, "below_minimum"),
        ("USD", "12.50", False, "below_minimum"),
    ]
    shop.adjust(a, "7.50")
    body = client.get("/api/v1/sellers/me/dashboard/", headers=api_headers(app, a.user)).get_json()
    assert ("USD", "20.00", True, None) in [
        (c["currency"], c["amount"], c["would_pay"], c["reason"])
        for c in body["next_payout"]["currencies"]
    ]
