"""The admin's error pages: a refusal, a page that is not there, a failure, a request it cannot
read (400, 403, 404, 405, 500, ...) answer inside the admin's layout, with what happened and a way
back, instead of a bare unstyled page. The JSON API keeps its envelope: storefront_api's error
handlers answer /api/ paths themselves and hand every other path's error to the page made here
(the app's "html_error_page", registered by admin.init_app)."""

from __future__ import annotations

import logging

from flask import current_app, g, render_template, request
from flask_login import current_user
from markupsafe import escape

log = logging.getLogger(__name__)

# status -> (heading, what it means for the person reading)
_PAGES = {
    400: ("The request could not be read", "Something in the address or the form is not valid."),
    403: (
        "You may not open this page",
        "Your role does not give access to this page or action. Nothing was changed.",
    ),
    404: (
        "Page not found",
        "There is no such page, or the record it shows does not exist or is not yours.",
    ),
    405: ("Not possible here", "This page does not accept that kind of request."),
    503: (
        "Unavailable for a moment",
        "The database could not be reached just now (a restart or a busy moment). Nothing was "
        "saved: wait a few seconds and try again.",
    ),
    500: (
        "Something went wrong",
        "The page failed on our side and the error was logged. Nothing was half-saved: try again, "
        "and tell the platform team if it keeps happening.",
    ),
}
CUSTOMER_HEADING = "The admin is for the shop's staff and sellers"
CUSTOMER_TEXT = (
    "You are signed in with a customer account, which cannot use the admin. Sign out, then sign "
    "in with a staff or seller account, or use the storefront to shop and see your orders."
)


def _is_customer_only() -> bool:
    user = current_user
    return bool(getattr(user, "is_authenticated", False)) and not getattr(user, "is_staff", True)


def _same_origin(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)


def error_page(status: int, detail: str | None = None):
    """The admin page for an error `status` (with `detail`, e.g. a refusal's message), as a
    (body, status) response. Never raises: if the layout itself cannot be drawn (the database is
    down), a plain page says the same."""
    heading, text = _PAGES.get(status, ("The request failed", "The page could not be shown."))
    customer = status == 403 and _is_customer_only()
    if customer:
        heading, text = CUSTOMER_HEADING, CUSTOMER_TEXT
    try:
        from app.extensions import db

        if status >= 500:
            db.session.rollback()  # the failed request's transaction, before the menu's queries
        appbuilder = current_app.appbuilder
        g.user = current_user  # an error raised before FAB's before_request set it
        page = render_template(
            "admin/error.html",
            appbuilder=appbuilder,
            base_template=appbuilder.base_template,
            status=status,
            heading=heading,
            text=text,
            detail=detail,
            customer=customer,
            back=request.referrer if _same_origin(request.referrer) else None,
        )
    except Exception:  # noqa: BLE001 - an error page must answer whatever failed
        log.exception("the admin's error page for %s could not be drawn", status)
        page = f"<h1>{escape(heading)}</h1><p>{escape(text)}</p><p><a href='/'>Home</a></p>"
    return page, status
