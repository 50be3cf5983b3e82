"""docs/asyncapi.yaml stays true to the code: every event a realtime consumer emits has a channel,
every refusal code is listed, and what a seller's order.created carries is what the document
requires (checked on a real emission in the embedded default)."""

from __future__ import annotations

from pathlib import Path

import yaml

from app.extensions import socketio
from app.realtime.access import Refusal
from tests.builders.auth import token
from tests.builders.orders import place

DOC = yaml.safe_load((Path(__file__).resolve().parents[3] / "docs" / "asyncapi.yaml").read_text())


def test_every_emitted_event_and_refusal_is_documented(app):
    bus = app.extensions["event_bus"]
    emitted = {
        name
        for name, subs in bus.subscribers.items()
        if any(s.consumer.startswith("realtime.") for s in subs)
    }
    assert emitted <= set(DOC["channels"]), emitted - set(DOC["channels"])
    assert "session.ended" in DOC["channels"]
    for code in Refusal:
        assert str(code) in DOC["info"]["description"], code


def test_a_sellers_order_created_carries_what_the_document_requires(app, client, shop):
    latest = socketio.server
    socketio.server = app.extensions["socketio_server"]  # the session app's own server
    try:
        ear = socketio.test_client(app, auth={"token": token(app, shop.seller.user)})
        place(client, shop)
        (heard,) = [m["args"][0] for m in ear.get_received() if m["name"] == "order.created"]
        ear.disconnect()
    finally:
        socketio.server = latest
    schemas = DOC["components"]["messages"]["OrderCreatedSeller"]["payload"]["allOf"]
    required = set(DOC["components"]["schemas"]["Base"]["required"]) | set(schemas[1]["required"])
    assert required <= set(heard), required - set(heard)
