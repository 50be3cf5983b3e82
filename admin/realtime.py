"""The admin pages' Socket.IO token: a Seller or staff member signed in with the admin's session
gets a short-lived access token (REALTIME_SOCKET_TOKEN_SECONDS, 60 s by default) to connect the
page's socket with (admin/static/admin/realtime.js asks for a new one at every connection). A POST
with the session's CSRF token, so another site cannot have a signed-in browser mint one; never a
long-lived token, and none for customers or anonymous visitors."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from app.realtime.access import mint_socket_token

bp = Blueprint("market_realtime", __name__, url_prefix="/admin/realtime")
# the notification centre's unread count ({"unread": n}); the bell starts from it when it exists
UNREAD_COUNT_URL = "/api/v1/notifications/unread-count/"


@bp.route("/token/", methods=["POST"])
def socket_token():
    if not current_user.is_authenticated or not getattr(current_user, "is_staff", False):
        abort(403)
    response = jsonify(
        token=mint_socket_token(current_user.id),
        expires_in=int(current_app.config["REALTIME_SOCKET_TOKEN_SECONDS"]),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_context_processor
def _bell():
    """The bell's starting count comes from the notification centre when this app has it (no
    request to a missing route: the browser would log it as an error on every page)."""
    known = current_app.extensions.get("realtime_unread_url")
    if known is None:
        try:
            current_app.url_map.bind("localhost").match(UNREAD_COUNT_URL, method="GET")
            known = UNREAD_COUNT_URL
        except HTTPException:
            known = ""
        current_app.extensions["realtime_unread_url"] = known
    return {"notifications_unread_url": known}
