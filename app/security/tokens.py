"""Revoked JWTs (the blocklist): Redis in production, process memory in the embedded default."""

from __future__ import annotations

import threading
import time

from flask import current_app

_memory: dict[str, float] = {}
_lock = threading.Lock()
_PREFIX = "jwt:revoked:"


def revoke(jti: str, ttl_seconds: int) -> None:
    client = current_app.extensions.get("redis")
    if client is not None:
        client.set(_PREFIX + jti, "1", ex=max(int(ttl_seconds), 1))
        return
    with _lock:
        _memory[jti] = time.monotonic() + ttl_seconds


def is_revoked(jti: str) -> bool:
    client = current_app.extensions.get("redis")
    if client is not None:
        return bool(client.exists(_PREFIX + jti))
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
    with client.pipeline(transaction=False) as pipe:
        for jti in jtis:
            pipe.exists(_PREFIX + jti)
        return {jti for jti, found in zip(jtis, pipe.execute(), strict=True) if found}
