"""Admin views for accounts: the sessions page (/admin/sessions) lists sign-in sessions of the
current tenant (user, device, IP, first and last seen, revoked) with a revoke action. Admins see
their tenant's sessions (Super Admin: all); sellers and customers have no permission on it."""

from __future__ import annotations

from flask_appbuilder import AppBuilder
from flask_appbuilder.actions import action

from admin.base import CurrentTenantFilter, MarketModelView, datamodel
from admin.bulk import BulkActions
from app.core.errors import Conflict
from app.security import auth
from app.security.session_models import AuthSession


class SessionView(BulkActions, MarketModelView):
    datamodel = datamodel(AuthSession)
    route_base = "/admin/sessions"
    list_title = "Sessions"
    item_title = "Session"
    show_title = "Session"
    base_permissions = ["can_list", "can_show"]
    base_filters = [["tenant_id", CurrentTenantFilter, None]]
    base_order = ("last_seen_at", "desc")
    list_columns = [
        "user",
        "device",
        "ip",
        "created_at",
        "last_seen_at",
        "expires_at",
        "revoked_at",
        "revoke_reason",
    ]
    show_columns = [
        "user",
        "device",
        "user_agent",
        "ip",
        "created_at",
        "last_seen_at",
        "expires_at",
        "revoked_at",
        "revoke_reason",
    ]
    search_columns = ["device", "ip", "created_at", "last_seen_at", "revoked_at", "revoke_reason"]
    label_columns = {"created_at": "First seen", "last_seen_at": "Last seen", "ip": "IP"}

    @action(
        "revoke",
        "Revoke",
        "Revoke the selected sessions? Their tokens stop working at once.",
        "fa-ban",
    )
    def revoke(self, items):
        def revoke(session_id: int) -> None:
            if not auth.admin_revoke_session(session_id):
                raise Conflict("this session was revoked already")

        return self._bulk(items, revoke, lambda row: f"Session #{row.id}", "session", "revoked")


def register(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(SessionView, "Sessions", icon="fa-key", category="Security")
