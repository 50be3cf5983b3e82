"""app.core.health: a check answers a frozen Check (ok, latency, error, its own facts), the report
keeps the checks' order and is degraded when one is not ok; /api/core/health writes each check out
as the JSON it always was ({"ok", "latency_ms", facts...} or {"ok": false, "error"})."""

from __future__ import annotations

import dataclasses

import pytest

from app.core.health import Check, HealthReport, check_database, health, timed
from app.events.health import check_queues
from app.extensions import db
from app.search.health import check_search
from storefront_api.core import check_json


def test_a_probe_that_answers_is_ok_with_its_latency_and_facts():
    check = timed("thing", lambda: {"backend": "x", "size": 3})
    assert check.name == "thing" and check.ok and check.error is None
    assert check.latency_ms is not None and check.latency_ms >= 0
    assert dict(check.details) == {"backend": "x", "size": 3}
    assert check_json(check) == {
        "ok": True,
        "latency_ms": check.latency_ms,
        "backend": "x",
        "size": 3,
    }


def test_a_probe_that_raises_is_not_ok_and_names_the_error_only():
    check = timed("thing", lambda: 1 / 0)
    assert check == Check("thing", ok=False, error="ZeroDivisionError")
    assert check_json(check) == {"ok": False, "error": "ZeroDivisionError"}


def test_a_check_is_frozen_and_its_facts_read_only():
    facts = {"backend": "database"}
    check = Check("search", ok=True, details=facts)
    facts["backend"] = "changed"  # the caller's dict is copied
    assert check_json(check) == {"ok": True, "backend": "database"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        check.ok = False
    with pytest.raises(TypeError):
        check.details["backend"] = "x"


def test_the_report_keeps_the_order_and_is_degraded_when_one_fails():
    good = lambda: Check("a", ok=True)  # noqa: E731
    bad = lambda: Check("b", ok=False, error="ConnectionError")  # noqa: E731
    report = health((bad, good))
    assert [c.name for c in report.checks] == ["b", "a"]
    assert (report.ok, report.status) == (False, "degraded")
    assert (health((good,)).ok, health((good,)).status) == (True, "ok")
    assert HealthReport(()).status == "ok"


def test_the_real_checks_answer_their_names_and_facts(app):
    with app.app_context():
        database, queues, search = check_database(), check_queues(), check_search()
        dialect = db.engine.dialect.name
    assert database.name == "database" and database.ok
    assert dict(database.details) == {"backend": dialect}
    assert queues.name == "queues" and queues.ok
    assert queues.details["mode"] == app.config["JOBS_MODE"] and "outbox_pending" in queues.details
    assert search == Check("search", ok=True, details={"backend": "database"})
