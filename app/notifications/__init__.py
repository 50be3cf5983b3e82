"""E-mail: messages rendered from Jinja templates (text + HTML) and sent over SMTP, or written as
.eml files to MAIL_OUTBOX_DIR in the embedded default (no MAIL_SERVER)."""
