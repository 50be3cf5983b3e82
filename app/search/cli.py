"""`flask search reindex` (full rebuild, swapped in without downtime) and `flask search status`."""

from __future__ import annotations

import time

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
        stats = service.reindex_all()
        click.echo(
            f"indexed {stats['documents']} products into {stats['generation']} "
            f"({stats['size_bytes'] / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s"
        )

    @group.command("status")
    def status_command():
        """Backend, live generation, document count and size."""
        for key, value in service.index_status().items():
            click.echo(f"{key}: {value}")

    app.cli.add_command(group)
