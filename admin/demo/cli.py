"""`flask seed`: demo data for a marketplace (see admin/demo/seed.py).

flask db upgrade && flask init && flask seed --products 10000
"""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from admin.demo.seed import DEFAULT_ORDERS

# the label printed for each table, in the order they are shown
_TABLES = (
    ("ab_user", "users"),
    ("sellers", "seller profiles"),
    ("customer_profiles", "customer profiles"),
    ("addresses", "addresses"),
    ("categories", "categories"),
    ("attributes", "attributes"),
    ("category_attributes", "category filters"),
    ("brands", "brands"),
    ("warehouses", "warehouses"),
    ("products", "products"),
    ("product_variants", "variants"),
    ("product_images", "images"),
    ("product_attribute_values", "attribute values"),
    ("stock_levels", "stock levels"),
    ("stock_movements", "stock movements"),
    ("low_stock_alerts", "low-stock alerts"),
    ("reviews", "reviews"),
    ("promotions", "promotions"),
    ("orders", "orders"),
    ("sub_orders", "sub-orders"),
    ("payments", "payments"),
    ("payment_transactions", "transactions"),
    ("order_refund_requests", "refund requests"),
    ("refunds", "payment refunds"),
    ("shipments", "shipments"),
    ("promotion_redemptions", "redemptions"),
    ("carts", "carts"),
)


def register(app: Flask) -> None:
    @app.cli.command("seed")
    @click.option(
        "--products",
        default=10_000,
        show_default=True,
        type=click.IntRange(min=0),
        help="Products to create in the tenant.",
    )
    @click.option(
        "--sellers",
        default=None,
        type=click.IntRange(min=1),
        help="Seller accounts (default: products/500, 3 to 200).",
    )
    @click.option(
        "--customers",
        default=None,
        type=click.IntRange(min=0),
        help="Customer accounts (default: products/50, 5 to 2000).",
    )
    @click.option(
        "--tenant",
        "tenant_slug",
        default=None,
        metavar="SLUG",
        help="Tenant to seed (default: DEFAULT_TENANT); created if it does not exist.",
    )
    @click.option(
        "--second-tenant",
        default=None,
        metavar="SLUG",
        help="A second, small tenant so that tenancy is visible (default: outlet, when seeding "
        "the default tenant; none with --tenant).",
    )
    @click.option(
        "--second-tenant-products",
        default=25,
        show_default=True,
        type=click.IntRange(min=0),
        help="Products in the second tenant (0: no second tenant).",
    )
    @click.option(
        "--orders",
        default=DEFAULT_ORDERS,
        show_default=True,
        type=click.IntRange(min=0),
        help="Orders of the tenant's six-month history, placed, paid, shipped, refunded... through "
        "the services (the second tenant gets an eighth, at least 20; 0: no history). A tenant "
        "that has orders already gets none.",
    )
    @click.option(
        "--if-empty", is_flag=True, help="Leave a tenant that already has products alone."
    )
    @click.option(
        "--seed",
        "random_seed",
        default=42,
        show_default=True,
        type=int,
        help="Random seed: the same seed gives the same data.",
    )
    @click.option(
        "--chunk-size",
        default=2000,
        show_default=True,
        type=click.IntRange(min=1),
        help="Products per transaction.",
    )
    @click.option("--quiet", is_flag=True, help="No progress lines.")
    @with_appcontext
    def seed_command(
        products,
        sellers,
        customers,
        tenant_slug,
        second_tenant,
        second_tenant_products,
        orders,
        if_empty,
        random_seed,
        chunk_size,
        quiet,
    ):
        """Create demo data: categories, brands, sellers, products with variants, images, stock and
        reviews, customers with addresses, and six months of orders in every state (payments,
        shipments, refunds, promotions, carts). Run `flask db upgrade` and `flask init` first."""
        from admin.demo.seed import SECOND_TENANT, seed

        if second_tenant is None:
            default = current_app.config["DEFAULT_TENANT"]
            second_tenant = SECOND_TENANT if tenant_slug in (None, default) else None
        try:
            report = seed(
                products,
                sellers=sellers,
                customers=customers,
                tenant=tenant_slug,
                second_tenant=second_tenant or None,
                second_tenant_products=second_tenant_products,
                seed=random_seed,
                if_empty=if_empty,
                orders=orders,
                chunk_size=chunk_size,
                log=None if quiet else (lambda line: click.echo(line, err=True)),
            )
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from exc

        for tenant in report.tenants:
            click.echo(f"\nTenant {tenant.slug} (id {tenant.tenant_id}, {tenant.currency}):")
            if tenant.skipped:
                click.echo("  already has products; nothing created (--if-empty)")
                continue
            for table, label in _TABLES:
                if tenant.created.get(table):
                    click.echo(f"  {label:<18} {tenant.created[table]:>9,}")
            for failure in tenant.failures:  # a service refused a step of the history
                click.echo(f"  history: an order stopped short: {failure}", err=True)
        total = sum(report.created.values())
        click.echo(f"\nCreated {total:,} rows in {report.seconds:.1f}s.")
        if report.logins:
            click.echo("\nDemo logins (every demo user has the same password):")
            for login in report.logins:
                click.echo(
                    f"  {login.role:<17} {login.login:<34} {login.password}   [{login.tenant}] {login.note}"
                )
            click.echo("  sellerN@... and customerN@... exist for every N up to the counts above.")
        admin = current_app.config.get("ADMIN_USERNAME", "admin")
        click.echo(f"  Super Admin       {admin:<34} (the password given to `flask init`)")
