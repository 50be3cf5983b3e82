"""App-level commands registered by create_app(): `flask seed` (demo data), `flask search ...`."""

from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    from app.demo.cli import register as register_demo

    register_demo(app)

    from app.search.cli import register as register_search

    register_search(app)
