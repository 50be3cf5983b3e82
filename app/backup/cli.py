"""`flask tenant backup <slug> <dir>` and `flask tenant restore <dir> --into <slug>`; the job
source of a backup asked for in the admin."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.backup import services
from app.core.errors import DomainError
from app.core.tenancy import unscoped


def register(app: Flask) -> None:
    from app.dataio.exports import register_source
    from app.dataio.models import BACKUP

    register_source(BACKUP, services.backup_source)  # the Super Admin's "Back up" action's job
    group = AppGroup("tenant", help="One tenant's data: backup and restore.")

    @group.command("backup")
    @click.argument("slug")
    @click.argument("directory", type=click.Path(file_okay=False))
    def backup_command(slug, directory):
        """Write tenant SLUG's data into DIRECTORY: one JSON-lines file per table and a manifest
        (schema version, row counts)."""
        try:
            with unscoped():
                result = services.backup_tenant(slug, directory)
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        total = sum(result.counts.values())
        kyc = result.files.get("kyc_documents", {})
        click.echo(
            f"backed up tenant {slug}: {total} rows in {len(result.counts)} tables "
            f"(schema {result.schema_version}) and {kyc.get('copied', 0)} KYC files "
            f"into {result.directory}"
        )
        for problem in ("missing", "mismatched"):
            if kyc.get(problem):
                click.echo(
                    f"warning: {len(kyc[problem])} KYC file(s) {problem} in the storage, not in "
                    f"the backup: {', '.join(kyc[problem])}",
                    err=True,
                )

    @group.command("restore")
    @click.argument("directory", type=click.Path(exists=True, file_okay=False))
    @click.option("--into", "into", required=True, help="an empty tenant's slug, or a new one")
    @click.option("--name", default=None, help="a new tenant's name (default: the backup's)")
    def restore_command(directory, into, name):
        """Restore the backup in DIRECTORY into tenant INTO (empty, or created), new ids."""
        try:
            with unscoped():
                result = services.restore_tenant(directory, into, name)
        except DomainError as exc:
            raise click.ClickException(exc.message) from exc
        what = "a new tenant" if result.created else "an empty tenant"
        click.echo(
            f"restored {sum(result.counts.values())} rows into {what}, {result.tenant_slug} "
            f"(id {result.tenant_id})"
        )
        if result.files_missing:
            click.echo(
                f"warning: {result.files_missing} KYC document(s) restored without their file "
                "(not in the backup)",
                err=True,
            )

    app.cli.add_command(group)
