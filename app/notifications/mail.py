"""Render and send e-mails.

Templates live in app/notifications/templates/mail/<name>.subject.txt, <name>.txt and <name>.html.
`send_mail()` delivers through SMTP (STARTTLS when MAIL_USE_TLS) when MAIL_SERVER is set,
otherwise it writes an .eml file to MAIL_OUTBOX_DIR (embedded default, no server needed).
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

log = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).parent / "templates" / "mail"
_env = Environment(
    loader=FileSystemLoader(str(TEMPLATE_DIR)),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def render(template: str, to: str, context: dict) -> EmailMessage:
    """An EmailMessage with a text part and an HTML alternative, from templates `template`.*."""
    ctx = {"app_name": current_app.config.get("APP_NAME", "Marketplace"), **context}
    msg = EmailMessage()
    msg["Subject"] = _env.get_template(f"{template}.subject.txt").render(ctx).strip()
    msg["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    msg["To"] = to
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain="marketplace.local")
    msg.set_content(_env.get_template(f"{template}.txt").render(ctx))
    msg.add_alternative(_env.get_template(f"{template}.html").render(ctx), subtype="html")
    return msg


def deliver(msg: EmailMessage) -> None:
    config = current_app.config
    server = config.get("MAIL_SERVER")
    if not server:
        outbox = Path(config["MAIL_OUTBOX_DIR"])
        outbox.mkdir(parents=True, exist_ok=True)
        path = outbox / f"{uuid.uuid4().hex}.eml"
        path.write_bytes(bytes(msg))
        log.info("mail %r to %s written to %s", msg["Subject"], msg["To"], path)
        return
    with smtplib.SMTP(
        server, int(config.get("MAIL_PORT") or 25), timeout=config.get("MAIL_TIMEOUT", 10)
    ) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(msg)
    log.info("mail %r sent to %s", msg["Subject"], msg["To"])  # never the body: it may hold a link


def send_mail(template: str, to: str, context: dict) -> None:
    deliver(render(template, to, context))


def frontend_link(path: str) -> str:
    return current_app.config["FRONTEND_URL"].rstrip("/") + "/" + path.lstrip("/")
