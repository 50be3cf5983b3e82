"""/api/v1/notifications/: the signed-in user's notification centre, and staff sends.

Every signed-in user (customer, seller, staff) lists its own notifications (newest first,
`?unread=true` for unread ones), marks one or all read, dismisses one, reads its unread count and
its preferences (per type and channel: in_app, email, sms, push). Another user's notification
answers 404, whatever its id. Staff (Admin, Super Admin) send one to a user, a role or the sellers
in a status of the current storefront (POST /); anyone else gets 403. Rules:
app.inbox.services and app.inbox.preferences.
"""

from __future__ import annotations

from marshmallow import Schema, fields, post_load, validate

from app.core.errors import CoreError
from app.inbox import preferences, services
from app.inbox.catalog import CHANNELS, PREFERENCE_TYPES, STAFF_TYPES
from app.inbox.inputs import Audience, Message
from app.security import roles
from app.security.errors import SecurityError
from app.sellers.models import SELLER_STATUSES
from storefront_api.common import (
    Blueprint,
    PageArgs,
    ViewSchema,
    current_actor,
    document_errors,
    login_required,
    page_schema,
    require_roles,
)
from storefront_api.errors import ApiError

blp = Blueprint(
    "notifications",
    __name__,
    url_prefix="/api/v1/notifications",
    description="The signed-in user's notifications and preferences; staff sends",
)

staff_only = require_roles(roles.ADMIN, roles.SUPER_ADMIN)


def _errors(*errors):
    return document_errors(blp, SecurityError.UNAUTHORIZED, *errors)


class NotificationSchema(ViewSchema):
    id = fields.Integer(required=True)
    type = fields.String(required=True, metadata={"example": "order.created"})
    title = fields.String(required=True)
    body = fields.String(required=True)
    link = fields.String(
        allow_none=True,
        metadata={"description": "The object's path in the shop (/orders/R-100) or a URL"},
    )
    data = fields.Dict(required=True)
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True)
    is_read = fields.Boolean(required=True)


class ListArgs(PageArgs):
    unread = fields.Boolean(load_default=False, metadata={"description": "true: unread ones only"})


class NewNotificationSchema(Schema):
    type = fields.String(load_default="announcement", validate=validate.OneOf(STAFF_TYPES))
    title = fields.String(required=True, validate=validate.Length(min=1, max=services.TITLE_MAX))
    body = fields.String(load_default="", validate=validate.Length(max=services.BODY_MAX))
    link = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=services.LINK_MAX)
    )
    data = fields.Dict(load_default=dict)
    channels = fields.List(
        fields.String(validate=validate.OneOf(CHANNELS)),
        load_default=None,
        validate=validate.Length(min=1),
        metadata={
            "description": "Only these channels (default: all, as each user's preferences say)"
        },
    )
    user_id = fields.Integer(
        validate=validate.Range(min=1, max=2**31 - 1), metadata={"description": "One user"}
    )
    role = fields.String(
        validate=validate.OneOf(services.ROLE_AUDIENCES),
        metadata={"description": "Every active user of the storefront with this role"},
    )
    seller_status = fields.String(
        validate=validate.OneOf(SELLER_STATUSES),
        metadata={"description": "Every seller of the storefront in this status"},
    )

    @post_load
    def _input(self, data, **kwargs) -> tuple[Audience, Message]:
        audience = Audience(
            user_id=data.pop("user_id", None),
            role=data.pop("role", None),
            seller_status=data.pop("seller_status", None),
        )
        channels = data.pop("channels")
        return audience, Message(channels=tuple(channels) if channels else None, **data)


class SentSchema(ViewSchema):
    id = fields.Integer(required=True)
    type = fields.String(required=True)
    title = fields.String(required=True)
    audience = fields.String(required=True)
    recipient_count = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)


class CountSchema(Schema):
    unread = fields.Integer(required=True)


class MarkedSchema(Schema):
    marked = fields.Integer(required=True, metadata={"description": "how many were unread"})


class PreferenceSchema(ViewSchema):
    type = fields.String(required=True, metadata={"enum": list(PREFERENCE_TYPES)})
    label = fields.String(required=True)
    channel = fields.String(required=True, metadata={"enum": list(CHANNELS)})
    enabled = fields.Boolean(required=True)
    source = fields.String(
        required=True,
        metadata={
            "enum": [preferences.USER, preferences.TENANT, preferences.BUILTIN],
            "description": "your own choice, the shop's default, or the platform's",
        },
    )


class PreferencesSchema(Schema):
    preferences = fields.List(fields.Nested(PreferenceSchema), required=True)


class ChoiceSchema(Schema):
    type = fields.String(
        required=True,
        validate=validate.OneOf(PREFERENCE_TYPES),
        metadata={"description": '"*": every type (a type\'s own choice wins over it)'},
    )
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    enabled = fields.Boolean(
        required=True, allow_none=True, metadata={"description": "null: back to the default"}
    )

    @post_load
    def _input(self, data, **kwargs) -> preferences.Choice:
        return preferences.Choice(**data)


class ChoicesSchema(Schema):
    preferences = fields.List(
        fields.Nested(ChoiceSchema), required=True, validate=validate.Length(min=1, max=100)
    )


@blp.route("/", methods=["GET"])
@login_required
@blp.arguments(ListArgs, location="query")
@blp.response(200, page_schema(NotificationSchema))
@_errors(CoreError.VALIDATION_ERROR)
def list_notifications(args):
    """The caller's notifications, newest first."""
    return services.inbox(current_actor(), args["page"], args["page_size"], unread=args["unread"])


@blp.route("/", methods=["POST"])
@staff_only
@blp.arguments(NewNotificationSchema)
@blp.response(201, SentSchema)
@_errors(
    ApiError.BAD_REQUEST,
    CoreError.FORBIDDEN,
    CoreError.NOT_FOUND,
    CoreError.VALIDATION_ERROR,
    ApiError.RATE_LIMITED,
)
def send_notification(new):
    """Staff: send a notification to one user (`user_id`), a role (`role`) or the sellers in a
    status (`seller_status`) of this storefront: exactly one of them (422 otherwise, and when
    nobody matches; 404 for a user who is not the storefront's)."""
    audience, message = new
    return services.send(current_actor(), audience, message)


@blp.route("/unread-count/", methods=["GET"])
@login_required
@blp.response(200, CountSchema)
@_errors()
def unread_count():
    """How many of the caller's notifications are unread."""
    return {"unread": services.unread_count(current_actor())}


@blp.route("/mark-all-read/", methods=["POST"])
@login_required
@blp.response(200, MarkedSchema)
@_errors(ApiError.RATE_LIMITED)
def mark_all_read():
    """Mark every notification of the caller read."""
    return {"marked": services.mark_all_read(current_actor())}


@blp.route("/<int:notification_id>/read/", methods=["PUT"])
@login_required
@blp.response(200, NotificationSchema)
@_errors(CoreError.NOT_FOUND, ApiError.RATE_LIMITED)
def mark_read(notification_id):
    """Mark one of the caller's notifications read."""
    return services.mark_read(current_actor(), notification_id)


@blp.route("/<int:notification_id>/", methods=["DELETE"])
@login_required
@blp.response(204)
@_errors(CoreError.NOT_FOUND, ApiError.RATE_LIMITED)
def delete_notification(notification_id):
    """Remove one of the caller's notifications from its list."""
    services.dismiss(current_actor(), notification_id)


@blp.route("/preferences/", methods=["GET"])
@login_required
@blp.response(200, PreferencesSchema)
@_errors()
def get_preferences():
    """The caller's choice for every type ("*": all types) and channel, and where it comes from."""
    return {"preferences": preferences.preferences_of(current_actor())}


@blp.route("/preferences/", methods=["PUT"])
@login_required
@blp.arguments(ChoicesSchema)
@blp.response(200, PreferencesSchema)
@_errors(ApiError.BAD_REQUEST, CoreError.VALIDATION_ERROR, ApiError.RATE_LIMITED)
def put_preferences(body):
    """Change some of the caller's choices (`enabled: null` falls back to the default); answers
    all of them."""
    return {"preferences": preferences.set_preferences(current_actor(), body["preferences"])}
