"""/api/v1/payments: pay (process), the shop's methods, refunds (Admins), transaction history, and
the gateways' webhooks.

Test cards (method test_card): 4242424242424242 succeeds, 4000000000000002 is declined
(card_declined), 4000000000009995 fails with insufficient_funds, 4000000000003220 requires an
action (status requires_action, then POST /process/ with {"payment_id": ..., "confirm": true}).
A declined card is not an HTTP error: the payment comes back with status failed and its
failure_code. Card numbers are never stored or echoed: only the brand and last 4 digits.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from flask import request
from marshmallow import Schema, fields, validate, validates_schema
from marshmallow import ValidationError as SchemaError

from app.core.errors import CoreError, NotFound, PermissionDenied
from app.events.errors import EventsError
from app.orders import pay_later
from app.orders.errors import OrderError
from app.payments import access, charges, refunds, webhooks
from app.payments import methods as payment_methods
from app.payments.errors import PaymentError
from app.payments.gateways import GATEWAY_CODES
from app.payments.gateways.test import TEST_CARDS_DOC
from app.payments.models import PAYMENT_STATUSES
from app.security import roles
from app.security.errors import SecurityError
from storefront_api.common import (
    Blueprint,
    PageArgs,
    Unauthorized,
    current_actor,
    document_errors,
    page_schema,
    require_roles,
)
from storefront_api.errors import ApiError
from storefront_api.fields import an_id, money

blp = Blueprint(
    "payments",
    __name__,
    url_prefix="/api/v1/payments",
    description="Payments, refunds and transaction history. " + TEST_CARDS_DOC,
)
# webhooks come from payment providers in bursts: apart, so the per-IP write limit never drops one
webhooks_blp = Blueprint(
    "payment_webhooks",
    __name__,
    url_prefix="/api/v1/payments",
    description="Payment gateways' webhooks (signature verified, applied once)",
)

admin_only = require_roles(roles.ADMIN, roles.SUPER_ADMIN)
customer_or_staff = require_roles(
    roles.CUSTOMER, roles.PREMIUM_CUSTOMER, roles.ADMIN, roles.SUPER_ADMIN
)


def _errors(*errors, optional_auth: bool = False):
    return document_errors(blp, *errors, optional_auth=optional_auth)


# --- schemas -------------------------------------------------------------------------------------


class NextActionField(fields.Dict):
    """A payment's next action (app.payments.models.NextAction) as {"type", its fields}: a Dict,
    so documented as the object it is."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return {"type": value.type, **dataclasses.asdict(value)}


class PaymentSchema(Schema):
    id = fields.Integer(required=True)
    order_id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": ", ".join(PAYMENT_STATUSES)})
    method = fields.String(required=True)
    gateway = fields.String(required=True)
    currency = fields.String(required=True)
    amount = money(required=True)
    amount_captured = money(required=True)
    amount_refunded = money(required=True)
    refundable = money(required=True)
    card_brand = fields.String(allow_none=True)
    card_last4 = fields.String(
        allow_none=True, metadata={"description": "The only digits of a card ever kept"}
    )
    failure_code = fields.String(
        allow_none=True,
        metadata={"description": "Why it failed: card_declined, insufficient_funds, ..."},
    )
    failure_message = fields.String(allow_none=True)
    next_action = NextActionField(
        allow_none=True,
        metadata={
            "description": "confirm (requires_action) or offline_payment (bank transfer / cash on delivery)"
        },
    )
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class CardDetailsSchema(Schema):
    card_number = fields.String(
        validate=validate.Regexp(r"^\d{12,19}$", error="12 to 19 digits"),
        metadata={"description": "test_card only. " + TEST_CARDS_DOC},
    )
    exp_month = fields.Integer(strict=True, validate=validate.Range(min=1, max=12))
    exp_year = fields.Integer(strict=True, validate=validate.Range(min=2000, max=2100))
    cvc = fields.String(validate=validate.Regexp(r"^\d{3,4}$", error="3 or 4 digits"))
    payment_method = fields.String(
        validate=validate.Length(min=3, max=100),
        metadata={"description": "stripe_card only: a PaymentMethod id made by Stripe.js (pm_...)"},
    )

    @validates_schema
    def _card(self, data, **kwargs):
        if "card_number" not in data:
            return
        missing = {
            name: ["required with card_number"]
            for name in ("exp_month", "exp_year", "cvc")
            if name not in data
        }
        if missing:
            raise SchemaError(missing)
        today = dt.datetime.now(dt.timezone.utc).date()
        if (data["exp_year"], data["exp_month"]) < (today.year, today.month):
            raise SchemaError({"exp_year": ["the card has expired"]})


class ProcessSchema(Schema):
    payment_id = an_id(
        metadata={
            "description": "The payment to pay (or send order_id: the order's latest payment)"
        }
    )
    order_id = an_id(
        metadata={
            "description": "Pay this order of yours: its payment, or, for an order placed without one, a new payment "
            "of what it costs (then give method). A paid or cancelled order: 409 order_not_payable"
        }
    )
    method = fields.String(
        validate=validate.Length(min=1, max=32),
        metadata={
            "description": "With order_id, for an order that has no payment yet: how to pay it (GET /methods/)"
        },
    )
    payment_details = fields.Nested(
        CardDetailsSchema,
        metadata={
            "description": "Card details for test_card, a PaymentMethod id for stripe_card; none for bank "
            "transfer and cash on delivery"
        },
    )
    confirm = fields.Boolean(
        load_default=False,
        metadata={
            "description": "true completes a payment in status requires_action (test card 4000000000003220)"
        },
    )

    @validates_schema
    def _one_target(self, data, **kwargs):
        if ("payment_id" in data) == ("order_id" in data):
            raise SchemaError({"payment_id": ["send payment_id or order_id (one of them)"]})
        if "method" in data and "order_id" not in data:
            raise SchemaError({"method": ["only with order_id"]})


class ProcessHeaders(Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=validate.Length(min=1, max=128),
        metadata={"description": "Same key and body: the first result; another body: 409"},
    )
    guest_token = fields.String(
        data_key="X-Guest-Token",
        validate=validate.Length(min=16, max=200),
        metadata={
            "description": "Guests: the cart token their order was placed with "
            "(X-Cart-Token of the checkout)"
        },
    )


class IdempotencyHeaders(Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=validate.Length(min=1, max=128),
        metadata={"description": "Same key and body: the first result; another body: 409"},
    )


class PaymentMethodSchema(Schema):
    code = fields.String(required=True)
    gateway = fields.String(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    instructions = fields.String(allow_none=True)


class RefundCreateSchema(Schema):
    payment_id = an_id(required=True)
    # bounds are checked by the service (422): a Range of Decimals would render as strings in OpenAPI
    amount = fields.Decimal(
        required=True,
        metadata={
            "description": "More than 0 with at most 2 decimal places (422 otherwise), and at most the payment's "
            "refundable amount (409 refund_exceeds_captured)"
        },
    )
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=255))


class RefundSchema(Schema):
    id = fields.Integer(required=True)
    payment_id = fields.Integer(required=True)
    order_id = fields.Integer(required=True)
    amount = money(required=True)
    currency = fields.String(required=True)
    reason = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={"description": "pending, completed or failed"})
    failure_code = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


class TransactionSchema(Schema):
    id = fields.Integer(required=True)
    payment_id = fields.Integer(required=True)
    order_id = fields.Integer(required=True)
    kind = fields.String(
        required=True,
        metadata={
            "description": "authorize, confirm, capture, void, refund, webhook or mark_received"
        },
    )
    status = fields.String(
        required=True, metadata={"description": "succeeded, pending, requires_action, failed"}
    )
    amount = money(required=True)
    currency = fields.String(required=True)
    gateway = fields.String(required=True)
    gateway_reference = fields.String(allow_none=True)
    error_code = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


class TransactionListArgs(PageArgs):
    payment_id = an_id(strict=False)
    order_id = an_id(strict=False)


class WebhookResultSchema(Schema):
    status = fields.String(
        required=True, metadata={"description": "processed, recorded, ignored or duplicate"}
    )
    event_id = fields.String(required=True)


# --- handlers ------------------------------------------------------------------------------------


@blp.route("/process/", methods=["POST"])
@blp.arguments(ProcessHeaders, location="headers")
@blp.arguments(ProcessSchema)
@blp.response(200, PaymentSchema)
@_errors(
    ApiError.BAD_REQUEST,
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    CoreError.NOT_FOUND,
    OrderError.ORDER_NOT_PAYABLE,
    OrderError.PAYMENT_METHOD_MISMATCH,
    PaymentError.INVALID_PAYMENT_STATUS,
    PaymentError.PAYMENT_IN_PROGRESS,
    EventsError.IDEMPOTENCY_KEY_REUSED,
    CoreError.VALIDATION_ERROR,
    ApiError.RATE_LIMITED,
    PaymentError.GATEWAY_UNAVAILABLE,
    optional_auth=True,
)
def process(headers, data):
    """Pay one of your payments, by payment_id or order_id (customers with a token; guests with X-Guest-Token).

    Authorizes the payment with the card (captured at once with automatic capture), retries a
    failed one, or confirms one in status requires_action. An order placed without `payment` is
    paid by its order_id with a method: its payment is opened then. Test cards: 4242424242424242
    success, 4000000000000002 declined, 4000000000009995 insufficient funds, 4000000000003220
    requires action. Idempotency-Key honoured."""
    actor = current_actor(optional=True)
    if actor is None and not headers.get("guest_token"):
        raise Unauthorized("a valid access token (or a guest's X-Guest-Token) is required")
    if actor is not None and not actor.is_customer:
        raise PermissionDenied("only customers pay their payments")
    pay = dict(
        payment_details=data.get("payment_details"),
        confirm=data["confirm"],
        guest_token=headers.get("guest_token"),
        idempotency_key=headers.get("idempotency_key"),
    )
    if "order_id" in data:
        return pay_later.pay_order(actor, data["order_id"], method=data.get("method"), **pay)
    return charges.process_payment(actor, payment_id=data["payment_id"], **pay)


@blp.route("/methods/", methods=["GET"])
@blp.response(200, PaymentMethodSchema(many=True))
@_errors(CoreError.VALIDATION_ERROR)
def methods():
    """This shop's payment methods (public). Test cards for test_card: 4242424242424242 success,
    4000000000000002 declined (card_declined), 4000000000009995 insufficient funds
    (insufficient_funds), 4000000000003220 requires action (then confirm)."""
    return payment_methods.enabled_methods()


@blp.route("/refund/", methods=["POST"])
@admin_only
@blp.arguments(IdempotencyHeaders, location="headers")
@blp.arguments(RefundCreateSchema)
@blp.response(201, RefundSchema)
@_errors(
    ApiError.BAD_REQUEST,
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    CoreError.NOT_FOUND,
    PaymentError.INVALID_PAYMENT_STATUS,
    PaymentError.REFUND_EXCEEDS_CAPTURED,
    PaymentError.PAYMENT_IN_PROGRESS,
    EventsError.IDEMPOTENCY_KEY_REUSED,
    CoreError.VALIDATION_ERROR,
    ApiError.RATE_LIMITED,
    PaymentError.GATEWAY_UNAVAILABLE,
)
def create_refund(headers, data):
    """Refund part or all of a captured payment (Admins). Never more than captured minus already
    refunded (409 refund_exceeds_captured), also under concurrent requests. Idempotency-Key honoured."""
    return refunds.refund_for_api(
        current_actor(),
        payment_id=data["payment_id"],
        amount=data["amount"],
        reason=data["reason"],
        idempotency_key=headers.get("idempotency_key"),
    )


@blp.route("/transactions/", methods=["GET"])
@customer_or_staff
@blp.arguments(TransactionListArgs, location="query")
@blp.response(200, page_schema(TransactionSchema, name="PaymentTransactionPage"))
@_errors(
    SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, CoreError.NOT_FOUND, CoreError.VALIDATION_ERROR
)
def transactions(args):
    """Payment history, newest first: a customer's own payments; Admins: the whole shop's."""
    return access.list_transactions(
        current_actor(),
        payment_id=args.get("payment_id"),
        order_id=args.get("order_id"),
        page=args["page"],
        page_size=args["page_size"],
    )


@webhooks_blp.route("/webhooks/<string:gateway>/", methods=["POST"])
@webhooks_blp.response(200, WebhookResultSchema)
@document_errors(webhooks_blp, PaymentError.INVALID_SIGNATURE, CoreError.NOT_FOUND)
def webhook(gateway):
    """A gateway's event (no bearer token: the gateway's signature is verified, e.g. Stripe-Signature).
    Applied once: a replayed event answers 200 with status duplicate and changes nothing."""
    if gateway not in GATEWAY_CODES:
        raise NotFound("no such payment gateway", details={"gateway": gateway})
    return webhooks.handle_webhook(gateway, request.get_data(cache=False), dict(request.headers))
