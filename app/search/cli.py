"""`flask search reindex` (full rebuild, swapped in without downtime) and `flask search status`."""

from __future__ import annotations

import time
from dataclasses import fields

import click
from flask import Flask
from flask.cli import AppGroup

from app.search import service


def register(app: Flask) -> None:
    group = AppGroup("search", help="The product search index.")

    @group.command("reindex")
    def reindex_command():
        """Build a new index of every tenant's active products and swap it in (searches keep
        answering from the old one meanwhile)."""
        started = time.perf_counter()
        build = service.reindex_all()
        size = "size unknown" if build.size_bytes is None else f"{build.size_bytes / 1e6:.1f} MB"
        click.echo(
            f"indexed {build.documents} products into {build.generation} "
            f"({size}) in {time.perf_counter() - started:.1f} s"
        )

    @group.command("status")
    def status_command():
        """Backend, live generation, document count and size."""
        status = service.index_status()
        for field in fields(status):
            click.echo(f"{field.name}: {getattr(status, field.name)}")

    app.cli.add_command(group)
