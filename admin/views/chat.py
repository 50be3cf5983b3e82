"""Live chat in the admin (/admin/chat): conversations between customers and sellers.

Staff (Admin, Super Admin) read every conversation of the tenant for moderation: the list with
filters (seller, customer, subject, status, dates) and a conversation's page with its messages,
read-only (staff never write into a customer's conversation). A Seller sees only its own
conversations (the seller scope) and replies from the conversation's page (a POST with the CSRF
token), which is delivered live like a reply from the API (app.chat.services.post_message
publishes `chat.message`). Message bodies are plain text, escaped by the template."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import AppBuilder, expose, has_access, permission_name
from markupsafe import Markup, escape

from admin import formatting
from admin.base import MarketModelView, current_actor, datamodel, is_seller_user, shop_format
from admin.bulk import refusal
from app.chat import services
from app.chat.models import CONVERSATION_STATUSES, SUBJECTS, Conversation
from app.core.errors import DomainError


def _short(text: str, size: int = 90) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


class ChatView(MarketModelView):
    datamodel = datamodel(Conversation)
    route_base = "/admin/chat"
    list_title = "Conversations"
    item_title = "Conversation"
    show_template = "admin/chat/show.html"
    base_permissions = ["can_list", "can_show", "can_reply", "can_mark_read"]
    list_columns = [
        "last_message_at",
        "subject_title",
        "subject_type",
        "seller",
        "customer",
        "status",
    ]
    search_columns = [
        "seller",
        "customer",
        "subject_type",
        "subject_title",
        "status",
        "created_at",
        "last_message_at",
    ]
    order_columns = ["last_message_at", "created_at", "status"]
    label_columns = {
        "last_message_at": "Last message",
        "subject_title": "About",
        "subject_type": "Subject",
        "customer": "Customer",
        "seller": "Seller",
    }
    choices_columns = {"status": CONVERSATION_STATUSES, "subject_type": SUBJECTS}
    search_related = {"seller": ("store_name",), "customer": ("email",)}
    base_order = ("last_message_id", "desc")
    seller_scope = staticmethod(services.conversations_of_seller)
    # computed for the page's rows (app.chat.services.summaries): the newest message, and for a
    # seller how many of the customer's messages it has not read
    formatters_columns = {
        "last_message_preview": lambda text: escape(_short(text or "")),
        "unread": lambda n: Markup('<span class="badge">{}</span>').format(n) if n else "",
    }

    def shown_list_columns(self) -> list[str]:
        columns = super().shown_list_columns()
        columns.insert(columns.index("subject_title") + 1, "last_message_preview")
        if is_seller_user():
            columns.insert(0, "unread")
        return columns

    def shown_labels(self, labels=None):
        return {
            **super().shown_labels(labels),
            "last_message_preview": "Newest message",
            "unread": "Unread",
        }

    def _values(self, items, columns):
        extra = {"last_message_preview", "unread"}
        rows = super()._values(items, [c for c in columns if c not in extra])
        found = services.summaries(current_actor(), [item.id for item in items])
        for item, row in zip(items, rows, strict=True):
            summary = found.get(item.id)
            if "last_message_preview" in columns:
                row["last_message_preview"] = summary.last_message_preview if summary else None
            if "unread" in columns:
                row["unread"] = summary.unread_count if summary else 0
        return rows

    def owned_by_seller(self, item, seller_id):
        return False  # nobody changes a conversation through a form

    def _conversation(self, pk) -> Conversation:
        """The conversation if the signed-in user may open it here (tenant and seller scope)."""
        return self.visible_row(pk)

    def _back(self, pk):
        return redirect(url_for(f"{self.endpoint}.show", pk=pk))

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        item = self._conversation(pk)
        before = request.args.get("before", type=int)
        try:
            conversation, page = services.read_conversation(
                current_actor(), item.id, before=before if before and before > 0 else None
            )
        except DomainError:
            abort(404)
        sm = self.appbuilder.sm
        fmt = shop_format(item.tenant_id)
        side = conversation.my_side
        return self.render_template(
            self.show_template,
            title=f"Conversation: {conversation.subject_title}",
            conversation=conversation,
            messages=list(reversed(page.items)),  # oldest first on the page, as a chat reads
            older=page.next_before,
            newest_page=before is None,
            pk=item.id,
            side=side,
            may_reply=side is not None
            and conversation.status == "open"
            and sm.has_access("can_reply", self.class_permission_name),
            may_mark_read=side is not None
            and conversation.unread_count > 0
            and sm.has_access("can_mark_read", self.class_permission_name),
            max_chars=services.MAX_BODY_CHARS,
            product_url=self._url("ProductView", conversation.product_id),
            sub_order_url=self._url("SubOrderView", conversation.sub_order_id),
            order_url=None if side else self._url("OrderView", conversation.order_id),
            when=lambda at: formatting.when(at, fmt),
        )

    def _url(self, view: str, pk: int | None) -> str | None:
        if pk is None or not self.appbuilder.sm.has_access("can_show", view):
            return None
        return url_for(f"{view}.show", pk=pk)

    @expose("/reply/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("reply")
    def reply(self, pk):
        item = self._conversation(pk)
        try:
            services.post_message(current_actor(), item.id, request.form.get("body", ""))
        except DomainError as exc:
            flash(refusal(exc), "danger")
        else:
            flash("Reply sent.", "success")
        return self._back(item.id)

    @expose("/mark-read/<int:pk>", methods=["POST"])
    @has_access
    @permission_name("mark_read")
    def mark_read(self, pk):
        item = self._conversation(pk)
        try:
            services.mark_read(current_actor(), item.id)
        except DomainError as exc:
            flash(refusal(exc), "danger")
        return self._back(item.id)


def register(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(ChatView, "Conversations", icon="fa-comments", category="People")
