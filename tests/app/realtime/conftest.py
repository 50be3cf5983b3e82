import pytest

from tests.builders.orders import *  # noqa: F401,F403

# What Flask-SocketIO's test client changes on the server it is given (flask_socketio/test_client.py):
# it replaces the server's packet senders with ones that queue packets for the test client, and
# makes handlers synchronous. On the session app's own server, left that way, every later real
# client (the browser tests' pages, served by the same app) would connect and never hear back.
_PATCHED = ("_send_packet", "_send_eio_packet", "async_handlers")


@pytest.fixture(autouse=True)
def _socket_server_restored(app):
    server = app.extensions["socketio_server"]
    saved = {name: server.__dict__[name] for name in _PATCHED if name in server.__dict__}
    eio_async = server.eio.async_handlers
    yield
    for name in _PATCHED:
        if name in saved:
            setattr(server, name, saved[name])
        else:
            server.__dict__.pop(name, None)
    server.eio.async_handlers = eio_async
