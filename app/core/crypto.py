"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) with a key from configuration; the one hash of
a bearer token that is stored instead of the token (hash_token)."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from sqlalchemy import Text, TypeDecorator


def hash_token(token: str) -> str:
    """What is stored of a bearer token (cart, guest order access, payment, one-time token): its
    sha256 as 64 hex digits, so the token itself never is."""
    return hashlib.sha256(token.encode()).hexdigest()


def _fernet() -> Fernet:
    key = current_app.config.get("ENCRYPTION_KEY")
    if not key:
        digest = hashlib.sha256(("fernet:" + current_app.config["SECRET_KEY"]).encode()).digest()
        key = base64.urlsafe_b64encode(digest)
    return Fernet(key)


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # wrong key or tampered value
        raise ValueError("encrypted value cannot be decrypted with the configured key") from exc


def mask(value: str | None, visible: int = 4) -> str:
    if not value:
        return ""
    return "•" * max(len(value) - visible, 4) + value[-visible:]


class EncryptedString(TypeDecorator):
    """A column whose value is encrypted in the database and plain in Python."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt(value)
