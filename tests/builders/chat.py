"""Fixtures of the chat tests: a shop with two sellers (a product each, and a draft), two
customers, an admin, an order of the first customer with a sub-order of each seller; a second
tenant with its own seller, customer, product and order. Builders return plain records."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.chat.models import ChatMessage, ChatParticipant, Conversation
from app.core.tenancy import tenant_scope
from app.events.models import OutboxEvent
from app.extensions import db
from app.security import roles
from tests.builders.auth import api_headers
from tests.builders.order_rows import order_row

CHAT = "/api/v1/chat"


@pytest.fixture
def chat_shop(app, factory):
    tenant = factory.tenant()
    seller, seller2 = factory.seller(tenant), factory.seller(tenant)
    customer, other = factory.customer(tenant), factory.customer(tenant)
    admin = factory.user(tenant, roles.ADMIN)
    product = factory.product(seller, title="Blue lamp")
    product2 = factory.product(seller2)
    draft = factory.product(seller, status="draft")
    foreign_tenant = factory.tenant()
    foreign_seller = factory.seller(foreign_tenant)
    foreign_customer = factory.customer(foreign_tenant)
    foreign_product = factory.product(foreign_seller)
    with app.app_context(), tenant_scope(tenant.id):
        order_id = order_row(customer_user_id=customer.user_id, seller_ids=(seller.id, seller2.id))
        solo_order_id = order_row(customer_user_id=customer.user_id, seller_ids=(seller.id,))
        other_order_id = order_row(customer_user_id=other.user_id, seller_ids=(seller.id,))
    with app.app_context(), tenant_scope(foreign_tenant.id):
        foreign_order_id = order_row(
            customer_user_id=foreign_customer.user_id, seller_ids=(foreign_seller.id,)
        )
    return SimpleNamespace(
        tenant=tenant,
        seller=seller,
        seller2=seller2,
        customer=customer,
        other=other,
        admin=admin,
        product=product,
        product2=product2,
        draft=draft,
        order_id=order_id,
        solo_order_id=solo_order_id,
        other_order_id=other_order_id,
        foreign_tenant=foreign_tenant,
        foreign_seller=foreign_seller,
        foreign_customer=foreign_customer,
        foreign_product=foreign_product,
        foreign_order_id=foreign_order_id,
        h=api_headers(app, customer.user),
        h_other=api_headers(app, other.user),
        h_seller=api_headers(app, seller.user),
        h_seller2=api_headers(app, seller2.user),
        h_admin=api_headers(app, admin),
        h_guest=api_headers(app, None, tenant),
        h_foreign=api_headers(app, foreign_customer.user),
        h_foreign_seller=api_headers(app, foreign_seller.user),
    )


def start(client, h, body="Hello, is it in stock?", **subject) -> dict:
    """Start (or reuse) a conversation; the answer's body, after checking it was 200 or 201."""
    subject.setdefault("subject_type", "product" if "product_id" in subject else "order")
    response = client.post(f"{CHAT}/conversations/", headers=h, json={**subject, "body": body})
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def say(client, h, conversation_id: int, body: str):
    return client.post(
        f"{CHAT}/conversations/{conversation_id}/messages/", headers=h, json={"body": body}
    )


def chat_events(app, tenant_id: int, conversation_id: int) -> list[dict]:
    """The `chat.message` outbox events of a conversation, oldest first (their payloads)."""
    with app.app_context(), tenant_scope(tenant_id):
        rows = db.session.scalars(
            select(OutboxEvent)
            .where(
                OutboxEvent.name == "chat.message",
                OutboxEvent.aggregate == "chat_conversation",
                OutboxEvent.aggregate_id == str(conversation_id),
            )
            .order_by(OutboxEvent.id)
        ).all()
        return [dict(row.payload) for row in rows]


def add_chat_rows(seller_id: int, customer_user_id: int, seller_user_id: int) -> None:
    """One conversation, two participants and a message (the tenancy tests; under tenant_scope)."""
    conversation = Conversation(
        customer_user_id=customer_user_id,
        seller_id=seller_id,
        subject_type="order",
        subject_title="Order T-1",
        open_key="order:tenancy",
    )
    db.session.add(conversation)
    db.session.flush()
    message = ChatMessage(
        conversation_id=conversation.id,
        sender_user_id=customer_user_id,
        sender_side="customer",
        body="Where is my parcel?",
    )
    db.session.add_all(
        [
            message,
            ChatParticipant(
                conversation_id=conversation.id, user_id=customer_user_id, side="customer"
            ),
            ChatParticipant(conversation_id=conversation.id, user_id=seller_user_id, side="seller"),
        ]
    )
    db.session.commit()


def converse(app, tenant_id: int, customer_user_id: int, product_id: int, *bodies: str) -> int:
    """A customer's conversation about a product, through the service, with `bodies` as its
    messages (the first starts it); its id."""
    from app.chat import services
    from app.chat.inputs import NewConversation
    from app.security.models import User
    from app.sellers.actors import actor_for

    with app.app_context(), tenant_scope(tenant_id):
        actor = actor_for(db.session.get(User, customer_user_id))
        started = services.start_conversation(
            actor, NewConversation(subject_type="product", product_id=product_id, body=bodies[0])
        )
        for body in bodies[1:]:
            services.post_message(actor, started.conversation.id, body)
        return started.conversation.id


def messages_of(app, tenant_id: int, conversation_id: int) -> list[tuple[str, str]]:
    """(sender side, body) of each message, oldest first."""
    with app.app_context(), tenant_scope(tenant_id):
        rows = db.session.scalars(
            select(ChatMessage)
            .where(ChatMessage.conversation_id == conversation_id)
            .order_by(ChatMessage.id)
        ).all()
        return [(m.sender_side, m.body) for m in rows]
