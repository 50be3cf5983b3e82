"""Mail templates (Admin): the shop's transactional mails, each with its built-in wording or the
shop's own; edit one (subject, text and HTML, refused with the part, line and message when it does
not render), reset it to the default, and preview it with sample data in the shop's branding,
currency and time zone. The HTML preview is an <iframe sandbox srcdoc>: no script of the mail
runs, and it is held to the admin page's own Content-Security-Policy (nothing from the internet).
Rules live in app.inbox.mail_templates; these pages only call it. Sellers have no permission on
this view (admin/roles.py lists none), so they never reach it.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import AppBuilder, BaseView, expose, has_access
from flask_appbuilder.security.decorators import permission_name

from admin.base import current_actor
from app.core.errors import DomainError, TenantError, ValidationError
from app.extensions import db
from app.inbox import mail_templates

MENU = "People"  # with the notification centre: whom the shop talks to, and how


class MailTemplateView(BaseView):
    route_base = "/admin/mail-templates"
    default_view = "index"

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        try:
            kinds = mail_templates.kinds(current_actor())
        except TenantError:  # a Super Admin outside any storefront: the mails are a shop's
            flash("Mail templates belong to a storefront: open the admin at its address.", "info")
            return redirect(self.appbuilder.get_url_for_index)
        except DomainError:
            abort(404)
        return self.render_template(
            "admin/mail_templates/list.html", title="Mail templates", kinds=kinds
        )

    @expose("/edit/<kind>", methods=["GET", "POST"])
    @has_access
    @permission_name("edit")
    def edit(self, kind):
        actor = current_actor()
        errors: dict = {}
        try:
            current = mail_templates.sources(actor, kind)
        except DomainError:
            abort(404)
        values = {"subject": current.subject, "text": current.text, "html": current.html}
        if request.method == "POST":
            values = {part: request.form.get(part, "") for part in ("subject", "text", "html")}
            try:
                mail_templates.save(actor, kind, **values)
            except ValidationError as exc:
                db.session.rollback()
                errors = exc.details or {}
                flash("Not saved: " + exc.message + ". See the messages under each part.", "danger")
            else:
                flash(f"“{current.kind.label}” now uses your wording.", "success")
                return redirect(url_for(f"{self.endpoint}.preview", kind=kind))
        return self.render_template(
            "admin/mail_templates/edit.html",
            title=f"Mail: {current.kind.label}",
            kind=current.kind,
            values=values,
            errors=errors,
        )

    @expose("/reset/<kind>", methods=["POST"])
    @has_access
    @permission_name("edit")
    def reset(self, kind):
        try:
            done = mail_templates.reset(current_actor(), kind)
        except DomainError:
            abort(404)
        flash(
            "Back to the built-in wording." if done else "It already used the built-in wording.",
            "info",
        )
        return redirect(url_for(f"{self.endpoint}.index"))

    @expose("/preview/<kind>")
    @has_access
    @permission_name("list")
    def preview(self, kind):
        actor = current_actor()
        try:
            current = mail_templates.sources(actor, kind)
            rendered = mail_templates.preview(actor, kind)
        except DomainError:
            abort(404)
        return self.render_template(
            "admin/mail_templates/preview.html",
            title=f"Preview: {current.kind.label}",
            kind=current.kind,
            rendered=rendered,
        )


def register(appbuilder: AppBuilder) -> None:
    appbuilder.add_view(MailTemplateView, "Mail templates", icon="fa-envelope", category=MENU)
