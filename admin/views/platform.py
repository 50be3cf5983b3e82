"""Platform admin: tenants (Super Admin), the audit log and the event outbox (read-only)."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_login import current_user
from wtforms import SelectField

from admin.base import CurrentTenantFilter, MarketModelView, datamodel
from admin.references import TENANT, USER
from app.dataio import exports
from app.dataio.models import BACKUP
from app.events.bus import get_bus
from app.events.models import OutboxEvent
from app.security.models import AuditLog
from app.tenants import services
from app.tenants.models import (
    DEFAULT_MAX_LINE_QUANTITY,
    DEFAULT_MAX_ORDER_UNITS,
    TENANT_PLANS,
    TENANT_STATUSES,
    Tenant,
)


def _time_zone_field() -> SelectField:
    """The tenant's time zone as a select of IANA names (select2: typing "par" finds Europe/Paris
    among the ~600); blank: the platform's DISPLAY_TIME_ZONE. A name not offered (a forged post)
    is refused as "Not a valid choice"."""
    return SelectField(
        "Time zone",
        choices=[("", "The platform's (DISPLAY_TIME_ZONE)")]
        + [(name, name) for name in sorted(services.time_zones())],
        coerce=lambda value: value or None,
        description="The admin shows this shop's times in it (stored times stay UTC).",
        widget=Select2Widget(),
    )


class TenantView(MarketModelView):
    datamodel = datamodel(Tenant)
    route_base = "/admin/tenants"
    list_title = "Tenants"
    item_title = "Tenant"
    list_columns = [
        "name",
        "slug",
        "domain",
        "status",
        "plan",
        "default_currency",
        "default_language",
    ]
    search_columns = ["name", "slug", "domain", "status", "plan"]
    add_columns = edit_columns = [
        "name",
        "slug",
        "domain",
        "status",
        "plan",
        "default_currency",
        "default_language",
        "time_zone",
        "languages",
        "logo_url",
        "primary_color",
        "max_products",
        "max_sellers",
        "max_users",
        "max_line_quantity",
        "max_order_units",
    ]
    show_columns = add_columns + ["created_at", "updated_at"]
    choices_columns = {"status": TENANT_STATUSES, "plan": TENANT_PLANS}
    add_form_extra_fields = {"time_zone": _time_zone_field()}
    edit_form_extra_fields = {"time_zone": _time_zone_field()}
    label_columns = {
        "max_line_quantity": "Max units of one item per order",
        "max_order_units": "Max units per order",
    }

    @action(
        "backup",
        "Back up",
        "Back up the selected tenants? Each becomes a zip of JSON-lines files, listed under My "
        "exports when ready.",
        "fa-download",
    )
    def backup(self, items):
        """A backup job per selected tenant (app.backup); the zips appear under My exports."""
        rows = [row for row in (items if isinstance(items, list) else [items]) if row is not None]
        for tenant in rows:
            export = exports.request_export(
                current_user.id, BACKUP, tenant.slug, {}, "zip", f"Backup of {tenant.name}"
            )
            get_bus().runner.enqueue("jobs.tasks.run_data_export", export.id, queue="low")
        flash(
            f"Backup of {len(rows)} tenant{'s' if len(rows) != 1 else ''} started: the zip is "
            "listed here when ready (restore it with flask tenant restore).",
            "info",
        )
        return redirect(url_for("DataExportsView.list"))

    description_columns = {
        "max_line_quantity": "Carts and checkout refuse more units of one item (422 line_quantity_limit)",
        "max_order_units": "Carts and checkout refuse more units in all (422 order_quantity_limit)",
    }

    def before_save(self, item, is_new):
        # left empty: the default limits
        if item.max_line_quantity is None:
            item.max_line_quantity = DEFAULT_MAX_LINE_QUANTITY
        if item.max_order_units is None:
            item.max_order_units = DEFAULT_MAX_ORDER_UNITS
        services.validate_tenant_fields(
            slug=item.slug,
            status=item.status,
            plan=item.plan,
            default_currency=item.default_currency,
            max_line_quantity=item.max_line_quantity,
            max_order_units=item.max_order_units,
            time_zone=item.time_zone,
        )
        services.clear_cache()

    def pre_delete(self, item):
        raise ValueError("Tenants are suspended, not deleted: set the status to suspended.")


class AuditLogView(MarketModelView):
    datamodel = datamodel(AuditLog)
    route_base = "/admin/audit-log"
    list_title = "Audit log"
    item_title = "Audit log entry"
    base_permissions = ["can_list", "can_show"]
    base_filters = [["tenant_id", CurrentTenantFilter, None]]
    list_columns = ["created_at", "actor", "action", "entity", "entity_id", "source", "ip"]
    search_columns = ["actor", "action", "entity", "entity_id", "source", "ip", "created_at"]
    show_columns = [
        "created_at",
        "actor",
        "actor_id",
        "action",
        "entity",
        "entity_id",
        "before",
        "after",
        "source",
        "ip",
        "user_agent",
        "request_path",
        "tenant_id",
    ]
    base_order = ("id", "desc")
    references = {"actor_id": USER, "tenant_id": TENANT}
    label_columns = {"actor_id": "Actor's account", "tenant_id": "Tenant"}


class OutboxView(MarketModelView):
    datamodel = datamodel(OutboxEvent)
    route_base = "/admin/events"
    list_title = "Domain events"
    item_title = "Domain event"
    base_permissions = ["can_list", "can_show"]
    base_filters = [["tenant_id", CurrentTenantFilter, None]]
    list_columns = [
        "id",
        "name",
        "aggregate",
        "aggregate_id",
        "created_at",
        "dispatched_at",
        "attempts",
        "last_error",
    ]
    search_columns = ["name", "aggregate", "aggregate_id", "dispatched_at", "created_at"]
    show_columns = list_columns + ["payload", "next_attempt_at", "tenant_id"]
    base_order = ("id", "desc")
    references = {"tenant_id": TENANT}
    label_columns = {"tenant_id": "Tenant"}
