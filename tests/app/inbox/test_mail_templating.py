"""The sandbox a shop's own mail wording renders in (app.notifications.templating): Python's
internals, mutation of the data and unbounded loops are refused at save with the part and line;
every built-in template renders against its sample data in a shop's currency, language and zone."""

from __future__ import annotations

import pytest

from app.core.errors import ValidationError
from app.notifications import templating

GOOD = {"subject": "Order {{ order_number }}", "text": "ok\n", "html": "<p>ok</p>"}


@pytest.fixture
def shop(app):
    with app.app_context():
        yield templating.Shop(
            "Maison Lune", None, "#112233", "http://shop.test/", "EUR", "Europe/Paris", "fr"
        )


@pytest.mark.parametrize(
    ("part", "source", "says"),
    [
        ("html", "<p>{{ shop.__class__.__mro__ }}</p>", "line 1: "),
        ("text", "a\n{{ lines.append(1) }}\n", "line 2: "),
        ("text", "{% for i in range(100000) %}x{% endfor %}\n", "'range' is undefined"),
        ("subject", "{{ lipsum(1000) }}", "'lipsum' is undefined"),
        ("html", "{% extends '../../config.py' %}", "line 1: "),
        ("html", "<p>{{ total|money(", "line 1: "),
    ],
)
def test_unsafe_or_broken_templates_are_refused(app, shop, part, source, says):
    with app.app_context():
        sample = templating.sample("order_confirmation", shop)
        with pytest.raises(ValidationError) as refused:
            templating.check("order_confirmation", {**GOOD, part: source}, sample)
        assert list(refused.value.details) == [part]
        assert says in refused.value.details[part][0]


def test_every_built_in_mail_renders_in_the_shops_formats(app, shop):
    with app.app_context():
        for kind in templating.KINDS:
            rendered = templating.render_default(kind, templating.sample(kind, shop))
            assert rendered.subject and "\n" not in rendered.subject
            assert "Maison Lune" in rendered.text and "#112233" in rendered.html
        confirmation = templating.render_default(
            "order_confirmation", templating.sample("order_confirmation", shop)
        )
        assert "75,99\xa0€" in confirmation.text  # French: the symbol after the amount
        assert "14 mars 2026 16:09 (Europe/Paris)" in confirmation.text  # 15:09 UTC
