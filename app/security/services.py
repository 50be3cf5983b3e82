"""User operations: create tenant users and Super Admins with their roles and profiles."""

from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from app.core.errors import ValidationError
from app.core.tenancy import unscoped
from app.extensions import db
from app.security import roles
from app.security.models import User

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10


def check_email(email: str | None) -> str:
    """The address without surrounding blanks; a ValidationError when it is no e-mail address."""
    email = (email or "").strip()
    if not _EMAIL.match(email):
        raise ValidationError("invalid e-mail", details={"email": "not a valid address"})
    return email


def validate_password(password: str) -> None:
    problems = []
    if len(password or "") < MIN_PASSWORD_LENGTH:
        problems.append(f"at least {MIN_PASSWORD_LENGTH} characters")
    if password and (password.isdigit() or password.isalpha()):
        problems.append("letters and digits or symbols")
    if problems:
        raise ValidationError("weak password", details={"password": "; ".join(problems)})


def _role(name: str):
    role = current_app.appbuilder.sm.find_role(name)
    if role is None:
        raise ValidationError(
            f"role {name!r} does not exist; run `flask init`", details={"roles": name}
        )
    return role


def grant_role(user: User, name: str) -> None:
    """Give `user` role `name` too (a customer who becomes a seller); nothing if it has it."""
    if name not in user.role_names:
        user.roles.append(_role(name))


def _check_unique(tenant_id: int | None, username: str, email: str) -> None:
    with unscoped():
        clash = db.session.scalar(
            select(func.count())
            .select_from(User)
            .where(
                (User.tenant_id == tenant_id)
                if tenant_id is not None
                else User.tenant_id.is_(None),
                (func.lower(User.email) == email.lower())
                | (func.lower(User.username) == username.lower()),
            )
        )
        # a tenant user may not take a Super Admin's username: logins resolve both
        super_clash = tenant_id is not None and db.session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.tenant_id.is_(None), func.lower(User.username) == username.lower())
        )
    if clash or super_clash:
        raise ValidationError("already registered", details={"email": "already registered"})


def create_user(
    *,
    tenant_id: int | None,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    role_names: list[str],
    username: str | None = None,
    check_password: bool = True,
    password_hash: str | None = None,
) -> User:
    """Add a user to the session (the caller commits). tenant_id None makes a global user, which
    only a Super Admin may be."""
    email = check_email(email)
    if check_password:
        validate_password(password)
    if tenant_id is None and role_names != [roles.SUPER_ADMIN]:
        raise ValidationError("only a Super Admin has no tenant", details={"tenant_id": "required"})
    username = (username or email).strip()
    if len(email) > 254:
        raise ValidationError("invalid e-mail", details={"email": "at most 254 characters"})
    if len(username) > 128:  # ab_user.username; the e-mail is the username unless one is given
        field = "username" if username != email else "email"
        raise ValidationError("too long", details={field: "at most 128 characters"})
    _check_unique(tenant_id, username, email)
    user = User(
        tenant_id=tenant_id,
        username=username,
        email=email,
        first_name=first_name[:64] or "-",
        last_name=last_name[:64] or "-",
        password=password_hash or generate_password_hash(password),
        active=True,
        roles=[_role(name) for name in role_names],
    )
    user.is_global_user = tenant_id is None
    db.session.add(user)
    return user
