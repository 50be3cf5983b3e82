"""Revoked JWTs (the blocklist): Redis in production, process memory in the embedded default.

When Redis cannot be reached the blocklist fails open: a token is taken as not revoked here and
the check of its sign-in session in the database (app.security.auth.session_revoked, which every
token with a session id passes too) still refuses a logged-out or revoked session's tokens. What
a Redis outage loses is only the early refusal of one access token whose session lives on (at
most JWT_ACCESS_TOKEN_EXPIRES); it never turns a signed-in customer's request into a 500.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import current_app
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

_memory: dict[str, float] = {}
_lock = threading.Lock()
_PREFIX = "jwt:revoked:"


def revoke(jti: str, ttl_seconds: int) -> None:
    client = current_app.extensions.get("redis")
    if client is not None:
        try:
            client.set(_PREFIX + jti, "1", ex=max(int(ttl_seconds), 1))
        except RedisError:  # the session's revocation in the database still refuses the token
            log.warning("JWT blocklist unreachable: %s not blocklisted", jti, exc_info=True)
        return
    with _lock:
        _memory[jti] = time.monotonic() + ttl_seconds


def is_revoked(jti: str) -> bool:
    client = current_app.extensions.get("redis")
    if client is not None:
        try:
            return bool(client.exists(_PREFIX + jti))
        except RedisError:  # fail open to the session check (module docstring)
            log.warning("JWT blocklist unreachable; relying on the session check", exc_info=True)
            return False
    with _lock:
        expiry = _memory.get(jti)
        if expiry is None:
            return False
        if expiry < time.monotonic():
            _memory.pop(jti, None)
            return False
        return True


def revoked_among(jtis: list[str]) -> set[str]:
    """Which of these jtis are revoked: one Redis round trip for all of them (the Socket.IO
    process checks every connection's token every few seconds)."""
    if not jtis:
        return set()
    client = current_app.extensions.get("redis")
    if client is None:
        return {jti for jti in jtis if is_revoked(jti)}
    try:
        with client.pipeline(transaction=False) as pipe:
            for jti in jtis:
                pipe.exists(_PREFIX + jti)
            return {jti for jti, found in zip(jtis, pipe.execute(), strict=True) if found}
    except RedisError:  # fail open to the session check (module docstring)
        log.warning("JWT blocklist unreachable; relying on the session check", exc_info=True)
        return set()
