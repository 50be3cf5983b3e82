"""Who may hold a Socket.IO connection, which rooms it joins, and which connections must go.

A client connects with an access token in the Socket.IO `auth` payload ({"token": "<jwt>"}).
`authorize()` checks what a bearer request gets checked for (signature and expiry through FAB's
JWT manager, then the blocklist and the session's revocation, which decode_token() does not
consult), that the account is active and belongs to the token's tenant, and that the tenant is
not suspended. A refusal says why (`ConnectRefused.code`).

`to_drop()` is the periodic check of the Socket.IO process: a connection whose token was revoked,
whose sign-in session ended (logout, password change, refresh-token reuse, an admin's action) or
whose account was disabled is named for disconnection. A token that merely expires while
connected keeps its connection (it was valid when checked); the client reconnects with a fresh one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from flask import current_app
from flask_jwt_extended import create_access_token, decode_token
from jwt import ExpiredSignatureError
from sqlalchemy import select

from app.core.tenancy import unscoped
from app.extensions import db
from app.realtime import rooms
from app.security import roles
from app.security.models import User
from app.security.session_models import AuthSession
from app.security.tokens import is_revoked, revoked_among
from app.sellers.models import SellerProfile
from app.tenants.models import Tenant


class Refusal(StrEnum):
    """Why a connection is refused or dropped (the `code` of the client's connect_error)."""

    TOKEN_MISSING = "token_missing"
    TOKEN_INVALID = "token_invalid"
    TOKEN_EXPIRED = "token_expired"
    TOKEN_REVOKED = "token_revoked"
    SESSION_REVOKED = "session_revoked"
    ACCOUNT_INACTIVE = "account_inactive"
    TENANT_SUSPENDED = "tenant_suspended"


_MESSAGES = {
    Refusal.TOKEN_MISSING: 'send an access token in the auth payload: {"token": "<jwt>"}',
    Refusal.TOKEN_INVALID: "the token is not a valid access token",
    Refusal.TOKEN_EXPIRED: "the token has expired; refresh it and connect again",
    Refusal.TOKEN_REVOKED: "the token was revoked",
    Refusal.SESSION_REVOKED: "the sign-in session of this token has ended",
    Refusal.ACCOUNT_INACTIVE: "the account is disabled or gone",
    Refusal.TENANT_SUSPENDED: "this storefront is suspended",
}


class ConnectRefused(Exception):
    def __init__(self, code: Refusal):
        super().__init__(_MESSAGES[code])
        self.code = code

    def as_data(self) -> dict:
        return {"code": str(self.code), "message": str(self)}


@dataclass(frozen=True)
class Connection:
    """An authorised connection: whose it is and the rooms it joined."""

    user_id: int
    tenant_id: int | None
    jti: str
    session_id: int | None  # the sign-in session (None for the admin's short-lived socket token)
    seller_id: int | None = None
    staff: bool = False
    rooms: tuple[str, ...] = field(default=())


def authorize(auth) -> Connection:
    """The connection a Socket.IO `auth` payload may open, or ConnectRefused saying why."""
    token = auth.get("token") if isinstance(auth, dict) else None
    if not isinstance(token, str) or not token.strip():
        raise ConnectRefused(Refusal.TOKEN_MISSING)
    token = token.strip().removeprefix("Bearer ").strip()
    try:
        claims = decode_token(token)  # signature, expiry, and `exp` required (FAB's manager)
    except ExpiredSignatureError:
        raise ConnectRefused(Refusal.TOKEN_EXPIRED) from None
    except Exception:  # garbage, bad signature, wrong algorithm, missing claims
        raise ConnectRefused(Refusal.TOKEN_INVALID) from None
    if claims.get("type") != "access" or not str(claims.get("sub", "")).isdigit():
        raise ConnectRefused(Refusal.TOKEN_INVALID)
    if is_revoked(claims["jti"]):
        raise ConnectRefused(Refusal.TOKEN_REVOKED)
    session_id = _session_id(claims)
    with unscoped():  # the tenant comes from the token, checked against the account's below
        if session_id is not None and session_id in _ended_sessions([session_id]):
            raise ConnectRefused(Refusal.SESSION_REVOKED)
        user = db.session.get(User, int(claims["sub"]))
        if user is None or not user.active:
            raise ConnectRefused(Refusal.ACCOUNT_INACTIVE)
        if "tenant_id" in claims and claims["tenant_id"] != user.tenant_id:
            raise ConnectRefused(Refusal.TOKEN_INVALID)
        tenant_id = user.tenant_id
        if tenant_id is not None:
            status = db.session.scalar(select(Tenant.status).where(Tenant.id == tenant_id))
            if status != "active":
                raise ConnectRefused(Refusal.TENANT_SUSPENDED)
        names = user.role_names
        seller_id = None
        if roles.SELLER in names and tenant_id is not None:
            seller_id = db.session.scalar(
                select(SellerProfile.id).where(
                    SellerProfile.user_id == user.id, SellerProfile.tenant_id == tenant_id
                )
            )
    staff = tenant_id is not None and bool(names & {roles.ADMIN, roles.SUPER_ADMIN})
    joined = [rooms.user(user.id)]
    if seller_id is not None:
        joined.append(rooms.seller(seller_id))
    if staff:
        joined.append(rooms.tenant_staff(tenant_id))
    return Connection(
        user_id=user.id,
        tenant_id=tenant_id,
        jti=claims["jti"],
        session_id=session_id,
        seller_id=seller_id,
        staff=staff,
        rooms=tuple(joined),
    )


def to_drop(connections: dict[str, Connection]) -> dict[str, Refusal]:
    """Of the connections {socket id: Connection}, those that must be disconnected and why: a
    revoked token, an ended session, a disabled or deleted account. One Redis round trip and two
    queries per 500 connections, whatever their number."""
    drop: dict[str, Refusal] = {}
    items = list(connections.items())
    for start in range(0, len(items), 500):
        chunk = items[start : start + 500]
        revoked = revoked_among([c.jti for _, c in chunk])
        with unscoped():
            ended = _ended_sessions([c.session_id for _, c in chunk if c.session_id is not None])
            user_ids = {c.user_id for _, c in chunk}
            active = set(
                db.session.scalars(
                    select(User.id).where(User.id.in_(user_ids), User.active.is_(True))
                )
            )
        for sid, conn in chunk:
            if conn.jti in revoked:
                drop[sid] = Refusal.TOKEN_REVOKED
            elif conn.session_id is not None and conn.session_id in ended:
                drop[sid] = Refusal.SESSION_REVOKED
            elif conn.user_id not in active:
                drop[sid] = Refusal.ACCOUNT_INACTIVE
    db.session.rollback()  # end the read transaction: the next check must see new commits
    return drop


def mint_socket_token(user_id: int) -> str:
    """A short-lived access token for an admin page's socket (the admin signs in with a session,
    not with tokens): REALTIME_SOCKET_TOKEN_SECONDS, 60 by default, enough to connect; the page
    asks for a new one at every (re)connection. The connection outlives it (see to_drop)."""
    seconds = int(current_app.config.get("REALTIME_SOCKET_TOKEN_SECONDS", 60))
    return create_access_token(
        identity=str(user_id),
        expires_delta=dt.timedelta(seconds=seconds),
        additional_claims={"purpose": "socket"},
    )


def _session_id(claims: dict) -> int | None:
    if "sid" not in claims:
        return None
    try:
        return int(claims["sid"])
    except (TypeError, ValueError):
        raise ConnectRefused(Refusal.TOKEN_INVALID) from None


def _ended_sessions(session_ids: list[int]) -> set[int]:
    """The given session ids that are revoked or gone."""
    if not session_ids:
        return set()
    live = set(
        db.session.scalars(
            select(AuthSession.id).where(
                AuthSession.id.in_(session_ids), AuthSession.revoked_at.is_(None)
            )
        )
    )
    return set(session_ids) - live
