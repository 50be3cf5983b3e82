"""Users (FAB's ab_user, extended: one table for everyone) and the audit log."""

from __future__ import annotations

import datetime as dt

from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User as FabUser
from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from app.core.types import UTCDateTime, utcnow
from app.security import roles
from app.tenants.models import Tenant


class MarketUser(FabUser):
    """Every person: customers, sellers, staff. Super Admins have no tenant (tenant_id NULL).

    An e-mail (and a username) is unique per tenant, not globally: the same person may hold
    accounts at two storefronts. FAB's global unique constraints are replaced below.
    Named MarketUser because FAB's relationships look "User" up by name; import it as User.
    """

    __tablename__ = "ab_user"

    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id"), nullable=True, index=True
    )
    phone: Mapped[str | None] = mapped_column(String(32))
    email_verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    tenant: Mapped[Tenant | None] = relationship(Tenant)

    # Not a column: set on a Super Admin before it is first flushed so it keeps tenant_id NULL.
    is_global_user = False

    @property
    def role_names(self) -> set[str]:
        return {r.name for r in self.roles}

    @property
    def is_super_admin(self) -> bool:
        return roles.SUPER_ADMIN in self.role_names

    @property
    def is_staff(self) -> bool:
        return bool(self.role_names & roles.STAFF_ROLES)

    @property
    def is_seller(self) -> bool:
        return roles.SELLER in self.role_names and not (
            self.role_names & {roles.ADMIN, roles.SUPER_ADMIN}
        )

    def __repr__(self) -> str:
        return self.get_full_name() if self.first_name else self.username


User = MarketUser


def _replace_global_uniques() -> None:
    table = FabUser.__table__
    for constraint in list(table.constraints):
        if isinstance(constraint, UniqueConstraint) and set(constraint.columns.keys()) in (
            {"email"},
            {"username"},
        ):
            table.constraints.remove(constraint)
    table.c.email.unique = False
    table.c.username.unique = False
    table.append_constraint(UniqueConstraint("tenant_id", "email", name="uq_ab_user_tenant_email"))
    table.append_constraint(
        UniqueConstraint("tenant_id", "username", name="uq_ab_user_tenant_username")
    )


_replace_global_uniques()


def _tenant_on_fab_user() -> None:
    """FAB's own User class (what FAB's relationships load: Role.user, the roles page's search
    form) maps the same table without its tenant_id: map that column on it too, so the tenant rule
    of app.tenants.orm (which scopes FAB's class as well as this one) can filter it."""
    if "tenant_id" not in FabUser.__mapper__.attrs:
        FabUser.__mapper__.add_property("tenant_id", column_property(FabUser.__table__.c.tenant_id))


_tenant_on_fab_user()


class AuditLog(Model):
    """Who did what to which row, when and from where, with the values before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    actor: Mapped[str | None] = mapped_column(String(320))  # username or "system:<job>"
    action: Mapped[str] = mapped_column(String(16), nullable=False)  # create, update, delete
    entity: Mapped[str] = mapped_column(String(64), nullable=False)
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str | None] = mapped_column(String(16))  # admin, api, job, cli
    request_path: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=utcnow, nullable=False, index=True
    )
