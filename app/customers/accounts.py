"""Accounts that are customers: self-registration, and a user an admin creates with a customer
role. Each makes the user (app.security: validation, roles, tenant rules) and its customer profile
in one transaction. They live here because the profile is customers' own table and customers sit
above security, which keeps users, tokens, sessions and the audit and knows nothing of customers.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from app.core.db import transaction
from app.core.errors import ValidationError
from app.core.tenancy import current_tenant_id
from app.customers.models import CustomerProfile
from app.events.bus import publish
from app.extensions import db
from app.security import auth, roles
from app.security import services as users
from app.security.inputs import NewUser
from app.security.models import User


def register(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    username: str | None = None,
    phone: str | None = None,
) -> None:
    """Create a Customer (and its profile) and ask for e-mail verification. An e-mail already
    registered here gets the same answer (no enumeration); its owner is told by mail instead
    (the e-mails are app.security.auth's consumers of these events)."""
    email = users.check_email(email)
    users.validate_password(password)
    try:
        with transaction():
            if auth.already_registered(email):
                return
            try:
                user = users.create_user(
                    tenant_id=current_tenant_id(),
                    email=email,
                    password=password,
                    first_name=first_name or "",
                    last_name=last_name or "",
                    role_names=[roles.CUSTOMER],
                    username=username,
                )
            except ValidationError as exc:
                if exc.message == "already registered":  # a username taken: same answer as above
                    return
                raise
            user.phone = phone
            db.session.flush()
            db.session.add(CustomerProfile(user_id=user.id, phone=phone))
            publish("user.registered", {"user_id": user.id}, aggregate="user", aggregate_id=user.id)
    except IntegrityError:
        return  # a concurrent registration of the same address won: same answer


def create_user(actor: User, data: NewUser) -> User:
    """A user of the actor's storefront with the given roles (app.security.auth.create_user: its
    rules and errors); one with a customer role gets its customer profile in the same transaction."""
    with transaction():
        user = auth.create_user(actor, data)
        if user.role_names & roles.CUSTOMER_ROLES:
            db.session.add(CustomerProfile(user_id=user.id, phone=user.phone))
    return user
