"""A tenant's own wording of a transactional mail: subject, text and HTML per message type
(app.notifications.templating renders it in a sandbox; the built-in default holds where a tenant
has none). Unique per tenant and type."""

from __future__ import annotations

from flask_appbuilder import Model
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.types import TimestampMixin
from app.tenants.models import TenantScoped


class MailTemplate(TenantScoped, TimestampMixin, Model):
    __tablename__ = "mail_templates"
    __table_args__ = (UniqueConstraint("tenant_id", "kind", name="uq_mail_templates_tenant_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # the message type (app.notifications.templating.KINDS)
    kind: Mapped[str] = mapped_column(String(64), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    text_body: Mapped[str] = mapped_column(Text, nullable=False)
    html_body: Mapped[str] = mapped_column(Text, nullable=False)
    updated_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("ab_user.id", ondelete="SET NULL")
    )

    def __repr__(self) -> str:
        return self.kind
