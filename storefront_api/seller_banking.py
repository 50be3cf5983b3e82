"""/api/v1/sellers/me/bank-accounts: the signed-in seller's bank accounts (where its payouts go).

Seller only (other roles: 403); another seller's account answers 404. The number is sent once (an
IBAN, or account_number + routing_number) and never returned: responses carry its last 4
(`masked_number`). One default per currency (the first account of a currency is it; making
another the default takes it over; deleting the default hands it to the oldest left). Staff verify
or reject an account in the admin; a new holder name makes it unverified again.
"""

from __future__ import annotations

from marshmallow import Schema, fields, post_load, validate

from app.core.errors import CoreError
from app.security import roles
from app.security.errors import SecurityError
from app.sellers.banking import services
from app.sellers.banking.inputs import BankAccountChanges, NewBankAccount
from app.sellers.banking.models import KINDS, VERIFICATION_STATUSES
from storefront_api.common import (
    Blueprint,
    PageArgs,
    ViewSchema,
    current_actor,
    document_errors,
    page_schema,
    require_roles,
)
from storefront_api.errors import ApiError
from storefront_api.fields import country

blp = Blueprint(
    "seller_banking",
    __name__,
    url_prefix="/api/v1/sellers/me/bank-accounts",
    description="The signed-in seller's bank accounts (numbers are never returned)",
)

seller_only = require_roles(roles.SELLER)
CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="an ISO 4217 code such as EUR")
HOLDER = validate.Length(min=1, max=200)


def _errors(*errors):
    """The seller's own accounts: 401 without a token, 403 for another role."""
    return document_errors(blp, SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, *errors)


class BankAccountSchema(ViewSchema):
    id = fields.Integer(required=True)
    holder_name = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": list(KINDS)})
    masked_number = fields.String(
        required=True,
        metadata={"description": "The number's last 4 characters", "example": "•••• 3000"},
    )
    routing_number = fields.String(allow_none=True)
    currency = fields.String(required=True)
    country = fields.String(required=True)
    verification_status = fields.String(
        required=True,
        metadata={"enum": list(VERIFICATION_STATUSES), "description": "Set by staff"},
    )
    rejection_reason = fields.String(allow_none=True)
    verified_at = fields.DateTime(allow_none=True)
    is_default = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class NewBankAccountSchema(Schema):
    holder_name = fields.String(required=True, validate=HOLDER)
    iban = fields.String(
        validate=validate.Length(max=50),
        load_only=True,
        metadata={"description": "An IBAN (spaces allowed), checked by its check digits"},
    )
    account_number = fields.String(
        validate=validate.Length(max=40),
        load_only=True,
        metadata={"description": "Without an IBAN: the account number, with routing_number"},
    )
    routing_number = fields.String(
        validate=validate.Length(max=30),
        metadata={"description": "The bank's routing number (US: a 9-digit ABA number)"},
    )
    currency = fields.String(required=True, validate=CURRENCY)
    country = country(metadata={"description": "Default: the IBAN's country"})
    is_default = fields.Boolean(
        load_default=False,
        metadata={"description": "true: the default of its currency (the first one always is)"},
    )

    @post_load
    def _input(self, data, **kwargs) -> NewBankAccount:
        return NewBankAccount(**data)


class BankAccountChangesSchema(Schema):
    holder_name = fields.String(validate=HOLDER)
    is_default = fields.Boolean(
        metadata={"description": "true makes it the default of its currency; false is ignored"}
    )

    @post_load
    def _input(self, data, **kwargs) -> BankAccountChanges:
        return BankAccountChanges(**data)


@blp.route("/", methods=["GET"])
@seller_only
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(BankAccountSchema))
@_errors(CoreError.VALIDATION_ERROR)
def list_bank_accounts(args):
    """The caller's bank accounts, by currency, the default first."""
    return services.list_accounts(current_actor(), args["page"], args["page_size"])


@blp.route("/", methods=["POST"])
@seller_only
@blp.arguments(NewBankAccountSchema)
@blp.response(201, BankAccountSchema)
@_errors(
    ApiError.BAD_REQUEST, CoreError.VALIDATION_ERROR, CoreError.CONFLICT, ApiError.RATE_LIMITED
)
def create_bank_account(new):
    """Add a bank account: an IBAN, or account_number + routing_number (422 naming the field when
    invalid; 409 when the caller already has this account). It starts unverified."""
    return services.create_account(current_actor(), new)


@blp.route("/<int:account_id>/", methods=["GET"])
@seller_only
@blp.response(200, BankAccountSchema)
@_errors(CoreError.NOT_FOUND)
def get_bank_account(account_id):
    """One of the caller's bank accounts."""
    return services.get_account(current_actor(), account_id)


@blp.route("/<int:account_id>/", methods=["PATCH"])
@seller_only
@blp.arguments(BankAccountChangesSchema)
@blp.response(200, BankAccountSchema)
@_errors(
    ApiError.BAD_REQUEST, CoreError.NOT_FOUND, CoreError.VALIDATION_ERROR, ApiError.RATE_LIMITED
)
def update_bank_account(changes, account_id):
    """Rename the holder (the account is unverified again) or make it the default of its currency."""
    return services.update_account(current_actor(), account_id, changes)


@blp.route("/<int:account_id>/", methods=["DELETE"])
@seller_only
@blp.response(204)
@_errors(CoreError.NOT_FOUND, ApiError.RATE_LIMITED)
def delete_bank_account(account_id):
    """Delete one of the caller's accounts (the default: the oldest other of its currency becomes it)."""
    services.delete_account(current_actor(), account_id)
