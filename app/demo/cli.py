"""`flask seed` — filled in by the demo-data module."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    return None
