"""Authentication use cases: login with lockout, sessions (refresh-token families with
single-use rotation and reuse detection), logout, password change and reset, e-mail verification,
profile, and user management for admins. One function per use case, one transaction each.
Registration, which makes a customer, is app.customers.accounts.register (customers sit above
security); its e-mails are the consumers below.

Tokens: an access token (15 min) carries `sid` = AuthSession.id; a refresh token (7 days) carries
the same `sid`, and its jti must equal the session's `refresh_token_jti`. A refresh spends that jti
and issues a new pair; presenting a spent refresh token revokes the whole session (family) and writes
an audit row. Revoked sessions are refused by the JWT blocklist (`session_revoked`).

E-mails and raw tokens: services only publish events ({"user_id": ...}, never a token). The
consumers below run after commit (an RQ job on the `high` queue, or in-process in the embedded
default); they create the one-time token (only its sha256 is stored), render the mail and send it
in the same job, so the raw token never touches the database, the outbox or Redis. If sending
fails, the consumer's transaction rolls back (no token row) and the job is retried.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from contextlib import nullcontext
from dataclasses import dataclass

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from sqlalchemy import func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from app.core.crypto import hash_token
from app.core.db import transaction
from app.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationError
from app.core.paging import Page
from app.core.tenancy import current_tenant_id, unscoped
from app.core.types import utcnow
from app.events.bus import publish
from app.extensions import db
from app.notifications import mail
from app.security import roles
from app.security import services as users
from app.security.audit import not_audited, record_login
from app.security.errors import SecurityError
from app.security.inputs import NewUser
from app.security.models import AuditLog, User
from app.security.session_models import AuthSession, OneTimeToken  # noqa: F401  (registers the tables)
from app.security.tokens import revoke as blocklist

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"
_INVALID_LOGIN = "invalid e-mail/username or password"


class AuthenticationFailed(DomainError):
    code = SecurityError.UNAUTHORIZED
    status = 401


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    session_id: int
    user: User
    expires_in: int
    token_type: str = "Bearer"


# --- helpers -------------------------------------------------------------------------------------

_dummy_hash: str | None = None


def _burn_password_check(password: str) -> None:
    """Same work as a real check, so an unknown login takes about as long as a wrong password."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = generate_password_hash(secrets.token_hex(16))
    check_password_hash(_dummy_hash, password or "")


def _device(user_agent: str | None, device: str | None) -> str | None:
    if device:
        return device[:64]
    ua = (user_agent or "").lower()
    if not ua:
        return None
    if "ipad" in ua or "tablet" in ua:
        return "tablet"
    if "mobile" in ua or "android" in ua or "iphone" in ua:
        return "mobile"
    return "desktop"


def _find_by_login(login: str) -> User | None:
    """A user of the current tenant (or a Super Admin) by e-mail or username; the tenant's own
    account wins over a global one."""
    value = (login or "").strip().lower()
    if not value:
        return None
    return db.session.scalars(
        select(User)
        .where(or_(func.lower(User.email) == value, func.lower(User.username) == value))
        .order_by(User.tenant_id.is_(None), User.id)
    ).first()


def find_by_email(email: str) -> User | None:
    """The current tenant's user with this e-mail (case-insensitive), or None."""
    value = (email or "").strip().lower()
    return (
        db.session.scalars(
            select(User).where(
                func.lower(User.email) == value, User.tenant_id == current_tenant_id()
            )
        ).first()
        if value
        else None
    )


def already_registered(email: str) -> bool:
    """Whether `email` already has an account here; if so its owner is told by mail that someone
    tried to register it (the auth.registration_attempted consumer). A registration answers the
    same either way, so the answer never tells who has an account."""
    existing = find_by_email(email)
    if existing is None:
        return False
    publish(
        "auth.registration_attempted",
        {"user_id": existing.id},
        aggregate="user",
        aggregate_id=existing.id,
    )
    return True


def _lifetime(key: str) -> dt.timedelta:
    value = current_app.config[key]
    return value if isinstance(value, dt.timedelta) else dt.timedelta(seconds=int(value))


def _audit(
    action: str, entity: str, entity_id, after: dict, tenant_id: int | None, user: User | None
) -> None:
    db.session.add(
        AuditLog(
            tenant_id=tenant_id,
            actor_id=user.id if user else None,
            actor=user.username if user else "anonymous",
            action=action[:16],
            entity=entity,
            entity_id=str(entity_id),
            after=after,
            source="api",
        )
    )


def _issue(session: AuthSession, user: User) -> TokenPair:
    session.refresh_token_jti = str(uuid.uuid4())
    claims = {"sid": session.id}
    access = create_access_token(identity=str(user.id), additional_claims=claims)
    refresh = create_refresh_token(
        identity=str(user.id), additional_claims={**claims, "jti": session.refresh_token_jti}
    )
    return TokenPair(
        access,
        refresh,
        session.id,
        user,
        int(_lifetime("JWT_ACCESS_TOKEN_EXPIRES").total_seconds()),
    )


def _revoke_sessions(user_id: int, reason: str, *, except_sid: int | None = None) -> int:
    conditions = [AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)]
    if except_sid is not None:
        conditions.append(AuthSession.id != except_sid)
    rows = db.session.scalars(select(AuthSession).where(*conditions)).all()
    now = utcnow()
    for row in rows:
        row.revoked_at, row.revoke_reason = now, reason
    return len(rows)


def session_revoked(sid) -> bool:
    """For the JWT blocklist: a token whose session is revoked or gone is refused."""
    try:
        sid = int(sid)
    except (TypeError, ValueError):
        return True
    row = db.session.execute(select(AuthSession.revoked_at).where(AuthSession.id == sid)).first()
    return row is None or row.revoked_at is not None


# --- registration and login ----------------------------------------------------------------------


def login(
    *,
    login: str,
    password: str,
    ip: str | None = None,
    user_agent: str | None = None,
    device: str | None = None,
) -> TokenPair:
    """Check the credentials (lockout after LOGIN_MAX_FAILURES for LOGIN_LOCKOUT_MINUTES) and
    open a session. Unknown user, wrong password, locked or disabled account: the same error."""
    failed = False
    # the counts and the lockout are bookkeeping, no audited change of the user; a sign-in is an
    # audit row of its own (record_login), and a refused one writes none
    with not_audited(), transaction():
        user = _find_by_login(login)
        now = utcnow()
        if user is None:
            _burn_password_check(password)
            failed = True
        elif user.locked_until is not None and user.locked_until > now:
            _burn_password_check(password)
            failed = True
        elif not check_password_hash(user.password or "", password or "") or not user.active:
            user.fail_login_count = (user.fail_login_count or 0) + 1
            if user.fail_login_count >= current_app.config["LOGIN_MAX_FAILURES"]:
                user.locked_until = now + dt.timedelta(
                    minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"]
                )
                user.fail_login_count = 0
            failed = True
        else:
            user.fail_login_count = 0
            user.locked_until = None
            user.last_login = now.replace(tzinfo=None)  # FAB's column is a naive DateTime
            user.login_count = (user.login_count or 0) + 1
            session = AuthSession(
                tenant_id=user.tenant_id,
                user_id=user.id,
                family_id=str(uuid.uuid4()),
                refresh_token_jti="-",
                user_agent=(user_agent or "")[:255] or None,
                device=_device(user_agent, device),
                ip=ip,
                created_at=now,
                last_seen_at=now,
                expires_at=now + _lifetime("JWT_REFRESH_TOKEN_EXPIRES"),
            )
            db.session.add(session)
            db.session.flush()
            pair = _issue(session, user)
            record_login(
                db.session, user, after={"session_id": session.id, "device": session.device}
            )
    if failed:
        raise AuthenticationFailed(_INVALID_LOGIN, code=SecurityError.INVALID_CREDENTIALS)
    return pair


def refresh(*, token: str, ip: str | None = None, user_agent: str | None = None) -> TokenPair:
    """Rotate: spend the refresh token, return a new pair. A spent token revokes its family."""
    try:
        claims = decode_token(token)
    except (
        Exception
    ) as exc:  # expired, bad signature, garbage (PyJWTError, JWTExtendedException, ...)
        raise AuthenticationFailed(
            "invalid or expired refresh token", code=SecurityError.INVALID_TOKEN
        ) from exc
    if claims.get("type") != "refresh" or "sid" not in claims:
        raise AuthenticationFailed("a refresh token is required", code=SecurityError.INVALID_TOKEN)
    if claims.get("tenant_id") not in (current_tenant_id(), None):
        raise AuthenticationFailed(
            "this token belongs to another storefront", code=SecurityError.INVALID_TOKEN
        )
    reused = False
    # rotation is bookkeeping of the session row (no audit row); a reuse writes its own row below
    with not_audited(), transaction():
        session = db.session.scalars(
            select(AuthSession).where(AuthSession.id == int(claims["sid"])).with_for_update()
        ).first()
        now = utcnow()
        if session is None or str(session.user_id) != str(claims["sub"]) or not session.is_active:
            raise AuthenticationFailed("this session has ended", code=SecurityError.INVALID_TOKEN)
        if session.refresh_token_jti != claims["jti"]:
            session.revoked_at, session.revoke_reason = now, "refresh_reuse"
            _audit(
                "token_reuse",
                "AuthSession",
                session.id,
                {"reason": "spent refresh token presented; session revoked", "ip": ip},
                session.tenant_id,
                None,
            )
            reused = True
        else:
            user = db.session.get(User, session.user_id)
            if user is None or not user.active:
                raise AuthenticationFailed(
                    "the account is disabled or gone", code=SecurityError.INVALID_TOKEN
                )
            session.last_seen_at = now
            session.ip = ip or session.ip
            session.expires_at = now + _lifetime("JWT_REFRESH_TOKEN_EXPIRES")
            pair = _issue(session, user)
    if reused:
        raise AuthenticationFailed(
            "this refresh token was already used; the session is revoked",
            code=SecurityError.TOKEN_REUSED,
        )
    return pair


def logout(*, user: User, claims: dict) -> None:
    """End the token's session and blocklist the access token for the rest of its life."""
    with transaction():
        if claims.get("sid") is not None:
            db.session.execute(
                update(AuthSession)
                .where(
                    AuthSession.id == int(claims["sid"]),
                    AuthSession.user_id == user.id,
                    AuthSession.revoked_at.is_(None),
                )
                .values(revoked_at=utcnow(), revoke_reason="logout")
            )
    blocklist(claims["jti"], max(int(claims["exp"] - utcnow().timestamp()), 1))


def change_password(
    *, user: User, current_password: str, new_password: str, current_sid: int | None
) -> int:
    """Needs the current password; every OTHER session is revoked. Returns how many."""
    if not check_password_hash(user.password or "", current_password or ""):
        raise ValidationError(
            "the current password is wrong", details={"current_password": "incorrect"}
        )
    users.validate_password(new_password)
    with transaction():
        user = db.session.merge(user)
        user.password = generate_password_hash(new_password)
        return _revoke_sessions(user.id, "password_changed", except_sid=current_sid)


# --- one-time tokens (e-mail verification, password reset) --------------------------------------


def request_password_reset(email: str) -> None:
    """Always the same outcome for the caller; a mail only if the account exists and is active."""
    with transaction():
        user = find_by_email(email)
        if user is not None and user.active:
            publish(
                "auth.password_reset_requested",
                {"user_id": user.id},
                aggregate="user",
                aggregate_id=user.id,
            )


def resend_verification(email: str) -> None:
    with transaction():
        user = find_by_email(email)
        if user is not None and user.active and user.email_verified_at is None:
            publish(
                "auth.verification_requested",
                {"user_id": user.id},
                aggregate="user",
                aggregate_id=user.id,
            )


def _valid_token(raw: str, purpose: str) -> OneTimeToken | None:
    if not raw or len(raw) > 200:
        return None
    tenant_id = current_tenant_id()
    row = db.session.scalars(
        select(OneTimeToken)
        .where(
            OneTimeToken.token_hash == hash_token(raw),
            OneTimeToken.purpose == purpose,
            or_(OneTimeToken.tenant_id == tenant_id, OneTimeToken.tenant_id.is_(None)),
        )
        .with_for_update()
    ).first()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


@dataclass(frozen=True)
class TokenValidity:
    valid: bool
    expires_at: dt.datetime | None


def validate_reset_token(token: str) -> TokenValidity:
    with transaction():
        row = _valid_token(token, RESET_PASSWORD)
        return TokenValidity(valid=row is not None, expires_at=row.expires_at if row else None)


def reset_password(*, token: str, new_password: str) -> None:
    """Set a new password with a reset token (single use); ends every session and the lockout."""
    users.validate_password(new_password)
    with transaction():
        row = _valid_token(token, RESET_PASSWORD)
        if row is None:
            raise NotFound(
                "invalid, expired or already used token",
                code=SecurityError.INVALID_TOKEN,
                details={"token": "invalid, expired or already used"},
            )
        with unscoped():
            user = db.session.get(User, row.user_id)
        row.used_at = utcnow()
        user.password = generate_password_hash(new_password)
        user.fail_login_count = 0
        user.locked_until = None
        if user.email_verified_at is None:
            user.email_verified_at = utcnow()  # the reset link proved the address
        _revoke_sessions(user.id, "password_reset")


def verify_email(token: str) -> None:
    with transaction():
        row = _valid_token(token, VERIFY_EMAIL)
        if row is None:
            raise NotFound("invalid or expired token", code=SecurityError.INVALID_TOKEN)
        with unscoped():
            user = db.session.get(User, row.user_id)
        row.used_at = utcnow()
        user.email_verified_at = user.email_verified_at or utcnow()


def _new_token(user: User, purpose: str, lifetime: dt.timedelta) -> str:
    """Create a token (hash stored) and supersede the user's earlier unused ones of that purpose."""
    now = utcnow()
    db.session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user.id,
            OneTimeToken.purpose == purpose,
            OneTimeToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    raw = secrets.token_urlsafe(32)
    db.session.add(
        OneTimeToken(
            tenant_id=user.tenant_id,
            user_id=user.id,
            purpose=purpose,
            token_hash=hash_token(raw),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    db.session.flush()
    return raw


def _event_user(event) -> User | None:
    with unscoped():
        user = db.session.get(User, int(event.payload["user_id"]))
    return user if user is not None and user.active else None


# --- event consumers (subscribed in jobs/subscribers.py; run after commit, once) ------------------


def send_verification_email(event) -> None:
    user = _event_user(event)
    if user is None or user.email_verified_at is not None:
        return
    hours = current_app.config["EMAIL_VERIFY_TOKEN_HOURS"]
    raw = _new_token(user, VERIFY_EMAIL, dt.timedelta(hours=hours))
    mail.send_mail(
        "verify_email",
        user.email,
        {
            "first_name": user.first_name,
            "valid_hours": hours,
            "link": mail.frontend_link(f"auth/verify-email/{raw}"),
        },
    )


def send_welcome_email(event) -> None:
    user = _event_user(event)
    if user is not None:
        mail.send_mail(
            "welcome", user.email, {"first_name": user.first_name, "link": mail.frontend_link("")}
        )


def send_registration_attempt_email(event) -> None:
    user = _event_user(event)
    if user is not None:
        mail.send_mail(
            "registration_attempt",
            user.email,
            {"first_name": user.first_name, "link": mail.frontend_link("auth/forgot-password")},
        )


def send_password_reset_email(event) -> None:
    user = _event_user(event)
    if user is None:
        return
    minutes = current_app.config["PASSWORD_RESET_TOKEN_MINUTES"]
    raw = _new_token(user, RESET_PASSWORD, dt.timedelta(minutes=minutes))
    mail.send_mail(
        "reset_password",
        user.email,
        {
            "first_name": user.first_name,
            "valid_minutes": minutes,
            "link": mail.frontend_link(f"auth/reset-password/{raw}"),
        },
    )


# --- sessions ------------------------------------------------------------------------------------


def list_sessions(
    user: User, *, page: int, page_size: int, current_sid: int | None
) -> Page[AuthSession]:
    conditions = (
        AuthSession.user_id == user.id,
        AuthSession.revoked_at.is_(None),
        AuthSession.expires_at > utcnow(),
    )
    total = db.session.scalar(select(func.count()).select_from(AuthSession).where(*conditions))
    rows = db.session.scalars(
        select(AuthSession)
        .where(*conditions)
        .order_by(AuthSession.last_seen_at.desc(), AuthSession.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    for row in rows:
        row.current = row.id == current_sid
    return Page(items=rows, total=total, page=page, page_size=page_size)


def revoke_session(user: User, session_id: int) -> None:
    """Revoke one of the user's own sessions; anyone else's answers 404."""
    with transaction():
        row = db.session.scalars(
            select(AuthSession).where(AuthSession.id == session_id, AuthSession.user_id == user.id)
        ).first()
        if row is None:
            raise NotFound("no such session")
        if row.revoked_at is None:
            row.revoked_at, row.revoke_reason = utcnow(), "revoked_by_user"


def revoke_all_sessions(user: User, *, except_sid: int | None = None) -> int:
    with transaction():
        return _revoke_sessions(user.id, "revoked_by_user", except_sid=except_sid)


def admin_revoke_session(session_id: int) -> bool:
    """Admin page action: revoke a session of the current tenant (the view filters the rows)."""
    with transaction():
        row = db.session.get(AuthSession, session_id)
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at, row.revoke_reason = utcnow(), "revoked_by_admin"
        return True


# --- profile -------------------------------------------------------------------------------------

PROFILE_FIELDS = ("first_name", "last_name", "phone")


def update_profile(user: User, changes: dict) -> User:
    with transaction():
        user = db.session.merge(user)
        for key in PROFILE_FIELDS:
            if key in changes:
                value = changes[key]
                setattr(user, key, (value or "-")[:64] if key != "phone" else value)
    return user


# --- user management (Admin within its tenant; Super Admin everywhere) ---------------------------

GRANTABLE = tuple(r for r in roles.ALL_ROLES if r != roles.GUEST)


def _users_query(actor: User):
    stmt = select(User)
    if not actor.is_super_admin:
        stmt = stmt.where(
            User.tenant_id.is_not(None)
        )  # Super Admins are not a tenant admin's business
    return stmt


def _check_roles(actor: User, role_names: list[str]) -> None:
    unknown = [r for r in role_names if r not in GRANTABLE]
    if unknown or not role_names:
        raise ValidationError(
            "unknown role", details={"roles": f"choose from {', '.join(GRANTABLE)}"}
        )
    if roles.SUPER_ADMIN in role_names and not actor.is_super_admin:
        raise PermissionDenied("only a Super Admin can grant the Super Admin role")


def list_users(actor: User, *, page: int, page_size: int, q: str | None = None) -> Page[User]:
    stmt = _users_query(actor)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(User.email).like(like),
                func.lower(User.username).like(like),
                func.lower(User.first_name).like(like),
                func.lower(User.last_name).like(like),
            )
        )
    with _actor_scope(actor):
        total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
        items = db.session.scalars(
            stmt.order_by(User.id).limit(page_size).offset((page - 1) * page_size)
        ).all()
    return Page(items=items, total=total, page=page, page_size=page_size)


def _actor_scope(actor: User):
    return unscoped() if actor.is_super_admin else nullcontext()


def get_user(actor: User, user_id: int) -> User:
    with _actor_scope(actor):
        user = db.session.scalars(_users_query(actor).where(User.id == user_id)).first()
    if user is None:
        raise NotFound("no such user")
    return user


def create_user(actor: User, data: NewUser) -> User:
    """A user of the actor's storefront (or a Super Admin) with the given roles. It makes no
    customer profile: app.customers.accounts.create_user, which the faces call, adds it to a
    user with a customer role in the same transaction."""
    role_names = list(data.roles) or [roles.CUSTOMER]
    _check_roles(actor, role_names)
    if roles.SUPER_ADMIN in role_names and role_names != [roles.SUPER_ADMIN]:
        raise ValidationError(
            "a Super Admin has no other role", details={"roles": "Super Admin alone"}
        )
    with transaction():
        tenant_id = None if role_names == [roles.SUPER_ADMIN] else current_tenant_id()
        try:
            user = users.create_user(
                tenant_id=tenant_id,
                email=data.email,
                password=data.password,
                first_name=data.first_name or "",
                last_name=data.last_name or "",
                role_names=role_names,
                username=data.username,
            )
        except ValidationError as exc:
            if exc.message == "already registered":
                raise Conflict(
                    "a user with this e-mail or username exists",
                    code=SecurityError.ALREADY_REGISTERED,
                    details=exc.details,
                ) from exc
            raise
        user.phone = data.phone
        if data.email_verified:
            user.email_verified_at = utcnow()
        db.session.flush()
    return user


def update_user(actor: User, user_id: int, changes: dict) -> User:
    with _actor_scope(actor), transaction():
        user = get_user(actor, user_id)
        if "roles" in changes:
            _check_roles(actor, changes["roles"])
            if user.id == actor.id:
                raise Conflict("you cannot change your own roles")
            if (user.tenant_id is None) != (changes["roles"] == [roles.SUPER_ADMIN]):
                raise ValidationError(
                    "a Super Admin has no tenant and no other role; tenant users are never "
                    "Super Admins",
                    details={"roles": "not possible for this user"},
                )
            user.roles = [users._role(name) for name in changes["roles"]]
        for key in PROFILE_FIELDS:
            if key in changes:
                setattr(user, key, changes[key] if key == "phone" else (changes[key] or "-")[:64])
        if "active" in changes:
            if user.id == actor.id and not changes["active"]:
                raise Conflict("you cannot deactivate yourself")
            user.active = changes["active"]
            if not user.active:
                _revoke_sessions(user.id, "deactivated")
    return user


def delete_user(actor: User, user_id: int) -> None:
    """Deactivate the account and end its sessions (orders, reviews, audit rows keep their user)."""
    with _actor_scope(actor), transaction():
        user = get_user(actor, user_id)
        if user.id == actor.id:
            raise Conflict("you cannot delete yourself")
        user.active = False
        _revoke_sessions(user.id, "deleted")
