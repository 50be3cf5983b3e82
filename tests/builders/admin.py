"""Builders for admin tests."""

from __future__ import annotations

import re
from contextlib import contextmanager
from html.parser import HTMLParser

from app.core.tenancy import tenant_scope, unscoped
from app.security import roles
from tests.builders.factories import PASSWORD


def login(
    app, tenant_slug: str, username: str, password: str = PASSWORD, *, expect_ok: bool = True
):
    client = app.test_client()
    client.environ_base["HTTP_X_TENANT"] = tenant_slug
    response = client.post("/login/", data={"username": username, "password": password})
    if expect_ok:
        assert response.status_code == 302 and "/login" not in response.headers["Location"], (
            "login failed"
        )
    return client, response


@contextmanager
def scope(app, tenant_id=None):
    """An app context for checking the database between requests (never held across them)."""
    with app.app_context():
        if tenant_id is None:
            with unscoped():
                yield
        else:
            with tenant_scope(tenant_id):
                yield


def _grant_seller_reads(app):
    """What admin/roles.py gives the Seller role (`flask init`); idempotent."""
    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.find_role(roles.SELLER)
        for view in SELLER_READS:
            for perm in ("can_list", "can_show"):
                pv = sm.find_permission_view_menu(perm, view)
                if pv not in role.permissions:
                    sm.add_permission_role(role, pv)


def shows(page, amount: str) -> bool:
    """Whether the page shows that amount as a number of its own (not inside a time or another amount)."""

    return re.search(rf"(?<![\d.]){re.escape(amount)}(?!\d)", page) is not None


class BrowserForm(HTMLParser):
    """The (name, value) pairs a browser submits from <form id="model_form">: text-like inputs
    (newlines stripped, as browsers sanitize them), hidden ones (the CSRF token), ticked checkboxes
    and radios, the selected options of each select (the first option of a single select when none
    is marked), textareas (the leading newline after the tag dropped, line breaks sent as CRLF).
    Disabled controls, buttons and file inputs send nothing. `names` lists every control seen,
    `required` those marked required, `blocked` the required ones left empty, for which a browser
    refuses to send the form."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.pairs: list[tuple[str, str]] = []
        self.names: list[str] = []
        self.blocked: list[str] = []
        self.required: list[str] = []
        self._in_form = False
        self._found = False
        self._select = None
        self._option = None
        self._textarea = None
        self.feed(html)
        self.close()
        assert self._found, "no <form id=model_form> in the page"

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._in_form = a.get("id") == "model_form"
            self._found = self._found or self._in_form
            return
        if not self._in_form:
            return
        name = a.get("name")
        if name and "required" in a and tag in ("input", "select", "textarea"):
            self.required.append(name)
        if tag == "input" and name:
            self.names.append(name)
            kind = (a.get("type") or "text").lower()
            if "disabled" in a or kind in ("submit", "button", "reset", "image", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.pairs.append((name, a.get("value") or "on"))
                elif "required" in a:
                    self.blocked.append(name)
            elif kind == "hidden":
                self.pairs.append((name, a.get("value") or ""))
            else:
                self.pairs.append(
                    (name, (a.get("value") or "").replace("\r", "").replace("\n", ""))
                )
                if "required" in a and not self.pairs[-1][1]:
                    self.blocked.append(name)
        elif tag == "select" and name:
            self.names.append(name)
            self._select = {
                "name": name,
                "multiple": "multiple" in a,
                "disabled": "disabled" in a,
                "options": [],
                "required": "required" in a,
            }
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "selected": "selected" in a, "text": ""}
            self._select["options"].append(self._option)
        elif tag == "textarea" and name:
            self.names.append(name)
            self._textarea = {
                "name": name,
                "disabled": "disabled" in a,
                "required": "required" in a,
                "text": [],
            }

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["text"].append(data)
        elif self._option is not None:
            self._option["text"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            select_, self._select, self._option = self._select, None, None
            if select_["disabled"]:
                return
            options = select_["options"]
            values = [o["value"] if o["value"] is not None else o["text"].strip() for o in options]
            chosen = [v for v, o in zip(values, options, strict=True) if o["selected"]]
            if not select_["multiple"]:
                chosen = chosen[-1:] or values[:1]
            if select_["required"] and not any(chosen):
                self.blocked.append(select_["name"])
            self.pairs.extend((select_["name"], v) for v in chosen)
        elif tag == "textarea" and self._textarea is not None:
            area, self._textarea = self._textarea, None
            if area["disabled"]:
                return
            text = "".join(area["text"]).replace("\r\n", "\n").replace("\r", "\n")
            text = text[1:] if text.startswith("\n") else text
            if area["required"] and not text:
                self.blocked.append(area["name"])
            self.pairs.append((area["name"], text.replace("\n", "\r\n")))


SELLER_READS = (
    "SubOrderView",
    "OrderLineView",
    "ShipmentView",
    "TrackingEventView",
    "RefundRequestView",
    "OrderEventView",
)
