"""App-level commands registered by create_app(): `flask search ...` (`flask seed`, the demo
data, is the admin's: admin/demo)."""

from __future__ import annotations

from flask import Flask

from app.backup.cli import register as register_backup
from app.search.cli import register as register_search


def register_cli(app: Flask) -> None:
    register_search(app)
    register_backup(app)
