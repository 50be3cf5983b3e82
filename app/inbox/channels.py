"""Channel adapters: how an e-mail, an SMS or a push notification leaves the platform.

An adapter is anything with a `name` and `send(message) -> SendResult` that raises when the
provider refused or could not be reached (the delivery is then `failed`, with the error). Which
adapter serves a channel is configuration (config.py):

    NOTIFY_EMAIL_ADAPTER = "mail"     the platform's mail path (app.notifications.mail: SMTP, or
                                      .eml files in MAIL_OUTBOX_DIR in the embedded default)
    NOTIFY_SMS_ADAPTER   = "record"   records what it would send (RecordedMessage) and logs it
    NOTIFY_PUSH_ADAPTER  = "record"

A real provider is a class of its own, named by its import path ("package.module:ClassName", built
with the Flask config as its only argument), so a deployment plugs one in without touching this
package: it fills the same interface and returns the provider's message id as `provider_ref`.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import Protocol

from flask import current_app

from app.extensions import db
from app.inbox.catalog import EMAIL, PUSH, SMS
from app.inbox.models import RecordedMessage
from app.notifications import mail

log = logging.getLogger(__name__)

CONFIG_KEYS = {
    EMAIL: "NOTIFY_EMAIL_ADAPTER",
    SMS: "NOTIFY_SMS_ADAPTER",
    PUSH: "NOTIFY_PUSH_ADAPTER",
}


@dataclass(frozen=True)
class OutgoingMessage:
    channel: str
    to: str  # an e-mail address, a phone number, "user:<id>" (push: the provider's devices)
    title: str
    body: str
    link: str | None
    tenant_id: int
    user_id: int
    delivery_id: int
    name: str | None = None  # the recipient's first name, for a greeting

    @property
    def text(self) -> str:
        """The short form (SMS, push): title, body and link on one message."""
        return " ".join(part for part in (self.title, self.body, self.link) if part)


@dataclass(frozen=True)
class SendResult:
    provider_ref: str | None = None


class ChannelAdapter(Protocol):
    name: str

    def send(self, message: OutgoingMessage) -> SendResult: ...


class MailAdapter:
    """E-mail through the platform's mail path (template `notification`)."""

    name = "mail"

    def __init__(self, config=None) -> None:
        pass

    def send(self, message: OutgoingMessage) -> SendResult:
        msg = mail.render(
            "notification",
            message.to,
            {
                "title": message.title,
                "body": message.body,
                "link": message.link,
                "name": message.name,
            },
        )
        mail.deliver(msg)
        return SendResult(provider_ref=str(msg["Message-ID"]))


class RecordAdapter:
    """Sends nothing: records what it would send (RecordedMessage, in the delivery's transaction)
    and logs one line (without the text, which may carry a link)."""

    name = "record"

    def __init__(self, config=None) -> None:
        pass

    def send(self, message: OutgoingMessage) -> SendResult:
        row = RecordedMessage(
            tenant_id=message.tenant_id,
            delivery_id=message.delivery_id,
            channel=message.channel,
            to=message.to,
            subject=message.title[:200],
            text=message.text,
        )
        db.session.add(row)
        db.session.flush()
        log.info("%s to %s recorded (#%s), not sent", message.channel, message.to, row.id)
        return SendResult(provider_ref=f"record-{row.id}")


BUILTIN_ADAPTERS: dict[str, type] = {"mail": MailAdapter, "record": RecordAdapter}


def adapter_for(channel: str) -> ChannelAdapter:
    """The adapter configured for `channel` (built-in name or "module:Class")."""
    name = current_app.config.get(CONFIG_KEYS[channel]) or (
        "mail" if channel == EMAIL else "record"
    )
    cache = current_app.extensions.setdefault("inbox_adapters", {})
    if name not in cache:
        cache[name] = load_adapter(name)(current_app.config)
    return cache[name]


def load_adapter(name: str) -> type:
    if name in BUILTIN_ADAPTERS:
        return BUILTIN_ADAPTERS[name]
    module_name, _, class_name = name.partition(":")
    if not class_name:
        raise LookupError(
            f"no notification adapter {name!r}: use one of {', '.join(BUILTIN_ADAPTERS)} "
            "or 'package.module:ClassName'"
        )
    return getattr(importlib.import_module(module_name), class_name)
