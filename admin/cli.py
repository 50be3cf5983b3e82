"""`flask init`: roles and permissions, the default tenant and the first Super Admin.

Run after `flask db upgrade`; running it again changes nothing that is already right.
"""

from __future__ import annotations

import secrets

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import inspect, select

from analytics import bi as analytics_bi
from app.core.tenancy import unscoped
from app.extensions import db
from app.security import roles
from app.security.models import User
from app.security.services import create_user
from app.tenants.services import get_or_create_tenant


def sync_roles() -> dict[str, int]:
    """Create the permissions of every registered view and give each role its policy."""
    from admin.roles import wanted_permissions

    appbuilder = current_app.appbuilder
    sm = appbuilder.sm
    for name in roles.ALL_ROLES:  # FAB grants new permissions to the admin role: it must exist
        if sm.find_role(name) is None:
            sm.add_role(name)
    db.session.commit()
    appbuilder.add_permissions(update_perms=True)
    # permissions of views and menus no longer registered (e.g. FAB's User's Statistics, removed)
    # go, from every role too: nothing keeps granting what no longer exists
    sm.security_cleanup(appbuilder.baseviews, appbuilder.menu)
    all_pv = db.session.scalars(select(sm.permissionview_model)).all()
    pairs = {(pv.permission.name, pv.view_menu.name): pv for pv in all_pv}
    counts = {}
    for name in roles.ALL_ROLES:
        role = sm.find_role(name)
        wanted = wanted_permissions(name, list(pairs))
        role.permissions = [pairs[pair] for pair in sorted(wanted)]
        counts[name] = len(wanted)
    db.session.commit()
    return counts


def init_platform(admin_password: str | None = None) -> dict:
    if not inspect(db.engine).has_table("ab_permission_view"):
        raise click.ClickException("the schema is missing: run `flask db upgrade` first")
    with unscoped():
        counts = sync_roles()
        tenant = get_or_create_tenant(
            current_app.config["DEFAULT_TENANT"], "Default storefront", domain="localhost"
        )
        username = current_app.config["ADMIN_USERNAME"]
        existing = db.session.scalar(
            select(User).where(User.username == username, User.tenant_id.is_(None))
        )
        password = None
        if existing is None:
            password = (
                admin_password
                or current_app.config.get("ADMIN_PASSWORD")
                or secrets.token_urlsafe(12)
            )
            create_user(
                tenant_id=None,
                email=current_app.config["ADMIN_EMAIL"],
                username=username,
                password=password,
                first_name="Super",
                last_name="Admin",
                role_names=[roles.SUPER_ADMIN],
                check_password=False,
            )
            db.session.commit()
    return {"roles": counts, "tenant": tenant.slug, "admin": username, "password": password}


def register_cli(app: Flask) -> None:
    from admin.demo.cli import register as register_demo

    register_demo(app)  # `flask seed`

    @app.cli.command("init")
    @click.option("--admin-password", default=None, help="Password of the first Super Admin.")
    @with_appcontext
    def init_command(admin_password):
        """Roles and permissions, the default tenant and the first Super Admin (idempotent)."""
        result = init_platform(admin_password)
        for name, count in result["roles"].items():
            click.echo(f"role {name}: {count} permissions")
        click.echo(f"default tenant: {result['tenant']}")
        if result["password"]:
            click.echo(f"Super Admin created: {result['admin']} / {result['password']}")
        else:
            click.echo(f"Super Admin {result['admin']} already exists")

    bi = AppGroup("bi", help="Apache Superset's BI schema and dashboards (analytics.bi).")

    @bi.command("grant")
    @with_appcontext
    def bi_grant_command():
        """Create the read-only BI user (BI_DB_USER, BI_DB_PASSWORD, BI_DB_HOST) with SELECT on
        the bi_* views only (idempotent; a no-op on SQLite)."""
        cfg = current_app.config
        try:
            result = analytics_bi.grant_readonly_user(
                db.engine, cfg["BI_DB_USER"], cfg.get("BI_DB_PASSWORD"), cfg["BI_DB_HOST"]
            )
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        if result["user"] is None:
            click.echo(f"{result['skipped']}: {len(result['views'])} BI views, no user to grant")
        else:
            click.echo(
                f"{result['user']}: SELECT on {len(result['views'])} BI views of {result['database']}"
            )

    @bi.command("import-dashboards")
    @with_appcontext
    def bi_import_command():
        """Import analytics/superset/bundle into Superset (SUPERSET_URL) by uuid, overwriting:
        running it again changes nothing. The database points at BI_DATABASE_URL (default: this
        database as BI_DB_USER)."""
        cfg = current_app.config
        client = analytics_bi.SupersetClient.from_config(cfg)
        origin = cfg.get("BI_EMBED_ORIGIN")
        try:
            embedded = client.import_bundle(
                analytics_bi.bi_database_uri(cfg),
                cfg.get("BI_DB_PASSWORD"),
                [origin] if origin else [],
            )
        except analytics_bi.SupersetError as exc:
            raise click.ClickException(str(exc)) from exc
        for slug, uuid in embedded.items():
            click.echo(f"dashboard {slug}: embedded {uuid}")

    app.cli.add_command(bi)
