"""app.chat.services against MariaDB: concurrent first questions about one subject make one
conversation, the body's rules, a product that leaves the storefront keeps its conversation, and
the event's recipients."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from app.chat import services
from app.chat.inputs import NewConversation
from app.chat.models import ChatMessage, Conversation
from app.core.errors import NotFound, PermissionDenied, ValidationError
from app.core.tenancy import tenant_scope
from app.extensions import db
from app.security.models import User
from app.sellers.actors import actor_for
from tests.builders.chat import chat_events, converse


def _actor(user_id: int):
    return actor_for(db.session.get(User, user_id))


def test_concurrent_first_questions_about_one_subject_make_one_conversation(app, chat_shop):
    s = chat_shop
    barrier = threading.Barrier(6)
    results, errors = [], []

    def ask(n: int) -> None:
        with app.app_context(), tenant_scope(s.tenant.id):
            try:
                barrier.wait(timeout=10)
                started = services.start_conversation(
                    _actor(s.customer.user_id),
                    NewConversation(subject_type="product", product_id=s.product.id, body=f"q{n}"),
                )
                results.append((started.conversation.id, started.created))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len({cid for cid, _ in results}) == 1
    assert sorted(created for _, created in results) == [False] * 5 + [True]
    cid = results[0][0]
    with app.app_context(), tenant_scope(s.tenant.id):
        assert db.session.scalar(select(func.count()).select_from(Conversation)) == 1
        bodies = db.session.scalars(
            select(ChatMessage.body).where(ChatMessage.conversation_id == cid)
        ).all()
        assert sorted(bodies) == [f"q{n}" for n in range(6)]
        last = db.session.get(Conversation, cid)
        assert last.last_message_id == max(
            db.session.scalars(select(ChatMessage.id).where(ChatMessage.conversation_id == cid))
        )
    assert len(chat_events(app, s.tenant.id, cid)) == 6


@pytest.mark.parametrize(
    "raw, kept",
    [
        ("  hi  ", "hi"),
        ("line 1\r\nline 2\rline 3", "line 1\nline 2\nline 3"),
        ("bell\x07 and esc\x1b", "bell and esc"),
        ("tab\tkept", "tab\tkept"),
        ("é" * services.MAX_BODY_CHARS, "é" * services.MAX_BODY_CHARS),
    ],
)
def test_a_body_is_plain_stripped_text(raw, kept):
    assert services.clean_body(raw) == kept


@pytest.mark.parametrize("raw", ["", "   ", "\x00\x01", None, "x" * (services.MAX_BODY_CHARS + 1)])
def test_a_blank_or_too_long_body_is_refused(raw):
    with pytest.raises(ValidationError) as caught:
        services.clean_body(raw)
    assert "body" in caught.value.details


def test_only_customers_start_and_a_hidden_product_is_not_found(app, ctx, chat_shop):
    s = chat_shop
    with tenant_scope(s.tenant.id):
        with pytest.raises(PermissionDenied):
            services.start_conversation(
                _actor(s.seller.user.id),
                NewConversation(subject_type="product", product_id=s.product2.id, body="hi"),
            )
        with pytest.raises(NotFound):
            services.start_conversation(
                _actor(s.customer.user_id),
                NewConversation(subject_type="product", product_id=s.draft.id, body="hi"),
            )


def test_a_conversation_outlives_its_product_leaving_the_storefront(app, ctx, chat_shop):
    from app.catalog.models import Product

    s = chat_shop
    cid = converse(app, s.tenant.id, s.customer.user_id, s.product.id, "still sold?")
    with tenant_scope(s.tenant.id):
        db.session.get(Product, s.product.id).status = "archived"
        db.session.commit()
        seller = _actor(s.seller.user.id)
        reply = services.post_message(seller, cid, "No longer, sorry.")
        assert reply.sender_side == "seller" and reply.sender_name == s.seller.store_name
        page = services.list_messages(_actor(s.customer.user_id), cid)
        assert [m.body for m in page.items] == ["No longer, sorry.", "still sold?"]


def test_staff_read_any_conversation_of_the_tenant_but_are_not_participants(app, ctx, chat_shop):
    s = chat_shop
    cid = converse(app, s.tenant.id, s.customer.user_id, s.product.id, "hello")
    with tenant_scope(s.tenant.id):
        admin = _actor(s.admin.id)
        conversation, page = services.read_conversation(admin, cid)
        assert conversation.my_side is None and [m.body for m in page.items] == ["hello"]
        for attempt in (
            lambda: services.post_message(admin, cid, "staff"),
            lambda: services.list_messages(admin, cid),
            lambda: services.mark_read(admin, cid),
        ):
            with pytest.raises(NotFound):
                attempt()
        with pytest.raises(NotFound):
            services.read_conversation(_actor(s.seller2.user.id), cid)
