"""/api/v1/sellers/me: balances, the ledger with running balances, CSV and XLSX statements; a
seller only ever reads its own entries."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.payouts import ledger
from tests.builders.auth import api_headers
from tests.builders.ledger import Line, Sub

D = Decimal
API = "/api/v1/sellers/me"


@pytest.fixture
def two_sellers(app, ledger_shop):
    """Seller a: one paid sub-order (net 27.00 USD) and a 5.00 EUR adjustment; seller b: one paid
    sub-order (net 90.00 USD)."""
    shop = ledger_shop
    a, b = shop.sellers
    order_id = shop.order(
        Sub(a.id, (Line("25.00", commission="2.50"),), shipping="4.50"),
        Sub(b.id, (Line("100.00", commission="10.00"),)),
    )
    shop.pay(order_id)

    def adjust():
        ledger.record_adjustment(
            shop.actor(shop.admin.id),
            ledger.Adjustment(seller_id=a.id, currency="eur", amount=D("5.00"), reason="goodwill"),
        )
        db.session.commit()

    shop.run(adjust)
    shop.h_a = api_headers(app, a.user)
    shop.h_b = api_headers(app, b.user)
    return shop


def test_balances_are_per_currency_and_only_the_callers(client, two_sellers):
    shop = two_sellers
    body = client.get(f"{API}/balance/", headers=shop.h_a).get_json()
    assert body == {
        "balances": [
            {
                "currency": "EUR",
                "pending": "0.00",
                "available": "5.00",
                "paid": "0.00",
                "total": "5.00",
            },
            {
                "currency": "USD",
                "pending": "27.00",
                "available": "0.00",
                "paid": "0.00",
                "total": "27.00",
            },
        ]
    }
    body = client.get(f"{API}/balance/", headers=shop.h_b).get_json()
    assert body["balances"] == [
        {
            "currency": "USD",
            "pending": "90.00",
            "available": "0.00",
            "paid": "0.00",
            "total": "90.00",
        }
    ]


def test_ledger_pages_carry_running_balances(client, two_sellers):
    shop = two_sellers
    first = client.get(f"{API}/ledger/?page_size=2", headers=shop.h_a).get_json()
    assert first["total"] == 4
    assert [(e["kind"], e["amount"], e["balance"]) for e in first["items"]] == [
        ("sale", "25.00", "25.00"),
        ("commission", "-2.50", "22.50"),
    ]
    second = client.get(f"{API}/ledger/?page_size=2&page=2", headers=shop.h_a).get_json()
    assert [(e["kind"], e["currency"], e["amount"], e["balance"]) for e in second["items"]] == [
        ("shipping", "USD", "4.50", "27.00"),
        ("adjustment", "EUR", "5.00", "5.00"),
    ]
    assert second["items"][1]["note"] == "goodwill"
    eur = client.get(f"{API}/ledger/?currency=eur", headers=shop.h_a).get_json()
    assert [e["kind"] for e in eur["items"]] == ["adjustment"]
    # seller b's ledger holds nothing of seller a's
    other = client.get(f"{API}/ledger/", headers=shop.h_b).get_json()
    assert [(e["kind"], e["amount"]) for e in other["items"]] == [
        ("sale", "100.00"),
        ("commission", "-10.00"),
    ]


def test_statements_as_csv_and_xlsx_hold_only_the_callers_entries(client, two_sellers):
    shop = two_sellers
    today = dt.date.today().isoformat()
    response = client.get(f"{API}/statement.csv?since={today}&until={today}", headers=shop.h_b)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert f"statement-{today}-{today}.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["entry", "date (UTC)", "kind"]
    assert [(r[2], r[6], r[7], r[8]) for r in rows[1:]] == [
        ("sale", "USD", "100.00", "100.00"),
        ("commission", "USD", "-10.00", "90.00"),
    ]

    response = client.get(f"{API}/statement.xlsx", headers=shop.h_a)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert [(r[2], r[6], D(str(r[7])), D(str(r[8]))) for r in rows[1:]] == [
        ("sale", "USD", D("25.00"), D("25.00")),
        ("commission", "USD", D("-2.50"), D("22.50")),
        ("shipping", "USD", D("4.50"), D("27.00")),
        ("adjustment", "EUR", D("5.00"), D("5.00")),
    ]

    # a period after today holds no entry
    later = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    response = client.get(f"{API}/statement.csv?since={later}", headers=shop.h_a)
    assert len(list(csv.reader(io.StringIO(response.get_data(as_text=True))))) == 1


@pytest.mark.parametrize(
    "path",
    ["/balance/", "/ledger/", "/statement.csv", "/statement.xlsx"],
)
def test_not_a_seller_is_refused(app, client, two_sellers, path):
    shop = two_sellers
    assert client.get(API + path, headers=api_headers(tenant=shop.tenant)).status_code == 401
    for user in (shop.admin, shop.customer.user):
        response = client.get(API + path, headers=api_headers(app, user))
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "no_seller_profile"


@pytest.mark.parametrize(
    "query, field",
    [
        ("?since=2026-05-02&until=2026-05-01", "until"),
        ("?since=yesterday", "since"),
        ("?currency=EURO", "currency"),
        ("?page=0", "page"),
    ],
)
def test_bad_queries_are_422_in_the_envelope(client, two_sellers, query, field):
    response = client.get(f"{API}/ledger/{query}", headers=two_sellers.h_a)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert field in str(error["details"])
