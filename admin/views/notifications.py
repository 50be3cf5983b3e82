"""The notification centre in the admin.

Every signed-in staff user (Seller, Admin, Super Admin) has "My notifications"
(/admin/my-notifications/: its own, newest first, unread ones marked; mark read, mark all read,
dismiss, each a POST) and "My notification preferences" (per type and channel: the default, on or
off). Staff (Admin) also see what was sent (/admin/notifications: who sent what to whom, how many
received it), every delivery's outcome per channel (/admin/notification-deliveries: sent, failed
with the provider's error, skipped with the reason, pending), send one ("Send notification": a
user by e-mail, a role, or the sellers in a status) and set the shop's default preferences
(/admin/notification-defaults). A Seller never sees another user's notifications: its pages ask
app.inbox.services for the signed-in user's own. Rules live in app.inbox; these pages only call it.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import AppBuilder, BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name
from wtforms import (
    Form,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    validators,
    widgets,
)

from admin.base import MarketModelView, current_actor, datamodel
from app.core.errors import DomainError
from app.extensions import db
from app.inbox import preferences, services
from app.inbox.catalog import (
    CHANNEL_LABELS,
    CHANNELS,
    DELIVERY_STATUSES,
    PREFERENCE_TYPES,
    STAFF_TYPES,
    TYPES,
    builtin,
    type_label,
)
from app.inbox.inputs import Audience, Message
from app.inbox.models import Notification, NotificationDelivery
from app.security import roles

# the People menu (whom the shop talks to): a menu of its own would wrap the navbar at 1280 px
MENU = "People"
PAGE_SIZE = 20

# the send form's "Send to": (value, label) -> Audience
AUDIENCES = [
    ("sellers:approved", "Approved sellers"),
    ("sellers:pending", "Sellers awaiting approval"),
    ("sellers:suspended", "Suspended sellers"),
    ("sellers:rejected", "Rejected applicants"),
    (f"role:{roles.SELLER}", "Every seller account"),
    (f"role:{roles.CUSTOMER}", "Customers"),
    (f"role:{roles.PREMIUM_CUSTOMER}", "Premium customers"),
    (f"role:{roles.ADMIN}", "Admins"),
    ("user", "One user (by e-mail)"),
]


def _details(exc: DomainError) -> str:
    details = "; ".join(
        f"{k}: {', '.join(map(str, v))}"
        for k, v in (exc.details or {}).items()
        if isinstance(v, list | tuple)
    )
    return f"{exc.message}{': ' + details if details else ''}"


class SendForm(Form):
    audience = SelectField("Send to", choices=AUDIENCES, default="sellers:approved")
    email = StringField(
        "User's e-mail",
        [validators.Optional(), validators.Length(max=320)],
        description="Only with “One user”.",
    )
    type = SelectField(
        "Kind", choices=[(name, TYPES[name].label) for name in STAFF_TYPES], default="announcement"
    )
    title = StringField(
        "Title", [validators.InputRequired("say something"), validators.Length(max=200)]
    )
    body = TextAreaField("Message", [validators.Length(max=services.BODY_MAX)])
    link = StringField(
        "Link",
        [validators.Optional(), validators.Length(max=services.LINK_MAX)],
        description="A page of the shop (/admin/payout-settings) or an https:// address.",
    )
    channels = SelectMultipleField(
        "Channels",
        choices=[(c, CHANNEL_LABELS[c]) for c in CHANNELS],
        default=list(CHANNELS),
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
        description="Each recipient's preferences still decide within these.",
    )


def _audience(form: SendForm) -> Audience:
    kind, _, value = form.audience.data.partition(":")
    if kind == "user":
        return Audience(user_id=services.user_by_email(form.email.data or ""))
    if kind == "role":
        return Audience(role=value)
    return Audience(seller_status=value)


class SentNotificationView(MarketModelView):
    """What was sent, by whom, to whom (Admin)."""

    datamodel = datamodel(Notification)
    route_base = "/admin/notifications"
    list_title = "Sent notifications"
    item_title = "Notification"
    list_template = "admin/inbox/sent_list.html"
    base_permissions = ["can_list", "can_show", "can_send"]
    list_columns = ["created_at", "type", "title", "audience", "recipient_count", "sender"]
    show_columns = [
        "created_at",
        "type",
        "title",
        "body",
        "link",
        "data",
        "audience",
        "recipient_count",
        "sender",
        "source_event_id",
        "source_key",
    ]
    search_columns = ["type", "title", "audience", "created_at"]
    order_columns = ["created_at", "type", "title", "recipient_count"]
    label_columns = {
        "created_at": "Sent at",
        "recipient_count": "Recipients",
        "sender": "Sent by",
        "source_event_id": "From event",
        "source_key": "Notice",
        "type": "Kind",
    }
    choices_columns = {"type": tuple(TYPES)}
    formatters_columns = {"type": type_label}
    base_order = ("id", "desc")

    @expose("/send", methods=["GET", "POST"])
    @has_access
    def send(self):
        """Staff send a notification to a user, a role or a seller segment."""
        form = SendForm(request.form if request.method == "POST" else None, meta={"csrf": False})
        if request.method == "POST" and form.validate():
            try:
                sent = services.send(
                    current_actor(),
                    _audience(form),
                    Message(
                        type=form.type.data,
                        title=form.title.data,
                        body=form.body.data or "",
                        link=form.link.data or None,
                        channels=tuple(form.channels.data or ()) or None,
                    ),
                )
            except DomainError as exc:
                db.session.rollback()
                flash(_details(exc), "danger")
            else:
                flash(f"Sent to {sent.recipient_count} recipient(s).", "success")
                return redirect(url_for(f"{self.endpoint}.show", pk=sent.id))
        return self.render_template("admin/inbox/send.html", form=form, title="Send notification")

    def render_template(self, template, **kwargs):
        if template == self.list_template:
            kwargs["may_send"] = self.appbuilder.sm.has_access(
                "can_send", self.class_permission_name
            )
        return super().render_template(template, **kwargs)


class NotificationDeliveryView(MarketModelView):
    """Each delivery's outcome per channel (Admin): read-only."""

    datamodel = datamodel(NotificationDelivery)
    route_base = "/admin/notification-deliveries"
    list_title = "Notification deliveries"
    item_title = "Delivery"
    base_permissions = ["can_list", "can_show"]
    list_columns = [
        "created_at",
        "notification",
        "user",
        "channel",
        "status",
        "address",
        "provider",
        "error",
    ]
    show_columns = [
        "notification",
        "user",
        "channel",
        "status",
        "address",
        "provider",
        "provider_ref",
        "error",
        "attempts",
        "created_at",
        "attempted_at",
    ]
    search_columns = ["notification", "user", "channel", "status", "provider", "created_at"]
    search_related = {"notification": ("title",), "user": ("email",)}
    order_columns = ["created_at", "channel", "status"]
    label_columns = {
        "created_at": "Created",
        "attempted_at": "Attempted at",
        "provider_ref": "Provider reference",
        "error": "Error / reason",
        "address": "To",
    }
    choices_columns = {"channel": CHANNELS, "status": DELIVERY_STATUSES}
    formatters_columns = {"channel": lambda c: CHANNEL_LABELS.get(c, c)}
    base_order = ("id", "desc")


# --- the preference grid, for a user's own and for the shop's defaults -----------------------


def _grid_rows(effective: dict, own: dict, fallback) -> list[dict]:
    """One row per type: per channel the choice ("" default, "on", "off") and what "default" means."""
    rows = []
    for event_type in PREFERENCE_TYPES:
        cells = []
        for channel in CHANNELS:
            choice = own.get((event_type, channel))
            cells.append(
                {
                    "name": f"{event_type}|{channel}",
                    "choice": "" if choice is None else ("on" if choice else "off"),
                    "default_on": fallback(event_type, channel),
                    "effective": effective.get((event_type, channel)),
                }
            )
        rows.append({"type": event_type, "label": type_label(event_type), "cells": cells})
    return rows


def _posted_choices() -> list[preferences.Choice]:
    choices = []
    for event_type in PREFERENCE_TYPES:
        for channel in CHANNELS:
            value = request.form.get(f"{event_type}|{channel}", "")
            if value not in ("", "on", "off"):
                abort(400, description="a choice is default, on or off")
            choices.append(
                preferences.Choice(event_type, channel, None if value == "" else value == "on")
            )
    return choices


class MyNotificationsView(BaseView):
    """The signed-in user's own notifications and preferences."""

    route_base = "/admin/my-notifications"
    default_view = "inbox"

    def _back(self):
        return redirect(request.referrer or url_for(f"{self.endpoint}.inbox"))

    @expose("/")
    @has_access
    @permission_name("list")
    def inbox(self):
        unread = request.args.get("unread") == "1"
        try:
            page = min(max(int(request.args.get("page", 1)), 1), 100_000)
        except ValueError:
            page = 1
        actor = current_actor()
        found = services.inbox(actor, page, PAGE_SIZE, unread=unread)
        return self.render_template(
            "admin/inbox/mine.html",
            title="My notifications",
            found=found,
            unread=unread,
            unread_count=services.unread_count(actor),
            pages=max(1, -(-found.total // PAGE_SIZE)),
            type_label=type_label,
        )

    @expose("/<int:notification_id>/read", methods=["POST"])
    @has_access
    @permission_name("list")
    def read(self, notification_id):
        try:
            item = services.mark_read(current_actor(), notification_id)
        except DomainError:
            abort(404)
        if request.form.get("open") and item.link:
            return redirect(item.link)
        return self._back()

    @expose("/<int:notification_id>/dismiss", methods=["POST"])
    @has_access
    @permission_name("list")
    def dismiss(self, notification_id):
        try:
            services.dismiss(current_actor(), notification_id)
        except DomainError:
            abort(404)
        flash("Notification removed.", "info")
        return self._back()

    @expose("/read-all", methods=["POST"])
    @has_access
    @permission_name("list")
    def read_all(self):
        count = services.mark_all_read(current_actor())
        flash(f"{count} notification(s) marked read.", "info")
        return self._back()

    @expose("/preferences", methods=["GET", "POST"])
    @has_access
    @permission_name("list")
    def preferences(self):
        actor = current_actor()
        if request.method == "POST":
            preferences.set_preferences(actor, _posted_choices())
            flash("Your notification preferences are saved.", "success")
            return redirect(url_for(f"{self.endpoint}.preferences"))
        views = preferences.preferences_of(actor)
        own = {(v.type, v.channel): v.enabled for v in views if v.source == preferences.USER}
        effective = {(v.type, v.channel): v.enabled for v in views}
        shop = preferences.tenant_defaults()

        def fallback(event_type, channel):
            # what "default" means here: the user's own "every kind", else the shop's, else the
            # platform's (app.inbox.preferences' order)
            if event_type != "*" and ("*", channel) in own:
                return own[("*", channel)]
            for key in ((event_type, channel), ("*", channel)):
                if key in shop:
                    return shop[key]
            return builtin(event_type, channel)

        return self.render_template(
            "admin/inbox/preferences.html",
            title="My notification preferences",
            rows=_grid_rows(effective, own, fallback),
            channels=[(c, CHANNEL_LABELS[c]) for c in CHANNELS],
            intro="Choose how you are told of each kind of notification. “Default” follows "
            "your choice for every kind (first row), else the shop's defaults.",
            back=url_for(f"{self.endpoint}.inbox"),
        )


class NotificationDefaultsView(BaseView):
    """The shop's default preferences (Admin): what holds for users who chose nothing."""

    route_base = "/admin/notification-defaults"
    default_view = "defaults"

    @expose("/", methods=["GET", "POST"])
    @has_access
    @permission_name("list")
    def defaults(self):
        if request.method == "POST":
            try:
                preferences.set_tenant_defaults(current_actor(), _posted_choices())
            except DomainError as exc:
                flash(_details(exc), "danger")
            else:
                flash("The shop's notification defaults are saved.", "success")
            return redirect(url_for(f"{self.endpoint}.defaults"))
        shop = preferences.tenant_defaults()

        def fallback(event_type, channel):
            if event_type != "*" and ("*", channel) in shop:
                return shop[("*", channel)]
            return builtin(event_type, channel)

        effective = {
            (t, c): shop.get((t, c), fallback(t, c)) for t in PREFERENCE_TYPES for c in CHANNELS
        }
        return self.render_template(
            "admin/inbox/preferences.html",
            title="Notification defaults",
            rows=_grid_rows(effective, shop, fallback),
            channels=[(c, CHANNEL_LABELS[c]) for c in CHANNELS],
            intro="What every user of this shop gets until they choose for themselves. "
            "“Default” follows the first row (every kind), else the platform's: in the app and "
            "by e-mail on, SMS and push off.",
            back=None,
        )


def register(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(
        MyNotificationsView,
        "My notifications",
        icon="fa-bell",
        category=MENU,
    )
    appbuilder.add_link(
        "My notification preferences",
        href="/admin/my-notifications/preferences",
        icon="fa-sliders",
        category=MENU,
        baseview=MyNotificationsView,
    )
    appbuilder.add_view(
        SentNotificationView, "Sent notifications", icon="fa-paper-plane", category=MENU
    )
    appbuilder.add_view(
        NotificationDeliveryView, "Notification deliveries", icon="fa-truck", category=MENU
    )
    appbuilder.add_view(
        NotificationDefaultsView, "Notification defaults", icon="fa-cog", category=MENU
    )
