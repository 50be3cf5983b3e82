"""Fixtures of the payments tests: a shop with customers, an admin and a seller, another tenant,
helpers that start payments through the services, and a local fake of Stripe's HTTP API (the only
thing faked: api.stripe.com cannot be reached from here)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select, update

from app.core.tenancy import tenant_scope
from app.extensions import db
from app.orders.models import RefundRequest, SubOrder
from app.payments import charges, ledger
from app.payments import refunds as payment_refunds
from app.payments.models import PaymentTransaction
from app.security import roles
from tests.builders.auth import api_headers
from tests.builders.order_rows import order_row

API = "/api/v1/payments"
SECRET = "whsec_test_secret"
URL = f"{API}/webhooks/stripe/"
CARD_OK = {"card_number": "4242424242424242", "exp_month": 12, "exp_year": 2099, "cvc": "123"}


def card(number: str) -> dict:
    return dict(CARD_OK, card_number=number)


class Payments:
    """Runs payment services as the given tenant, each call in its own app context (as a request
    would), and returns plain values."""

    def __init__(self, app):
        self.app = app

    def run(self, tenant_id: int, fn, *args, **kwargs):
        with self.app.app_context(), tenant_scope(tenant_id):
            try:
                result = fn(*args, **kwargs)
                return _plain(result)
            finally:
                db.session.rollback()
                db.session.remove()

    def start(
        self,
        tenant_id: int,
        *,
        amount="100.00",
        method="test_card",
        details=None,
        user_id=None,
        order_id=None,
        currency="USD",
        **kwargs,
    ):
        if order_id is None:  # an order of that total (of 100.00 when the test passes a bad amount)
            total = amount if _valid_total(amount) else "100.00"
            order_id = self.order(tenant_id, total=total, user_id=user_id, currency=currency)
        return self.run(
            tenant_id,
            charges.start_payment,
            order_id=order_id,
            amount=Decimal(amount),
            currency=currency,
            method=method,
            customer_user_id=user_id,
            payment_details=details,
            **kwargs,
        )

    def order(
        self,
        tenant_id: int,
        *,
        total="100.00",
        user_id=None,
        seller_ids=(),
        status="pending",
        currency="USD",
    ) -> int:
        """A real order row (payments, transactions and refunds reference orders.id)."""
        return self.run(
            tenant_id,
            order_row,
            customer_user_id=user_id,
            total=total,
            seller_ids=tuple(seller_ids),
            status=status,
            currency=currency,
        )

    def paid_order(
        self,
        tenant_id: int,
        *,
        total="40.00",
        user_id=None,
        seller_ids=(),
        method="test_card",
        details=None,
    ):
        """A paid order of `total` (a sub-order per seller of `seller_ids`) and the payment of all
        of it: (order id, payment)."""
        order_id = self.order(
            tenant_id, total=total, user_id=user_id, seller_ids=seller_ids, status="paid"
        )
        payment = self.start(
            tenant_id,
            amount=total,
            order_id=order_id,
            user_id=user_id,
            method=method,
            details=details,
        )
        return order_id, payment

    def get(self, tenant_id: int, payment_id: int):
        return self.run(tenant_id, ledger.get_payment, payment_id)


def _valid_total(amount) -> bool:
    try:
        return (
            0 < Decimal(str(amount)) < Decimal("1e10")
            and Decimal(str(amount)).as_tuple().exponent >= -2
        )
    except ArithmeticError:
        return False


def _plain(obj):
    if obj is None or isinstance(obj, (int, str, Decimal, dict, bool)):
        return obj
    if isinstance(obj, list):
        return [_plain(o) for o in obj]
    cols = {c.key: getattr(obj, c.key) for c in obj.__table__.columns}
    if hasattr(obj, "refundable"):
        cols["refundable"] = obj.refundable
    return SimpleNamespace(**cols)


@pytest.fixture
def payments(app):
    return Payments(app)


@pytest.fixture
def shop(app, factory):
    tenant, foreign = factory.tenant(), factory.tenant()
    customer, other = factory.customer(tenant), factory.customer(tenant)
    seller = factory.seller(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    foreign_customer = factory.customer(foreign)
    foreign_admin = factory.user(foreign, roles.ADMIN)
    slug = tenant.slug
    return SimpleNamespace(
        tenant=tenant,
        foreign=foreign,
        customer=customer,
        other=other,
        seller=seller,
        admin=admin,
        foreign_customer=foreign_customer,
        foreign_admin=foreign_admin,
        h=api_headers(app, customer.user, slug),
        h_other=api_headers(app, other.user, slug),
        h_seller=api_headers(app, seller.user, slug),
        h_admin=api_headers(app, admin, slug),
        h_foreign=api_headers(app, foreign_customer.user, foreign.slug),
        h_foreign_admin=api_headers(app, foreign_admin, foreign.slug),
        anon={"X-Tenant": slug},
    )


# --- a local fake of Stripe's HTTP API --------------------------------------------------------------


class FakeStripe:
    """Answers the few Stripe endpoints the adapter calls, like Stripe does (form-encoded requests,
    JSON objects). `decline` makes the next PaymentIntent fail with a card error."""

    def __init__(self):
        self.intents: dict[str, dict] = {}
        self.requests: list[tuple[str, str, dict, dict]] = []
        self.decline: str | None = None
        self.fail_refund = False
        # the status Stripe gives a new Refund ("pending": it settles later, by webhook)
        self.refund_status = "succeeded"
        # when set, Refund creation waits for it (a webhook can overtake the answer)
        self.refund_hold: threading.Event | None = None
        # when set, PaymentIntent creation waits for it (to look at the database mid-call)
        self.hold: threading.Event | None = None
        self.holding = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(fake):  # noqa: N805 - the closure's "self" is the fake
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", "req_fake")
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                fake.requests.append(("GET", self.path, {}, dict(self.headers)))
                match = re.fullmatch(r"/v1/payment_intents/(\w+)", self.path.split("?")[0])
                if match and match.group(1) in fake.intents:
                    return self._send(200, fake.intents[match.group(1)])
                return self._send(
                    404, {"error": {"type": "invalid_request_error", "message": "No such intent"}}
                )

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                fake.requests.append(("POST", self.path, form, dict(self.headers)))
                if self.headers.get("Authorization") != "Bearer sk_test_fake":
                    return self._send(
                        401, {"error": {"type": "invalid_request_error", "message": "bad key"}}
                    )
                path = self.path.split("?")[0]
                if path == "/v1/payment_intents":
                    if fake.hold is not None:
                        fake.holding.set()
                        fake.hold.wait(10)
                    if fake.decline:
                        code, fake.decline = fake.decline, None
                        return self._send(
                            402,
                            {
                                "error": {
                                    "type": "card_error",
                                    "code": "card_declined",
                                    "decline_code": code,
                                    "message": "Your card was declined.",
                                }
                            },
                        )
                    pi = {
                        "id": "pi_" + uuid.uuid4().hex[:14],
                        "object": "payment_intent",
                        "amount": int(form["amount"]),
                        "currency": form["currency"],
                        "status": (
                            "requires_action"
                            if form["payment_method"] == "pm_card_threeDSecure2Required"
                            else "requires_capture"
                        ),
                        "amount_capturable": int(form["amount"]),
                        "amount_received": 0,
                        "client_secret": "pi_secret_should_be_masked",
                        "metadata": {},
                    }
                    fake.intents[pi["id"]] = pi
                    return self._send(200, pi)
                match = re.fullmatch(r"/v1/payment_intents/(\w+)/(capture|cancel)", path)
                if match and match.group(1) in fake.intents:
                    pi = fake.intents[match.group(1)]
                    if match.group(2) == "capture":
                        pi.update(
                            status="succeeded",
                            amount_received=int(form.get("amount_to_capture", pi["amount"])),
                            amount_capturable=0,
                        )
                    else:
                        pi.update(status="canceled")
                    return self._send(200, pi)
                if path == "/v1/refunds" and fake.fail_refund:
                    return self._send(
                        400,
                        {
                            "error": {
                                "type": "invalid_request_error",
                                "code": "charge_disputed",
                                "message": "Charge is disputed",
                            }
                        },
                    )
                if path == "/v1/refunds":
                    if fake.refund_hold is not None:
                        fake.holding.set()
                        fake.refund_hold.wait(10)
                    return self._send(
                        200,
                        {
                            "id": "re_" + uuid.uuid4().hex[:14],
                            "object": "refund",
                            "amount": int(form["amount"]),
                            "status": fake.refund_status,
                            "currency": "usd",
                            "payment_intent": form["payment_intent"],
                            "metadata": {
                                "refund_id": form.get("metadata[refund_id]"),
                                "payment_id": form.get("metadata[payment_id]"),
                            },
                        },
                    )
                return self._send(
                    404, {"error": {"type": "invalid_request_error", "message": "unknown"}}
                )

        return Handler


@pytest.fixture
def fake_stripe(app):
    fake = FakeStripe()
    fake.thread.start()
    saved = {
        k: app.config.get(k)
        for k in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE")
    }
    app.config.update(
        STRIPE_SECRET_KEY="sk_test_fake",
        STRIPE_WEBHOOK_SECRET="whsec_test_secret",
        STRIPE_API_BASE=fake.url,
    )
    yield fake
    app.config.update(saved)
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def money(app, factory, payments, shop):
    s1, s2 = shop.seller, factory.seller(shop.tenant)
    tid = shop.tenant.id
    # seller 1's own order (before the shared one): 100.00, all of it seller 1's
    own_order = payments.order(tid, total="100.00", seller_ids=(s1.id,), status="paid")
    own = payments.start(tid, amount="100.00", order_id=own_order, details=CARD_OK)
    # the shared order: 335.69 = 58.98 (seller 1) + 276.71 (seller 2)
    order_id = payments.order(tid, total="335.69", seller_ids=(s1.id, s2.id), status="paid")
    with app.app_context(), tenant_scope(tid):
        for seller_id, total in ((s1.id, "58.98"), (s2.id, "276.71")):
            db.session.execute(
                update(SubOrder)
                .where(SubOrder.order_id == order_id, SubOrder.seller_id == seller_id)
                .values(subtotal=Decimal(total), total=Decimal(total))
            )
        db.session.commit()
        db.session.remove()
    payment = payments.start(tid, amount="335.69", order_id=order_id, details=CARD_OK)
    for_s2 = payments.run(tid, payment_refunds.refund, payment.id, Decimal("21.37"), "s2's request")
    for_s1 = payments.run(tid, payment_refunds.refund, payment.id, Decimal("12.34"), "s1's request")
    whole = payments.run(tid, payment_refunds.refund, payment.id, Decimal("33.57"), "goodwill")
    _answer(app, tid, order_id, s2.id, for_s2.id, "21.37")
    _answer(app, tid, order_id, s1.id, for_s1.id, "12.34")
    with app.app_context(), tenant_scope(tid):
        transactions = {
            (t.kind, t.refund_id): t.id
            for t in db.session.scalars(
                select(PaymentTransaction).where(PaymentTransaction.payment_id == payment.id)
            )
        }
        db.session.remove()
    return SimpleNamespace(
        s1=s1,
        s2=s2,
        order_id=order_id,
        payment=payment,
        own=own,
        for_s1=for_s1,
        for_s2=for_s2,
        whole=whole,
        transactions=transactions,
    )


PM = {"payment_method": "pm_card_visa"}


def signed(payload: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict:
    ts = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={ts},v1={signature}", "Content-Type": "application/json"}


def event(kind: str, intent_id: str, amount: int = 1999, event_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_{intent_id}_{kind}",
            "object": "event",
            "type": kind,
            "data": {
                "object": {
                    "id": intent_id,
                    "object": "payment_intent",
                    "amount": amount,
                    "amount_received": amount,
                    "amount_capturable": amount,
                    "currency": "usd",
                    "status": "succeeded",
                }
            },
        }
    ).encode()


def refund_event(kind: str, refund: dict, *, event_id: str, status: str | None = None) -> bytes:
    obj = dict(refund, status=status or refund["status"])
    return json.dumps(
        {"id": event_id, "object": "event", "type": kind, "data": {"object": obj}}
    ).encode()


def post(client, shop, body):
    response = client.post(URL, data=body, headers=dict(signed(body), **shop.anon))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["status"]


def _answer(
    app, tenant_id: int, order_id: int, seller_id: int, refund_id: int, amount: str
) -> None:
    """Link the refund to a refund request of the seller's sub-order, as an approved request's is."""
    with app.app_context(), tenant_scope(tenant_id):
        sub = db.session.scalar(
            select(SubOrder.id).where(
                SubOrder.order_id == order_id, SubOrder.seller_id == seller_id
            )
        )
        db.session.add(
            RefundRequest(
                order_id=order_id,
                sub_order_id=sub,
                amount=Decimal(amount),
                reason="x",
                status="completed",
                payment_refund_id=refund_id,
            )
        )
        db.session.commit()
        db.session.remove()
