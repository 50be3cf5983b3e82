"""Times in the admin read in the shop's own time zone (Tenant.time_zone, else the platform's
DISPLAY_TIME_ZONE), to the minute, the exact UTC value on hover; one formatter
(admin.formatting.when) for lists, show pages and the custom pages through the `when` filter.
A Super Admin reading several tenants' rows sees each in its tenant's zone, the zone named."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import event, update

from admin import formatting
from app.core.errors import ValidationError
from app.extensions import db
from app.orders.models import Order
from app.security import roles
from app.tenants import services
from app.tenants.models import Tenant
from tests.builders.admin import login, scope
from tests.builders.order_rows import order_row

UTC = dt.UTC


def _text(html) -> str:
    return re.sub(r"<[^>]+>", "", str(html))


def _row(page: str, text: str) -> str:
    """The list's <tr> holding `text` (not the search form, which repeats what was searched)."""
    return next(row for row in re.findall(r"<tr.*?</tr>", page, re.S) if text in _text(row))


def test_a_time_reads_in_the_tenants_zone_across_daylight_saving_changes():
    paris = formatting.shop("en", "EUR", "Europe/Paris")
    # spring forward (last Sunday of March 2026, 01:00 UTC): 01:59 CET, then 03:00 CEST
    assert _text(formatting.when(dt.datetime(2026, 3, 29, 0, 59, tzinfo=UTC), paris)) == (
        "Mar 29, 2026 1:59\u202fAM"
    )
    assert _text(formatting.when(dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC), paris)) == (
        "Mar 29, 2026 3:00\u202fAM"
    )
    # fall back (25 October 2026, 01:00 UTC): 02:30 happens twice; the hover tells them apart
    before = formatting.when(dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC), paris)
    after = formatting.when(dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC), paris)
    assert _text(before) == _text(after) == "Oct 25, 2026 2:30\u202fAM"
    assert 'title="2026-10-25 00:30:00 UTC (shown in Europe/Paris)"' in before
    assert 'title="2026-10-25 01:30:00 UTC (shown in Europe/Paris)"' in after
    # a page mixing tenants names the zone: the two 02:30s are no longer alike
    named = formatting.shop("en", "EUR", "Europe/Paris", name_zone=True)
    assert _text(formatting.when(dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC), named)).endswith(
        "2:30\u202fAM CEST"
    )
    assert _text(formatting.when(dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC), named)).endswith(
        "2:30\u202fAM CET"
    )
    # a naive value is a stored UTC time
    assert (
        _text(formatting.when(dt.datetime(2026, 7, 1, 12, 0), paris)) == "Jul 1, 2026 2:00\u202fPM"
    )


def test_the_service_refuses_a_zone_that_is_not_an_iana_name():
    services.validate_tenant_fields(time_zone="America/New_York")
    for bad in ("Mars/Olympus", "europe/paris", "", "UTC+2"):
        with pytest.raises(ValidationError) as refused:
            services.validate_tenant_fields(time_zone=bad)
        assert "time_zone" in refused.value.details


def _superadmin(app, slug):
    client, _ = login(app, slug, app.config["ADMIN_USERNAME"], app.config["ADMIN_PASSWORD"])
    return client


def _edit_form(client, tenant_id) -> dict:
    page = client.get(f"/admin/tenants/edit/{tenant_id}").get_data(as_text=True)
    # a searchable select (select2) of IANA names
    assert re.search(r'<select class="my_select2 form-control"[^>]* name="time_zone"', page)
    assert '<option value="Europe/Paris">Europe/Paris</option>' in page
    return {
        "name": "Test shop",
        "slug": re.search(r'name="slug"[^>]*value="([^"]+)"', page).group(1),
        "status": "active",
        "plan": "standard",
        "default_currency": "USD",
        "default_language": "en",
        "languages": "en",
        "max_line_quantity": "100",
        "max_order_units": "500",
    }


def test_a_super_admin_sets_the_zone_and_the_shops_admins_read_their_times_in_it(app, factory):
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    with scope(app, tenant.id):
        order_id = order_row()
        db.session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(created_at=dt.datetime(2026, 7, 1, 12, 0, 30, tzinfo=UTC))
        )
        db.session.commit()
        number = db.session.get(Order, order_id).number
    staff, _ = login(app, tenant.slug, admin.username)
    # no zone of its own: the platform's (UTC in the tests)
    page = staff.get(f"/admin/orders/list/?_flt_0_number={number}").get_data(as_text=True)
    assert "Jul 1, 2026 12:00\u202fPM" in page
    platform = _superadmin(app, tenant.slug)
    form = _edit_form(platform, tenant.id)
    # a name not in the list (a forged post) is refused; nothing changes
    refused = platform.post(
        f"/admin/tenants/edit/{tenant.id}", data={**form, "time_zone": "Mars/Olympus"}
    )
    assert refused.status_code == 200 and "Not a valid choice" in refused.get_data(as_text=True)
    with scope(app):
        assert db.session.get(Tenant, tenant.id).time_zone is None
    saved = platform.post(
        f"/admin/tenants/edit/{tenant.id}", data={**form, "time_zone": "America/New_York"}
    )
    assert saved.status_code == 302
    with scope(app):
        assert db.session.get(Tenant, tenant.id).time_zone == "America/New_York"
    # the shop's lists, show pages and order page: New York time (EDT in July), UTC on hover
    listed = staff.get(f"/admin/orders/list/?_flt_0_number={number}").get_data(as_text=True)
    assert "Jul 1, 2026 8:00\u202fAM" in listed and "12:00\u202fPM" not in listed
    assert 'title="2026-07-01 12:00:30 UTC (shown in America/New_York)"' in listed
    desk = staff.get(f"/admin/orders/show/{order_id}").get_data(as_text=True)
    assert "Jul 1, 2026 8:00\u202fAM" in desk and "2026-07-01 12:00" not in _text(desk)
    # blank again: back to the platform's zone
    platform.post(f"/admin/tenants/edit/{tenant.id}", data={**form, "time_zone": ""})
    with scope(app):
        assert db.session.get(Tenant, tenant.id).time_zone is None


def test_a_super_admin_reads_each_row_in_its_tenants_zone_named(app, factory):
    tag = "TZ" + uuid.uuid4().hex[:8].upper()
    zones = {"Asia/Tokyo": "9:00\u202fPM JST", "America/New_York": "8:00\u202fAM EDT"}
    numbers = {}
    for zone in zones:
        tenant = factory.tenant()
        with scope(app):
            db.session.get(Tenant, tenant.id).time_zone = zone
            db.session.commit()
        with scope(app, tenant.id):
            order_id = order_row()
            numbers[zone] = f"{tag}-{zone[-5:]}"
            db.session.execute(
                update(Order)
                .where(Order.id == order_id)
                .values(number=numbers[zone], created_at=dt.datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
            )
            db.session.commit()
    platform = _superadmin(app, tenant.slug)
    page = platform.get(f"/admin/orders/list/?_flt_0_number={tag}").get_data(as_text=True)
    for zone, shown in zones.items():
        row = _row(page, numbers[zone])
        assert f"Jul 1, 2026 {shown}" in _text(row), (zone, _text(row))
        assert f"(shown in {zone})" in row


def test_the_zone_costs_no_query_per_row(app, factory):
    """The tenant (its zone, language and currency) is read once per request, not per cell: a page
    of 25 orders runs as many queries on tenants as a page of one."""
    tenant = factory.tenant()
    admin = factory.user(tenant, roles.ADMIN)
    with scope(app):
        db.session.get(Tenant, tenant.id).time_zone = "Europe/Paris"
        db.session.commit()
    client, _ = login(app, tenant.slug, admin.username)

    def tenant_queries(path: str) -> int:
        seen: list[str] = []

        def count(conn, cursor, statement, *args):
            if "FROM tenants" in statement:
                seen.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    with scope(app, tenant.id):
        order_row()
    one = tenant_queries("/admin/orders/list/")
    with scope(app, tenant.id):
        for _ in range(24):
            order_row()
    many = tenant_queries("/admin/orders/list/")
    assert many == one <= 2, (one, many)
