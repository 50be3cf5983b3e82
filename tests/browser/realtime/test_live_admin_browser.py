"""The admin's live notifications in headless Chromium against the live server (the embedded
default: in-process jobs, Socket.IO in the serving process): a Seller's and an Admin's page connect
their socket (socket.io-client vendored, a socket token minted for the session, WebSocket), and an
order placed meanwhile shows a toast, lands in the bell's list and moves the home page's order and
sales figures, with no console error and no CSP violation; a customer's session cannot mint a
socket token, nor can a post without the page's CSRF token."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.chromium import admin_page, shoot
from tests.builders.orders import place

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("REALTIME_SHOTS_DIR", "/work/shots"))


def _figure(page, kind: str) -> float:
    return float(page.get_attribute(f'.dash-value[data-live="{kind}"]', "data-raw"))


@pytest.mark.parametrize("who", ["seller", "admin"])
def test_a_new_order_shows_live_on_the_home_page(app, client, live_server, shop, who, tmp_path):
    username = shop.seller.user.username if who == "seller" else shop.admin.username
    with admin_page(live_server, shop.tenant.slug, username) as page:
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(f"{live_server}/")
        page.wait_for_selector('#market-bell[data-state="connected"]', timeout=15_000)
        assert page.get_attribute("#market-bell", "data-transport") == "websocket"
        assert page.is_hidden(".market-bell-count")  # nothing new yet
        orders, gross = _figure(page, "orders"), _figure(page, "gross")

        order = place(client, shop, items=[(shop.product.variant_id, 2)])

        page.wait_for_selector(".market-toast", timeout=5_000)
        toast = page.inner_text(".market-toast")
        assert f"New order {order['number']}" in toast
        page.wait_for_function(
            "n => Number(document.querySelector('.dash-value[data-live=orders]').dataset.raw) > n",
            arg=orders,
        )
        assert _figure(page, "orders") == orders + 1
        (sub,) = order["sub_orders"]
        added = float(sub["total"] if who == "seller" else order["total"])
        assert _figure(page, "gross") == pytest.approx(gross + added)
        # the bell counts the notification centre's unread notifications: the seller's new order
        # is one (stored, then pushed as notification.created; a low-stock notice may add one)
        if who == "seller":
            page.wait_for_function(
                "() => { const b = document.querySelector('.market-bell-count');"
                " return !b.hidden && Number(b.textContent) >= 1; }",
                timeout=5_000,
            )
        page.click("#market-bell > a")
        assert order["number"] in page.inner_text(".market-bell-list")
        if who == "seller":  # opening the list is not reading them: they stay unread until read
            assert page.is_visible(".market-bell-count")
        assert page.get_attribute(".market-bell-all", "href") == "/admin/my-notifications/"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"realtime-{who}-home.png"))
        shoot(page, tmp_path, f"realtime-{who}")
        assert problems == []


def test_the_socket_token_is_for_signed_in_staff_with_the_pages_csrf_token(app, client, shop):
    """Anonymous: refused; a customer cannot sign in to the admin at all; staff without the CSRF
    token: refused; staff with it: a token that lives REALTIME_SOCKET_TOKEN_SECONDS."""
    import jwt

    assert client.post("/admin/realtime/token/").status_code in (400, 403)
    staff = app.test_client()
    staff.environ_base["HTTP_X_TENANT"] = shop.tenant.slug
    response = staff.post(
        "/login/", data={"username": shop.seller.user.username, "password": "Secret-password-1"}
    )
    assert response.status_code == 302
    assert staff.post("/admin/realtime/token/", csrf=False).status_code == 400
    response = staff.post("/admin/realtime/token/")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["sub"] == str(shop.seller.user.id) and claims["type"] == "access"
    assert claims["exp"] - claims["iat"] == body["expires_in"] == 60
