"""Chat use cases: start a conversation, list mine with unread counts, read its messages (newest
first, by keyset), post a message, mark read, close; and staff's read-only moderation.

Who may see a conversation has one home, `_side()`: its customer (one user), or a user of its
seller (`seller_user_ids`). Anyone else gets NotFound, exactly as for a conversation that does not
exist, so nothing leaks; staff (Admins) read any conversation of their tenant through
`moderate_*`, never through the participant functions. Tenancy applies to every query.

Each posted message publishes `chat.message` into the outbox (dispatched after commit; the realtime
service emits it to room `user:<id>` of each recipient):
    {"conversation_id", "message_id", "sender_user_id", "sender_side", "seller_id",
     "recipient_user_ids": [...], "body": first BODY_PREVIEW_CHARS characters, "created_at"}
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from app.catalog.models import Product
from app.catalog.scopes import on_storefront
from app.chat.errors import ChatError
from app.chat.inputs import NewConversation
from app.chat.models import (
    ChatMessage,
    ChatParticipant,
    Conversation,
    ConversationStatus,
    Side,
    Subject,
)
from app.core.db import retry_on_deadlock, transaction, transactional
from app.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.core.paging import Page
from app.core.types import utcnow
from app.events.bus import publish
from app.extensions import db
from app.orders.models import Order, SubOrder
from app.security.actor import Actor
from app.security.models import User
from app.sellers.models import SellerProfile

MAX_BODY_CHARS = 2000
BODY_PREVIEW_CHARS = 200
MAX_MESSAGES_PAGE = 100
# control characters other than tab and newline (a message is plain text; NUL is refused earlier)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


# --- what the faces get back ---------------------------------------------------------------------


@dataclass(frozen=True)
class ConversationView:
    id: int
    subject_type: str
    subject_title: str
    product_id: int | None
    order_id: int | None
    sub_order_id: int | None
    seller_id: int
    seller_name: str
    customer_user_id: int
    customer_name: str
    status: str
    created_at: dt.datetime
    last_message_at: dt.datetime | None
    last_message_preview: str | None
    # the caller's side and its unread messages (None for staff reading as moderators)
    my_side: str | None
    unread_count: int


@dataclass(frozen=True)
class MessageView:
    id: int
    conversation_id: int
    sender_user_id: int | None
    sender_side: str
    sender_name: str
    body: str
    created_at: dt.datetime


@dataclass(frozen=True)
class MessagePage:
    """Messages newest first; `next_before`: pass it as `before` for the older ones (None: no more)."""

    items: Sequence[MessageView]
    next_before: int | None


@dataclass(frozen=True)
class ReadState:
    conversation_id: int
    last_read_message_id: int
    unread_count: int


@dataclass(frozen=True)
class Started:
    conversation: ConversationView
    message: MessageView
    created: bool  # False: the open conversation about the subject already existed


# --- who takes part ------------------------------------------------------------------------------


def seller_user_ids(seller_id: int) -> list[int]:
    """The users who act for seller `seller_id` (today its profile's one user): the one home of
    the rule, used for access, read markers and an event's recipients."""
    return list(
        db.session.scalars(select(SellerProfile.user_id).where(SellerProfile.id == seller_id))
    )


def _side(actor: Actor | None, conversation: Conversation) -> Side | None:
    """The caller's side of the conversation, or None: not part of it."""
    if actor is None:
        return None
    if conversation.customer_user_id == actor.user_id:
        return Side.CUSTOMER
    if (
        actor.is_seller
        and actor.seller_id is not None
        and actor.seller_id == conversation.seller_id
    ):
        return Side.SELLER
    return None


def _mine(actor: Actor):
    """The conversations the caller takes part in, as an SQL condition."""
    conditions = [Conversation.customer_user_id == actor.user_id]
    if actor.is_seller and actor.seller_id is not None:
        conditions.append(Conversation.seller_id == actor.seller_id)
    return or_(*conditions)


def _not_found(conversation_id: int) -> NotFound:
    return NotFound("no such conversation", details={"conversation_id": conversation_id})


def _find(actor: Actor, conversation_id: int, *, lock: bool = False) -> tuple[Conversation, Side]:
    """A conversation the caller takes part in, with its side; NotFound otherwise (no leak)."""
    stmt = select(Conversation).where(Conversation.id == conversation_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    conversation = db.session.scalar(stmt)
    side = _side(actor, conversation) if conversation is not None else None
    if conversation is None or side is None:
        raise _not_found(conversation_id)
    return conversation, side


def _participant(conversation: Conversation, user_id: int, side: Side) -> ChatParticipant:
    """The user's participant row, made on first need (a seller's user added later gets one when
    it first reads); a concurrent first insert loses in a savepoint and reads the winner's."""
    stmt = select(ChatParticipant).where(
        ChatParticipant.conversation_id == conversation.id, ChatParticipant.user_id == user_id
    )
    row = db.session.scalar(stmt)
    if row is not None:
        return row
    row = ChatParticipant(conversation_id=conversation.id, user_id=user_id, side=side)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        row = db.session.scalar(stmt)
    return row


# --- shaping -------------------------------------------------------------------------------------


def display_name(user: User | None) -> str:
    """A customer as the seller sees it: first name and last initial."""
    if user is None:
        return "Former customer"
    last = f" {user.last_name[:1]}." if user.last_name else ""
    return f"{user.first_name}{last}".strip() or "Customer"


def _previews(ids: list[int]) -> dict[int, str]:
    """The last message's body (cut to BODY_PREVIEW_CHARS) of each conversation, by its id."""
    if not ids:
        return {}
    rows = db.session.execute(
        select(Conversation.id, ChatMessage.body)
        .join(ChatMessage, ChatMessage.id == Conversation.last_message_id)
        .where(Conversation.id.in_(ids))
    )
    return {cid: preview(body) for cid, body in rows}


def preview(body: str) -> str:
    return body if len(body) <= BODY_PREVIEW_CHARS else body[: BODY_PREVIEW_CHARS - 1] + "…"


def _unread_counts(actor: Actor, where) -> dict[int, int]:
    """Unread messages for the caller in each of the conversations `where` selects (that it takes
    part in): the other side's messages above its last-read marker (no marker yet: all of them).
    One grouped query."""
    me = aliased(ChatParticipant)
    my_side = case(
        (Conversation.customer_user_id == actor.user_id, Side.CUSTOMER.value),
        else_=Side.SELLER.value,
    )
    rows = db.session.execute(
        select(ChatMessage.conversation_id, func.count(ChatMessage.id))
        .join(Conversation, Conversation.id == ChatMessage.conversation_id)
        .outerjoin(
            me,
            and_(me.conversation_id == ChatMessage.conversation_id, me.user_id == actor.user_id),
        )
        .where(
            where,
            _mine(actor),
            ChatMessage.sender_side != my_side,
            ChatMessage.id > func.coalesce(me.last_read_message_id, 0),
        )
        .group_by(ChatMessage.conversation_id)
    )
    return dict(rows.all())


def _views(actor: Actor | None, conversations: Sequence[Conversation]) -> list[ConversationView]:
    ids = [c.id for c in conversations]
    previews = _previews(ids)
    unread = _unread_counts(actor, Conversation.id.in_(ids)) if actor is not None and ids else {}
    return [
        ConversationView(
            id=c.id,
            subject_type=c.subject_type,
            subject_title=c.subject_title,
            product_id=c.product_id,
            order_id=c.order_id,
            sub_order_id=c.sub_order_id,
            seller_id=c.seller_id,
            seller_name=c.seller.store_name if c.seller else "",
            customer_user_id=c.customer_user_id,
            customer_name=display_name(c.customer),
            status=c.status,
            created_at=c.created_at,
            last_message_at=c.last_message_at,
            last_message_preview=previews.get(c.id),
            my_side=_side(actor, c),
            unread_count=unread.get(c.id, 0),
        )
        for c in conversations
    ]


def _message_view(message: ChatMessage, conversation: Conversation) -> MessageView:
    if message.sender_side == Side.SELLER:
        name = conversation.seller.store_name if conversation.seller else "Seller"
    else:
        name = display_name(message.sender)
    return MessageView(
        id=message.id,
        conversation_id=message.conversation_id,
        sender_user_id=message.sender_user_id,
        sender_side=message.sender_side,
        sender_name=name,
        body=message.body,
        created_at=message.created_at,
    )


# --- rules of one message ------------------------------------------------------------------------


def clean_body(body: str | None) -> str:
    """The text of a message: line ends as \\n, other control characters dropped, surrounding
    blanks stripped; between 1 and MAX_BODY_CHARS characters (ValidationError naming `body`).
    It is stored and sent as plain text: faces escape it when they render HTML."""
    text = _CONTROL.sub("", (body or "").replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not text:
        raise ValidationError("a message needs some text", details={"body": ["must not be blank"]})
    if len(text) > MAX_BODY_CHARS:
        raise ValidationError(
            "the message is too long",
            details={"body": [f"at most {MAX_BODY_CHARS} characters"]},
        )
    return text


def _add_message(conversation: Conversation, actor: Actor, side: Side, body: str) -> ChatMessage:
    """Append a message (the conversation row locked by the caller), move the sender's read
    marker past it and publish `chat.message` to everyone else of the conversation."""
    message = ChatMessage(
        conversation_id=conversation.id,
        sender_user_id=actor.user_id,
        sender_side=side,
        body=body,
        created_at=utcnow(),
    )
    db.session.add(message)
    db.session.flush()
    # the conversation's pointer to its newest message is bookkeeping, not a change anyone made:
    # written with an UPDATE statement (the audit hook records ORM changes only), so a message
    # is not also an audit row of its conversation; the loaded row is told the new values
    db.session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id)
        .values(last_message_id=message.id, last_message_at=message.created_at)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(conversation, "last_message_id", message.id)
    set_committed_value(conversation, "last_message_at", message.created_at)
    mine = _participant(conversation, actor.user_id, side)
    mine.last_read_message_id = message.id
    mine.last_read_at = message.created_at
    recipients = sorted(
        {conversation.customer_user_id, *seller_user_ids(conversation.seller_id)} - {actor.user_id}
    )
    publish(
        "chat.message",
        {
            "conversation_id": conversation.id,
            "message_id": message.id,
            "sender_user_id": actor.user_id,
            "sender_side": str(side),
            "seller_id": conversation.seller_id,
            "recipient_user_ids": recipients,
            "body": preview(body),
            "created_at": message.created_at.isoformat(),
        },
        aggregate="chat_conversation",
        aggregate_id=conversation.id,
    )
    return message


# --- starting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Subject:
    seller_id: int
    key: str
    title: str
    product_id: int | None = None
    order_id: int | None = None
    sub_order_id: int | None = None


def _product_subject(data: NewConversation) -> _Subject:
    if data.product_id is None:
        raise ValidationError(
            "a conversation about a product names it", details={"product_id": ["required"]}
        )
    product = db.session.scalar(
        select(Product).where(Product.id == data.product_id, *on_storefront())
    )
    if product is None:  # another tenant's, a draft, or a suspended seller's: not found
        raise NotFound("no such product", details={"product_id": data.product_id})
    if data.seller_id is not None and data.seller_id != product.seller_id:
        raise ValidationError(
            "the product is another seller's", details={"seller_id": ["not this product's seller"]}
        )
    return _Subject(
        seller_id=product.seller_id,
        key=f"product:{product.id}",
        title=product.title[:255],
        product_id=product.id,
    )


def _order_subject(actor: Actor, data: NewConversation) -> _Subject:
    if data.order_id is None:
        raise ValidationError(
            "a conversation about an order names it", details={"order_id": ["required"]}
        )
    order = db.session.scalar(
        select(Order).where(Order.id == data.order_id, Order.customer_user_id == actor.user_id)
    )
    if order is None:  # someone else's order answers as one that does not exist
        raise NotFound("no such order", details={"order_id": data.order_id})
    subs = list(
        db.session.scalars(
            select(SubOrder).where(SubOrder.order_id == order.id).order_by(SubOrder.id)
        )
    )
    if data.seller_id is None:
        if len(subs) != 1:
            raise ValidationError(
                "the order has several sellers: name the one to ask",
                details={"seller_id": ["required for an order with several sellers"]},
            )
        sub = subs[0]
    else:
        sub = next((s for s in subs if s.seller_id == data.seller_id), None)
        if sub is None:
            raise ValidationError(
                "the seller has no part in this order",
                details={"seller_id": ["not a seller of this order"]},
            )
    return _Subject(
        seller_id=sub.seller_id,
        key=f"order:{order.id}",
        title=f"Order {order.number}",
        order_id=order.id,
        sub_order_id=sub.id,
    )


def _open_conversation(actor: Actor, subject: _Subject) -> Conversation | None:
    return db.session.scalar(
        select(Conversation)
        .where(
            Conversation.customer_user_id == actor.user_id,
            Conversation.seller_id == subject.seller_id,
            Conversation.open_key == subject.key,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )


@retry_on_deadlock()
@transactional
def start_conversation(actor: Actor, data: NewConversation) -> Started:
    """A customer asks a seller about a product it can see or one of its own orders, with a first
    message. The open conversation about that subject is reused (created False) if there is one.

    Two first questions at once about one subject: the unique open_key lets one insert win; the
    other reads the winner's conversation (after a duplicate key, or run again when MariaDB
    picked it as a deadlock victim of the two gap locks) and posts into it."""
    if not actor.is_customer:
        raise PermissionDenied("only customers start conversations")
    body = clean_body(data.body)
    if data.subject_type == Subject.PRODUCT:
        subject = _product_subject(data)
    elif data.subject_type == Subject.ORDER:
        subject = _order_subject(actor, data)
    else:
        raise ValidationError(
            "unknown subject", details={"subject_type": ["one of product, order"]}
        )
    created = False
    conversation = _open_conversation(actor, subject)
    if conversation is None:
        conversation = Conversation(
            customer_user_id=actor.user_id,
            seller_id=subject.seller_id,
            subject_type=data.subject_type,
            product_id=subject.product_id,
            order_id=subject.order_id,
            sub_order_id=subject.sub_order_id,
            subject_title=subject.title,
            status=ConversationStatus.OPEN,
            open_key=subject.key,
        )
        try:
            with db.session.begin_nested():
                db.session.add(conversation)
        except IntegrityError:
            # a concurrent start of the same subject won: post into its conversation
            conversation = _open_conversation(actor, subject)
            if conversation is None:
                raise
        else:
            created = True
            _participant(conversation, actor.user_id, Side.CUSTOMER)
            for user_id in seller_user_ids(subject.seller_id):
                _participant(conversation, user_id, Side.SELLER)
    message = _add_message(conversation, actor, Side.CUSTOMER, body)
    view = _views(actor, [conversation])[0]
    return Started(conversation=view, message=_message_view(message, conversation), created=created)


# --- a participant's reads and writes ------------------------------------------------------------


def list_conversations(
    actor: Actor, *, status: str | None, page: int, page_size: int
) -> Page[ConversationView]:
    """The caller's conversations (as customer or as its seller), the most recently active first,
    each with its unread count."""
    with transaction():
        stmt = select(Conversation).where(_mine(actor))
        if status is not None:
            stmt = stmt.where(Conversation.status == status)
        total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = db.session.scalars(
            # message ids grow with time (stored times are to the second): newest activity first
            stmt.order_by(Conversation.last_message_id.desc(), Conversation.id.desc())
            .limit(page_size)
            .offset((page - 1) * page_size)
        ).all()
        return Page(items=_views(actor, rows), total=total, page=page, page_size=page_size)


@transactional
def get_conversation(actor: Actor, conversation_id: int) -> ConversationView:
    conversation, _ = _find(actor, conversation_id)
    return _views(actor, [conversation])[0]


def _page_of_messages(conversation: Conversation, before: int | None, limit: int) -> MessagePage:
    limit = max(1, min(limit, MAX_MESSAGES_PAGE))
    stmt = select(ChatMessage).where(ChatMessage.conversation_id == conversation.id)
    if before is not None:
        stmt = stmt.where(ChatMessage.id < before)
    rows = list(db.session.scalars(stmt.order_by(ChatMessage.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return MessagePage(
        items=[_message_view(m, conversation) for m in rows],
        next_before=rows[-1].id if more else None,
    )


@transactional
def list_messages(
    actor: Actor, conversation_id: int, *, before: int | None = None, limit: int = 30
) -> MessagePage:
    """The conversation's messages, newest first, `limit` at a time (keyset: those with an id
    below `before`). Reading does not move the read marker: `mark_read` does."""
    conversation, _ = _find(actor, conversation_id)
    return _page_of_messages(conversation, before, limit)


@transactional
def post_message(actor: Actor, conversation_id: int, body: str) -> MessageView:
    """A participant writes into an open conversation (409 conversation_closed once closed)."""
    text = clean_body(body)
    conversation, side = _find(actor, conversation_id, lock=True)
    if conversation.status != ConversationStatus.OPEN:
        raise Conflict(
            "the conversation is closed",
            code=ChatError.CONVERSATION_CLOSED,
            details={"conversation_id": conversation_id},
        )
    message = _add_message(conversation, actor, side, text)
    return _message_view(message, conversation)


@transactional
def mark_read(actor: Actor, conversation_id: int, message_id: int | None = None) -> ReadState:
    """Move the caller's read marker to `message_id` (default: the newest message). It never
    moves back, and never past the conversation's newest message."""
    conversation, side = _find(actor, conversation_id)
    newest = conversation.last_message_id or 0
    target = newest if message_id is None else min(message_id, newest)
    mine = _participant(conversation, actor.user_id, side)
    if target > mine.last_read_message_id:
        mine.last_read_message_id = target
        mine.last_read_at = utcnow()
    db.session.flush()
    unread = _unread_counts(actor, Conversation.id == conversation.id).get(conversation.id, 0)
    return ReadState(conversation.id, mine.last_read_message_id, unread)


@transactional
def close_conversation(actor: Actor, conversation_id: int) -> ConversationView:
    """Either side closes it: no more messages; a new question about the subject starts a new
    conversation. Closing a closed conversation changes nothing."""
    conversation, _ = _find(actor, conversation_id, lock=True)
    if conversation.status == ConversationStatus.OPEN:
        conversation.status = ConversationStatus.CLOSED
        conversation.open_key = None
        conversation.closed_at = utcnow()
        db.session.flush()
        publish(
            "chat.conversation_closed",
            {
                "conversation_id": conversation.id,
                "closed_by_user_id": actor.user_id,
                "seller_id": conversation.seller_id,
                "customer_user_id": conversation.customer_user_id,
            },
            aggregate="chat_conversation",
            aggregate_id=conversation.id,
        )
    return _views(actor, [conversation])[0]


@transactional
def unread_total(actor: Actor) -> tuple[int, int]:
    """(unread messages, conversations with unread messages) over all the caller's conversations."""
    counts = _unread_counts(actor, Conversation.last_message_id.is_not(None))
    return sum(counts.values()), sum(1 for n in counts.values() if n)


# --- staff moderation (read-only) ----------------------------------------------------------------


def may_moderate(actor: Actor | None) -> bool:
    """Admins and Super Admins read every conversation of their tenant (never post into one)."""
    return actor is not None and actor.is_admin


def _readable(actor: Actor, conversation_id: int) -> tuple[Conversation, Side | None]:
    """A conversation a participant or a moderator may read (NotFound for anyone else)."""
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None:
        raise _not_found(conversation_id)
    side = _side(actor, conversation)
    if side is None and not may_moderate(actor):
        raise _not_found(conversation_id)
    return conversation, side


@transactional
def read_conversation(
    actor: Actor, conversation_id: int, *, before: int | None = None, limit: int = 50
) -> tuple[ConversationView, MessagePage]:
    """The admin's conversation page: the conversation and a page of its messages, for its
    participants and for moderators. Nothing is marked read."""
    conversation, _ = _readable(actor, conversation_id)
    return _views(actor, [conversation])[0], _page_of_messages(conversation, before, limit)


@dataclass(frozen=True)
class Summary:
    unread_count: int  # for the caller (0 when it takes no part: staff)
    last_message_preview: str | None


def summaries(actor: Actor | None, conversation_ids: Sequence[int]) -> dict[int, Summary]:
    """The admin list's extra columns for a page of conversations: two queries for the page."""
    ids = list(conversation_ids)
    if not ids:
        return {}
    previews = _previews(ids)
    unread = _unread_counts(actor, Conversation.id.in_(ids)) if actor is not None else {}
    return {cid: Summary(unread.get(cid, 0), previews.get(cid)) for cid in ids}


def conversations_of_seller(seller_id: int):
    """The seller's conversations, as an SQL condition (the admin's seller scope)."""
    return Conversation.seller_id == seller_id
