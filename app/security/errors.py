"""The error codes of security: sign-in, tokens, sessions and registration."""

from __future__ import annotations

from app.core.errors import ErrorCode


class SecurityError(ErrorCode):
    UNAUTHORIZED = (
        "unauthorized",
        401,
        "no valid access token (missing, expired, revoked, another storefront's, or its account "
        "disabled)",
    )
    INVALID_CREDENTIALS = "invalid_credentials", 401, "wrong e-mail/username or password"
    INVALID_TOKEN = (
        "invalid_token",
        (401, 404),
        "a refresh token (401) or an e-mail token (404) is invalid, expired or used",
    )
    TOKEN_REUSED = (
        "token_reused",
        401,
        "a refresh token was used twice: its session is revoked",
    )
    ALREADY_REGISTERED = "already_registered", 409, "a user with this e-mail or username exists"
