"""migrations/README.md lists the revisions in the order Alembic applies them, and there is one head."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

pytestmark = pytest.mark.smoke

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def test_one_head():
    assert len(_scripts().get_heads()) == 1


def test_the_index_lists_the_chain_in_order():
    chain = [
        (rev.revision, Path(rev.path).name) for rev in reversed(list(_scripts().walk_revisions()))
    ]
    rows = re.findall(
        r"^\| \d+ \| `([^`]+)` \| `([^`]+)` \|", (MIGRATIONS / "README.md").read_text(), re.M
    )
    assert rows == chain
