"""/api/v1/sellers/me/payouts/: a seller's payouts (paginated, newest first, by status and
currency), one payout with the ledger entries it pays, and the payout job's notices of why it
paid nothing (skips).

Only a seller with a profile has payouts here (403 no_seller_profile for anyone else, an Admin
included: staff use the admin); another seller's payout answers 404. Amounts are strings in the
payout's currency unit ("1167" yen, "40.05" dollars); the bank account is its masked reference."""

from __future__ import annotations

from types import SimpleNamespace

from marshmallow import fields, validate

from app.core.errors import CoreError
from app.payouts import batches
from app.payouts.errors import LedgerError
from app.payouts.models import ENTRY_KINDS, PAYOUT_STATUSES, SKIP_REASONS
from app.security.errors import SecurityError
from storefront_api.common import (
    Blueprint,
    PageArgs,
    ViewSchema,
    current_actor,
    document_errors,
    page_schema,
)
from storefront_api.seller_ledger import CURRENCY, in_currency

blp = Blueprint(
    "seller_payouts",
    __name__,
    url_prefix="/api/v1/sellers/me",
    description="A seller's payouts, the entries each pays, and why a run paid nothing",
)


def _errors(*errors):
    return document_errors(blp, SecurityError.UNAUTHORIZED, LedgerError.NO_SELLER_PROFILE, *errors)


class PayoutSchema(ViewSchema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": list(PAYOUT_STATUSES)})
    currency = fields.String(required=True)
    amount = in_currency("amount", metadata={"description": "what the payout transfers"})
    entry_count = fields.Integer(required=True, metadata={"description": "ledger entries paid"})
    bank_account = fields.String(
        attribute="bank_account_masked", metadata={"description": "masked: its last 4 only"}
    )
    reference = fields.String(
        attribute="external_reference",
        allow_none=True,
        metadata={"description": "the transfer's reference, once paid"},
    )
    failure_reason = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    approved_at = fields.DateTime(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    failed_at = fields.DateTime(allow_none=True)


class PaidEntrySchema(ViewSchema):
    id = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    kind = fields.String(required=True, metadata={"enum": list(ENTRY_KINDS)})
    currency = fields.String(required=True)
    amount = in_currency("amount", metadata={"description": "signed: + owed to the seller"})
    sub_order_id = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)


class PayoutDetailSchema(PayoutSchema):
    entries = fields.Nested(page_schema(PaidEntrySchema, "PayoutEntriesPage"), required=True)


class SkipSchema(ViewSchema):
    id = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    currency = fields.String(required=True)
    reason = fields.String(required=True, metadata={"enum": list(SKIP_REASONS)})
    amount = in_currency("amount", metadata={"description": "what was available then"})
    minimum = fields.Function(
        lambda row: None if row.minimum is None else str(row.minimum),
        allow_none=True,
        metadata={"type": "string", "description": "the minimum payout then (below_minimum)"},
    )


class PayoutListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(PAYOUT_STATUSES))
    currency = fields.String(validate=CURRENCY)


@blp.route("/payouts/", methods=["GET"])
@blp.arguments(PayoutListArgs, location="query")
@blp.response(200, page_schema(PayoutSchema, "SellerPayoutPage"))
@_errors(CoreError.VALIDATION_ERROR)
def payouts(args):
    """The caller's payouts, newest first."""
    return batches.my_payouts(
        current_actor(),
        args["page"],
        args["page_size"],
        status=args.get("status"),
        currency=args.get("currency"),
    )


@blp.route("/payouts/<int:payout_id>/", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, PayoutDetailSchema)
@_errors(CoreError.VALIDATION_ERROR, CoreError.NOT_FOUND)
def payout(args, payout_id):
    """One of the caller's payouts with the ledger entries it pays (paginated, oldest first)."""
    found = batches.my_payout(current_actor(), payout_id, args["page"], args["page_size"])
    return SimpleNamespace(
        **{name: getattr(found.payout, name) for name in _PAYOUT_FIELDS}, entries=found.entries
    )


_PAYOUT_FIELDS = (
    "id",
    "status",
    "currency",
    "amount",
    "entry_count",
    "bank_account_masked",
    "external_reference",
    "failure_reason",
    "created_at",
    "approved_at",
    "paid_at",
    "failed_at",
)


@blp.route("/payouts/skips/", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(SkipSchema, "SellerPayoutSkipPage"))
@_errors(CoreError.VALIDATION_ERROR)
def skips(args):
    """Why the payout job paid the caller nothing on a run (newest first): no verified default
    bank account in the currency, below the minimum payout, a negative balance, suspended."""
    return batches.my_skips(current_actor(), args["page"], args["page_size"])
