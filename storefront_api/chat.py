"""/api/v1/chat: live chat between a customer and a seller about a product or an order.

    GET  /api/v1/chat/conversations/                    mine, most recently active first, unread counts
    POST /api/v1/chat/conversations/                    a customer starts one (with its first message)
    GET  /api/v1/chat/conversations/<id>/               one of mine
    GET  /api/v1/chat/conversations/<id>/messages/      newest first; ?before=<message id>&limit=
    POST /api/v1/chat/conversations/<id>/messages/      write (CHAT_MESSAGE_RATE_LIMIT per user)
    POST /api/v1/chat/conversations/<id>/read/          move my read marker (default: to the newest)
    POST /api/v1/chat/conversations/<id>/close/         either side closes it
    GET  /api/v1/chat/unread/                           my unread messages over all conversations

Customers and Sellers only (403 for other roles). A seller takes part in the conversations of its
seller profile. A conversation the caller does not take part in answers 404, exactly like one that
does not exist (another customer's, another seller's, another storefront's). Message history is a
keyset page (`before`, `next_before`) rather than page numbers: new messages arrive all the time,
and an offset would shift under the reader. Bodies are plain text (at most 2000 characters,
stripped): a client renders them as text, never as HTML.

Each posted message is delivered live as Socket.IO event `chat.message` to room `user:<id>` of
every other participant (app.chat.services publishes it; the realtime service emits it).
"""

from __future__ import annotations

from flask import current_app
from flask_jwt_extended import get_jwt_identity, verify_jwt_in_request
from flask_limiter.util import get_remote_address
from marshmallow import Schema, fields, validate

from app.chat import services
from app.chat.errors import ChatError
from app.chat.inputs import NewConversation
from app.chat.models import CONVERSATION_STATUSES, SIDES, SUBJECTS
from app.core.errors import CoreError
from app.extensions import limiter
from app.security import roles
from app.security.errors import SecurityError
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
from storefront_api.fields import an_id

blp = Blueprint(
    "chat",
    __name__,
    url_prefix="/api/v1/chat",
    description="Live chat between customers and sellers about a product or an order",
)

chat_user = require_roles(roles.CUSTOMER, roles.PREMIUM_CUSTOMER, roles.SELLER)
customer_only = require_roles(roles.CUSTOMER, roles.PREMIUM_CUSTOMER)
BODY = validate.Length(min=1, max=services.MAX_BODY_CHARS)


def _sender_key() -> str:
    """Messages are limited per signed-in user (a shop's customers may share one IP address);
    a request without a valid token (refused with 401 anyway) counts against its IP address."""
    try:
        verify_jwt_in_request()
        return f"chat-user:{get_jwt_identity()}"
    except Exception:  # noqa: BLE001 - any token problem: the view answers 401 itself
        return get_remote_address()


# one bucket per user for messages posted and conversations started (each starts with a message)
limit_messages = limiter.shared_limit(
    lambda: current_app.config["CHAT_MESSAGE_RATE_LIMIT"],
    scope="chat_messages",
    key_func=_sender_key,
)


def _errors(*errors):
    return document_errors(
        blp, SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, CoreError.NOT_FOUND, *errors
    )


class ConversationSchema(ViewSchema):
    id = fields.Integer(required=True)
    subject_type = fields.String(required=True, metadata={"enum": list(SUBJECTS)})
    subject_title = fields.String(
        required=True, metadata={"description": "the product's title or 'Order <number>'"}
    )
    product_id = fields.Integer(allow_none=True)
    order_id = fields.Integer(allow_none=True)
    seller_id = fields.Integer(required=True)
    seller_name = fields.String(required=True)
    customer_name = fields.String(
        required=True, metadata={"description": "first name and last initial"}
    )
    status = fields.String(required=True, metadata={"enum": list(CONVERSATION_STATUSES)})
    created_at = fields.DateTime(required=True)
    last_message_at = fields.DateTime(allow_none=True)
    last_message_preview = fields.String(
        allow_none=True, metadata={"description": "the newest message, cut to 200 characters"}
    )
    my_side = fields.String(required=True, metadata={"enum": list(SIDES)})
    unread_count = fields.Integer(
        required=True, metadata={"description": "the other side's messages after my read marker"}
    )


class MessageSchema(ViewSchema):
    id = fields.Integer(required=True)
    conversation_id = fields.Integer(required=True)
    sender_user_id = fields.Integer(allow_none=True)
    sender_side = fields.String(required=True, metadata={"enum": list(SIDES)})
    sender_name = fields.String(
        required=True, metadata={"description": "the store's name, or the customer's first name"}
    )
    body = fields.String(
        required=True, metadata={"description": "plain text: never render as HTML"}
    )
    created_at = fields.DateTime(required=True)


class MessagePageSchema(ViewSchema):
    items = fields.List(fields.Nested(MessageSchema), required=True)
    next_before = fields.Integer(
        allow_none=True,
        metadata={"description": "pass as `before` for older messages; null: none older"},
    )


class StartedSchema(ViewSchema):
    conversation = fields.Nested(ConversationSchema, required=True)
    message = fields.Nested(MessageSchema, required=True)


class ReadStateSchema(ViewSchema):
    conversation_id = fields.Integer(required=True)
    last_read_message_id = fields.Integer(required=True)
    unread_count = fields.Integer(required=True)


class UnreadSchema(Schema):
    unread_count = fields.Integer(required=True)
    conversations_with_unread = fields.Integer(required=True)


class ConversationListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(CONVERSATION_STATUSES))


class StartSchema(Schema):
    subject_type = fields.String(required=True, validate=validate.OneOf(SUBJECTS))
    product_id = an_id(metadata={"description": "subject product: one shown on the storefront"})
    order_id = an_id(metadata={"description": "subject order: one of the caller's"})
    seller_id = an_id(
        metadata={"description": "which seller of the order (optional when it has one seller)"}
    )
    body = fields.String(required=True, validate=BODY, metadata={"description": "first message"})


class MessageArgs(Schema):
    before = an_id(strict=False, metadata={"description": "only messages with a smaller id"})
    limit = fields.Integer(
        load_default=30, validate=validate.Range(min=1, max=services.MAX_MESSAGES_PAGE)
    )


class PostSchema(Schema):
    body = fields.String(required=True, validate=BODY)


class ReadSchema(Schema):
    message_id = an_id(
        metadata={"description": "the newest message read (default: the conversation's newest)"}
    )


@blp.route("/conversations/", methods=["GET"])
@chat_user
@blp.arguments(ConversationListArgs, location="query")
@blp.response(200, page_schema(ConversationSchema, "ConversationPage"))
@_errors(CoreError.VALIDATION_ERROR)
def list_conversations(args):
    """My conversations (as a customer, or as my seller), most recently active first."""
    return services.list_conversations(
        current_actor(), status=args.get("status"), page=args["page"], page_size=args["page_size"]
    )


@blp.route("/conversations/", methods=["POST"])
@customer_only
@blp.arguments(StartSchema)
@blp.response(201, StartedSchema, description="A new conversation with its first message")
@blp.alt_response(
    200, schema=StartedSchema, description="The open conversation about the subject, message added"
)
@_errors(ApiError.BAD_REQUEST, CoreError.VALIDATION_ERROR, ApiError.RATE_LIMITED)
@limit_messages
def start_conversation(data):
    """Ask a seller about a product or one of my orders (one open conversation per subject)."""
    started = services.start_conversation(current_actor(), NewConversation(**data))
    return started, 201 if started.created else 200


@blp.route("/conversations/<int:conversation_id>/", methods=["GET"])
@chat_user
@blp.response(200, ConversationSchema)
@_errors()
def get_conversation(conversation_id):
    """One of my conversations, with my unread count."""
    return services.get_conversation(current_actor(), conversation_id)


@blp.route("/conversations/<int:conversation_id>/messages/", methods=["GET"])
@chat_user
@blp.arguments(MessageArgs, location="query")
@blp.response(200, MessagePageSchema)
@_errors(CoreError.VALIDATION_ERROR)
def list_messages(args, conversation_id):
    """Messages newest first, `limit` at a time; `before` (a message id) pages to older ones."""
    return services.list_messages(
        current_actor(), conversation_id, before=args.get("before"), limit=args["limit"]
    )


@blp.route("/conversations/<int:conversation_id>/messages/", methods=["POST"])
@chat_user
@blp.arguments(PostSchema)
@blp.response(201, MessageSchema)
@_errors(
    ApiError.BAD_REQUEST,
    ChatError.CONVERSATION_CLOSED,
    CoreError.VALIDATION_ERROR,
    ApiError.RATE_LIMITED,
)
@limit_messages
def post_message(data, conversation_id):
    """Write into one of my open conversations (409 conversation_closed once closed)."""
    return services.post_message(current_actor(), conversation_id, data["body"])


@blp.route("/conversations/<int:conversation_id>/read/", methods=["POST"])
@chat_user
@blp.arguments(ReadSchema, required=False)
@blp.response(200, ReadStateSchema)
@_errors(ApiError.BAD_REQUEST, CoreError.VALIDATION_ERROR, ApiError.RATE_LIMITED)
def mark_read(data, conversation_id):
    """I have read up to `message_id` (default: the newest message); never moves back."""
    return services.mark_read(current_actor(), conversation_id, (data or {}).get("message_id"))


@blp.route("/conversations/<int:conversation_id>/close/", methods=["POST"])
@chat_user
@blp.response(200, ConversationSchema)
@_errors(ApiError.RATE_LIMITED)
def close_conversation(conversation_id):
    """Close one of my conversations: no more messages (a new question starts a new one)."""
    return services.close_conversation(current_actor(), conversation_id)


@blp.route("/unread/", methods=["GET"])
@chat_user
@blp.response(200, UnreadSchema)
@document_errors(blp, SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN)
def unread():
    """My unread messages over all my conversations (the chat badge)."""
    total, conversations = services.unread_total(current_actor())
    return {"unread_count": total, "conversations_with_unread": conversations}
