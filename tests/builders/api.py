"""What every API test checks of a refusal: the error envelope."""

from __future__ import annotations


def error(response, status: int, code: str | None = None) -> dict:
    """The refusal's `error` object, after checking the status, that the body is only the envelope
    and holds code, message and details, and (if given) the code."""
    assert response.status_code == status, (response.status_code, response.get_json())
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"])
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]
