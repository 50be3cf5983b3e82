"""The error codes of chat."""

from __future__ import annotations

from app.core.errors import ErrorCode


class ChatError(ErrorCode):
    CONVERSATION_CLOSED = (
        "conversation_closed",
        409,
        "the conversation is closed: no new message (start a new conversation about the subject)",
    )
