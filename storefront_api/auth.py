"""/api/v1/auth: registration, login, token refresh (single-use rotation), logout, passwords,
e-mail verification, sessions, profile and user management.

Tokens: `Authorization: Bearer <access>`. Optional cookie mode: log in with {"use_cookies": true}
and the tokens come back as HttpOnly cookies (access_token_cookie, refresh_token_cookie) plus the
readable CSRF cookies (csrf_access_token, csrf_refresh_token); every write then sends the matching
value in the X-CSRF-TOKEN header (double submit). GET /csrf-token/ returns those values.
Rate limits (per client IP) on login, register and the e-mail requests: API_LOGIN_RATE_LIMIT,
API_AUTH_EMAIL_RATE_LIMIT.
"""

from __future__ import annotations

from flask import after_this_request, current_app, request
from flask_jwt_extended import (
    get_csrf_token,
    get_jwt,
    set_access_cookies,
    set_refresh_cookies,
    unset_jwt_cookies,
    verify_jwt_in_request,
)
from flask_limiter.util import get_remote_address
from marshmallow import Schema, fields, post_load, validate

from app.cart import services as cart_services
from app.core.errors import CoreError
from app.customers import accounts
from app.extensions import limiter
from app.security import auth
from app.security import roles as R
from app.security.errors import SecurityError
from app.security.inputs import NewUser
from app.sellers.actors import actor_for
from storefront_api.common import (
    BEARER,
    Blueprint,
    PageArgs,
    Unauthorized,
    current_api_user,
    document_errors,
    page_schema,
    require_roles,
)
from storefront_api.errors import ApiError

blp = Blueprint(
    "auth", __name__, url_prefix="/api/v1/auth", description="Authentication, sessions and users"
)

ADMINS = (R.ADMIN, R.SUPER_ADMIN)


def _limit(config_key: str):
    return limiter.limit(lambda: current_app.config[config_key], key_func=get_remote_address)


def _client() -> dict:
    return {"ip": request.remote_addr, "user_agent": request.user_agent.string or None}


def _sid() -> int | None:
    return get_jwt().get("sid")


# --- schemas ---------------------------------------------------------------------------------------


class AuthUserSchema(Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    email = fields.String(required=True)
    first_name = fields.String(required=True)
    last_name = fields.String(required=True)
    phone = fields.String(allow_none=True)
    active = fields.Boolean(required=True)
    tenant_id = fields.Integer(allow_none=True)
    roles = fields.Method(
        "_roles", required=True, metadata={"type": "array", "items": {"type": "string"}}
    )
    email_verified = fields.Method("_verified", required=True, metadata={"type": "boolean"})
    email_verified_at = fields.DateTime(allow_none=True)

    def _roles(self, user) -> list[str]:
        return sorted(user.role_names)

    def _verified(self, user) -> bool:
        return user.email_verified_at is not None


# The password policy of app.security.services.validate_password (which stays the authority), stated
# in the schema too so that OpenAPI is truthful: 10+ characters, not only digits and not only letters.
NEW_PASSWORD = [
    validate.Length(min=10, max=128),
    validate.Regexp(
        r"^[\s\S]*(?:[^0-9A-Za-z]|[A-Za-z][\s\S]*[0-9]|[0-9][\s\S]*[A-Za-z])",
        error="use letters and digits or symbols",
    ),
]


class AuthRegisterSchema(Schema):
    # 128: the e-mail doubles as the username (ab_user.username) unless one is given
    email = fields.Email(required=True, validate=validate.Length(max=128))
    password = fields.String(required=True, load_only=True, validate=NEW_PASSWORD)
    first_name = fields.String(load_default="", validate=validate.Length(max=64))
    last_name = fields.String(load_default="", validate=validate.Length(max=64))
    username = fields.String(load_default=None, validate=validate.Length(min=3, max=64))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))


class AuthMessageSchema(Schema):
    detail = fields.String(required=True)


class AuthLoginSchema(Schema):
    login = fields.String(
        required=True,
        validate=validate.Length(min=1, max=254),
        metadata={"description": "e-mail or username"},
    )
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=128))
    use_cookies = fields.Boolean(
        load_default=False, metadata={"description": "HttpOnly cookies + CSRF header"}
    )
    device_name = fields.String(load_default=None, validate=validate.Length(max=64))


class AuthTokenSchema(Schema):
    access_token = fields.String(metadata={"description": "absent in cookie mode"})
    refresh_token = fields.String(metadata={"description": "absent in cookie mode"})
    token_type = fields.String(required=True)
    expires_in = fields.Integer(
        required=True, metadata={"description": "access token lifetime, seconds"}
    )
    session_id = fields.Integer(required=True)
    user = fields.Nested(AuthUserSchema, required=True)


class AuthRefreshSchema(Schema):
    refresh_token = fields.String(
        load_default=None,
        validate=validate.Length(max=4000),
        metadata={"description": "omit in cookie mode (refresh cookie + X-CSRF-TOKEN)"},
    )


class AuthProfileUpdateSchema(Schema):
    first_name = fields.String(validate=validate.Length(min=1, max=64))
    last_name = fields.String(validate=validate.Length(min=1, max=64))
    phone = fields.String(allow_none=True, validate=validate.Length(max=32))


class AuthPasswordChangeSchema(Schema):
    current_password = fields.String(
        required=True, load_only=True, validate=validate.Length(max=128)
    )
    new_password = fields.String(required=True, load_only=True, validate=NEW_PASSWORD)


class AuthEmailSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))


class AuthResetConfirmSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))
    new_password = fields.String(required=True, load_only=True, validate=NEW_PASSWORD)


class AuthTokenValiditySchema(Schema):
    valid = fields.Boolean(required=True)
    expires_at = fields.DateTime(allow_none=True)


class AuthCsrfSchema(Schema):
    csrf_token = fields.String(allow_none=True, required=True)
    refresh_csrf_token = fields.String(allow_none=True, required=True)
    header_name = fields.String(required=True)


class AuthSessionSchema(Schema):
    id = fields.Integer(required=True)
    device = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)
    ip = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    last_seen_at = fields.DateTime(required=True)
    expires_at = fields.DateTime(required=True)
    current = fields.Boolean(required=True)


class AuthRevokedSchema(Schema):
    revoked = fields.Integer(required=True)


class AuthUserCreateSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, load_only=True, validate=NEW_PASSWORD)
    first_name = fields.String(load_default="", validate=validate.Length(max=64))
    last_name = fields.String(load_default="", validate=validate.Length(max=64))
    username = fields.String(load_default=None, validate=validate.Length(min=3, max=64))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    roles = fields.List(
        fields.String(validate=validate.OneOf(auth.GRANTABLE)),
        load_default=[R.CUSTOMER],
        validate=validate.Length(min=1),
    )
    email_verified = fields.Boolean(load_default=False)

    @post_load
    def _new_user(self, data, **kwargs) -> NewUser:
        return NewUser(**{**data, "roles": tuple(data["roles"])})


class AuthUserUpdateSchema(AuthProfileUpdateSchema):
    roles = fields.List(
        fields.String(validate=validate.OneOf(auth.GRANTABLE)), validate=validate.Length(min=1)
    )
    active = fields.Boolean()


class UserListArgs(PageArgs):
    q = fields.String(validate=validate.Length(max=100))


UserPage = page_schema(AuthUserSchema, "AuthUserPage")
SessionPage = page_schema(AuthSessionSchema, "AuthSessionPage")

_ACCEPTED = {
    "detail": "If the address can be used, we sent an e-mail to it. Please check your inbox."
}


def _errors(*errors):
    return document_errors(blp, *errors)


def _token_body(pair: auth.TokenPair, use_cookies: bool) -> dict:
    body = {
        "token_type": pair.token_type,
        "expires_in": pair.expires_in,
        "session_id": pair.session_id,
        "user": pair.user,
    }
    if use_cookies:

        @after_this_request
        def _cookies(response):
            set_access_cookies(response, pair.access_token)
            set_refresh_cookies(response, pair.refresh_token)
            return response
    else:
        body.update(access_token=pair.access_token, refresh_token=pair.refresh_token)
    return body


# --- registration, login, tokens -----------------------------------------------------------------


@blp.route("/register/", methods=["POST"])
@blp.arguments(AuthRegisterSchema)
@blp.response(202, AuthMessageSchema)
@_errors(ApiError.BAD_REQUEST, CoreError.VALIDATION_ERROR, ApiError.RATE_LIMITED)
@_limit("API_AUTH_EMAIL_RATE_LIMIT")
def register(data):
    """Register a customer. Always 202 "check your e-mail", also for an address already registered."""
    accounts.register(**data)
    return _ACCEPTED


@blp.route("/login/", methods=["POST"])
@blp.arguments(AuthLoginSchema)
@blp.response(200, AuthTokenSchema)
@_errors(
    ApiError.BAD_REQUEST,
    SecurityError.INVALID_CREDENTIALS,
    CoreError.VALIDATION_ERROR,
    ApiError.RATE_LIMITED,
)
@_limit("API_LOGIN_RATE_LIMIT")
def login(data):
    """Sign in with e-mail or username; opens a session. Locked after repeated failures."""
    pair = auth.login(
        login=data["login"], password=data["password"], device=data["device_name"], **_client()
    )
    cart_services.merge_guest_cart(
        actor_for(pair.user), request.headers.get("X-Cart-Token")
    )  # a guest's cart joins theirs
    return _token_body(pair, data["use_cookies"])


@blp.route("/refresh/", methods=["POST"])
@blp.arguments(AuthRefreshSchema, required=False)
@blp.response(200, AuthTokenSchema)
@_errors(
    ApiError.BAD_REQUEST,
    SecurityError.UNAUTHORIZED,
    (SecurityError.INVALID_TOKEN, 401),
    SecurityError.TOKEN_REUSED,
    CoreError.VALIDATION_ERROR,
)
def refresh(data):
    """Spend a refresh token for a new pair. Reusing a spent one revokes its whole session."""
    token, use_cookies = data["refresh_token"], False
    if not token:
        try:
            verify_jwt_in_request(refresh=True, locations=["cookies"])  # checks the CSRF header too
        except Exception as exc:
            raise Unauthorized("a refresh token is required") from exc
        token, use_cookies = request.cookies[current_app.config["JWT_REFRESH_COOKIE_NAME"]], True
    return _token_body(auth.refresh(token=token, **_client()), use_cookies)


@blp.route("/logout/", methods=["POST"])
@blp.response(204)
@_errors(SecurityError.UNAUTHORIZED)
@blp.doc(security=BEARER)
def logout():
    """End this session and revoke the access token."""
    auth.logout(user=current_api_user(), claims=get_jwt())

    @after_this_request
    def _cookies(response):
        unset_jwt_cookies(response)
        return response


@blp.route("/csrf-token/", methods=["GET"])
@blp.response(200, AuthCsrfSchema)
def csrf_token():
    """Cookie mode: the CSRF values to send in X-CSRF-TOKEN (null when no token cookie is set)."""
    values = {}
    for key, cookie in (
        ("csrf_token", "JWT_ACCESS_COOKIE_NAME"),
        ("refresh_csrf_token", "JWT_REFRESH_COOKIE_NAME"),
    ):
        try:
            values[key] = get_csrf_token(request.cookies[current_app.config[cookie]])
        except Exception:
            values[key] = None
    return {**values, "header_name": current_app.config["JWT_ACCESS_CSRF_HEADER_NAME"]}


# --- passwords and e-mail --------------------------------------------------------------------------


@blp.route("/password/change/", methods=["POST"])
@blp.arguments(AuthPasswordChangeSchema)
@blp.response(200, AuthRevokedSchema)
@_errors(ApiError.BAD_REQUEST, SecurityError.UNAUTHORIZED, CoreError.VALIDATION_ERROR)
@blp.doc(security=BEARER)
def password_change(data):
    """Change the password (needs the current one); every other session is revoked."""
    user = current_api_user()
    return {"revoked": auth.change_password(user=user, current_sid=_sid(), **data)}


@blp.route("/password/reset/", methods=["POST"])
@blp.arguments(AuthEmailSchema)
@blp.response(202, AuthMessageSchema)
@_errors(ApiError.BAD_REQUEST, CoreError.VALIDATION_ERROR, ApiError.RATE_LIMITED)
@_limit("API_AUTH_EMAIL_RATE_LIMIT")
def password_reset(data):
    """Mail a password reset link (valid PASSWORD_RESET_TOKEN_MINUTES, single use). Same answer
    whether or not the address is registered."""
    auth.request_password_reset(data["email"])
    return _ACCEPTED


@blp.route("/forgot-password/", methods=["POST"])
@blp.arguments(AuthEmailSchema)
@blp.response(202, AuthMessageSchema)
@_errors(ApiError.BAD_REQUEST, CoreError.VALIDATION_ERROR, ApiError.RATE_LIMITED)
@_limit("API_AUTH_EMAIL_RATE_LIMIT")
def forgot_password(data):
    """Alias of POST /password/reset/."""
    auth.request_password_reset(data["email"])
    return _ACCEPTED


@blp.route("/password/reset/confirm/", methods=["POST"])
@blp.arguments(AuthResetConfirmSchema)
@blp.response(200, AuthMessageSchema)
@_errors(ApiError.BAD_REQUEST, (SecurityError.INVALID_TOKEN, 404), CoreError.VALIDATION_ERROR)
def password_reset_confirm(data):
    """Set a new password with the mailed token; ends every session of the account."""
    auth.reset_password(token=data["token"], new_password=data["new_password"])
    return {"detail": "Your password was changed. Please sign in."}


@blp.route("/reset-password/", methods=["POST"])
@blp.arguments(AuthResetConfirmSchema)
@blp.response(200, AuthMessageSchema)
@_errors(ApiError.BAD_REQUEST, (SecurityError.INVALID_TOKEN, 404), CoreError.VALIDATION_ERROR)
def reset_password(data):
    """Alias of POST /password/reset/confirm/."""
    auth.reset_password(token=data["token"], new_password=data["new_password"])
    return {"detail": "Your password was changed. Please sign in."}


@blp.route("/validate-reset-token/<string:token>/", methods=["GET"])
@blp.response(200, AuthTokenValiditySchema)
def validate_reset_token(token):
    """Whether a reset token is still usable (unknown, used or expired: valid=false)."""
    return auth.validate_reset_token(token)


@blp.route("/verify-email/<string:token>/", methods=["POST"])
@blp.response(200, AuthMessageSchema)
@_errors((SecurityError.INVALID_TOKEN, 404))
def verify_email(token):
    """Confirm the e-mail address with the mailed token (single use)."""
    auth.verify_email(token)
    return {"detail": "Your e-mail address is confirmed."}


@blp.route("/resend-verification/", methods=["POST"])
@blp.arguments(AuthEmailSchema)
@blp.response(202, AuthMessageSchema)
@_errors(ApiError.BAD_REQUEST, CoreError.VALIDATION_ERROR, ApiError.RATE_LIMITED)
@_limit("API_AUTH_EMAIL_RATE_LIMIT")
def resend_verification(data):
    """Mail a new verification link (same answer whatever the address)."""
    auth.resend_verification(data["email"])
    return _ACCEPTED


# --- sessions and profile ----------------------------------------------------------------------


@blp.route("/sessions/", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, SessionPage)
@_errors(SecurityError.UNAUTHORIZED, CoreError.VALIDATION_ERROR)
@blp.doc(security=BEARER)
def sessions(args):
    """The signed-in user's active sessions (devices); `current` marks this one."""
    return auth.list_sessions(current_api_user(), current_sid=_sid(), **args)


@blp.route("/sessions/<int:session_id>/", methods=["DELETE"])
@blp.response(204)
@_errors(SecurityError.UNAUTHORIZED, CoreError.NOT_FOUND)
@blp.doc(security=BEARER)
def session_revoke(session_id):
    """Revoke one of the user's sessions (another user's answers 404)."""
    auth.revoke_session(current_api_user(), session_id)


@blp.route("/users/me/sessions/", methods=["GET"])
@blp.arguments(PageArgs, location="query")
@blp.response(200, SessionPage)
@_errors(SecurityError.UNAUTHORIZED, CoreError.VALIDATION_ERROR)
@blp.doc(security=BEARER)
def my_sessions(args):
    """Same as GET /sessions/."""
    return auth.list_sessions(current_api_user(), current_sid=_sid(), **args)


@blp.route("/users/me/sessions/", methods=["DELETE"])
@blp.response(200, AuthRevokedSchema)
@_errors(SecurityError.UNAUTHORIZED)
@blp.doc(security=BEARER)
def my_sessions_revoke():
    """Sign out everywhere: revoke every session of the user, this one included."""
    return {"revoked": auth.revoke_all_sessions(current_api_user())}


@blp.route("/profile/", methods=["GET"])
@blp.response(200, AuthUserSchema)
@_errors(SecurityError.UNAUTHORIZED)
@blp.doc(security=BEARER)
def profile():
    """The signed-in user."""
    return current_api_user()


@blp.route("/profile/", methods=["PUT"])
@blp.arguments(AuthProfileUpdateSchema, required=False)
@blp.response(200, AuthUserSchema)
@_errors(ApiError.BAD_REQUEST, SecurityError.UNAUTHORIZED, CoreError.VALIDATION_ERROR)
@blp.doc(security=BEARER)
def profile_update(data):
    """Change names and phone."""
    return auth.update_profile(current_api_user(), data)


@blp.route("/users/me/", methods=["GET"])
@blp.response(200, AuthUserSchema)
@_errors(SecurityError.UNAUTHORIZED)
@blp.doc(security=BEARER)
def me():
    """The signed-in user (same as GET /profile/)."""
    return current_api_user()


@blp.route("/users/me/", methods=["PUT"])
@blp.arguments(AuthProfileUpdateSchema, required=False)
@blp.response(200, AuthUserSchema)
@_errors(ApiError.BAD_REQUEST, SecurityError.UNAUTHORIZED, CoreError.VALIDATION_ERROR)
@blp.doc(security=BEARER)
def me_update(data):
    """Change names and phone (same as PUT /profile/)."""
    return auth.update_profile(current_api_user(), data)


# --- user management (Admin: its tenant; Super Admin: all) ---------------------------------------


@blp.route("/users/", methods=["GET"])
@blp.arguments(UserListArgs, location="query")
@blp.response(200, UserPage)
@_errors(SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, CoreError.VALIDATION_ERROR)
@blp.doc(security=BEARER)
@require_roles(*ADMINS)
def users_list(args):
    """Users of this storefront (Super Admin: every user); `q` searches names, username and e-mail."""
    return auth.list_users(current_api_user(), **args)


@blp.route("/users/", methods=["POST"])
@blp.arguments(AuthUserCreateSchema)
@blp.response(201, AuthUserSchema)
@_errors(
    ApiError.BAD_REQUEST,
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    SecurityError.ALREADY_REGISTERED,
    CoreError.VALIDATION_ERROR,
)
@blp.doc(security=BEARER)
@require_roles(*ADMINS)
def users_create(data):
    """Create a user in this storefront with the given roles (only a Super Admin grants Super Admin)."""
    return accounts.create_user(current_api_user(), data)


@blp.route("/users/<int:user_id>/", methods=["GET"])
@blp.response(200, AuthUserSchema)
@_errors(SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, CoreError.NOT_FOUND)
@blp.doc(security=BEARER)
@require_roles(*ADMINS)
def users_detail(user_id):
    """One user of this storefront."""
    return auth.get_user(current_api_user(), user_id)


@blp.route("/users/<int:user_id>/", methods=["PUT"])
@blp.arguments(AuthUserUpdateSchema, required=False)
@blp.response(200, AuthUserSchema)
@_errors(
    ApiError.BAD_REQUEST,
    SecurityError.UNAUTHORIZED,
    CoreError.FORBIDDEN,
    CoreError.NOT_FOUND,
    CoreError.CONFLICT,
    CoreError.VALIDATION_ERROR,
)
@blp.doc(security=BEARER)
@require_roles(*ADMINS)
def users_update(data, user_id):
    """Change names, phone, roles or active; deactivating ends the user's sessions."""
    return auth.update_user(current_api_user(), user_id, data)


@blp.route("/users/<int:user_id>/", methods=["DELETE"])
@blp.response(204)
@_errors(SecurityError.UNAUTHORIZED, CoreError.FORBIDDEN, CoreError.NOT_FOUND, CoreError.CONFLICT)
@blp.doc(security=BEARER)
@require_roles(*ADMINS)
def users_delete(user_id):
    """Deactivate a user and end its sessions (its orders and history stay)."""
    auth.delete_user(current_api_user(), user_id)
