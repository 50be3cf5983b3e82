"""/api/v1/sellers: selling here (issue 14, items 1 and 2).

`POST /register/` applies to sell: anonymously with a new account (answered 202 "check your
e-mail" whatever the address, as /auth/register/ is), or signed in as a customer of the
storefront (201 with the pending profile; the user gets the Seller role). Rate limited per IP
(API_SELLER_REGISTER_RATE_LIMIT); the plan's max_sellers answers 409 seller_limit_reached.
`/me/` is the signed-in seller's own profile (never its status or commission, which staff set)
and `/me/kyc/...` its KYC: the requirements of its business type, its documents (upload as
multipart, PDF/JPEG/PNG judged by the bytes, at most KYC_MAX_FILE_BYTES) and their files, which
only their seller and staff ever read.
"""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_limiter.util import get_remote_address
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, post_load, validate

from app.core.errors import CoreError, ValidationError
from app.core.inputs import UNSET
from app.core.paging import Page
from app.extensions import limiter
from app.security import roles
from app.security.errors import SecurityError
from app.sellers import kyc, onboarding
from app.sellers.errors import SellerError
from app.sellers.inputs import NewAccount, NewDocument, SellerChanges, StoreDetails
from app.sellers.models import BUSINESS_TYPES
from storefront_api.auth import NEW_PASSWORD
from storefront_api.common import (
    Blueprint,
    PageArgs,
    current_actor,
    document_errors,
    page_schema,
    require_roles,
)
from storefront_api.errors import ApiError

blp = Blueprint(
    "sellers",
    __name__,
    url_prefix="/api/v1/sellers",
    description="Selling here: registration, the seller's own profile and KYC documents",
)

seller_only = require_roles(roles.SELLER)
UPLOAD_SLACK = 64 * 1024  # the multipart envelope around the file


def _errors(*errors):
    return document_errors(blp, SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, *errors)


@blp.before_request
def _room_for_an_upload() -> None:
    """An upload may be larger than the API's MAX_CONTENT_LENGTH: up to KYC_MAX_FILE_BYTES (the
    service says so in its own words); a body far beyond is still refused unread (413)."""
    if request.endpoint == "sellers.upload_document":
        request.max_content_length = kyc.max_file_bytes() + UPLOAD_SLACK


# --- schemas -------------------------------------------------------------------------------------


class StoreFields(Schema):
    store_name = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(allow_none=True, validate=validate.Length(max=5000))
    contact_email = fields.Email(allow_none=True, validate=validate.Length(max=320))
    business_type = fields.String(
        validate=validate.OneOf(BUSINESS_TYPES),
        metadata={"description": "Which KYC documents apply: " + ", ".join(BUSINESS_TYPES)},
    )


class SellerRegisterSchema(StoreFields):
    store_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    business_type = fields.String(
        load_default="individual", validate=validate.OneOf(BUSINESS_TYPES)
    )
    email = fields.Email(
        validate=validate.Length(max=128),
        metadata={"description": "A new account: required unless signed in as a customer"},
    )
    password = fields.String(load_only=True, validate=NEW_PASSWORD)
    first_name = fields.String(load_default="", validate=validate.Length(max=64))
    last_name = fields.String(load_default="", validate=validate.Length(max=64))

    @post_load
    def typed(self, data, **kwargs):
        store = StoreDetails(
            store_name=data["store_name"],
            description=data.get("description"),
            contact_email=data.get("contact_email"),
            business_type=data["business_type"],
        )
        account = (
            NewAccount(
                email=data["email"],
                password=data["password"],
                first_name=data["first_name"],
                last_name=data["last_name"],
            )
            if "email" in data and "password" in data
            else None
        )
        return {"store": store, "account": account}


class SellerChangesSchema(StoreFields):
    @post_load
    def typed(self, data, **kwargs):
        return SellerChanges(**{name: data.get(name, UNSET) for name in data})


class KycRequirementSchema(Schema):
    document_type = fields.String(required=True)
    is_mandatory = fields.Boolean(required=True)
    description = fields.String(allow_none=True)
    status = fields.String(
        required=True,
        metadata={"description": "missing, pending, accepted or rejected (its latest document)"},
    )


class SellerProfileSchema(Schema):
    id = fields.Integer(dump_only=True)
    store_name = fields.String()
    slug = fields.String()
    description = fields.String(allow_none=True)
    contact_email = fields.String(allow_none=True)
    business_type = fields.String()
    status = fields.String(
        metadata={"description": "pending, approved, rejected or suspended (staff decide)"}
    )
    status_reason = fields.String(
        allow_none=True, metadata={"description": "Why staff rejected or suspended the store"}
    )
    status_changed_at = fields.DateTime(allow_none=True)
    commission_rate = fields.Decimal(as_string=True, places=4)
    created_at = fields.DateTime()


class SellerMeSchema(SellerProfileSchema):
    kyc = fields.List(
        fields.Nested(KycRequirementSchema),
        metadata={"description": "The KYC requirements of the store's business type"},
    )


class SellerMessageSchema(Schema):
    detail = fields.String(required=True)


class KycReviewSchema(Schema):
    decision = fields.String(required=True)
    reason = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


class KycDocumentSchema(Schema):
    id = fields.Integer(required=True)
    document_type = fields.String(required=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"description": "pending, accepted, rejected"})
    review_reason = fields.String(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime(required=True)
    reviews = fields.List(fields.Nested(KycReviewSchema), required=True)


class KycUploadFormSchema(Schema):
    document_type = fields.String(required=True, validate=validate.Length(min=1, max=64))


class KycUploadFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "PDF, JPEG or PNG"})


# --- registration --------------------------------------------------------------------------------


@blp.route("/register/", methods=["POST"])
@blp.arguments(SellerRegisterSchema)
@blp.response(201, SellerProfileSchema)
@blp.alt_response(202, schema=SellerMessageSchema, description="A new account: check your e-mail")
@document_errors(
    blp,
    ApiError.BAD_REQUEST,
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    CoreError.VALIDATION_ERROR,
    SellerError.SELLER_LIMIT_REACHED,
    SellerError.SELLER_ALREADY_REGISTERED,
    ApiError.RATE_LIMITED,
    optional_auth=True,
)
@limiter.limit(
    lambda: current_app.config["API_SELLER_REGISTER_RATE_LIMIT"], key_func=get_remote_address
)
def register(data):
    """Apply to sell: signed in as a customer, its account applies (201, the pending profile);
    anonymous, a new account is made with `email` and `password` (202, whatever the address)."""
    actor = current_actor(optional=True)
    if actor is not None:
        return onboarding.apply(actor, data["store"])
    if data["account"] is None:
        raise ValidationError(
            "a new account needs an e-mail and a password (or sign in as a customer)",
            details={"email": "required", "password": "required"},
        )
    onboarding.register(data["account"], data["store"])
    response = jsonify(
        {"detail": "Thank you: check your e-mail. Staff review your application and write to you."}
    )
    response.status_code = 202
    return response


# --- the seller's own profile --------------------------------------------------------------------


def _me(profile):
    return {
        **{name: getattr(profile, name) for name in SellerProfileSchema._declared_fields},
        "kyc": kyc.standing(profile),
    }


@blp.route("/me/", methods=["GET"])
@blp.response(200, SellerMeSchema)
@_errors(CoreError.NOT_FOUND)
@seller_only
def me():
    """The signed-in seller's profile, its status (and why) and its KYC requirements."""
    return _me(onboarding.own_profile(current_actor()))


@blp.route("/me/", methods=["PATCH"])
@blp.arguments(SellerChangesSchema)
@blp.response(200, SellerMeSchema)
@_errors(
    ApiError.BAD_REQUEST, CoreError.NOT_FOUND, CoreError.VALIDATION_ERROR, ApiError.RATE_LIMITED
)
@seller_only
def update_me(changes):
    """Change the store's name, description, contact address (business type: until approved)."""
    return _me(onboarding.update_own_profile(current_actor(), changes))


# --- KYC documents -------------------------------------------------------------------------------


@blp.route("/me/kyc/documents/", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(KycDocumentSchema, "KycDocumentPage"))
@_errors(CoreError.NOT_FOUND, CoreError.VALIDATION_ERROR)
@seller_only
def list_documents(args):
    """The seller's documents, newest first, with their reviews."""
    found = kyc.documents_of(current_actor())
    page, size = args["page"], args["page_size"]
    return Page(
        items=found[(page - 1) * size : page * size], total=len(found), page=page, page_size=size
    )


@blp.route("/me/kyc/documents/", methods=["POST"])
@blp.arguments(KycUploadFormSchema, location="form")
@blp.arguments(KycUploadFileSchema, location="files")
@blp.response(201, KycDocumentSchema)
@_errors(
    ApiError.BAD_REQUEST,
    CoreError.NOT_FOUND,
    CoreError.VALIDATION_ERROR,
    SellerError.KYC_FILE_TYPE,
    SellerError.KYC_FILE_TOO_LARGE,
    ApiError.PAYLOAD_TOO_LARGE,
    ApiError.RATE_LIMITED,
)
@seller_only
def upload_document(form, files):
    """Upload a document (multipart: `document_type`, `file`): PDF, JPEG or PNG by its bytes."""
    upload = files["file"]
    limit = kyc.max_file_bytes()
    data = upload.stream.read(limit + 1)  # one byte more tells "too large" without reading all
    return kyc.upload(
        current_actor(),
        NewDocument(document_type=form["document_type"], filename=upload.filename or "", data=data),
    )


@blp.route("/me/kyc/documents/<int:document_id>/", methods=["GET"])
@blp.response(200, KycDocumentSchema)
@_errors(CoreError.NOT_FOUND)
@seller_only
def get_document(document_id):
    """One of the seller's documents with its review history."""
    return kyc.get_document(current_actor(), document_id)


@blp.route("/me/kyc/documents/<int:document_id>/file/", methods=["GET"])
@blp.response(200, description="The file, as uploaded (never cached)")
@_errors(CoreError.NOT_FOUND)
@seller_only
def download_document(document_id):
    """The document's file: only its seller (and staff, in the admin) read it."""
    document, data = kyc.read_document(current_actor(), document_id)
    return kyc_file_response(document, data)


def kyc_file_response(document, data: bytes):
    response = current_app.response_class(data, mimetype=document.content_type)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{kyc.download_name(document)}"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
